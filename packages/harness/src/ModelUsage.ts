/**
 * The usage ledger of model calls: one `ModelCall` per HTTP request a model chain made (answered
 * or failed), with tokens, cost when the model has prices, and latency. Model chains record into
 * whatever `ModelUsage` is in context; the run workflow provides one and adds its calls to evidence.
 */
import { Context, Effect, Layer, Ref, Schema } from "effect"

/** One request to one model. Errors are summarized (reason tag and a short, redacted message). */
export const ModelCall = Schema.Struct({
  /** Epoch milliseconds when the request started. */
  at: Schema.Number,
  /** The chain that made the call (`chain:<id>`, `model:<id>`, `[planner]`, …). */
  chain: Schema.String,
  /** The profile id (`[models.<id>]` id or inline id). */
  model: Schema.String,
  /** The model name sent on the wire. */
  modelName: Schema.String,
  /** The API dialect (`anthropic`, `openai_chat`, `openai_responses`). */
  api: Schema.String,
  /** The provider: the host of the model's base URL (`api.anthropic.com`, `127.0.0.1:8080`). */
  provider: Schema.optionalKey(Schema.String),
  /** `text` or `object` (structured output). */
  kind: Schema.Literals(["text", "object"]),
  /** 1 for the first try on this model, 2+ for retries. */
  attempt: Schema.Number,
  ok: Schema.Boolean,
  inputTokens: Schema.Number,
  outputTokens: Schema.Number,
  /** USD, when the model has `input_usd_per_mtok` / `output_usd_per_mtok`. */
  usd: Schema.optionalKey(Schema.Number),
  latencyMs: Schema.Number,
  /** `AiError` reason tag, e.g. `RateLimitError`, when `ok` is false. */
  error: Schema.optionalKey(Schema.String),
  /** Human summary of the failure (never contains a key). */
  detail: Schema.optionalKey(Schema.String),
  /** The LLM role the chain served (`planner`, `reviewer`, …). */
  role: Schema.optionalKey(Schema.String),
  /** True for the one repair request after an answer that did not match the schema. */
  repair: Schema.optionalKey(Schema.Boolean)
})
/** One request to one model. */
export type ModelCall = typeof ModelCall.Type

/** Sums over a list of calls; `usd` is absent when no call had a price. */
export interface UsageTotals {
  readonly calls: number
  readonly failed: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly usd: number | undefined
}

/** Adds up `calls`. */
export const totalsOf = (calls: ReadonlyArray<ModelCall>): UsageTotals => {
  let usd: number | undefined
  let inputTokens = 0
  let outputTokens = 0
  for (const c of calls) {
    inputTokens += c.inputTokens
    outputTokens += c.outputTokens
    if (c.usd !== undefined) usd = (usd ?? 0) + c.usd
  }
  return { calls: calls.length, failed: calls.filter((c) => !c.ok).length, inputTokens, outputTokens, usd }
}

/** USD for a call from per-million-token prices; `undefined` when neither price is configured. */
export const costOf = (
  prices: { readonly inputUsdPerMtok: number | undefined; readonly outputUsdPerMtok: number | undefined },
  inputTokens: number,
  outputTokens: number
): number | undefined =>
  prices.inputUsdPerMtok === undefined && prices.outputUsdPerMtok === undefined
    ? undefined
    : (inputTokens * (prices.inputUsdPerMtok ?? 0) + outputTokens * (prices.outputUsdPerMtok ?? 0)) / 1_000_000

/** Where model chains record their calls. */
export class ModelUsage extends Context.Service<
  ModelUsage,
  {
    /** Records one call. Never fails. */
    readonly record: (call: ModelCall) => Effect.Effect<void>
    /** Every call recorded so far, oldest first. */
    readonly calls: Effect.Effect<ReadonlyArray<ModelCall>>
    /** The sums over `calls`. */
    readonly totals: Effect.Effect<UsageTotals>
  }
>()("@spec-orch/harness/ModelUsage") {
  /** An in-memory ledger (one per layer build: provide it around one run to collect that run's calls). */
  static readonly layer: Layer.Layer<ModelUsage> = Layer.effect(
    ModelUsage,
    Effect.gen(function* () {
      const ref = yield* Ref.make<ReadonlyArray<ModelCall>>([])
      const calls = Ref.get(ref)
      return ModelUsage.of({
        record: (call) => Ref.update(ref, (all) => [...all, call]),
        calls,
        totals: Effect.map(calls, totalsOf)
      })
    })
  )

  /** Forwards every call to `onCall` as well as keeping it in memory (e.g. to write evidence as calls happen). */
  static readonly layerCallback = (onCall: (call: ModelCall) => Effect.Effect<void>): Layer.Layer<ModelUsage> =>
    Layer.effect(
      ModelUsage,
      Effect.gen(function* () {
        const ref = yield* Ref.make<ReadonlyArray<ModelCall>>([])
        const calls = Ref.get(ref)
        return ModelUsage.of({
          record: (call) =>
            Effect.andThen(
              Ref.update(ref, (all) => [...all, call]),
              onCall(call)
            ),
          calls,
          totals: Effect.map(calls, totalsOf)
        })
      })
    )
}
