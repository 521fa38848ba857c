/**
 * Anthropic Messages (`POST {base}/v1/messages`): prompt and tools to the wire format, the answer
 * back to `effect/ai` response parts. Structured output is a forced tool call whose input is the
 * answer; a model that answers in text instead is salvaged to its JSON object.
 */
import { Effect, Redacted } from "effect"
import { type AiError, type LanguageModel, type Prompt, type Response, Tool } from "effect/ai"
import type { HttpClient } from "effect/http"
import {
  cachedCodecTransformer,
  type CallContext,
  postJson,
  resultText,
  salvageJson,
  structuredInstruction,
  toolNameFor
} from "./http.js"

/** The `anthropic-version` header value. */
export const ANTHROPIC_VERSION = "2023-06-01"
const DEFAULT_MAX_TOKENS = 4096

type Block = Record<string, unknown>

const messagesOf = (prompt: Prompt.Prompt) => {
  const system: Array<string> = []
  const messages: Array<{ role: "user" | "assistant"; content: Array<Block> }> = []
  const push = (role: "user" | "assistant", blocks: Array<Block>) => {
    if (blocks.length === 0) return
    const last = messages.at(-1)
    if (last !== undefined && last.role === role) last.content.push(...blocks)
    else messages.push({ role, content: blocks })
  }
  for (const m of prompt.content) {
    switch (m.role) {
      case "system":
        system.push(m.content)
        break
      case "user":
        push(
          "user",
          m.content.map((p) =>
            p.type === "text"
              ? { type: "text", text: p.text }
              : { type: "text", text: `[attachment ${p.fileName ?? p.mediaType} not sent]` }
          )
        )
        break
      case "assistant":
        push(
          "assistant",
          m.content.flatMap((p): Array<Block> => {
            if (p.type === "text") return p.text === "" ? [] : [{ type: "text", text: p.text }]
            if (p.type === "tool-call" && !p.providerExecuted)
              return [{ type: "tool_use", id: p.id, name: p.name, input: p.params ?? {} }]
            return []
          })
        )
        break
      case "tool":
        push(
          "user",
          m.content.flatMap(
            (p): Array<Block> =>
              p.type === "tool-result"
                ? [
                    {
                      type: "tool_result",
                      tool_use_id: p.id,
                      content: resultText(p.result),
                      ...(p.isFailure ? { is_error: true } : {})
                    }
                  ]
                : []
          )
        )
        break
    }
  }
  return { system, messages }
}

const toolChoiceOf = (choice: LanguageModel.ProviderOptions["toolChoice"]): Block | undefined => {
  if (choice === "auto") return { type: "auto" }
  if (choice === "required") return { type: "any" }
  if (choice === "none") return undefined
  if ("tool" in choice) return { type: "tool", name: choice.tool }
  return choice.mode === "required" ? { type: "any" } : { type: "auto" }
}

/** The request body for `options` (exported for tests and `models check --verbose`). */
export const anthropicBody = (ctx: CallContext, options: LanguageModel.ProviderOptions) => {
  const { system, messages } = messagesOf(options.prompt)
  const tools: Array<Block> = options.tools.filter(Tool.isUserDefined).map((t) => ({
    name: t.name,
    ...(Tool.getDescription(t) !== undefined ? { description: Tool.getDescription(t) } : {}),
    input_schema: Tool.getJsonSchema(t)
  }))
  let toolChoice = options.tools.length > 0 ? toolChoiceOf(options.toolChoice) : undefined
  let structuredTool: string | undefined
  if (options.responseFormat.type === "json") {
    const { objectName, schema } = options.responseFormat
    const jsonSchema = cachedCodecTransformer(schema as any).jsonSchema
    structuredTool = toolNameFor(objectName)
    tools.push({ name: structuredTool, description: `Submit the answer "${objectName}".`, input_schema: jsonSchema })
    // Forcing the tool only works when it is the only one the model may call.
    if (tools.length === 1) toolChoice = { type: "tool", name: structuredTool }
    system.push(structuredInstruction(objectName, structuredTool))
  }
  const p = ctx.profile
  return {
    body: {
      model: p.model,
      max_tokens: p.maxTokens ?? DEFAULT_MAX_TOKENS,
      ...(system.length > 0 ? { system: system.join("\n\n") } : {}),
      messages: messages.length > 0 ? messages : [{ role: "user", content: [{ type: "text", text: "" }] }],
      ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
      ...(tools.length > 0 ? { tools } : {}),
      ...(toolChoice !== undefined && tools.length > 0 ? { tool_choice: toolChoice } : {})
    },
    structuredTool
  }
}

