/**
 * The run store: one row per run (the canonical RunRecord), an append-only event log per run that
 * other processes can follow, and the engine lock that keeps one workflow engine per state
 * database. Written against `effect/sql`'s SqlClient only, so it runs on SQLite and Postgres alike.
 * Records and event payloads pass through the `Redactor` before they are stored or published.
 */
import { type RunRecord, RunRecord as RunRecordSchema } from "@spec-orch/contract"
import { Redactor } from "@spec-orch/harness"
import { Context, Effect, Layer, PubSub, Schema, Stream } from "effect"
import { Migrator, SqlClient } from "effect/sql"

/** One entry of a run's event log. */
export interface RunEvent {
  readonly runId: string
  readonly seq: number
  readonly at: string
  /** `stage` (stage started/finished), `agent` (a normalized AgentEvent), `step` (a verification step result), `note`, `verdict`. */
  readonly kind: string
  readonly data: unknown
}

const decodeRecord = Schema.decodeUnknownSync(Schema.fromJsonString(RunRecordSchema))
const encodeRecord = (r: RunRecord, redactor: Redactor["Service"]) =>
  JSON.stringify(redactor.redactJson(Schema.encodeSync(RunRecordSchema)(r)))

const migrations = Migrator.fromRecord({
  "0001_runs": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE IF NOT EXISTS so_runs (
      run_id TEXT PRIMARY KEY,
      run_key TEXT NOT NULL,
      issue_id TEXT NOT NULL,
      attempt INTEGER NOT NULL,
      status TEXT NOT NULL,
      stage TEXT NOT NULL,
      owner TEXT,
      started_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      record TEXT NOT NULL
    )`
    yield* sql`CREATE INDEX IF NOT EXISTS so_runs_issue ON so_runs (issue_id, attempt)`
    yield* sql`CREATE INDEX IF NOT EXISTS so_runs_key ON so_runs (run_key, attempt)`
    yield* sql`CREATE TABLE IF NOT EXISTS so_run_events (
      run_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      at TEXT NOT NULL,
      kind TEXT NOT NULL,
      data TEXT NOT NULL,
      PRIMARY KEY (run_id, seq)
    )`
    yield* sql`CREATE TABLE IF NOT EXISTS so_engine_lock (
      name TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      pid INTEGER NOT NULL,
      host TEXT NOT NULL,
      command TEXT NOT NULL,
      acquired_at TEXT NOT NULL,
      heartbeat_at TEXT NOT NULL
    )`
  })
})

/** Runs the run store's migrations (idempotent). */
export const migrateRunStore = Migrator.make({})({ loader: migrations, table: "so_control_migrations" })

interface Row {
  readonly record: string
  readonly owner: string | null
}

/** Durable run records and event logs. */
export class RunStore extends Context.Service<
  RunStore,
  {
    /** Inserts or replaces a run record. */
    readonly put: (record: RunRecord, owner?: string | undefined) => Effect.Effect<void>
    /** Applies `f` to the stored record and saves it (no-op for an unknown run). */
    readonly update: (runId: string, f: (r: RunRecord) => RunRecord) => Effect.Effect<RunRecord | undefined>
    readonly get: (runId: string) => Effect.Effect<RunRecord | undefined>
    /** The process token that owns the run (the only process allowed to advance it). */
    readonly owner: (runId: string) => Effect.Effect<string | undefined>
    readonly setOwner: (runId: string, owner: string) => Effect.Effect<void>
    /** The latest attempt for an issue (or a run key), if any. */
    readonly latest: (issueId: string) => Effect.Effect<RunRecord | undefined>
    readonly latestForKey: (runKey: string) => Effect.Effect<RunRecord | undefined>
    /** Runs, newest first. */
    readonly list: (options?: {
      readonly issueId?: string
      readonly limit?: number
    }) => Effect.Effect<ReadonlyArray<RunRecord>>
    /** Runs updated at or after `since` (an ISO time), least recently updated first: what changed, for readers that poll. */
    readonly updatedSince: (since: string, limit?: number) => Effect.Effect<ReadonlyArray<RunRecord>>
    /** Appends an event; returns it with its sequence number. */
    readonly append: (runId: string, kind: string, data: unknown) => Effect.Effect<RunEvent>
    /** Appends events in order in one transaction (a busy agent's events, a batch at a time); returns them numbered. */
    readonly appendAll: (
      runId: string,
      entries: ReadonlyArray<{ readonly kind: string; readonly data: unknown }>
    ) => Effect.Effect<ReadonlyArray<RunEvent>>
    /** Events after `afterSeq`, in order. */
    readonly events: (runId: string, afterSeq?: number) => Effect.Effect<ReadonlyArray<RunEvent>>
    /** Every run's events of one kind (e.g. `stage`), by run and sequence: one query for analytics. */
    readonly eventsOfKind: (kind: string) => Effect.Effect<ReadonlyArray<RunEvent>>
    /** Events appended by this process, as they happen. */
    readonly live: Stream.Stream<RunEvent>
    /** Follows a run's log from another process: polls until the run is finished. */
    readonly follow: (
      runId: string,
      options?: { readonly afterSeq?: number; readonly pollMillis?: number }
    ) => Stream.Stream<RunEvent>
  }
>()("@spec-orch/control/RunStore") {
  static readonly layer: Layer.Layer<RunStore, never, SqlClient.SqlClient | Redactor> = Layer.effect(
    RunStore,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const redactor = yield* Redactor
      yield* migrateRunStore.pipe(Effect.orDie)
      const hub = yield* PubSub.unbounded<RunEvent>()
      const now = Effect.map(
        Effect.clockWith((c) => c.currentTimeMillis),
        (ms) => new Date(ms).toISOString()
      )

      const put = (record: RunRecord, owner?: string | undefined) =>
        Effect.gen(function* () {
          const row = {
            run_id: record.runId,
            run_key: record.runKey,
            issue_id: record.issueId,
            attempt: record.attempt,
            status: record.status,
            stage: record.stage,
            owner: owner ?? null,
            started_at: record.startedAt,
            updated_at: record.updatedAt,
            record: encodeRecord(record, redactor)
          }
          const existing = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM so_runs WHERE run_id = ${record.runId}`
          if (Number(existing[0]?.n ?? 0) > 0) {
            yield* sql`UPDATE so_runs SET status = ${row.status}, stage = ${row.stage}, updated_at = ${row.updated_at}, record = ${row.record} WHERE run_id = ${row.run_id}`
            if (owner !== undefined) yield* sql`UPDATE so_runs SET owner = ${owner} WHERE run_id = ${row.run_id}`
          } else {
            yield* sql`INSERT INTO so_runs ${sql.insert(row)}`
          }
        }).pipe(Effect.orDie, Effect.withSpan("RunStore.put"))

      const get = (runId: string) =>
        sql<Row>`SELECT record, owner FROM so_runs WHERE run_id = ${runId}`.pipe(
          Effect.map((rows) => (rows[0] ? decodeRecord(rows[0].record) : undefined)),
          Effect.orDie
        )

      const update = (runId: string, f: (r: RunRecord) => RunRecord) =>
        sql
          .withTransaction(
            Effect.gen(function* () {
              const current = yield* get(runId)
              if (current === undefined) return undefined
              const next = f(current)
              const stamped = new RunRecordSchema({ ...next, updatedAt: yield* now })
              yield* put(stamped)
              return stamped
            })
          )
          .pipe(Effect.orDie)

      const owner = (runId: string) =>
        sql<{ owner: string | null }>`SELECT owner FROM so_runs WHERE run_id = ${runId}`.pipe(
          Effect.map((rows) => rows[0]?.owner ?? undefined),
          Effect.orDie
        )
      const setOwner = (runId: string, token: string) =>
        sql`UPDATE so_runs SET owner = ${token} WHERE run_id = ${runId}`.pipe(Effect.asVoid, Effect.orDie)

      const latestBy = (column: "issue_id" | "run_key") => (value: string) =>
        (column === "issue_id"
          ? sql<Row>`SELECT record, owner FROM so_runs WHERE issue_id = ${value} ORDER BY attempt DESC, started_at DESC LIMIT 1`
          : sql<Row>`SELECT record, owner FROM so_runs WHERE run_key = ${value} ORDER BY attempt DESC, started_at DESC LIMIT 1`
        ).pipe(
          Effect.map((rows) => (rows[0] ? decodeRecord(rows[0].record) : undefined)),
          Effect.orDie
        )

      const list = (options?: { readonly issueId?: string; readonly limit?: number }) =>
        (options?.issueId !== undefined
          ? sql<Row>`SELECT record, owner FROM so_runs WHERE issue_id = ${options.issueId} ORDER BY started_at DESC LIMIT ${options.limit ?? 100}`
          : sql<Row>`SELECT record, owner FROM so_runs ORDER BY started_at DESC LIMIT ${options?.limit ?? 100}`
        ).pipe(
          Effect.map((rows) => rows.map((r) => decodeRecord(r.record))),
          Effect.orDie
        )

      const updatedSince = (since: string, limit = 500) =>
        sql<Row>`SELECT record, owner FROM so_runs WHERE updated_at >= ${since} ORDER BY updated_at LIMIT ${limit}`.pipe(
          Effect.map((rows) => rows.map((r) => decodeRecord(r.record))),
          Effect.orDie
        )

      const appendAll = (runId: string, entries: ReadonlyArray<{ readonly kind: string; readonly data: unknown }>) =>
        entries.length === 0
          ? Effect.succeed<ReadonlyArray<RunEvent>>([])
          : sql
              .withTransaction(
                Effect.gen(function* () {
                  // Take the run's row lock first, so concurrent appends (other fibers, other processes on
                  // Postgres) number their events one after another instead of racing for the same seq.
                  // SQLite serializes writers anyway.
                  yield* sql`UPDATE so_runs SET updated_at = updated_at WHERE run_id = ${runId}`
                  const at = yield* now
                  const last = yield* sql<{
                    seq: number | null
                  }>`SELECT MAX(seq) AS seq FROM so_run_events WHERE run_id = ${runId}`
                  const first = Number(last[0]?.seq ?? 0) + 1
                  // What is stored is what live followers see: the JSON view, redacted.
                  const appended = entries.map(
                    (e, i): RunEvent => ({ runId, seq: first + i, at, kind: e.kind, data: redactor.redactJson(e.data) })
                  )
                  // Rows per statement stay well under SQLite's and Postgres's limits on bound parameters.
                  for (let i = 0; i < appended.length; i += 500) {
                    const [row, ...rows] = appended
                      .slice(i, i + 500)
                      .map((e) => ({ run_id: runId, seq: e.seq, at, kind: e.kind, data: JSON.stringify(e.data) }))
                    yield* sql`INSERT INTO so_run_events ${sql.insert([row!, ...rows])}`
                  }
                  return appended
                })
              )
              .pipe(
                Effect.orDie,
                Effect.tap((es) => PubSub.publishAll(hub, es))
              )

      const append = (runId: string, kind: string, raw: unknown) =>
        Effect.map(appendAll(runId, [{ kind, data: raw }]), (es) => es[0]!)

      const events = (runId: string, afterSeq = 0) =>
        sql<{
          run_id: string
          seq: number
          at: string
          kind: string
          data: string
        }>`SELECT run_id, seq, at, kind, data FROM so_run_events WHERE run_id = ${runId} AND seq > ${afterSeq} ORDER BY seq`.pipe(
          Effect.map((rows) =>
            rows.map((r) => ({
              runId: r.run_id,
              seq: Number(r.seq),
              at: r.at,
              kind: r.kind,
              data: JSON.parse(r.data) as unknown
            }))
          ),
          Effect.orDie
        )

      const eventsOfKind = (kind: string) =>
        sql<{
          run_id: string
          seq: number
          at: string
          kind: string
          data: string
        }>`SELECT run_id, seq, at, kind, data FROM so_run_events WHERE kind = ${kind} ORDER BY run_id, seq`.pipe(
          Effect.map((rows) =>
            rows.map((r) => ({
              runId: r.run_id,
              seq: Number(r.seq),
              at: r.at,
              kind: r.kind,
              data: JSON.parse(r.data) as unknown
            }))
          ),
          Effect.orDie
        )

      const FINISHED = new Set(["succeeded", "blocked", "failed", "cancelled", "waiting"])
      const follow = (runId: string, options?: { readonly afterSeq?: number; readonly pollMillis?: number }) =>
        Stream.unwrap(
          Effect.sync(() => {
            let seq = options?.afterSeq ?? 0
            let done = false
            const poll = Effect.gen(function* () {
              const batch = yield* events(runId, seq)
              if (batch.length > 0) seq = batch[batch.length - 1]!.seq
              else {
                const r = yield* get(runId)
                if (r === undefined || FINISHED.has(r.status)) done = true
                else yield* Effect.sleep(options?.pollMillis ?? 250)
              }
              return batch
            })
            return Stream.fromIterable([0]).pipe(
              Stream.forever,
              Stream.takeWhile(() => !done),
              Stream.mapEffect(() => poll),
              Stream.flatMap(Stream.fromIterable)
            )
          })
        )

      return RunStore.of({
        put,
        update,
        get,
        owner,
        setOwner,
        latest: latestBy("issue_id"),
        latestForKey: latestBy("run_key"),
        list,
        updatedSince,
        append,
        appendAll,
        events,
        eventsOfKind,
        live: Stream.fromPubSub(hub),
        follow
      })
    })
  )
}
