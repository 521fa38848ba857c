/**
 * What `run-plan` keeps about a mission beyond its packets' runs (which live in the run store): the
 * latest mission run (who drives it, with which options, how it ended) and, per packet, how its
 * branch was integrated onto the mission branch. Plain SQL over `effect/sql`, its own migrations.
 */
import { Clock, Context, Effect, Layer, Schema } from "effect"
import { Migrator, SqlClient } from "effect/sql"

/** How integrating one packet's branch onto the mission branch went. */
export const IntegrationOutcome = Schema.Literals(["merged", "up-to-date", "conflict", "error"])
export type IntegrationOutcome = typeof IntegrationOutcome.Type

/** The integration of one packet: `conflict` names the conflicted files; the merge was aborted. */
export class PacketIntegration extends Schema.Class<PacketIntegration>("@spec-orch/control/PacketIntegration")({
  packetId: Schema.String,
  runId: Schema.String,
  outcome: IntegrationOutcome,
  /** The packet's branch tip that was merged (or tried). */
  tip: Schema.optionalKey(Schema.String),
  /** The merge commit on the mission branch (`merged`). */
  commit: Schema.optionalKey(Schema.String),
  /** Files in conflict (`conflict`). */
  files: Schema.Array(Schema.String),
  message: Schema.String,
  at: Schema.String
}) {}

/** How a mission run ended; `running` while one is (or was, when its process died) in progress. */
export const MissionRunOutcome = Schema.Literals(["running", "completed", "failed", "cancelled"])
export type MissionRunOutcome = typeof MissionRunOutcome.Type

/** The latest `run-plan` of a mission. */
export class MissionRunRecord extends Schema.Class<MissionRunRecord>("@spec-orch/control/MissionRunRecord")({
  missionId: Schema.String,
  /** The process token of the process driving it (see ProcessToken). */
  owner: Schema.String,
  outcome: MissionRunOutcome,
  concurrency: Schema.Number,
  stopOnFailure: Schema.Boolean,
  branch: Schema.String,
  /** The mission branch's worktree, once a packet was integrated. */
  worktree: Schema.optionalKey(Schema.String),
  startedAt: Schema.String,
  updatedAt: Schema.String,
  finishedAt: Schema.optionalKey(Schema.String),
  message: Schema.optionalKey(Schema.String)
}) {}

const migrations = Migrator.fromRecord({
  "0001_missions": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE IF NOT EXISTS so_mission_runs (
      mission_id TEXT PRIMARY KEY,
      record TEXT NOT NULL
    )`
    yield* sql`CREATE TABLE IF NOT EXISTS so_mission_integrations (
      mission_id TEXT NOT NULL,
      packet_id TEXT NOT NULL,
      record TEXT NOT NULL,
      PRIMARY KEY (mission_id, packet_id)
    )`
  })
})

/** Runs the mission tables' migrations (idempotent; its own migrations table). */
export const migrateMissionStore = Migrator.make({})({ loader: migrations, table: "so_mission_migrations" })

const decodeRun = Schema.decodeUnknownSync(Schema.fromJsonString(MissionRunRecord))
const encodeRun = Schema.encodeSync(Schema.fromJsonString(MissionRunRecord))
const decodeIntegration = Schema.decodeUnknownSync(Schema.fromJsonString(PacketIntegration))
const encodeIntegration = Schema.encodeSync(Schema.fromJsonString(PacketIntegration))

/** Durable mission-run records and packet integrations. Storage failures are defects. */
export class MissionStore extends Context.Service<
  MissionStore,
  {
    /** The latest mission run, if any. */
    readonly run: (missionId: string) => Effect.Effect<MissionRunRecord | undefined>
    /** Records (replaces) the latest mission run. */
    readonly putRun: (record: MissionRunRecord) => Effect.Effect<void>
    /** Applies `f` to the latest mission run and saves it, stamping `updatedAt` (no-op when there is none). */
    readonly updateRun: (
      missionId: string,
      f: (r: MissionRunRecord) => MissionRunRecord
    ) => Effect.Effect<MissionRunRecord | undefined>
    /** Every packet integration of the mission, by packet id. */
    readonly integrations: (missionId: string) => Effect.Effect<ReadonlyMap<string, PacketIntegration>>
    /** Records (replaces) one packet's integration. */
    readonly putIntegration: (missionId: string, integration: PacketIntegration) => Effect.Effect<void>
  }
>()("@spec-orch/control/MissionStore") {
  static readonly layer: Layer.Layer<MissionStore, never, SqlClient.SqlClient> = Layer.effect(
    MissionStore,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* migrateMissionStore.pipe(Effect.orDie)

      const run = (missionId: string) =>
        sql<{ record: string }>`SELECT record FROM so_mission_runs WHERE mission_id = ${missionId}`.pipe(
          Effect.map((rows) => (rows[0] ? decodeRun(rows[0].record) : undefined)),
          Effect.orDie
        )

      const putRun = (record: MissionRunRecord) =>
        sql`INSERT INTO so_mission_runs (mission_id, record) VALUES (${record.missionId}, ${encodeRun(record)})
            ON CONFLICT (mission_id) DO UPDATE SET record = excluded.record`.pipe(Effect.asVoid, Effect.orDie)

      const updateRun = (missionId: string, f: (r: MissionRunRecord) => MissionRunRecord) =>
        sql
          .withTransaction(
            Effect.gen(function* () {
              const current = yield* run(missionId)
              if (current === undefined) return undefined
              const at = new Date(yield* Clock.currentTimeMillis).toISOString()
              const next = new MissionRunRecord({ ...f(current), updatedAt: at })
              yield* putRun(next)
              return next
            })
          )
          .pipe(Effect.orDie)

      const integrations = (missionId: string) =>
        sql<{
          packet_id: string
          record: string
        }>`SELECT packet_id, record FROM so_mission_integrations WHERE mission_id = ${missionId}`.pipe(
          Effect.map((rows) => new Map(rows.map((r) => [r.packet_id, decodeIntegration(r.record)] as const))),
          Effect.orDie
        )

      const putIntegration = (missionId: string, integration: PacketIntegration) =>
        sql`INSERT INTO so_mission_integrations (mission_id, packet_id, record) VALUES (${missionId}, ${integration.packetId}, ${encodeIntegration(integration)})
            ON CONFLICT (mission_id, packet_id) DO UPDATE SET record = excluded.record`.pipe(
          Effect.asVoid,
          Effect.orDie
        )

      return MissionStore.of({ run, putRun, updateRun, integrations, putIntegration })
    })
  )
}
