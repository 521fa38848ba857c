/**
 * The request budget shared by every tracker client: a token bucket per tracker refilled at
 * `[daemon] request_budget_per_minute`, plus what the tracker itself said about its limits
 * (remaining/reset headers, `retry-after`). Callers wait for a slot instead of failing; only a
 * block longer than `maxWaitSeconds` is reported, as `RequestBudgetExceeded` with the reset time.
 *
 * On a cluster (`[cluster] storage = "postgres"`) the bucket lives in the cluster's Postgres, one row
 * per tracker taken under a row lock, so every host draws on one budget: the tracker's limits are per
 * token, not per host (with one bucket per process, N hosts spent N times the budget).
 */
import { Project } from "@spec-orch/contract"
import { Clock, Context, Duration, Effect, Layer, Option, Schema, Semaphore } from "effect"
import { Migrator, SqlClient } from "effect/sql"

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

/** A bucket's pace from the options. */
const pacing = (options: RequestBudgetOptions) => ({
  perMs: options.perMinute / 60_000,
  burst: Math.max(1, options.burst ?? Math.floor(options.perMinute / 10)),
  maxWaitMs: (options.maxWaitSeconds ?? 120) * 1000
})
type Pacing = ReturnType<typeof pacing>

/** The bucket's tokens at `now`, refilled since `lastMs` (time never runs backwards for it). */
const refilled = (p: Pacing, tokens: number, lastMs: number, now: number): number =>
  Math.min(p.burst, tokens + Math.max(0, now - lastMs) * p.perMs)

/** How long until one more request fits (0: now). */
const waitFor = (p: Pacing, tokens: number, blockedUntilMs: number, now: number): number =>
  Math.max(blockedUntilMs - now, tokens >= 1 ? 0 : Math.ceil((1 - tokens) / p.perMs), 0)

/** Until when what the tracker reported blocks requests (0: it does not). */
const reportedBlock = (info: RateInfo, now: number): number =>
  Math.max(
    info.retryAfterMs !== undefined && info.retryAfterMs > 0 ? now + info.retryAfterMs : 0,
    info.remaining !== undefined && info.remaining <= 0 && info.resetAtMs !== undefined ? info.resetAtMs : 0
  )

/**
 * Takes a slot: `attempt` takes one and answers 0, or answers how long to wait (having counted the wait);
 * waits that long and tries again, failing when the wait is longer than callers wait.
 */
const takeSlot = (
  tracker: string,
  p: Pacing,
  attempt: Effect.Effect<{ readonly wait: number; readonly now: number }>,
  spent: string
) =>
  Effect.gen(function* () {
    for (;;) {
      const { wait, now } = yield* attempt
      if (wait === 0) return
      if (wait > p.maxWaitMs) return yield* new RequestBudgetExceeded({ tracker, untilMs: now + wait })
      if (wait >= 2000) yield* Effect.logInfo(`${tracker}: ${spent}, waiting ${Math.ceil(wait / 1000)} s`)
      yield* Effect.sleep(Duration.millis(wait))
    }
  })