const FINISH: Record<string, Response.FinishPartEncoded["reason"]> = {
  end_turn: "stop",
  stop_sequence: "stop",
  pause_turn: "pause",
  max_tokens: "length",
  tool_use: "tool-calls",
  refusal: "content-filter"
}

/** The response parts for an Anthropic Messages answer. */
export const anthropicParts = (
  answer: any,
  structuredTool: string | undefined,
  json: boolean
): Array<Response.PartEncoded> => {
  const parts: Array<Response.PartEncoded> = [
    { type: "response-metadata", id: String(answer?.id ?? ""), modelId: String(answer?.model ?? "") }
  ]
  // With a structured tool answer, prose around it would corrupt the JSON the caller decodes: keep only the tool's input.
  let toolAnswer: string | undefined
  for (const block of Array.isArray(answer?.content) ? answer.content : []) {
    if (block?.type === "text" && typeof block.text === "string") {
      parts.push({ type: "text", text: json ? salvageJson(block.text) : block.text })
    } else if (block?.type === "tool_use") {
      if (block.name === structuredTool) toolAnswer = JSON.stringify(block.input ?? {})
      else parts.push({ type: "tool-call", id: String(block.id), name: String(block.name), params: block.input ?? {} })
    } else if (block?.type === "thinking" && typeof block.thinking === "string") {
      parts.push({ type: "reasoning", text: block.thinking })
    }
  }
  const out =
    toolAnswer !== undefined
      ? [...parts.filter((p) => p.type !== "text"), { type: "text" as const, text: toolAnswer }]
      : parts
  const usage = answer?.usage ?? {}
  const input = num(usage.input_tokens) + num(usage.cache_read_input_tokens) + num(usage.cache_creation_input_tokens)
  out.push({
    type: "finish",
    reason: toolAnswer !== undefined ? "stop" : (FINISH[String(answer?.stop_reason)] ?? "unknown"),
    usage: {
      inputTokens: {
        total: input,
        uncached: num(usage.input_tokens),
        cacheRead: num(usage.cache_read_input_tokens),
        cacheWrite: num(usage.cache_creation_input_tokens)
      },
      outputTokens: { total: num(usage.output_tokens), text: undefined, reasoning: undefined }
    }
  })
  return out
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0)

/** The headers for a key: `x-api-key` for API keys, `Authorization: Bearer` for auth tokens. */
export const anthropicHeaders = (ctx: CallContext): Record<string, string> => {
  const headers: Record<string, string> = { "anthropic-version": ANTHROPIC_VERSION }
  if (ctx.key === undefined) return headers
  const bearer = ctx.profile.key?.kind === "env" && ctx.profile.key.bearer
  if (bearer) headers.authorization = `Bearer ${Redacted.value(ctx.key)}`
  else headers["x-api-key"] = Redacted.value(ctx.key)
  return headers
}

/** `{base}/v1/messages`; a base that already ends in `/v1` is not doubled. */
export const anthropicUrl = (baseUrl: string): string => `${baseUrl.replace(/\/v1$/, "")}/v1/messages`

/** One Anthropic Messages call. */
export const anthropicGenerate = (
  ctx: CallContext,
  options: LanguageModel.ProviderOptions
): Effect.Effect<Array<Response.PartEncoded>, AiError.AiError, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const { body, structuredTool } = anthropicBody(ctx, options)
    const answer = yield* postJson(ctx, anthropicUrl(ctx.profile.baseUrl), anthropicHeaders(ctx), body)
    return anthropicParts(answer, structuredTool, options.responseFormat.type === "json")
  })
