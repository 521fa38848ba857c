/**
 * The embedding model memory's vector recall uses: `[memory] embedding_model` names a `[models.<id>]`
 * with an OpenAI-compatible `api_type`, whose `model` makes embeddings (`POST {base}/embeddings`, the
 * OpenAI wire format most gateways and local servers speak). The original's `[memory.qdrant]
 * embedding_model` is used when it names a `[models.<id>]` too; otherwise (a local fastembed model
 * such as `BAAI/bge-small-zh-v1.5`) it is ignored, and said so. Building the layer reads the
 * environment only; nothing is sent until memory embeds.
 */
import { Project, type SpecOrchConfig } from "@spec-orch/contract"
import { Context, Effect, Layer, Redacted } from "effect"
import { AiError, EmbeddingModel } from "effect/ai"
import type { HttpClient } from "effect/http"
import { snapshotEnv } from "./Models.js"
import { type EnvLookup, type ModelProfile, resolveModelRef } from "./ModelRegistry.js"
import { describeMissing, ModelsError } from "./ModelsError.js"
import { type CallContext, fail, keyOrigin, postJson, scrub } from "./providers/http.js"

/** Whether memory has an embedding model, and why not. */
export type EmbeddingSetup =
  | {
      readonly _tag: "Off"
      /** Why a configured key is not used (the original's local fastembed model), when one is. */
      readonly note: string | undefined
    }
  | {
      /** Configured, but unusable: an unknown id, an api_type without embeddings, a missing key. */
      readonly _tag: "Unusable"
      readonly problem: string
    }
  | {
      readonly _tag: "On"
      /** The profile id and model, as stored with each vector (`<id>/<model>`): another model's vectors are not compared. */
      readonly name: string
      readonly profile: ModelProfile
      /** Where it was configured (`[memory] embedding_model`). */
      readonly where: string
      /** How long recall waits for the query's embedding. */
      readonly recallTimeoutMs: number
    }

/** The embedding setup of `config` against the environment (pure). */
export const resolveEmbedding = (config: SpecOrchConfig, env: EnvLookup): EmbeddingSetup => {
  const own = config.memory.embedding_model
  const legacy = config.memory.qdrant?.embedding_model
  const where = own !== undefined ? "[memory] embedding_model" : "[memory.qdrant] embedding_model"
  const id = own ?? legacy
  if (id === undefined) return { _tag: "Off", note: undefined }
  if (own === undefined && config.models[id] === undefined)
    return {
      _tag: "Off",
      note: `[memory.qdrant] embedding_model "${id}" names no [models.<id>] (the original's local model is not run): set [memory] embedding_model to an OpenAI-compatible [models.<id>] for vector recall`
    }
  const profile = resolveModelRef(config, id, env, where)
  if (profile instanceof ModelsError) return { _tag: "Unusable", problem: profile.message }
  if (profile.apiType === "anthropic")
    return {
      _tag: "Unusable",
      problem: `${where} names [models.${id}], whose api_type is anthropic: Anthropic has no embeddings endpoint; use an OpenAI-compatible api_type ("openai")`
    }
  if (profile.key === undefined)
    return { _tag: "Unusable", problem: `${where}: [models.${id}] needs ${describeMissing(profile.missing)}` }
  if (profile.key.kind === "command")
    return {
      _tag: "Unusable",
      problem: `${where}: [models.${id}] takes its key from token_command, which embeddings do not run; use api_key_env`
    }
  return {
    _tag: "On",
    name: `${id}/${profile.model}`,
    profile,
    where,
    recallTimeoutMs: Math.round(config.memory.embedding_timeout_seconds * 1000)
  }
}

/** `{base}/embeddings`. */
export const embeddingsUrl = (baseUrl: string): string => `${baseUrl}/embeddings`

/**
 * An `effect/ai` `EmbeddingModel` over `POST {base}/embeddings` for one profile: one request per
 * batch, the model's timeouts, errors mapped as for the language models (never a key in a message).
 */
export const openAiEmbeddingModel = (
  profile: ModelProfile
): Effect.Effect<EmbeddingModel.EmbeddingModel, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const key = profile.key?.kind === "env" ? profile.key.value : undefined
    const ctx: CallContext = { profile, key, module: "OpenAiEmbeddings" }
    const url = embeddingsUrl(profile.baseUrl)
    const invalid = (description: string) =>
      fail(
        ctx,
        new AiError.InvalidResponseError({
          description: scrub(`${profile.id} (${profile.model}): ${description}`, key)
        })
      )
    return yield* EmbeddingModel.make({
      embedMany: ({ inputs }) =>
        Effect.gen(function* () {
          if (profile.key === undefined || key === undefined)
            return yield* fail(
              ctx,
              new AiError.AuthenticationError({
                kind: "MissingKey",
                description: `${profile.id} takes its key from ${keyOrigin(profile.key)}, which embeddings cannot use`
              })
            )
          const answer = yield* postJson(
            ctx,
            url,
            { authorization: `Bearer ${Redacted.value(key)}` },
            { model: profile.model, input: inputs, encoding_format: "float" }
          )
          const data: Array<{ readonly index?: unknown; readonly embedding?: unknown }> = Array.isArray(answer?.data)
            ? answer.data
            : []
          if (data.length !== inputs.length)
            return yield* invalid(`POST ${url} answered ${data.length} embeddings for ${inputs.length} inputs`)
          const ordered = [...data].sort((a, b) => Number(a?.index ?? 0) - Number(b?.index ?? 0))
          const results: Array<Array<number>> = []
          for (const d of ordered) {
            const v = d?.embedding
            if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "number" && Number.isFinite(x)))
              return yield* invalid(
                `POST ${url} answered an embedding that is not a list of numbers (send encoding_format "float")`
              )
            results.push(v as Array<number>)
          }
          const tokens = answer?.usage?.prompt_tokens ?? answer?.usage?.total_tokens
          return { results, usage: { inputTokens: typeof tokens === "number" ? tokens : undefined } }
        }).pipe(Effect.provideContext(context), Effect.withSpan("Embeddings.embed", { kind: "client" }))
    })
  })

/** Memory's embedding model: the setup, and the model itself when it is on. */
export class Embeddings extends Context.Service<
  Embeddings,
  {
    readonly setup: EmbeddingSetup
    /** The model when `setup` is `On`. */
    readonly model: EmbeddingModel.EmbeddingModel | undefined
  }
>()("@spec-orch/harness/Embeddings") {
  /** From `config` and the environment (read once, now). */
  static readonly layerConfig = (config: SpecOrchConfig): Layer.Layer<Embeddings, never, HttpClient.HttpClient> =>
    Layer.effect(
      Embeddings,
      Effect.gen(function* () {
        const setup = resolveEmbedding(config, yield* snapshotEnv(config))
        const model = setup._tag === "On" ? yield* openAiEmbeddingModel(setup.profile) : undefined
        return Embeddings.of({ setup, model })
      })
    )

  /** The project's. */
  static readonly layer: Layer.Layer<Embeddings, never, Project | HttpClient.HttpClient> = Layer.unwrap(
    Effect.map(Effect.service(Project), (project) => Embeddings.layerConfig(project.config))
  )

  /** No embedding model: recall is full text alone. */
  static readonly layerNone: Layer.Layer<Embeddings> = Layer.succeed(
    Embeddings,
    Embeddings.of({ setup: { _tag: "Off", note: undefined }, model: undefined })
  )
}
