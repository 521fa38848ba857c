/**
 * One workflow engine per state database. The durable engine resumes every unfinished run it finds,
 * so two processes sharing `.spec-orch/state.db` would race on the same runs. The lock is a row in
 * the state database, kept alive by a heartbeat and taken over only from a process that is gone.
 */
import { hostname } from "node:os"
import { Context, Effect, Layer, Schedule, Schema, Scope } from "effect"
import { SqlClient } from "effect/sql"
import { migrateRunStore } from "./RunStore.js"

/** Another live process holds the engine lock. */
export class EngineBusy extends Schema.TaggedError<EngineBusy>()("EngineBusy", {
  pid: Schema.Number,
  host: Schema.String,
  command: Schema.String,
  since: Schema.String
}) {
  override get message(): string {
    return `another spec-orch process is running workflows in this project (pid ${this.pid} on ${this.host}, \`${this.command}\`, since ${this.since}); wait for it to finish or stop it, or pass --wait`
  }
}

/** This process's identity: the owner token written on runs and on the lock. */
export class ProcessToken extends Context.Service<ProcessToken, { readonly token: string; readonly pid: number; readonly host: string }>()(
  "@spec-orch/control/ProcessToken"
) {
  static readonly layer: Layer.Layer<ProcessToken> = Layer.sync(ProcessToken, () =>
    ProcessToken.of({ token: `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`, pid: process.pid, host: hostname() })
  )
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

const STALE_MS = 60_000

/**
 * Acquires the engine lock for the scope's lifetime (heartbeat every 5 s, released on close).
 * With `wait`, polls until the holder is gone; otherwise fails with `EngineBusy`.
 */
export const acquireEngineLock = (command: string, options: { readonly wait?: boolean } = {}): Effect.Effect<void, EngineBusy, SqlClient.SqlClient | ProcessToken | Scope.Scope> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const me = yield* ProcessToken
    yield* migrateRunStore.pipe(Effect.orDie)
    const now = () => new Date().toISOString()
    const tryTake = sql.withTransaction(Effect.gen(function*() {
      const rows = yield* sql<{ owner: string; pid: number; host: string; command: string; acquired_at: string; heartbeat_at: string }>`SELECT owner, pid, host, command, acquired_at, heartbeat_at FROM so_engine_lock WHERE name = 'engine'`
      const held = rows[0]
      if (held && held.owner !== me.token) {
        const gone = held.host === me.host ? !alive(Number(held.pid)) : Date.now() - Date.parse(held.heartbeat_at) > STALE_MS
        if (!gone) return new EngineBusy({ pid: Number(held.pid), host: held.host, command: held.command, since: held.acquired_at })
        yield* sql`DELETE FROM so_engine_lock WHERE name = 'engine'`
      }
      if (!held || held.owner !== me.token) {
        yield* sql`INSERT INTO so_engine_lock ${sql.insert({ name: "engine", owner: me.token, pid: me.pid, host: me.host, command, acquired_at: now(), heartbeat_at: now() })}`
      }
      return undefined
    })).pipe(Effect.orDie)

    const busy = yield* tryTake
    if (busy !== undefined) {
      if (!options.wait) return yield* busy
      yield* Effect.logInfo(busy.message)
      yield* tryTake.pipe(
        Effect.flatMap((b) => (b === undefined ? Effect.void : Effect.fail(b))),
        Effect.retry(Schedule.spaced("1 second"))
      )
    }
    yield* Effect.addFinalizer(() => sql`DELETE FROM so_engine_lock WHERE name = 'engine' AND owner = ${me.token}`.pipe(Effect.ignore))
    yield* sql`UPDATE so_engine_lock SET heartbeat_at = ${now()} WHERE name = 'engine' AND owner = ${me.token}`.pipe(
      Effect.ignore,
      Effect.repeat(Schedule.spaced("5 seconds")),
      Effect.forkScoped
    )
  })