const makeBudget = Effect.fnUntraced(function* (options: RequestBudgetOptions) {
  const p = pacing(options)
  const buckets = new Map<string, Bucket>()

  const bucketFor = Effect.fnUntraced(function* (tracker: string) {
    const existing = buckets.get(tracker)
    if (existing !== undefined) return existing
    const now = yield* Clock.currentTimeMillis
    const bucket: Bucket = {
      tokens: p.burst,
      lastMs: now,
      blockedUntilMs: 0,
      requests: 0,
      waitedMs: 0,
      lock: yield* Semaphore.make(1)
    }
    buckets.set(tracker, bucket)
    return bucket
  })

  const take = Effect.fn("RequestBudget.take")(function* (tracker: string) {
    const b = yield* bucketFor(tracker)
    const attempt = Effect.map(Clock.currentTimeMillis, (now) => {
      b.tokens = refilled(p, b.tokens, b.lastMs, now)
      b.lastMs = now
      const wait = waitFor(p, b.tokens, b.blockedUntilMs, now)
      if (wait === 0) {
        b.tokens -= 1
        b.requests += 1
      } else if (wait <= p.maxWaitMs) b.waitedMs += wait
      return { wait, now }
    })
    // One waiter at a time per tracker, so slots are handed out in arrival order.
    yield* b.lock.withPermits(1)(takeSlot(tracker, p, attempt, "request budget spent"))
  })

  const observe = Effect.fn("RequestBudget.observe")(function* (tracker: string, info: RateInfo) {
    const b = yield* bucketFor(tracker)
    b.blockedUntilMs = Math.max(b.blockedUntilMs, reportedBlock(info, yield* Clock.currentTimeMillis))
  })

  const state = Effect.fn("RequestBudget.state")(function* (tracker: string) {
    const b = yield* bucketFor(tracker)
    return { tokens: b.tokens, blockedUntilMs: b.blockedUntilMs, requests: b.requests, waitedMs: b.waitedMs }
  })

  return RequestBudget.of({ take, observe, state })
})

const sharedMigrations = Migrator.fromRecord({
  "0001_request_budget": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // Numbers as double precision: node-postgres hands bigints back as strings.
    yield* sql`CREATE TABLE IF NOT EXISTS so_request_budget (
      tracker TEXT PRIMARY KEY,
      tokens DOUBLE PRECISION NOT NULL,
      last_ms DOUBLE PRECISION NOT NULL,
      blocked_until_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
      requests DOUBLE PRECISION NOT NULL DEFAULT 0,
      waited_ms DOUBLE PRECISION NOT NULL DEFAULT 0
    )`
  })
})

interface BudgetRow {
  readonly tokens: number
  readonly last_ms: number
  readonly blocked_until_ms: number
  readonly requests: number
  readonly waited_ms: number
}

/** The budget of every process on one Postgres database: the same bucket, kept in a row per tracker. */
const makeSharedBudget = Effect.fnUntraced(function* (sql: SqlClient.SqlClient, options: RequestBudgetOptions) {
  const p = pacing(options)
  yield* Migrator.make({})({ loader: sharedMigrations, table: "so_budget_migrations" }).pipe(
    Effect.provideService(SqlClient.SqlClient, sql),
    Effect.orDie
  )
  // The trackers whose row this process made sure of (a full bucket on first use).
  const ensured = new Set<string>()
  const row = (tracker: string, now: number, lock: boolean) =>
    Effect.gen(function* () {
      if (!ensured.has(tracker)) {
        yield* sql`INSERT INTO so_request_budget (tracker, tokens, last_ms) VALUES (${tracker}, ${p.burst}, ${now})
                   ON CONFLICT (tracker) DO NOTHING`
        ensured.add(tracker)
      }
      const rows = lock
        ? yield* sql<BudgetRow>`SELECT tokens, last_ms, blocked_until_ms, requests, waited_ms
                                FROM so_request_budget WHERE tracker = ${tracker} FOR UPDATE`
        : yield* sql<BudgetRow>`SELECT tokens, last_ms, blocked_until_ms, requests, waited_ms
                                FROM so_request_budget WHERE tracker = ${tracker}`
      return rows[0]!
    })

  /** One try under the row's lock: 0 when a slot was taken, else how long to wait (the wait is counted). */
  const attempt = (tracker: string) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const r = yield* row(tracker, now, true)
      const tokens = refilled(p, r.tokens, r.last_ms, now)
      const wait = waitFor(p, tokens, r.blocked_until_ms, now)
      const taken = wait === 0 ? 1 : 0
      const waited = wait > 0 && wait <= p.maxWaitMs ? wait : 0
      yield* sql`UPDATE so_request_budget
                 SET tokens = ${tokens - taken}, last_ms = ${Math.max(r.last_ms, now)},
                     requests = requests + ${taken}, waited_ms = waited_ms + ${waited}
                 WHERE tracker = ${tracker}`
      return { wait, now }
    }).pipe(sql.withTransaction, Effect.orDie)

  const take = Effect.fn("RequestBudget.take")(function* (tracker: string) {
    yield* takeSlot(tracker, p, attempt(tracker), "the cluster's request budget is spent")
  })

  const observe = Effect.fn("RequestBudget.observe")(function* (tracker: string, info: RateInfo) {
    const now = yield* Clock.currentTimeMillis
    const until = reportedBlock(info, now)
    if (until === 0) return
    yield* row(tracker, now, false).pipe(
      Effect.andThen(
        sql`UPDATE so_request_budget SET blocked_until_ms = GREATEST(blocked_until_ms, ${until}) WHERE tracker = ${tracker}`
      ),
      Effect.orDie
    )
  })

  const state = Effect.fn("RequestBudget.state")(function* (tracker: string) {
    const now = yield* Clock.currentTimeMillis
    const r = yield* row(tracker, now, false).pipe(Effect.orDie)
    return {
      tokens: refilled(p, r.tokens, r.last_ms, now),
      blockedUntilMs: r.blocked_until_ms,
      requests: r.requests,
      waitedMs: r.waited_ms
    }
  })

  return RequestBudget.of({ take, observe, state })
})

