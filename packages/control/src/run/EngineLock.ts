/**
 * Locks shared by the processes of one project, as rows in the state database kept alive by a
 * heartbeat and taken over only from a process that is gone:
 *
 * - one per workflow journal (`engine:<key>`): the durable engine resumes every unfinished run it
 *   finds in its journal, so two processes must never open the same one;
 * - one per run key (`run:<key>`), held while a run executes: the same issue never runs twice at
 *   once, whichever process (a terminal's `run`, a mission, the daemon) started it.
 */
import { hostname } from "node:os"
import { Context, Effect, Layer, Schedule, Schema, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import { migrateRunStore } from "./RunStore.js"

/** Another live process holds the lock. */
export class EngineBusy extends Schema.TaggedError<EngineBusy>()("EngineBusy", {
  /** What is locked, as a person reads it: "the daemon's workflows", "SPC-1". */
  what: Schema.String,
  pid: Schema.Number,
  host: Schema.String,
  command: Schema.String,
  since: Schema.String
}) {
  override get message(): string {
    return `another spec-orch process is already running ${this.what} in this project (pid ${this.pid} on ${this.host}, \`${this.command}\`, since ${this.since}); wait for it to finish or stop it, or pass --wait`
  }
}

/** This process's identity: the owner token written on runs and on the lock. */
export class ProcessToken extends Context.Service<
  ProcessToken,
  { readonly token: string; readonly pid: number; readonly host: string }
>()("@spec-orch/control/ProcessToken") {
  static readonly layer: Layer.Layer<ProcessToken> = Layer.sync(ProcessToken, () =>
    ProcessToken.of({
      token: `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`,
      pid: process.pid,
      host: hostname()
    })
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

/** What a lock guards: its row name, and how a person names it in EngineBusy. */
export interface LockName {
  readonly name: string
  readonly what: string
}

/** The lock of one workflow journal (the default: the state database's own, "engine"); `what` names its work. */
export const engineLockName = (key?: string, what?: string): LockName =>
  key === undefined ? { name: "engine", what: what ?? "workflows" } : { name: `engine:${key}`, what: what ?? key }

/** The lock of one run key: held while the run executes. */
export const runLockName = (runKey: string): LockName => ({ name: `run:${runKey}`, what: runKey })

/**
 * Acquires the lock `lock` (the engine's by default) for the scope's lifetime (heartbeat every 5 s,
 * released on close). With `wait`, polls until the holder is gone; otherwise fails with `EngineBusy`.
 * A process holding the lock already may take it again; `takeFrom` says which other holders it may be
 * taken from although they look alive.
 */
export const acquireEngineLock = (
  command: string,
  options: {
    readonly wait?: boolean
    readonly lock?: LockName
    readonly takeFrom?: ((owner: string) => Effect.Effect<boolean>) | undefined
  } = {}
): Effect.Effect<void, EngineBusy, SqlClient.SqlClient | ProcessToken | Scope.Scope> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const me = yield* ProcessToken
    const { name, what } = options.lock ?? engineLockName()
    yield* migrateRunStore.pipe(Effect.orDie)
    const now = () => new Date().toISOString()
    let reentered = false
    const tryTake = sql
      .withTransaction(
        Effect.gen(function* () {
          const rows = yield* sql<{
            owner: string
            pid: number
            host: string
            command: string
            acquired_at: string
            heartbeat_at: string
          }>`SELECT owner, pid, host, command, acquired_at, heartbeat_at FROM so_engine_lock WHERE name = ${name}`
          const held = rows[0]
          if (held && held.owner !== me.token) {
            const gone =
              (held.host === me.host
                ? !alive(Number(held.pid))
                : Date.now() - Date.parse(held.heartbeat_at) > STALE_MS) ||
              (options.takeFrom !== undefined && (yield* options.takeFrom(held.owner)))
            if (!gone)
              return new EngineBusy({
                what,
                pid: Number(held.pid),
                host: held.host,
                command: held.command,
                since: held.acquired_at
              })
            yield* sql`DELETE FROM so_engine_lock WHERE name = ${name}`
          }
          if (held?.owner === me.token) reentered = true
          else
            yield* sql`INSERT INTO so_engine_lock ${sql.insert({ name, owner: me.token, pid: me.pid, host: me.host, command, acquired_at: now(), heartbeat_at: now() })}`
          return undefined
        })
      )
      .pipe(Effect.orDie)

    const busy = yield* tryTake
    if (busy !== undefined) {
      if (!options.wait) return yield* busy
      yield* Effect.logInfo(busy.message)
      yield* tryTake.pipe(
        Effect.flatMap((b) => (b === undefined ? Effect.void : Effect.fail(b))),
        Effect.retry(Schedule.spaced("1 second"))
      )
    }
    // The outermost holder releases it and keeps it alive.
    if (reentered) return
    yield* Effect.addFinalizer(() =>
      sql`DELETE FROM so_engine_lock WHERE name = ${name} AND owner = ${me.token}`.pipe(Effect.ignore)
    )
    yield* sql`UPDATE so_engine_lock SET heartbeat_at = ${now()} WHERE name = ${name} AND owner = ${me.token}`.pipe(
      Effect.ignore,
      Effect.repeat(Schedule.spaced("5 seconds")),
      Effect.forkScoped
    )
  })

/** Whether a process token (`host:pid:rand`) belongs to a process that is still alive here. */
export const ownerAlive = (token: string | undefined, host: string): boolean => {
  if (token === undefined) return false
  const [h, pid] = token.split(":")
  if (h !== host) return true
  try {
    process.kill(Number(pid), 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}
