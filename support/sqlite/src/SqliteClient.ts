/**
 * The one effect/sql driver over better-sqlite3, used for `.spec-orch/state.db` (run store,
 * workflow journal, evidence ledger, memory). WAL mode, a busy timeout so several processes can
 * share the file, and a prepared-statement cache. Anything written against `SqlClient` runs on
 * this driver and on Postgres (`@effect/sql-pg`) alike.
 */
import Database from "better-sqlite3"
import { Context, Effect, Layer, type Scope, Semaphore, Stream } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient, type SqlConnection, SqlError, Statement } from "effect/sql"

/** Options for opening a SQLite database file. */
export interface SqliteOptions {
  /** A file path, or `:memory:`. Parent directories must exist. */
  readonly filename: string
  readonly readonly?: boolean
  /** Milliseconds to wait for a lock held by another process (default 5000). */
  readonly busyTimeoutMs?: number
}

/** Opens the database and builds a `SqlClient` over it; the database closes with the scope. */
export const make = (
  options: SqliteOptions
): Effect.Effect<SqlClient.SqlClient, never, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function* () {
    const db = yield* Effect.acquireRelease(
      Effect.sync(
        () =>
          new Database(options.filename, {
            readonly: options.readonly ?? false,
            timeout: options.busyTimeoutMs ?? 5000
          })
      ),
      (db) => Effect.sync(() => db.close())
    )
    if (options.filename !== ":memory:" && options.readonly !== true) {
      db.pragma("journal_mode = WAL")
      db.pragma("synchronous = NORMAL")
    }
    db.pragma("foreign_keys = ON")

    const cache = new Map<string, Database.Statement>()
    const prepare = (sql: string): Database.Statement => {
      let stmt = cache.get(sql)
      if (stmt === undefined) {
        stmt = db.prepare(sql)
        if (cache.size > 500) cache.clear()
        cache.set(sql, stmt)
      }
      return stmt
    }
    // Keep SQLite's own words in the message: "Failed to execute statement" alone says nothing.
    const fail = (cause: unknown, message: string) =>
      new SqlError.SqlError({
        reason: SqlError.classifySqliteError(cause, {
          message: cause instanceof Error ? `${message}: ${cause.message}` : message,
          operation: "execute"
        })
      })

    const run = (sql: string, params: ReadonlyArray<unknown>, raw = false) =>
      Effect.withFiber<ReadonlyArray<any>, SqlError.SqlError>((fiber) =>
        Effect.try({
          try: () => {
            const stmt = prepare(sql)
            if (stmt.reader)
              return stmt
                .safeIntegers(Context.get(fiber.context, SqlClient.SafeIntegers))
                .all(...params) as ReadonlyArray<any>
            const result = stmt.run(...params)
            return raw ? (result as any) : []
          },
          catch: (cause) => fail(cause, "Failed to execute statement")
        })
      )
    const runValues = (sql: string, params: ReadonlyArray<unknown>) =>
      Effect.try({
        try: () => {
          const stmt = prepare(sql)
          if (stmt.reader) return stmt.raw(true).all(...params) as ReadonlyArray<ReadonlyArray<unknown>>
          stmt.run(...params)
          return []
        },
        catch: (cause) => fail(cause, "Failed to execute statement")
      })

    const connection: SqlConnection.Connection = {
      execute: (sql, params, transformRows) =>
        transformRows ? Effect.map(run(sql, params), transformRows) : run(sql, params),
      executeRaw: (sql, params) => run(sql, params, true),
      executeValues: runValues,
      executeValuesUnprepared: runValues,
      executeUnprepared: (sql, params, transformRows) =>
        transformRows ? Effect.map(run(sql, params), transformRows) : run(sql, params),
      executeStream: (sql, params, transformRows) =>
        Stream.fromIterableEffect(transformRows ? Effect.map(run(sql, params), transformRows) : run(sql, params))
    }

    const semaphore = yield* Semaphore.make(1)
    const acquirers = SqlClient.makeSqliteAcquirers({
      connection: Effect.succeed(connection),
      semaphore,
      isTransaction: () => db.inTransaction
    })
    return yield* SqlClient.make({
      ...acquirers,
      driver: "better-sqlite3",
      // Several processes share the file: a transaction takes the write lock when it begins, so a
      // second one waits for it (the busy timeout) instead of failing when its read turns into a write.
      beginTransaction: options.readonly === true ? "BEGIN" : "BEGIN IMMEDIATE",
      compiler: Statement.makeCompilerSqlite(),
      spanAttributes: [["db.system.name", "sqlite"]]
    })
  })

/** A `SqlClient` layer over a SQLite file. */
export const layer = (options: SqliteOptions): Layer.Layer<SqlClient.SqlClient> =>
  Layer.effect(SqlClient.SqlClient, make(options)).pipe(Layer.provide(Reactivity.layer))
