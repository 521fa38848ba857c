/**
 * OpenAI Responses (`POST {base}/responses`, Bearer key). Structured output uses the API's own
 * `text.format` JSON schema (non-strict, so optional fields stay optional); the answer text is
 * salvaged to its JSON object in case a compatible server ignores the format.
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

type Item = Record<string, unknown>

const inputOf = (prompt: Prompt.Prompt) => {
  const instructions: Array<string> = []
  const input: Array<Item> = []
  for (const m of prompt.content) {
    switch (m.role) {
      case "system":
        instructions.push(m.content)
        break
      case "user":
        input.push({
          role: "user",
          content: m.content.map((p) => ({
            type: "input_text",
            text: p.type === "text" ? p.text : `[attachment ${p.fileName ?? p.mediaType} not sent]`
          }))
        })
        break
      case "assistant":
        for (const p of m.content) {
          if (p.type === "text" && p.text !== "")
            input.push({ role: "assistant", content: [{ type: "output_text", text: p.text }] })
          else if (p.type === "tool-call" && !p.providerExecuted)
            input.push({
              type: "function_call",
              call_id: p.id,
              name: p.name,
              arguments: JSON.stringify(p.params ?? {})
            })
        }
        break
      case "tool":
        for (const p of m.content)
          if (p.type === "tool-result")
            input.push({ type: "function_call_output", call_id: p.id, output: resultText(p.result) })
        break
    }
  }
  return { instructions, input }
}

const toolChoiceOf = (choice: LanguageModel.ProviderOptions["toolChoice"]): unknown => {
  if (choice === "auto" || choice === "required" || choice === "none") return choice
  if ("tool" in choice) return { type: "function", name: choice.tool }
  return choice.mode === "required" ? "required" : "auto"
}

/** The request body for `options`. */
export const responsesBody = (ctx: CallContext, options: LanguageModel.ProviderOptions) => {
  const { instructions, input } = inputOf(options.prompt)
  const tools = options.tools.filter(Tool.isUserDefined).map((t) => ({
    type: "function",
    name: t.name,
    ...(Tool.getDescription(t) !== undefined ? { description: Tool.getDescription(t) } : {}),
    parameters: Tool.getJsonSchema(t),
    strict: false
  }))
  let text: unknown
  if (options.responseFormat.type === "json") {
    const { objectName, schema } = options.responseFormat
    const jsonSchema = cachedCodecTransformer(schema as any).jsonSchema
    text = { format: { type: "json_schema", name: toolNameFor(objectName), schema: jsonSchema, strict: false } }
    instructions.push(structuredInstruction(objectName, undefined))
  }
  const p = ctx.profile
  return {
    model: p.model,
    input,
    ...(instructions.length > 0 ? { instructions: instructions.join("\n\n") } : {}),
    ...(p.maxTokens !== undefined ? { max_output_tokens: p.maxTokens } : {}),
    ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
    ...(tools.length > 0 ? { tools, tool_choice: toolChoiceOf(options.toolChoice) } : {}),
    ...(text !== undefined ? { text } : {}),
    store: false,
    stream: false
  }
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0)

/** The response parts for a Responses answer. */
export const responsesParts = (answer: any, json: boolean): Array<Response.PartEncoded> => {
  const parts: Array<Response.PartEncoded> = [
    { type: "response-metadata", id: String(answer?.id ?? ""), modelId: String(answer?.model ?? "") }
  ]
  let calledTool = false
  for (const item of Array.isArray(answer?.output) ? answer.output : []) {
    if (item?.type === "message") {
      for (const c of Array.isArray(item.content) ? item.content : []) {
        if (c?.type === "output_text" && typeof c.text === "string")
          parts.push({ type: "text", text: json ? salvageJson(c.text) : c.text })
        else if (c?.type === "refusal" && typeof c.refusal === "string") parts.push({ type: "text", text: c.refusal })
      }
    } else if (item?.type === "function_call") {
      calledTool = true
      let params: unknown = item.arguments
      try {
        params = JSON.parse(String(item.arguments ?? "{}"))
      } catch {
        // keep the raw string: the toolkit reports the invalid parameters
      }
      parts.push({ type: "tool-call", id: String(item.call_id ?? item.id), name: String(item.name), params })
    } else if (item?.type === "reasoning") {
      const summary = Array.isArray(item.summary) ? item.summary.map((s: any) => s?.text ?? "").join("") : ""
      if (summary !== "") parts.push({ type: "reasoning", text: summary })
    }
  }
  const usage = answer?.usage ?? {}
  const incomplete = answer?.status === "incomplete"
  parts.push({
    type: "finish",
    reason: incomplete
      ? answer?.incomplete_details?.reason === "content_filter"
        ? "content-filter"
        : "length"
      : calledTool
        ? "tool-calls"
        : "stop",
    usage: {
      inputTokens: {
        total: num(usage.input_tokens),
        uncached: undefined,
        cacheRead: num(usage.input_tokens_details?.cached_tokens) || undefined,
        cacheWrite: undefined
      },
      outputTokens: {
        total: num(usage.output_tokens),
        text: undefined,
        reasoning: num(usage.output_tokens_details?.reasoning_tokens) || undefined
      }
    }
  })
  return parts
}

/** `{base}/responses`. */
export const responsesUrl = (baseUrl: string): string => `${baseUrl}/responses`

/** One Responses call. */
export const responsesGenerate = (
  ctx: CallContext,
  options: LanguageModel.ProviderOptions
): Effect.Effect<Array<Response.PartEncoded>, AiError.AiError, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const headers: Record<string, string> =
      ctx.key !== undefined ? { authorization: `Bearer ${Redacted.value(ctx.key)}` } : {}
    const answer = yield* postJson(ctx, responsesUrl(ctx.profile.baseUrl), headers, responsesBody(ctx, options))
    return responsesParts(answer, options.responseFormat.type === "json")
  })
