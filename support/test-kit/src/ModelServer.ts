/**
 * A scripted model server for tests: one loopback `node:http` server that speaks Anthropic Messages,
 * OpenAI Responses and OpenAI Chat Completions (streamed or not), records every model request, and
 * answers each one from a script that reads the conversation (how many tool results it holds), so side
 * requests and retries never shift the script. Real agent CLIs run against it unchanged.
 */
import { Context, Effect, Layer, type Scope } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { Socket } from "node:net"
import { gunzipSync, inflateSync, brotliDecompressSync } from "node:zlib"

/** One model call as the server understood it. */
export interface ModelRequest {
  readonly api: "anthropic" | "responses" | "chat"
  readonly path: string
  readonly headers: Record<string, string>
  readonly body: any
  /** The tools the request offered, with their JSON schemas (`custom` = a freeform Responses tool). */
  readonly tools: ReadonlyArray<{ readonly name: string; readonly schema: any; readonly kind: "function" | "custom" }>
  /** How many tool results the conversation already holds. */
  readonly toolResults: number
  /** The text of the last user message that had text. */
  readonly lastUserText: string
  /** The agent's working directory, when its system prompt names one. */
  readonly cwd?: string
  readonly stream: boolean
}

/** What the server answers to one model request. */
export type Reply =
  | { readonly text: string; readonly usage?: { readonly input: number; readonly output: number } }
  | {
      readonly tool: { readonly name: string; readonly input: unknown }
      readonly usage?: { readonly input: number; readonly output: number }
    }
  | { readonly error: 400 | 401 | 403 | 429 | 500 | 529; readonly message?: string; readonly retryAfter?: number }
  | { readonly malformed: true }
  | { readonly truncated: true }
  /** `true`: nothing at all (no status line, no headers); `"after-headers"`: a 200 status and headers, then silence. */
  | { readonly hang: true | "after-headers" }

/** Decides the reply to one request. */
export type Script = (req: ModelRequest) => Reply

/** One `POST /v1/embeddings` request as the server understood it. */
export interface EmbeddingRequest {
  readonly path: string
  readonly headers: Record<string, string>
  readonly model: string
  readonly inputs: ReadonlyArray<string>
}

/** What the server answers for one embeddings request: a vector per input, an error, or silence. */
export type EmbeddingReply =
  | { readonly vectors: ReadonlyArray<ReadonlyArray<number>> }
  | { readonly error: 400 | 401 | 429 | 500; readonly message?: string }
  | { readonly hang: true }

/** Decides the reply to one embeddings request. */
export type Embedder = (req: EmbeddingRequest) => EmbeddingReply

/**
 * Deterministic embeddings from the text: each word (lower-cased letters and digits; a CJK character
 * on its own) counts in one of `dims` dimensions chosen by hashing it — after `synonyms` maps it to
 * the word it stands for, so `intermittent` and `flaky` can land together — and the vector is
 * normalized. Texts that share no word (nor synonym) are orthogonal but for hash collisions.
 */
export const bagOfWordsEmbedder =
  (options: { readonly dims?: number; readonly synonyms?: Readonly<Record<string, string>> } = {}): Embedder =>
  (req) => ({ vectors: req.inputs.map((t) => bagOfWords(t, options.dims ?? 256, options.synonyms ?? {})) })

/** The vector `bagOfWordsEmbedder` gives `text`. */
export const bagOfWords = (
  text: string,
  dims: number,
  synonyms: Readonly<Record<string, string>> = {}
): Array<number> => {
  const v = new Array<number>(dims).fill(0)
  for (const raw of text
    .toLowerCase()
    .match(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|[\p{L}\p{N}]+/gu) ?? []) {
    const word = synonyms[raw] ?? raw
    let h = 2166136261
    for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619)
    v[(h >>> 0) % dims]! += 1
  }
  const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0))
  return norm === 0 ? v : v.map((x) => x / norm)
}