/** Paces tracker requests so polling and publishing stay inside the configured and the tracker's own limits. */
export class RequestBudget extends Context.Service<
  RequestBudget,
  {
    /** Waits until one more request to `tracker` fits; fails only when the wait would exceed the configured maximum. */
    readonly take: (tracker: string) => Effect.Effect<void, RequestBudgetExceeded>
    /** Records the limits a tracker reported; later `take`s honour them. */
    readonly observe: (tracker: string, info: RateInfo) => Effect.Effect<void>
    /** The current state of a tracker's budget. */
    readonly state: (tracker: string) => Effect.Effect<BudgetState>
  }
>()("@spec-orch/control/RequestBudget") {
  /**
   * A budget from `[daemon] request_budget_per_minute` of the project: on a cluster, in the cluster's
   * Postgres when the state database's `SqlClient` is at hand (so shared by every host), else this
   * process's own.
   */
  static readonly layer: Layer.Layer<RequestBudget, never, Project> = Layer.effect(
    RequestBudget,
    Effect.gen(function* () {
      const project = yield* Project
      const options = { perMinute: project.config.daemon.request_budget_per_minute }
      const sql = yield* Effect.serviceOption(SqlClient.SqlClient)
      if (
        project.config.cluster.storage === "postgres" &&
        Option.isSome(sql) &&
        sql.value.onDialectOrElse({ pg: () => true, orElse: () => false })
      )
        return yield* makeSharedBudget(sql.value, options)
      return yield* makeBudget(options)
    })
  )

  /** The budget kept in the Postgres database of `SqlClient`, shared by every process on it (tests, embedders). */
  static readonly layerShared = (
    options: RequestBudgetOptions
  ): Layer.Layer<RequestBudget, never, SqlClient.SqlClient> =>
    Layer.effect(
      RequestBudget,
      Effect.flatMap(SqlClient.SqlClient, (sql) => makeSharedBudget(sql, options))
    )

  /** A budget with explicit options (tests, embedders). */
  static readonly layerWith = (options: RequestBudgetOptions): Layer.Layer<RequestBudget> =>
    Layer.effect(RequestBudget, makeBudget(options))

  /** No local pacing (the tracker's own limits are still honoured). */
  static readonly layerUnlimited: Layer.Layer<RequestBudget> = Layer.effect(
    RequestBudget,
    makeBudget({ perMinute: 1_000_000, burst: 1_000_000 })
  )
}
