/**
 * How a chain reads and reports a failed request: whether it is worth repeating, a short summary for
 * usage records and messages, the one error when every model failed, and the role's time bound. Pure.
 */
import { Duration } from "effect"
import { AiError } from "effect/ai"
import type { ModelProfile } from "../ModelRegistry.js"

/** Whether a failed call may succeed if repeated (or on another model). */
export const isTransient = (error: AiError.AiError): boolean => {
  switch (error.reason._tag) {
    case "RateLimitError":
    case "InternalProviderError":
    case "InvalidResponseError":
      return true
    case "NetworkError":
      return error.reason.reason === "TransportError"
    default:
      return false
  }
}

/** The host of a base URL (the provider a request went to); the URL itself when it does not parse. */
export const providerOf = (baseUrl: string): string => {
  try {
    return new URL(baseUrl).host
  } catch {
    return baseUrl
  }
}

export const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max)}…`)

/** A short summary of a failure for usage records, chain messages and `models check` (no module prefix, no advice boilerplate). */
export const summary = (error: AiError.AiError): string => {
  const r = error.reason
  switch (r._tag) {
    case "RateLimitError":
      return `rate limited (HTTP 429${r.retryAfter !== undefined ? `, retry after ${Duration.format(r.retryAfter)}` : ""})`
    case "InternalProviderError":
      return clip(r.description, 300)
    case "NetworkError":
      return clip(r.description ?? r.reason, 300)
    default:
      return clip(
        "description" in r && typeof r.description === "string" && r.description !== "" ? r.description : r.message,
        300
      )
  }
}

/** The whole chain failed with transient errors: one error that names every model and what happened to it. */
export const exhausted = (
  name: string,
  failures: ReadonlyArray<{ readonly profile: ModelProfile; readonly attempts: number; readonly last: AiError.AiError }>
) => {
  if (failures.length === 1) return failures[0]!.last
  const each = failures.map(
    (f) =>
      `${f.profile.id} (${f.profile.model}): ${summary(f.last)} after ${f.attempts} attempt${f.attempts === 1 ? "" : "s"}`
  )
  return AiError.make({
    module: "ModelChain",
    method: "generateText",
    reason: new AiError.InternalProviderError({
      description: `every model of ${name} failed with transient errors — ${each.join("; ")}`
    })
  })
}

/** Re-labels a failure with how many requests the call made (so a caller can report the real count). */
export const withCalls = (error: AiError.AiError, calls: number): AiError.AiError => {
  const reason = Object.assign(Object.create(Object.getPrototypeOf(error.reason)), error.reason, {
    metadata: { ...(error.reason as { metadata?: Record<string, unknown> }).metadata, specOrch: { calls } }
  })
  return AiError.make({ module: error.module, method: error.method, reason })
}