/** A running server. */
export interface ModelServer {
  /** Base URL without a trailing slash and without `/v1` (`http://127.0.0.1:PORT`). */
  readonly url: string
  /** Every model request so far, oldest first. */
  readonly requests: ReadonlyArray<ModelRequest>
  /** Every HTTP request so far (model calls and side requests), as `METHOD path`. */
  readonly hits: ReadonlyArray<string>
  readonly setScript: (script: Script) => void
  /** Every embeddings request so far, oldest first. */
  readonly embeddingRequests: ReadonlyArray<EmbeddingRequest>
  /** How embeddings requests are answered (default `bagOfWordsEmbedder()`). */
  readonly setEmbedder: (embedder: Embedder) => void
  readonly close: () => Promise<void>
}

// ---------------------------------------------------------------------------------------------
// Understanding requests

const header = (req: IncomingMessage): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v
  return out
}

const decode = (raw: Buffer, encoding: string | undefined): string => {
  switch (encoding) {
    case "gzip":
      return gunzipSync(raw).toString("utf8")
    case "deflate":
      return inflateSync(raw).toString("utf8")
    case "br":
      return brotliDecompressSync(raw).toString("utf8")
    default:
      return raw.toString("utf8")
  }
}

const textOf = (content: unknown): string => {
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return ""
  return content
    .map((part: any) =>
      typeof part === "string" ? part : typeof part?.text === "string" && part.type !== "tool_result" ? part.text : ""
    )
    .filter((t) => t !== "")
    .join("\n")
}

const toolsOf = (api: ModelRequest["api"], body: any): ModelRequest["tools"] => {
  const list: Array<any> = Array.isArray(body?.tools) ? body.tools : []
  const out: Array<{ name: string; schema: any; kind: "function" | "custom" }> = []
  for (const t of list) {
    if (api === "anthropic" && typeof t?.name === "string")
      out.push({ name: t.name, schema: t.input_schema ?? {}, kind: "function" })
    else if (api === "chat" && typeof t?.function?.name === "string")
      out.push({ name: t.function.name, schema: t.function.parameters ?? {}, kind: "function" })
    else if (api === "responses" && typeof t?.name === "string") {
      out.push({
        name: t.name,
        schema: t.type === "custom" ? (t.format ?? {}) : (t.parameters ?? {}),
        kind: t.type === "custom" ? "custom" : "function"
      })
    }
  }
  return out
}

const countToolResults = (api: ModelRequest["api"], body: any): number => {
  if (api === "anthropic") {
    let n = 0
    for (const m of body?.messages ?? [])
      if (Array.isArray(m?.content)) for (const b of m.content) if (b?.type === "tool_result") n++
    return n
  }
  if (api === "responses") {
    const input = Array.isArray(body?.input) ? body.input : []
    return input.filter((i: any) => typeof i?.type === "string" && i.type.endsWith("_call_output")).length
  }
  return (body?.messages ?? []).filter((m: any) => m?.role === "tool").length
}

const lastUserTextOf = (api: ModelRequest["api"], body: any): string => {
  const items: Array<any> =
    api === "responses"
      ? typeof body?.input === "string"
        ? [{ role: "user", content: body.input }]
        : (body?.input ?? [])
      : (body?.messages ?? [])
  for (let i = items.length - 1; i >= 0; i--) {
    const m = items[i]
    if (m?.role !== "user") continue
    const t = textOf(m.content)
    if (t !== "") return t
  }
  return ""
}

