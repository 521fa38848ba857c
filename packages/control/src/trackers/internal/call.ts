/**
 * One tracker request under the shared budget: take a slot, run the call with a timeout, and on a
 * rate-limit answer record the tracker's limits and try again (the budget makes the retry wait).
 * Only idempotent calls are retried after a network failure or a 5xx: a create that timed out may
 * have happened, and the caller's find-first logic is what keeps it from happening twice.
 */
import { Clock, Duration, Effect, Option, Redacted } from "effect"
import type { RateInfo, RequestBudget } from "../RequestBudget.js"
import { TrackerError, type TrackerFailure, type TrackerName, TrackerRateLimited, TrackerUnreachable } from "../TrackerError.js"

/** How one attempt failed, as far as retrying is concerned. */
export type Attempt =
  | { readonly _tag: "RateLimited"; readonly info: RateInfo }
  | { readonly _tag: "Transient"; readonly detail: string }
  | { readonly _tag: "Final"; readonly reason: TrackerFailure }

/** The first of the names whose environment variable is set. */
export interface Token {
  readonly value: Redacted.Redacted<string>
  readonly envName: string
}

const MAX_RATE_RETRIES = 8
const MAX_TRANSIENT_RETRIES = 2
const ATTEMPT_TIMEOUT = Duration.seconds(30)

/** Parses a header holding a number, if present. */
export const numberHeader = (value: string | null | undefined): number | undefined => {
  if (value === null || value === undefined || value.trim() === "") return undefined
  const n = Number(value)
  return Number.isFinite(n) ? n : undefined
}

/** Describes a failed `fetch` (connection refused, DNS) in one line. */
export const describeNetworkError = (error: unknown): string => {
  const e = error as { message?: string; cause?: { code?: string; message?: string } }
  const code = e?.cause?.code
  return code !== undefined ? `${e.message ?? "request failed"} (${code})` : e?.cause?.message ?? e?.message ?? String(error)
}

/** Runs `once` under the budget with retries; every failure becomes a `TrackerError` for `operation`. */
export const call = <A>(options: {
  readonly budget: RequestBudget["Service"]
  readonly tracker: TrackerName
  readonly operation: string
  readonly url: string
  readonly idempotent: boolean
  readonly once: Effect.Effect<A, Attempt>
}): Effect.Effect<A, TrackerError> =>
  Effect.gen(function*() {
    const { budget, tracker, operation } = options
    const started = yield* Clock.currentTimeMillis
    let rateRetries = 0
    let transientRetries = 0
    const fail = (reason: TrackerFailure) => new TrackerError({ operation, reason })
    for (;;) {
      const slot = yield* Effect.result(budget.take(tracker))
      if (slot._tag === "Failure") {
        const now = yield* Clock.currentTimeMillis
        return yield* fail(new TrackerRateLimited({ tracker, resetAt: new Date(slot.failure.untilMs).toISOString(), waitedSeconds: (now - started) / 1000 }))
      }
      const outcome = yield* options.once.pipe(
        Effect.timeoutOption(ATTEMPT_TIMEOUT),
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail<Attempt>({ _tag: "Transient", detail: `no answer within ${Duration.toSeconds(ATTEMPT_TIMEOUT)} s` }),
          onSome: Effect.succeed
        })),
        Effect.result
      )
      if (outcome._tag === "Success") return outcome.success
      const attempt = outcome.failure
      if (attempt._tag === "Final") return yield* fail(attempt.reason)
      if (attempt._tag === "RateLimited") {
        rateRetries += 1
        const now = yield* Clock.currentTimeMillis
        // Without a usable reset time, wait a minute as GitHub's docs ask; never retry immediately.
        const usable = (attempt.info.retryAfterMs ?? 0) > 0 || (attempt.info.resetAtMs ?? 0) > now
        const info: RateInfo = usable ? { ...attempt.info, remaining: 0 } : { retryAfterMs: 60_000 }
        if (rateRetries > MAX_RATE_RETRIES) {
          const until = Math.max(info.resetAtMs ?? 0, now + (info.retryAfterMs ?? 0))
          return yield* fail(new TrackerRateLimited({ tracker, resetAt: new Date(until).toISOString(), waitedSeconds: (now - started) / 1000 }))
        }
        yield* budget.observe(tracker, info)
        continue
      }
      if (!options.idempotent || transientRetries >= MAX_TRANSIENT_RETRIES) {
        return yield* fail(new TrackerUnreachable({ tracker, url: options.url, detail: attempt.detail }))
      }
      transientRetries += 1
      yield* Effect.sleep(Duration.millis(250 * 2 ** transientRetries))
    }
  })
