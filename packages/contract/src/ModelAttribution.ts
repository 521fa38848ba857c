/**
 * Which model answered an LLM role's call: the model chain puts it on the response (the finish
 * part's `metadata.specOrch`) and the request count on a failure (`reason.metadata.specOrch.calls`).
 * Plans and reviews record it, so a reader knows which model produced them and what it took.
 */

/** What the chain says about the model that answered. */
export interface ModelAnswered {
  /** The chain (`chain:<id>`, `model:<id>`, `[planner]`, …). */
  readonly chain: string
  /** The profile id of the model that answered. */
  readonly model: string
  /** The model name sent on the wire. */
  readonly modelName: string
  /** HTTP requests the call made, over every model, the repair included. */
  readonly calls: number
  /** The models given up on before, each with why. */
  readonly fallbacks: ReadonlyArray<{ readonly model: string; readonly reason: string }>
  /** Whether the answer came from the one repair request. */
  readonly repaired: boolean
  /** The call's requests summed; absent from older chains. */
  readonly usage?: CallUsage | undefined
}

/** One HTTP request of a chain's call: which model and provider, how it ended, what it took. */
export interface CallRequest {
  /** The profile id and the model name sent on the wire. */
  readonly model: string
  readonly modelName: string
  /** The host of the model's base URL. */
  readonly provider: string
  /** 1 for the first try on this model, 2+ for retries. */
  readonly attempt: number
  /** `ok`, or the failure's reason tag (`RateLimitError`, `InternalProviderError`, …). */
  readonly outcome: string
  /** The HTTP status of a failed request, when it had one. */
  readonly httpStatus?: number
  readonly latencyMs: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly costUsd?: number
  /** The one repair request after an answer that did not match the schema. */
  readonly repair?: boolean
  /** Set on the last request to a model the chain then gave up on: why it moved to the next. */
  readonly fallbackReason?: string
}

/** The requests of one call of a chain, summed. */
export interface CallUsage {
  readonly calls: number
  readonly failed: number
  readonly inputTokens: number
  readonly outputTokens: number
  /** USD from the models' prices; `null` = unknown (a request that used tokens went to a model without prices). */
  readonly costUsd: number | null
  readonly latencyMs: number
  /** Each request, in order; absent from older chains. */
  readonly requests?: ReadonlyArray<CallRequest> | undefined
}

/** The attribution on a response's parts, when a model chain produced it. */
export const modelAnsweredOf = (parts: ReadonlyArray<{ readonly type: string }>): ModelAnswered | undefined => {
  const finish = parts.find((p) => p.type === "finish") as { readonly metadata?: Record<string, any> } | undefined
  const meta = finish?.metadata?.specOrch
  return meta !== undefined && typeof meta.model === "string" && typeof meta.calls === "number"
    ? (meta as ModelAnswered)
    : undefined
}

/** The HTTP requests a failed call made, when a model chain recorded them on the error. */
export const modelCallsOfFailure = (error: unknown): number | undefined => {
  const n = (error as { readonly reason?: { readonly metadata?: Record<string, any> } } | undefined)?.reason?.metadata
    ?.specOrch?.calls
  return typeof n === "number" ? n : undefined
}

/** `b (claude-x) after 4 calls; fallback from a: overloaded; repaired once`. */
export const describeModelAnswered = (a: ModelAnswered): string =>
  [
    `${a.model} (${a.modelName}) after ${a.calls} call${a.calls === 1 ? "" : "s"}`,
    ...a.fallbacks.map(
      (f) => `fallback from ${f.model}: ${f.reason.length > 200 ? `${f.reason.slice(0, 200)}…` : f.reason}`
    ),
    ...(a.repaired ? ["repaired once"] : [])
  ].join("; ")
