/**
 * OpenAI-compatible Chat Completions (`POST {base}/chat/completions`, Bearer key): the dialect most
 * gateways and local servers speak. Structured output is a forced function call whose arguments
 * are the answer (portable across compatible servers); a text answer is salvaged to its JSON.
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

type Message = Record<string, unknown>

const messagesOf = (prompt: Prompt.Prompt, extraSystem: ReadonlyArray<string>): Array<Message> => {
  const out: Array<Message> = []
  for (const m of prompt.content) {
    switch (m.role) {
      case "system":
        out.push({ role: "system", content: m.content })
        break
      case "user":
        out.push({
          role: "user",
          content: m.content
            .map((p) => (p.type === "text" ? p.text : `[attachment ${p.fileName ?? p.mediaType} not sent]`))
            .join("\n")
        })
        break
      case "assistant": {
        const text = m.content.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("")
        const calls = m.content.flatMap((p) =>
          p.type === "tool-call" && !p.providerExecuted
            ? [{ id: p.id, type: "function", function: { name: p.name, arguments: JSON.stringify(p.params ?? {}) } }]
            : []
        )
        out.push({
          role: "assistant",
          content: text === "" && calls.length > 0 ? null : text,
          ...(calls.length > 0 ? { tool_calls: calls } : {})
        })
        break
      }
      case "tool":
        for (const p of m.content)
          if (p.type === "tool-result") out.push({ role: "tool", tool_call_id: p.id, content: resultText(p.result) })
        break
    }
  }
  if (extraSystem.length > 0) {
    const i = out.findIndex((m) => m.role !== "system")
    out.splice(i < 0 ? out.length : i, 0, { role: "system", content: extraSystem.join("\n\n") })
  }
  return out
}

const toolChoiceOf = (choice: LanguageModel.ProviderOptions["toolChoice"]): unknown => {
  if (choice === "auto" || choice === "required" || choice === "none") return choice
  if ("tool" in choice) return { type: "function", function: { name: choice.tool } }
  return choice.mode === "required" ? "required" : "auto"
}

/** The request body for `options`. */
export const chatBody = (ctx: CallContext, options: LanguageModel.ProviderOptions) => {
  const tools: Array<Record<string, unknown>> = options.tools.filter(Tool.isUserDefined).map((t) => ({
    type: "function",
    function: {
      name: t.name,
      ...(Tool.getDescription(t) !== undefined ? { description: Tool.getDescription(t) } : {}),
      parameters: Tool.getJsonSchema(t)
    }
  }))
  let toolChoice = options.tools.length > 0 ? toolChoiceOf(options.toolChoice) : undefined
  let structuredTool: string | undefined
  const extraSystem: Array<string> = []
  if (options.responseFormat.type === "json") {
    const { objectName, schema } = options.responseFormat
    const jsonSchema = cachedCodecTransformer(schema as any).jsonSchema
    structuredTool = toolNameFor(objectName)
    tools.push({
      type: "function",
      function: { name: structuredTool, description: `Submit the answer "${objectName}".`, parameters: jsonSchema }
    })
    if (tools.length === 1) toolChoice = { type: "function", function: { name: structuredTool } }
    extraSystem.push(structuredInstruction(objectName, structuredTool))
  }
  const p = ctx.profile
  return {
    body: {
      model: p.model,
      messages: messagesOf(options.prompt, extraSystem),
      ...(p.maxTokens !== undefined ? { max_tokens: p.maxTokens } : {}),
      ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
      ...(tools.length > 0 ? { tools } : {}),
      ...(toolChoice !== undefined && tools.length > 0 ? { tool_choice: toolChoice } : {}),
      stream: false
    },
    structuredTool
  }
}

const FINISH: Record<string, Response.FinishPartEncoded["reason"]> = {
  stop: "stop",
  length: "length",
  tool_calls: "tool-calls",
  function_call: "tool-calls",
  content_filter: "content-filter"
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0)

/** The response parts for a Chat Completions answer. */
export const chatParts = (
  answer: any,
  structuredTool: string | undefined,
  json: boolean
): Array<Response.PartEncoded> => {
  const parts: Array<Response.PartEncoded> = [
    { type: "response-metadata", id: String(answer?.id ?? ""), modelId: String(answer?.model ?? "") }
  ]
  const choice = Array.isArray(answer?.choices) ? answer.choices[0] : undefined
  const message = choice?.message ?? {}
  let toolAnswer: string | undefined
  if (typeof message.reasoning_content === "string" && message.reasoning_content !== "")
    parts.push({ type: "reasoning", text: message.reasoning_content })
  if (typeof message.content === "string" && message.content !== "")
    parts.push({ type: "text", text: json ? salvageJson(message.content) : message.content })
  for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
    const name = String(call?.function?.name ?? "")
    const args =
      typeof call?.function?.arguments === "string"
        ? call.function.arguments
        : JSON.stringify(call?.function?.arguments ?? {})
    if (name === structuredTool) toolAnswer = args
    else parts.push({ type: "tool-call", id: String(call?.id ?? name), name, params: parseArgs(args) })
  }
  const out =
    toolAnswer !== undefined
      ? [...parts.filter((p) => p.type !== "text"), { type: "text" as const, text: toolAnswer }]
      : parts
  const usage = answer?.usage ?? {}
  out.push({
    type: "finish",
    reason: toolAnswer !== undefined ? "stop" : (FINISH[String(choice?.finish_reason)] ?? "unknown"),
    usage: {
      inputTokens: {
        total: num(usage.prompt_tokens),
        uncached: undefined,
        cacheRead: num(usage.prompt_tokens_details?.cached_tokens) || undefined,
        cacheWrite: undefined
      },
      outputTokens: {
        total: num(usage.completion_tokens),
        text: undefined,
        reasoning: num(usage.completion_tokens_details?.reasoning_tokens) || undefined
      }
    }
  })
  return out
}

const parseArgs = (args: string): unknown => {
  try {
    return JSON.parse(args)
  } catch {
    return args
  }
}

/** `{base}/chat/completions`. */
export const chatUrl = (baseUrl: string): string => `${baseUrl}/chat/completions`

/** One Chat Completions call. */
export const chatGenerate = (
  ctx: CallContext,
  options: LanguageModel.ProviderOptions
): Effect.Effect<Array<Response.PartEncoded>, AiError.AiError, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const { body, structuredTool } = chatBody(ctx, options)
    const headers: Record<string, string> =
      ctx.key !== undefined ? { authorization: `Bearer ${Redacted.value(ctx.key)}` } : {}
    const answer = yield* postJson(ctx, chatUrl(ctx.profile.baseUrl), headers, body)
    return chatParts(answer, structuredTool, options.responseFormat.type === "json")
  })
