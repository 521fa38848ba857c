/**
 * The daemon's heartbeat file, `<state dir>/daemon/heartbeat.json`: written after every tick (and
 * on start and stop) so `spec-orch daemon health` and outside monitors can tell a working daemon
 * from a stopped, stale or degraded one without talking to it. Writes are atomic (temp + rename).
 */
import { atomicWriter, Project } from "@spec-orch/contract"
import { Effect, FileSystem, Option, Path, Schema } from "effect"

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
export const heartbeatFile = (stateDir: string, path: Path.Path): string => path.join(stateDir, "daemon", "heartbeat.json")

/** How old a heartbeat may be before it counts as stale. */
export const staleAfterSeconds = (h: Pick<Heartbeat, "pollIntervalSeconds">): number => Math.max(300, 3 * h.pollIntervalSeconds)

/** Writes the heartbeat atomically. */
export const writeHeartbeat = Effect.fnUntraced(function*(h: Heartbeat) {
  const project = yield* Project
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  yield* atomicWriter(fs, path)(heartbeatFile(project.stateDir, path), JSON.stringify(Schema.encodeSync(Heartbeat)(h), null, 2) + "\n")
})

/** The heartbeat, if the file exists and parses. */
export const readHeartbeat = Effect.fnUntraced(function*() {
  const project = yield* Project
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const file = heartbeatFile(project.stateDir, path)
  const text = yield* fs.readFileString(file).pipe(Effect.option)
  if (Option.isNone(text)) return { file, heartbeat: undefined }
  const decoded = Schema.decodeUnknownOption(Schema.fromJsonString(Heartbeat))(text.value)
  return { file, heartbeat: Option.getOrUndefined(decoded) }
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
      ? { healthy: false, state: "unreadable", message: `the heartbeat ${file} cannot be read; restart the daemon (spec-orch daemon start)`, ageSeconds: null, heartbeat: undefined }
      : { healthy: false, state: "not-running", message: `no daemon has run here (no ${file}); start one with \`spec-orch daemon start\``, ageSeconds: null, heartbeat: undefined }
  }
  const age = Math.max(0, Math.round((nowMs - Date.parse(h.at)) / 1000))
  const base = { ageSeconds: age, heartbeat: h }
  if (h.status === "stopped") return { ...base, healthy: false, state: "stopped", message: `the daemon (pid ${h.pid}) stopped at ${h.at}` }
  if (h.host === host && !alive(h.pid)) return { ...base, healthy: false, state: "not-running", message: `the daemon (pid ${h.pid}) is gone; its last heartbeat was ${age} s ago` }
  if (age > staleAfterSeconds(h)) return { ...base, healthy: false, state: "stale", message: `the last heartbeat is ${age} s old (stale after ${staleAfterSeconds(h)} s): the daemon (pid ${h.pid}) is stuck or gone` }
  if (h.status === "degraded") {
    return { ...base, healthy: false, state: "degraded", message: `the daemon (pid ${h.pid}) is degraded: ${h.consecutiveErrors} tick(s) in a row failed; last error: ${h.lastError ?? "unknown"}` }
  }
  const refused = h.refused !== undefined && h.refused > 0 ? `, ${h.refused} refused at intake` : ""
  return { ...base, healthy: true, state: h.status === "starting" ? "starting" : "healthy", message: `the daemon (pid ${h.pid}) is ${h.status}: ${h.inFlight.length} run(s) in flight, ${h.processed} finished, ${h.deadLetter} dead-lettered${refused}; heartbeat ${age} s ago` }
}