const CWD_PATTERNS = [
  /Primary working directory: *([^\n\\"]+)/,
  /Working directory: *([^\n\\"<]+)/,
  /<cwd>([^<]+)<\/cwd>/,
  /Current (?:working )?(?:directory|folder)(?: is)?: *([^\n\\"]+)/i
]

const cwdOf = (raw: string): string | undefined => {
  for (const p of CWD_PATTERNS) {
    const m = p.exec(raw)
    if (m?.[1] !== undefined && m[1].trim().startsWith("/")) return m[1].trim()
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------
// Writing replies

type Usage = { input: number; output: number }
const defaultUsage: Usage = { input: 100, output: 20 }
let seq = 0
const id = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(seq++).toString(36)}`

const sse = (res: ServerResponse, event: string | undefined, data: unknown) =>
  res.write(
    `${event !== undefined ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`
  )

const startSse = (res: ServerResponse) => {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" })
}

const json = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) => {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    ...extra
  })
  res.end(text)
}

const toolArguments = (input: unknown): string => (typeof input === "string" ? input : JSON.stringify(input ?? {}))

/** An Anthropic Messages message (non-streamed) for `reply`. */
const anthropicMessage = (
  model: string,
  reply: { text: string } | { tool: { name: string; input: unknown } },
  usage: Usage
) => ({
  id: id("msg"),
  type: "message",
  role: "assistant",
  model,
  content:
    "text" in reply
      ? [{ type: "text", text: reply.text }]
      : [
          {
            type: "tool_use",
            id: id("toolu"),
            name: reply.tool.name,
            input: typeof reply.tool.input === "string" ? { input: reply.tool.input } : (reply.tool.input ?? {})
          }
        ],
  stop_reason: "text" in reply ? "end_turn" : "tool_use",
  stop_sequence: null,
  usage: {
    input_tokens: usage.input,
    output_tokens: usage.output,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0
  }
})

const anthropicStream = (res: ServerResponse, msg: ReturnType<typeof anthropicMessage>) => {
  startSse(res)
  sse(res, "message_start", {
    type: "message_start",
    message: { ...msg, content: [], stop_reason: null, usage: { ...msg.usage, output_tokens: 1 } }
  })
  sse(res, "ping", { type: "ping" })
  const block = msg.content[0]! as any
  if (block.type === "text") {
    sse(res, "content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "" }
    })
    sse(res, "content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text: block.text }
    })
  } else {
    sse(res, "content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "tool_use", id: block.id, name: block.name, input: {} }
    })
    const args = JSON.stringify(block.input)
    const half = Math.floor(args.length / 2)
    sse(res, "content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "input_json_delta", partial_json: args.slice(0, half) }
    })
    sse(res, "content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "input_json_delta", partial_json: args.slice(half) }
    })
  }
  sse(res, "content_block_stop", { type: "content_block_stop", index: 0 })
  sse(res, "message_delta", {
    type: "message_delta",
    delta: { stop_reason: msg.stop_reason, stop_sequence: null },
    usage: { output_tokens: msg.usage.output_tokens }
  })
  sse(res, "message_stop", { type: "message_stop" })
  res.end()
}

const responsesItem = (
  reply: { text: string } | { tool: { name: string; input: unknown } },
  kind: "function" | "custom"
) => {
  if ("text" in reply) {
    return {
      type: "message",
      id: id("msg"),
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: reply.text, annotations: [] }]
    }
  }
  return kind === "custom"
    ? {
        type: "custom_tool_call",
        id: id("ctc"),
        status: "completed",
        call_id: id("call"),
        name: reply.tool.name,
        input: toolArguments(reply.tool.input)
      }
    : {
        type: "function_call",
        id: id("fc"),
        status: "completed",
        call_id: id("call"),
        name: reply.tool.name,
        arguments: toolArguments(reply.tool.input)
      }
}

const responsesObject = (model: string, item: any, usage: Usage, status: "in_progress" | "completed") => ({
  id: id("resp"),
  object: "response",
  created_at: Math.floor(Date.now() / 1000),
  status,
  model,
  output: status === "completed" ? [item] : [],
  usage:
    status === "completed"
      ? {
          input_tokens: usage.input,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: usage.output,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: usage.input + usage.output
        }
      : null
})

const responsesStream = (res: ServerResponse, model: string, item: any, usage: Usage) => {
  startSse(res)
  let n = 0
  const send = (type: string, data: Record<string, unknown>) => sse(res, type, { type, sequence_number: n++, ...data })
  const pending = responsesObject(model, item, usage, "in_progress")
  send("response.created", { response: pending })
  send("response.in_progress", { response: pending })
  const opened =
    item.type === "message"
      ? { ...item, status: "in_progress", content: [] }
      : item.type === "custom_tool_call"
        ? { ...item, status: "in_progress", input: "" }
        : { ...item, status: "in_progress", arguments: "" }
  send("response.output_item.added", { output_index: 0, item: opened })
  if (item.type === "message") {
    const part = { type: "output_text", text: "", annotations: [] }
    const text = item.content[0].text
    send("response.content_part.added", { item_id: item.id, output_index: 0, content_index: 0, part })
    send("response.output_text.delta", { item_id: item.id, output_index: 0, content_index: 0, delta: text })
    send("response.output_text.done", { item_id: item.id, output_index: 0, content_index: 0, text })
    send("response.content_part.done", { item_id: item.id, output_index: 0, content_index: 0, part: { ...part, text } })
  } else if (item.type === "custom_tool_call") {
    send("response.custom_tool_call_input.delta", { item_id: item.id, output_index: 0, delta: item.input })
    send("response.custom_tool_call_input.done", { item_id: item.id, output_index: 0, input: item.input })
  } else {
    send("response.function_call_arguments.delta", { item_id: item.id, output_index: 0, delta: item.arguments })
    send("response.function_call_arguments.done", { item_id: item.id, output_index: 0, arguments: item.arguments })
  }
  send("response.output_item.done", { output_index: 0, item })
  send("response.completed", { response: { ...responsesObject(model, item, usage, "completed"), id: pending.id } })
  res.end()
}

const chatToolCall = (reply: { tool: { name: string; input: unknown } }) => ({
  id: id("call"),
  type: "function",
  function: { name: reply.tool.name, arguments: toolArguments(reply.tool.input) }
})

const chatStream = (
  res: ServerResponse,
  model: string,
  reply: { text: string } | { tool: { name: string; input: unknown } },
  usage: Usage
) => {
  startSse(res)
  const base = { id: id("chatcmpl"), object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model }
  const chunk = (delta: unknown, finish: string | null = null) =>
    sse(res, undefined, { ...base, choices: [{ index: 0, delta, finish_reason: finish }] })
  chunk({ role: "assistant", content: "" })
  if ("text" in reply) {
    chunk({ content: reply.text })
    chunk({}, "stop")
  } else {
    const call = chatToolCall(reply)
    chunk({
      tool_calls: [{ index: 0, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } }]
    })
    chunk({ tool_calls: [{ index: 0, function: { arguments: call.function.arguments } }] })
    chunk({}, "tool_calls")
  }
  sse(res, undefined, {
    ...base,
    choices: [],
    usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output }
  })
  sse(res, undefined, "[DONE]")
  res.end()
}

const chatObject = (
  model: string,
  reply: { text: string } | { tool: { name: string; input: unknown } },
  usage: Usage
) => ({
  id: id("chatcmpl"),
  object: "chat.completion",
  created: Math.floor(Date.now() / 1000),
  model,
  choices: [
    {
      index: 0,
      message:
        "text" in reply
          ? { role: "assistant", content: reply.text }
          : { role: "assistant", content: null, tool_calls: [chatToolCall(reply)] },
      finish_reason: "text" in reply ? "stop" : "tool_calls"
    }
  ],
  usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output }
})

const ERROR_TEXT: Record<number, string> = {
  400: "Bad request (model server)",
  401: "Invalid API key (model server)",
  403: "Forbidden (model server)",
  429: "Rate limited (model server)",
  500: "Internal server error (model server)",
  529: "Overloaded (model server)"
}
const ANTHROPIC_ERROR_TYPE: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error"
}

const sendError = (
  res: ServerResponse,
  api: ModelRequest["api"],
  reply: { error: number; message?: string; retryAfter?: number }
) => {
  const message = reply.message ?? ERROR_TEXT[reply.error] ?? "error (model server)"
  const extra: Record<string, string> = {}
  if (reply.retryAfter !== undefined || reply.error === 429) extra["retry-after"] = String(reply.retryAfter ?? 1)
  const body =
    api === "anthropic"
      ? { type: "error", error: { type: ANTHROPIC_ERROR_TYPE[reply.error] ?? "api_error", message } }
      : {
          error: {
            message,
            type: reply.error === 400 ? "invalid_request_error" : "server_error",
            param: null,
            code: String(reply.error)
          }
        }
  json(res, reply.error, body, extra)
}

const sendMalformed = (res: ServerResponse, api: ModelRequest["api"], stream: boolean) => {
  if (!stream) {
    res.writeHead(200, { "content-type": "application/json" })
    res.end(`{"id":"broken","type":"message","content":[{"type":"text","text":"unterminated`)
    return
  }
  startSse(res)
  if (api === "anthropic")
    sse(res, "message_start", {
      type: "message_start",
      message: {
        id: id("msg"),
        type: "message",
        role: "assistant",
        content: [],
        model: "m",
        usage: { input_tokens: 1, output_tokens: 1 }
      }
    })
  else if (api === "responses")
    sse(res, "response.created", {
      type: "response.created",
      sequence_number: 0,
      response: { id: id("resp"), status: "in_progress", output: [] }
    })
  else
    sse(res, undefined, {
      id: id("chatcmpl"),
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta: { role: "assistant" }, finish_reason: null }]
    })
  res.write(
    `${api === "chat" ? "" : "event: content_block_delta\n"}data: {"type":"content_block_delta","index":0,"delta":{"type":"text_del\n\n`
  )
  res.end()
}

const sendTruncated = (res: ServerResponse, api: ModelRequest["api"], stream: boolean) => {
  if (stream) {
    startSse(res)
    if (api === "anthropic")
      sse(res, "message_start", {
        type: "message_start",
        message: {
          id: id("msg"),
          type: "message",
          role: "assistant",
          content: [],
          model: "m",
          usage: { input_tokens: 1, output_tokens: 1 }
        }
      })
    else if (api === "responses")
      sse(res, "response.created", {
        type: "response.created",
        sequence_number: 0,
        response: { id: id("resp"), status: "in_progress", output: [] }
      })
    else
      sse(res, undefined, {
        id: id("chatcmpl"),
        object: "chat.completion.chunk",
        choices: [{ index: 0, delta: { role: "assistant" }, finish_reason: null }]
      })
  }
  // Flush what was written, then cut the connection without a proper end.
  setTimeout(() => res.socket?.destroy(), 20)
}

// ---------------------------------------------------------------------------------------------
// Scripts

const WRITE_TOOLS = [
  "Write",
  "write",
  "Create",
  "create",
  "mcp__acp__Write",
  "write_file",
  "create_file",
  "apply_patch",
  "Edit",
  "edit",
  "mcp__acp__Edit"
]
const SHELL_TOOLS = [
  "Bash",
  "bash",
  "Execute",
  "execute",
  "exec_command",
  "shell",
  "run_command",
  "run_shell_command",
  "terminal"
]

const props = (schema: any): Record<string, any> =>
  schema && typeof schema.properties === "object" ? schema.properties : {}
const required = (schema: any): Array<string> => (Array.isArray(schema?.required) ? schema.required : [])

/** A filler value for a required argument we have no meaning for (Droid's `summary`, `riskLevel`, …). */
const filler = (spec: any): unknown => {
  if (Array.isArray(spec?.enum) && spec.enum.length > 0) return spec.enum[0]
  const type = Array.isArray(spec?.type) ? spec.type[0] : spec?.type
  if (type === "boolean") return false
  if (type === "number" || type === "integer") return 0
  if (type === "array") return []
  if (type === "object") return {}
  return "Requested by the test script."
}

const fillRequired = (schema: any, args: Record<string, unknown>) => {
  for (const key of required(schema)) if (!(key in args)) args[key] = filler(props(schema)[key])
  return args
}

const pick = (req: ModelRequest, names: ReadonlyArray<string>) => {
  for (const n of names) {
    const t = req.tools.find((tool) => tool.name === n)
    if (t) return t
  }
  return undefined
}

const absolute = (req: ModelRequest, path: string) =>
  path.startsWith("/") || req.cwd === undefined ? path : `${req.cwd.replace(/\/$/, "")}/${path}`

/** A tool call that writes `content` to `path` with whichever write tool the request offers, else a shell `printf`. */
export const writeCall = (req: ModelRequest, path: string, content: string): Reply => {
  const tool = pick(req, WRITE_TOOLS)
  if (tool === undefined) return shellCall(req, `printf '%s' '${content.replace(/'/g, "'\\''")}' > '${path}'`)
  if (tool.kind === "custom" || tool.name === "apply_patch") {
    const patch = `*** Begin Patch\n*** Add File: ${path}\n${content
      .replace(/\n$/, "")
      .split("\n")
      .map((l) => `+${l}`)
      .join("\n")}\n*** End Patch\n`
    return {
      tool: { name: tool.name, input: tool.kind === "custom" ? patch : fillRequired(tool.schema, { input: patch }) }
    }
  }
  const p = props(tool.schema)
  const args: Record<string, unknown> = {}
  const pathKey = ["file_path", "filePath", "path", "filename", "file"].find((k) => k in p) ?? "file_path"
  args[pathKey] = absolute(req, path)
  if ("content" in p || !("new_string" in p)) args.content = content
  else {
    args.old_string = ""
    args.new_string = content
  }
  return { tool: { name: tool.name, input: fillRequired(tool.schema, args) } }
}

/** A tool call that runs `command` with whichever shell tool the request offers, else the final text. */
export const shellCall = (req: ModelRequest, command: string, otherwise = "DONE"): Reply => {
  const tool = pick(req, SHELL_TOOLS)
  if (tool === undefined) return { text: otherwise }
  const p = props(tool.schema)
  const key = ["cmd", "command", "commands"].find((k) => k in p) ?? "command"
  const wantsArray = (Array.isArray(p[key]?.type) ? p[key].type[0] : p[key]?.type) === "array"
  const args: Record<string, unknown> = { [key]: wantsArray ? ["bash", "-lc", command] : command }
  if ("description" in p) args.description = "Run a command for the test"
  if ("workdir" in p && req.cwd !== undefined) args.workdir = req.cwd
  return { tool: { name: tool.name, input: fillRequired(tool.schema, args) } }
}

/** The short answer to tool-less side requests (titles, summaries, probes). */
export const sideText = (req: ModelRequest): string =>
  /title/i.test(req.lastUserText) || /title/i.test(JSON.stringify(req.body?.system ?? "")) ? "Test run" : "OK"

/** Ready-made scripts. */
export const scripts = {
  /**
   * The default: write `path` (default `hello.txt` = `hi\n`), then run `command` (default
   * `cat hello.txt`), then answer `finalText` (default `DONE`). Tool-less requests get a short text.
   */
  writeThenShellThenDone: (
    options: { path?: string; content?: string; command?: string; finalText?: string } = {}
  ): Script => {
    const path = options.path ?? "hello.txt"
    const content = options.content ?? "hi\n"
    const command = options.command ?? `cat ${path}`
    const finalText = options.finalText ?? "DONE"
    return (req) => {
      if (req.tools.length === 0) return { text: sideText(req) }
      if (req.toolResults === 0) return writeCall(req, path, content)
      if (req.toolResults === 1) return shellCall(req, command, finalText)
      return { text: finalText }
    }
  },
  /** Always answers `text`. */
  textOnly:
    (text: string): Script =>
    () => ({ text }),
  /** Turn requests (those offering tools) get `reply`; tool-less side requests still get a short text. */
  turnsReply:
    (reply: Reply): Script =>
    (req) =>
      req.tools.length === 0 ? { text: sideText(req) } : reply,
  /** Every request fails with HTTP `status`. */
  fail:
    (status: 400 | 401 | 403 | 429 | 500 | 529, message?: string): Script =>
    () =>
      message === undefined ? { error: status } : { error: status, message },
  /** Never answers. */
  hang: (): Script => () => ({ hang: true }),
  /** Replies in order, one per model request; after the last, repeats it. */
  sequence: (...replies: ReadonlyArray<Reply>): Script => {
    let i = 0
    return () => replies[Math.min(i++, replies.length - 1)]!
  }
} as const

// ---------------------------------------------------------------------------------------------
// The server

const apiOf = (path: string): ModelRequest["api"] | "count_tokens" | undefined => {
  if (/\/messages\/count_tokens$/.test(path)) return "count_tokens"
  if (/\/messages$/.test(path)) return "anthropic"
  if (/\/responses$/.test(path)) return "responses"
  if (/\/chat\/completions$/.test(path)) return "chat"
  return undefined
}

const MODELS = ["model-server-model", "claude-sonnet-4-5", "gpt-5.5"]
const modelEntry = (m: string) => ({
  id: m,
  object: "model",
  type: "model",
  display_name: m,
  created: 1700000000,
  created_at: "2025-01-01T00:00:00Z",
  owned_by: "model-server"
})

/** Starts a server on 127.0.0.1 on a free port. The default script is `scripts.writeThenShellThenDone()`. */
export const startModelServer = (options: { script?: Script; embedder?: Embedder } = {}): Promise<ModelServer> => {
  let script: Script = options.script ?? scripts.writeThenShellThenDone()
  let embedder: Embedder = options.embedder ?? bagOfWordsEmbedder()
  const embeddingRequests: Array<EmbeddingRequest> = []
  const requests: Array<ModelRequest> = []
  const hits: Array<string> = []
  const sockets = new Set<Socket>()

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const path = url.pathname
    hits.push(`${req.method} ${path}`)
    const api = req.method === "POST" ? apiOf(path) : undefined
    if (req.method === "GET" && /\/models$/.test(path))
      return json(res, 200, {
        object: "list",
        data: MODELS.map(modelEntry),
        has_more: false,
        first_id: MODELS[0],
        last_id: MODELS.at(-1)
      })
    if (req.method === "GET" && /\/models\/[^/]+$/.test(path))
      return json(res, 200, modelEntry(decodeURIComponent(path.split("/").at(-1)!)))
    if (req.method === "POST" && /\/embeddings$/.test(path)) return embeddings(req, res, path, raw)
    if (api === undefined) return json(res, 200, {})
    if (api === "count_tokens") return json(res, 200, { input_tokens: 123 })

    let text: string
    let body: any
    try {
      text = decode(raw, req.headers["content-encoding"])
      body = JSON.parse(text)
    } catch (e) {
      return json(res, 400, { error: { message: `model server: request body is not JSON (${String(e)})` } })
    }
    const request: ModelRequest = {
      api,
      path,
      headers: header(req),
      body,
      tools: toolsOf(api, body),
      toolResults: countToolResults(api, body),
      lastUserText: lastUserTextOf(api, body),
      ...(cwdOf(text) !== undefined ? { cwd: cwdOf(text)! } : {}),
      stream: body?.stream === true
    }
    requests.push(request)

    let reply: Reply
    try {
      reply = script(request)
    } catch (e) {
      return sendError(res, api, {
        error: 500,
        message: `model server script threw: ${e instanceof Error ? e.message : String(e)}`
      })
    }
    if ("hang" in reply) {
      if (reply.hang === "after-headers") {
        res.writeHead(200, { "content-type": "application/json" })
        res.flushHeaders()
      }
      return
    }
    if ("error" in reply) return sendError(res, api, reply)
    if ("malformed" in reply) return sendMalformed(res, api, request.stream)
    if ("truncated" in reply) return sendTruncated(res, api, request.stream)
    if ("tool" in reply) {
      const offered = request.tools.find((t) => t.name === reply.tool.name)
      if (offered === undefined) {
        return sendError(res, api, {
          error: 400,
          message: `model server script called tool "${reply.tool.name}", which the request did not offer (offered: ${request.tools.map((t) => t.name).join(", ") || "none"})`
        })
      }
    }
    const usage = reply.usage ?? defaultUsage
    const model = typeof body?.model === "string" ? body.model : "model-server-model"
    const content: { text: string } | { tool: { name: string; input: unknown } } =
      "text" in reply ? { text: reply.text } : { tool: reply.tool }
    if (api === "anthropic") {
      const msg = anthropicMessage(model, content, usage)
      return request.stream ? anthropicStream(res, msg) : json(res, 200, msg)
    }
    if (api === "responses") {
      const kind =
        "tool" in content ? (request.tools.find((t) => t.name === content.tool.name)?.kind ?? "function") : "function"
      const item = responsesItem(content, kind)
      return request.stream
        ? responsesStream(res, model, item, usage)
        : json(res, 200, responsesObject(model, item, usage, "completed"))
    }
    return request.stream ? chatStream(res, model, content, usage) : json(res, 200, chatObject(model, content, usage))
  }

  // OpenAI's embeddings wire format: `{model, input: string | string[], encoding_format}` in,
  // `{object: "list", data: [{object: "embedding", index, embedding}], model, usage}` out.
  const embeddings = (req: IncomingMessage, res: ServerResponse, path: string, raw: Buffer) => {
    let body: any
    try {
      body = JSON.parse(decode(raw, req.headers["content-encoding"]))
    } catch (e) {
      return json(res, 400, { error: { message: `model server: request body is not JSON (${String(e)})` } })
    }
    const inputs: Array<string> = typeof body?.input === "string" ? [body.input] : body?.input
    if (!Array.isArray(inputs) || inputs.some((i) => typeof i !== "string") || typeof body?.model !== "string")
      return json(res, 400, {
        error: {
          message: "model server: embeddings want {model: string, input: string | string[]}",
          type: "invalid_request_error"
        }
      })
    const request: EmbeddingRequest = { path, headers: header(req), model: body.model, inputs }
    embeddingRequests.push(request)
    const reply = embedder(request)
    if ("hang" in reply) return
    if ("error" in reply)
      return json(res, reply.error, {
        error: { message: reply.message ?? ERROR_TEXT[reply.error] ?? "error (model server)", type: "server_error" }
      })
    const tokens = inputs.reduce((n, t) => n + Math.max(1, Math.ceil(t.length / 4)), 0)
    return json(res, 200, {
      object: "list",
      data: reply.vectors.map((embedding, index) => ({ object: "embedding", index, embedding })),
      model: body.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens }
    })
  }

  const server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => handle(req, res, Buffer.concat(chunks)))
  })
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })

  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        hits,
        setScript: (s) => {
          script = s
        },
        embeddingRequests,
        setEmbedder: (e) => {
          embedder = e
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          })
      })
    })
  })
}

const ModelServerKey = Context.Service<ModelServer>("@spec-orch/test-kit/ModelServer")

/** Starts a server for the life of the current scope. */
const scoped = (
  options: { script?: Script; embedder?: Embedder } = {}
): Effect.Effect<ModelServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => startModelServer(options)),
    (server) => Effect.promise(() => server.close())
  )

/**
 * The model server as an Effect service: `yield* ModelServer` inside a test provided with
 * `ModelServer.layer()`, or `ModelServer.scoped()` for one server per scope.
 */
export const ModelServer = Object.assign(ModelServerKey, {
  scoped,
  layer: (options: { script?: Script; embedder?: Embedder } = {}): Layer.Layer<ModelServer> =>
    Layer.effect(ModelServerKey, scoped(options))
})
