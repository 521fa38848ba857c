/**
 * The one effect/sql driver over better-sqlite3, used for `.spec-orch/state.db` (run store,
 * workflow journal, evidence ledger, memory). WAL mode, a busy timeout so several processes can
 * share the file, and a prepared-statement cache. Anything written against `SqlClient` runs on
 * this driver and on Postgres (`@effect/sql-pg`) alike.
 */
import Database from "better-sqlite3"
import { Context, Data, Effect, Layer, type Scope, Semaphore, Stream } from "effect"
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

/**
 * Why a database could not be opened: SQLite's native addon does not load in this Node.js (`addon`: not
 * installed, or built for another Node.js), the file is not a SQLite database (`not-a-database`: damaged, or
 * something else), it cannot be opened (`cannot-open`: no such directory, no permission, a directory in
 * its place), or anything else SQLite reports (`other`).
 */
export type SqliteOpenProblem = "addon" | "not-a-database" | "cannot-open" | "other"

/**
 * A SQLite database could not be opened; `detail` is what Node.js or SQLite said. A `Data` error, not a
 * `Schema` one as elsewhere: `status` opens the state database on its lean start-up path, where loading
 * effect's `Schema` for this one class cost 1.3 MiB and 5 ms (A/B, 15 rounds). Nothing journals it.
 */
export class SqliteOpenError extends Data.TaggedError("SqliteOpenError")<{
  readonly filename: string
  readonly problem: SqliteOpenProblem
  readonly detail: string
  /** The Node.js that tried (`process.version`): an addon loads only in the Node.js it was built for. */
  readonly node: string
}> {
  private get database(): string {
    return this.filename === ":memory:" ? "an in-memory database" : this.filename
  }

  private get addonFails(): string {
    return `cannot open ${this.database}: SQLite's native addon (better-sqlite3) does not load in Node.js ${this.node}`
  }

  /** What is wrong, in one line, with what Node.js or SQLite said. */
  get summary(): string {
    switch (this.problem) {
      case "addon":
        return `${this.addonFails}: ${this.detail.replace(/\s*\n\s*/g, " ")}`
      case "not-a-database":
        return `${this.filename} is not a SQLite database (${this.detail})`
      default:
        return `cannot open ${this.database} (${this.detail})`
    }
  }

  /** What to do about it, when there is something to say. */
  get fix(): string | undefined {
    switch (this.problem) {
      case "addon":
        return "install spec-orch again with this Node.js (or run `npm rebuild better-sqlite3` where it is installed)"
      case "not-a-database":
        return "restore it from a backup, or move it aside and spec-orch starts an empty one"
      case "cannot-open":
        return "check that it is a file, in a directory that exists and that you may read and write"
      default:
        return undefined
    }
  }

  override get message(): string {
    const fix = this.fix === undefined ? "" : ` ${this.fix[0]!.toUpperCase()}${this.fix.slice(1)}.`
    // The addon's detail can be a list (bindings' places it looked): it goes on the lines after.
    if (this.problem === "addon") return `${this.addonFails}.${fix}\n${this.detail}`
    return `${this.summary}.${fix}`
  }
}

/** What a failure to open `filename` means, from what the addon or SQLite threw. */
const openError = (filename: string, cause: unknown): SqliteOpenError => {
  const { code, message } = (typeof cause === "object" && cause !== null ? cause : {}) as {
    readonly code?: unknown
    readonly message?: unknown
  }
  const detail = typeof message === "string" && message !== "" ? message : String(cause)
  const problem: SqliteOpenProblem =
    code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT"
      ? "not-a-database"
      : code === "SQLITE_CANTOPEN" ||
          code === "SQLITE_PERM" ||
          code === "SQLITE_READONLY" ||
          code === "SQLITE_AUTH" ||
          /directory does not exist/.test(detail)
        ? "cannot-open"
        : typeof code === "string" && code.startsWith("SQLITE_")
          ? "other"
          : // Anything else thrown while opening is the addon's loading: dlopen (ERR_DLOPEN_FAILED, e.g. built
            // for another Node.js), or the file not found (MODULE_NOT_FOUND, bindings' "Could not locate").
            code === "ERR_DLOPEN_FAILED" || code === "MODULE_NOT_FOUND" || /bindings file/.test(detail)
            ? "addon"
            : "other"
  return new SqliteOpenError({ filename, problem, detail, node: process.version })
}

/**
 * Opens the database and builds a `SqlClient` over it; the database closes with the scope. Fails with
 * `SqliteOpenError` when it cannot be opened, before anything runs against it.
 */
export const make = (
  options: SqliteOptions
): Effect.Effect<SqlClient.SqlClient, SqliteOpenError, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function* () {
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => {
          const db = new Database(options.filename, {
            readonly: options.readonly ?? false,
            timeout: options.busyTimeoutMs ?? 5000
          })
          // SQLite reads the file's header on the first statement: a file that is not a database fails here.
          try {
            if (options.filename !== ":memory:" && options.readonly !== true) {
              db.pragma("journal_mode = WAL")
              db.pragma("synchronous = NORMAL")
            }
            db.pragma("foreign_keys = ON")
          } catch (error) {
            db.close()
            throw error
          }
          return db
        },
        catch: (cause) => openError(options.filename, cause)
      }),
      (db) => Effect.sync(() => db.close())
    )

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
export const layer = (options: SqliteOptions): Layer.Layer<SqlClient.SqlClient, SqliteOpenError> =>
  Layer.effect(SqlClient.SqlClient, make(options)).pipe(Layer.provide(Reactivity.layer))
