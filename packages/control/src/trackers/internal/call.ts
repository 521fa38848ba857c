/**
 * One tracker request under the shared budget: take a slot, run the call with a timeout, and on a
 * rate-limit answer record the tracker's limits and try again (the budget makes the retry wait).
 * Retries are `Schedule`s, not Octokit's throttling and retry plugins (see ARCHITECTURE.md).
 * Only idempotent calls are retried after a network failure or a 5xx: a create that timed out may
 * have happened, and the caller's find-first logic is what keeps it from happening twice.
 */
import { Clock, Duration, Effect, Option, type Redacted, Schedule } from "effect"
import type { RateInfo, RequestBudget } from "../RequestBudget.js"
import {
  TrackerError,
  type TrackerFailure,
  type TrackerName,
  TrackerRateLimited,
  TrackerUnreachable
} from "../TrackerError.js"

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
  return code !== undefined
    ? `${e.message ?? "request failed"} (${code})`
    : (e?.cause?.message ?? e?.message ?? String(error))
}

/** Waits between retries after a network failure or a 5xx (idempotent calls only): 0.5 s, then 1 s. */
const transientBackoff = Schedule.exponential(Duration.millis(500))

/**
 * Runs `once` under the budget with retries; every failure becomes a `TrackerError` for `operation`.
 * Two `Schedule`s: a rate-limited attempt is retried at once (the budget's next slot is the wait), up
 * to `MAX_RATE_RETRIES` times; a transient failure of an idempotent call is retried with backoff, up to
 * `MAX_TRANSIENT_RETRIES` times after each rate-limited attempt.
 */
export const call = <A>(options: {
  readonly budget: RequestBudget["Service"]
  readonly tracker: TrackerName
  readonly operation: string
  readonly url: string
  readonly idempotent: boolean
  readonly once: Effect.Effect<A, Attempt>
}): Effect.Effect<A, TrackerError> =>
  Effect.gen(function* () {
    const { budget, tracker, operation } = options
    const started = yield* Clock.currentTimeMillis
    const fail = (reason: TrackerFailure) => new TrackerError({ operation, reason })
    const rateLimited = (untilMs: number) =>
      Effect.map(
        Clock.currentTimeMillis,
        (now) =>
          new TrackerRateLimited({
            tracker,
            resetAt: new Date(untilMs).toISOString(),
            waitedSeconds: (now - started) / 1000
          })
      )

    /** One attempt: a budget slot, then the call within its deadline; a rate limit is recorded in the budget. */
    const attempt: Effect.Effect<A, Attempt> = Effect.gen(function* () {
      const slot = yield* Effect.result(budget.take(tracker))
      if (slot._tag === "Failure")
        return yield* Effect.fail<Attempt>({ _tag: "Final", reason: yield* rateLimited(slot.failure.untilMs) })
      const outcome = yield* options.once.pipe(
        Effect.timeoutOption(ATTEMPT_TIMEOUT),
        Effect.flatMap(
          Option.match({
            onNone: () =>
              Effect.fail<Attempt>({
                _tag: "Transient",
                detail: `no answer within ${Duration.toSeconds(ATTEMPT_TIMEOUT)} s`
              }),
            onSome: Effect.succeed
          })
        ),
        Effect.result
      )
      if (outcome._tag === "Success") return outcome.success
      if (outcome.failure._tag !== "RateLimited") return yield* Effect.fail(outcome.failure)
      // Without a usable reset time, wait a minute as GitHub's docs ask; never retry immediately.
      const now = yield* Clock.currentTimeMillis
      const info = outcome.failure.info
      const usable = (info.retryAfterMs ?? 0) > 0 || (info.resetAtMs ?? 0) > now
      const waited: RateInfo = usable ? { ...info, remaining: 0 } : { retryAfterMs: 60_000 }
      yield* budget.observe(tracker, waited)
      return yield* Effect.fail<Attempt>({
        _tag: "RateLimited",
        info: { ...waited, resetAtMs: Math.max(waited.resetAtMs ?? 0, now + (waited.retryAfterMs ?? 0)) }
      })
    })

    return yield* attempt.pipe(
      Effect.retry({
        while: (a) => a._tag === "Transient" && options.idempotent,
        times: MAX_TRANSIENT_RETRIES,
        schedule: transientBackoff
      }),
      Effect.retry({ while: (a) => a._tag === "RateLimited", times: MAX_RATE_RETRIES }),
      Effect.catch((a: Attempt) =>
        a._tag === "Final"
          ? Effect.fail(fail(a.reason))
          : a._tag === "RateLimited"
            ? Effect.flatMap(rateLimited(a.info.resetAtMs ?? 0), (reason) => Effect.fail(fail(reason)))
            : Effect.fail(fail(new TrackerUnreachable({ tracker, url: options.url, detail: a.detail })))
      )
    )
  })
