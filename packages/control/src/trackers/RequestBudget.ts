/**
 * The request budget shared by every tracker client: a token bucket per tracker refilled at
 * `[daemon] request_budget_per_minute`, plus what the tracker itself said about its limits
 * (remaining/reset headers, `retry-after`). Callers wait for a slot instead of failing; only a
 * block longer than `maxWaitSeconds` is reported, as `RequestBudgetExceeded` with the reset time.
 */
import { Project } from "@spec-orch/contract"
import { Clock, Context, Duration, Effect, Layer, Schema, Semaphore } from "effect"

/** What a tracker reported about its limits on one response. */
export interface RateInfo {
  /** Requests left in the tracker's current window. */
  readonly remaining?: number | undefined
  /** Epoch milliseconds when the tracker's window resets. */
  readonly resetAtMs?: number | undefined
  /** The tracker asked us to wait this long before the next request (milliseconds). */
  readonly retryAfterMs?: number | undefined
}

/** Options of a budget. */
export interface RequestBudgetOptions {
  /** Requests per minute per tracker. */
  readonly perMinute: number
  /** Requests allowed back to back before the per-minute pace applies (default perMinute / 10, at least 1). */
  readonly burst?: number
  /** The longest a caller waits for a slot; longer blocks fail with `RequestBudgetExceeded` (default 120 s). */
  readonly maxWaitSeconds?: number
}

/** The tracker is blocked for longer than callers are willing to wait. */
export class RequestBudgetExceeded extends Schema.TaggedError<RequestBudgetExceeded>()("RequestBudgetExceeded", {
  tracker: Schema.String,
  /** Epoch milliseconds when requests may resume. */
  untilMs: Schema.Number
}) {
  override get message(): string {
    return `${this.tracker} requests are blocked until ${new Date(this.untilMs).toISOString()}`
  }
}

/** A snapshot of one tracker's budget, for status output and tests. */
export interface BudgetState {
  readonly tokens: number
  readonly blockedUntilMs: number
  readonly requests: number
  readonly waitedMs: number
}

interface Bucket {
  tokens: number
  lastMs: number
  blockedUntilMs: number
  requests: number
  waitedMs: number
  readonly lock: Semaphore.Semaphore
}

const makeBudget = Effect.fnUntraced(function*(options: RequestBudgetOptions) {
  const perMs = options.perMinute / 60_000
  const burst = Math.max(1, options.burst ?? Math.floor(options.perMinute / 10))
  const maxWaitMs = (options.maxWaitSeconds ?? 120) * 1000
  const buckets = new Map<string, Bucket>()

  const bucketFor = Effect.fnUntraced(function*(tracker: string) {
    const existing = buckets.get(tracker)
    if (existing !== undefined) return existing
    const now = yield* Clock.currentTimeMillis
    const bucket: Bucket = { tokens: burst, lastMs: now, blockedUntilMs: 0, requests: 0, waitedMs: 0, lock: yield* Semaphore.make(1) }
    buckets.set(tracker, bucket)
    return bucket
  })

  const refill = (b: Bucket, now: number) => {
    b.tokens = Math.min(burst, b.tokens + (now - b.lastMs) * perMs)
    b.lastMs = now
  }

  const take = Effect.fn("RequestBudget.take")(function*(tracker: string) {
    const b = yield* bucketFor(tracker)
    // One waiter at a time per tracker, so slots are handed out in arrival order.
    yield* b.lock.withPermits(1)(Effect.gen(function*() {
      for (;;) {
        const now = yield* Clock.currentTimeMillis
        refill(b, now)
        const blockedFor = b.blockedUntilMs - now
        const tokenWait = b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) / perMs)
        const wait = Math.max(blockedFor, tokenWait, 0)
        if (wait === 0) {
          b.tokens -= 1
          b.requests += 1
          return
        }
        if (wait > maxWaitMs) return yield* new RequestBudgetExceeded({ tracker, untilMs: now + wait })
        if (wait >= 2000) yield* Effect.logInfo(`${tracker}: request budget spent, waiting ${Math.ceil(wait / 1000)} s`)
        b.waitedMs += wait
        yield* Effect.sleep(Duration.millis(wait))
      }
    }))
  })

  const observe = Effect.fn("RequestBudget.observe")(function*(tracker: string, info: RateInfo) {
    const b = yield* bucketFor(tracker)
    const now = yield* Clock.currentTimeMillis
    let until = b.blockedUntilMs
    if (info.retryAfterMs !== undefined && info.retryAfterMs > 0) until = Math.max(until, now + info.retryAfterMs)
    if (info.remaining !== undefined && info.remaining <= 0 && info.resetAtMs !== undefined) until = Math.max(until, info.resetAtMs)
    b.blockedUntilMs = until
  })

  const state = Effect.fn("RequestBudget.state")(function*(tracker: string) {
    const b = yield* bucketFor(tracker)
    return { tokens: b.tokens, blockedUntilMs: b.blockedUntilMs, requests: b.requests, waitedMs: b.waitedMs }
  })

  return RequestBudget.of({ take, observe, state })
})

/** Paces tracker requests so polling and publishing stay inside the configured and the tracker's own limits. */
export class RequestBudget extends Context.Service<RequestBudget, {
  /** Waits until one more request to `tracker` fits; fails only when the wait would exceed the configured maximum. */
  readonly take: (tracker: string) => Effect.Effect<void, RequestBudgetExceeded>
  /** Records the limits a tracker reported; later `take`s honour them. */
  readonly observe: (tracker: string, info: RateInfo) => Effect.Effect<void>
  /** The current state of a tracker's budget. */
  readonly state: (tracker: string) => Effect.Effect<BudgetState>
}>()("@spec-orch/control/RequestBudget") {
  /** A budget from `[daemon] request_budget_per_minute` of the project. */
  static readonly layer: Layer.Layer<RequestBudget, never, Project> = Layer.effect(
    RequestBudget,
    Effect.gen(function*() {
      const project = yield* Project
      return yield* makeBudget({ perMinute: project.config.daemon.request_budget_per_minute })
    })
  )

  /** A budget with explicit options (tests, embedders). */
  static readonly layerWith = (options: RequestBudgetOptions): Layer.Layer<RequestBudget> => Layer.effect(RequestBudget, makeBudget(options))

  /** No local pacing (the tracker's own limits are still honoured). */
  static readonly layerUnlimited: Layer.Layer<RequestBudget> = Layer.effect(RequestBudget, makeBudget({ perMinute: 1_000_000, burst: 1_000_000 }))
}
