/**
 * The model providers spec-orch speaks, as `effect/ai` `LanguageModel` layers over `effect/http`:
 * Anthropic Messages, OpenAI-compatible Chat Completions and OpenAI Responses. One provider call is
 * one HTTP request; retries, fallback, structured-output repair and usage live in `ModelChain`.
 * Streaming is whole-answer: `streamText` yields the parts of one non-streamed answer.
 */
import { Effect, Layer, Stream } from "effect"
import { AiError, LanguageModel, type Response } from "effect/ai"
import type { HttpClient } from "effect/http"
import type { ApiType, ModelProfile } from "./ModelRegistry.js"
import { anthropicGenerate } from "./providers/anthropic.js"
import { cachedCodecTransformer, type CallContext, keyOrigin } from "./providers/http.js"
import { chatGenerate } from "./providers/openai-chat.js"
import { responsesGenerate } from "./providers/openai-responses.js"

export { type CallContext, salvageJson, scrub as scrubKey } from "./providers/http.js"

/** One request to one model: the provider's wire format in, `effect/ai` response parts out. */
export type ProviderGenerate = (
  ctx: CallContext,
  options: LanguageModel.ProviderOptions
) => Effect.Effect<Array<Response.PartEncoded>, AiError.AiError, HttpClient.HttpClient>

/** The `AiError` module name of each provider. */
export const PROVIDER_MODULE: Record<ApiType, string> = {
  anthropic: "AnthropicMessages",
  openai_chat: "OpenAiChatCompletions",
  openai_responses: "OpenAiResponses"
}

/** The provider call for an API type. */
export const providerFor = (apiType: ApiType): ProviderGenerate =>
  apiType === "anthropic" ? anthropicGenerate : apiType === "openai_chat" ? chatGenerate : responsesGenerate

let streamIds = 0

/** The stream parts of one whole answer (text and reasoning as start/delta/end, the rest unchanged). */
export const partsToStream = (parts: ReadonlyArray<Response.PartEncoded>): Array<Response.StreamPartEncoded> =>
  parts.flatMap((p): Array<Response.StreamPartEncoded> => {
    const id = `part_${(streamIds++).toString(36)}`
    switch (p.type) {
      case "text":
        return [
          { type: "text-start", id },
          { type: "text-delta", id, delta: p.text },
          { type: "text-end", id }
        ]
      case "reasoning":
        return [
          { type: "reasoning-start", id },
          { type: "reasoning-delta", id, delta: p.text },
          { type: "reasoning-end", id }
        ]
      case "reasoning-delta":
      case "reasoning-end":
        return []
      default:
        return [p as Response.StreamPartEncoded]
    }
  })

/**
 * A `LanguageModel` for one model profile with a key from the environment: one request per call,
 * no retries and no fallback (use `ModelChain` for those). A profile keyed by `token_command` or
 * with missing env fails each call with an authentication error naming what is missing.
 */
const languageModel = (
  profile: ModelProfile
): Effect.Effect<LanguageModel.LanguageModel, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const generate = providerFor(profile.apiType)
    const module = PROVIDER_MODULE[profile.apiType]
    const call = (options: LanguageModel.ProviderOptions) =>
      profile.key?.kind === "env"
        ? generate({ profile, key: profile.key.value, module }, options).pipe(Effect.provideContext(context))
        : Effect.fail(
            AiError.make({
              module,
              method: "generateText",
              reason: new AiError.AuthenticationError({
                kind: "MissingKey",
                description:
                  profile.key === undefined
                    ? `${profile.id} needs ${profile.missing.join(" and ")}`
                    : `${profile.id} takes its key from ${keyOrigin(profile.key)}; use ModelChain (Models) to run it`
              })
            })
          )
    return yield* LanguageModel.make({
      codecTransformer: cachedCodecTransformer,
      generateText: call,
      streamText: (options) =>
        Stream.unwrap(Effect.map(call(options), (parts) => Stream.fromIterable(partsToStream(parts))))
    })
  })

/** The providers: `Providers.layer(profile)` is a `LanguageModel` layer for one model. */
export const Providers = {
  languageModel,
  /** `languageModel(profile)` as a layer. */
  layer: (profile: ModelProfile): Layer.Layer<LanguageModel.LanguageModel, never, HttpClient.HttpClient> =>
    Layer.effect(LanguageModel.LanguageModel, languageModel(profile)),
  providerFor,
  partsToStream
} as const
