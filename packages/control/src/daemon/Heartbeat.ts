/**
 * The daemon's heartbeat file, `<state dir>/daemon/heartbeat.json`: written after every tick (and
 * on start and stop) so `spec-orch daemon health` and outside monitors can tell a working daemon
 * from a stopped, stale or degraded one without talking to it. Writes are atomic (temp + rename).
 * On a cluster the daemon runs on one of the hosts: its heartbeat is also kept in the daemon store (the
 * cluster's Postgres), and every host reads that one.
 */
import { atomicWriter, Project } from "@spec-orch/contract"
import { Redactor } from "@spec-orch/harness"
import { Effect, FileSystem, Option, Path, Schema } from "effect"
import { DaemonStore } from "./DaemonStore.js"

/** The daemon store's meta key of the cluster's heartbeat. */
export const HEARTBEAT_META_KEY = "heartbeat"

/** One run in flight, as the heartbeat shows it. */
export const HeartbeatRun = Schema.Struct({
  issueId: Schema.String,
  runId: Schema.NullOr(Schema.String),
  since: Schema.String
})
export type HeartbeatRun = typeof HeartbeatRun.Type

/** The heartbeat file's content. */
export const Heartbeat = Schema.Struct({
  /** `starting`, `healthy` (the last tick worked), `degraded` (it failed), `stopped` (shut down cleanly). */
  status: Schema.Literals(["starting", "healthy", "degraded", "stopped"]),
  pid: Schema.Number,
  host: Schema.String,
  /** When this was written (ISO). */
  at: Schema.String,
  startedAt: Schema.String,
  /** Seconds between polls; the file is stale after three of them (at least five minutes). */
  pollIntervalSeconds: Schema.Number,
  /** Runs this daemon process finished. */
  processed: Schema.Number,
  inFlight: Schema.Array(HeartbeatRun),
  deadLetter: Schema.Number,
  /** Issues the intake allow-list refused (absent in heartbeats of older daemons). */
  refused: Schema.optionalKey(Schema.Number),
  consecutiveErrors: Schema.Number,
  lastError: Schema.NullOr(Schema.String)
})
export type Heartbeat = typeof Heartbeat.Type

/** Where the heartbeat of the project's daemon lives. */
export const heartbeatFile = (stateDir: string, path: Path.Path): string =>
  path.join(stateDir, "daemon", "heartbeat.json")

/** How old a heartbeat may be before it counts as stale. */
export const staleAfterSeconds = (h: Pick<Heartbeat, "pollIntervalSeconds">): number =>
  Math.max(300, 3 * h.pollIntervalSeconds)

/**
 * Writes the heartbeat atomically, redacted (its last error may quote a tracker's or a database's
 * answer); on a cluster, also to the daemon store, when it is at hand.
 */
export const writeHeartbeat = Effect.fnUntraced(function* (h: Heartbeat) {
  const project = yield* Project
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const { redactJson } = yield* Redactor
  const text = `${JSON.stringify(redactJson(Schema.encodeSync(Heartbeat)(h)), null, 2)}\n`
  yield* atomicWriter(fs, path)(heartbeatFile(project.stateDir, path), text)
  const store = yield* Effect.serviceOption(DaemonStore)
  if (project.config.cluster.storage === "postgres" && Option.isSome(store))
    yield* store.value.setMeta(HEARTBEAT_META_KEY, text)
})

/**
 * The heartbeat, if it exists and parses: on a cluster the one in the daemon store (written by whichever
 * host runs the daemon; `file` then names it), else this host's file.
 */
export const readHeartbeat = Effect.fnUntraced(function* () {
  const project = yield* Project
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const store = yield* Effect.serviceOption(DaemonStore)
  const decode = (text: string) =>
    Option.getOrUndefined(Schema.decodeUnknownOption(Schema.fromJsonString(Heartbeat))(text))
  if (project.config.cluster.storage === "postgres" && Option.isSome(store)) {
    const kept = yield* store.value.getMeta(HEARTBEAT_META_KEY)
    return {
      file: "the cluster's daemon store (Postgres)",
      heartbeat: kept === undefined ? undefined : decode(kept),
      kept: kept !== undefined
    }
  }
  const file = heartbeatFile(project.stateDir, path)
  const text = yield* fs.readFileString(file).pipe(Effect.option)
  if (Option.isNone(text)) return { file, heartbeat: undefined, kept: false }
  return { file, heartbeat: decode(text.value), kept: true }
})

/** The verdict of `daemon health`. */
export interface Health {
  readonly healthy: boolean
  /** `healthy`, `not-running`, `stopped`, `stale`, `degraded`, `unreadable`. */
  readonly state: string
  readonly message: string
  readonly ageSeconds: number | null
  readonly heartbeat: Heartbeat | undefined
}

/** Judges a heartbeat at `nowMs`; `alive(pid)` says whether a process of this host is running. */
export const judgeHealth = (
  file: string,
  h: Heartbeat | undefined,
  nowMs: number,
  host: string,
  alive: (pid: number) => boolean,
  exists: boolean
): Health => {
  if (h === undefined) {
    return exists
      ? {
          healthy: false,
          state: "unreadable",
          message: `the heartbeat ${file} cannot be read; restart the daemon (spec-orch daemon start)`,
          ageSeconds: null,
          heartbeat: undefined
        }
      : {
          healthy: false,
          state: "not-running",
          message: `no daemon has run here (no ${file}); start one with \`spec-orch daemon start\``,
          ageSeconds: null,
          heartbeat: undefined
        }
  }
  const age = Math.max(0, Math.round((nowMs - Date.parse(h.at)) / 1000))
  const base = { ageSeconds: age, heartbeat: h }
  if (h.status === "stopped")
    return { ...base, healthy: false, state: "stopped", message: `the daemon (pid ${h.pid}) stopped at ${h.at}` }
  if (h.host === host && !alive(h.pid))
    return {
      ...base,
      healthy: false,
      state: "not-running",
      message: `the daemon (pid ${h.pid}) is gone; its last heartbeat was ${age} s ago`
    }
  if (age > staleAfterSeconds(h))
    return {
      ...base,
      healthy: false,
      state: "stale",
      message: `the last heartbeat is ${age} s old (stale after ${staleAfterSeconds(h)} s): the daemon (pid ${h.pid}) is stuck or gone`
    }
  if (h.status === "degraded") {
    return {
      ...base,
      healthy: false,
      state: "degraded",
      message: `the daemon (pid ${h.pid}) is degraded: ${h.consecutiveErrors} tick(s) in a row failed; last error: ${h.lastError ?? "unknown"}`
    }
  }
  const refused = h.refused !== undefined && h.refused > 0 ? `, ${h.refused} refused at intake` : ""
  return {
    ...base,
    healthy: true,
    state: h.status === "starting" ? "starting" : "healthy",
    message: `the daemon (pid ${h.pid}) is ${h.status}: ${h.inFlight.length} run(s) in flight, ${h.processed} finished, ${h.deadLetter} dead-lettered${refused}; heartbeat ${age} s ago`
  }
}
