/**
 * Plans: a mission decomposed into waves of work packets. Data only; validation and scheduling
 * live in `@spec-orch/task`. The JSON form is `docs/specs/<mission>/plan.json`.
 */
import { Schema } from "effect"
import { RunClass, VerificationStep } from "./Issue.js"
import { MissionId, PacketId } from "./Ids.js"

/** One HTTP request of the planner's call (`planner_usage.requests[]` in plan.json). */
export const PlannerRequest = Schema.Struct({
  model: Schema.String,
  modelName: Schema.String,
  provider: Schema.String,
  attempt: Schema.Number,
  /** `ok`, or the failure's reason tag. */
  outcome: Schema.String,
  httpStatus: Schema.optionalKey(Schema.Number),
  latencyMs: Schema.Number,
  inputTokens: Schema.Number,
  outputTokens: Schema.Number,
  costUsd: Schema.optionalKey(Schema.Number),
  repair: Schema.optionalKey(Schema.Boolean),
  /** Why the chain then moved to its next model. */
  fallbackReason: Schema.optionalKey(Schema.String)
})
export type PlannerRequest = typeof PlannerRequest.Type

/** What the planner's model call took (`planner_usage` in plan.json). */
export const PlannerUsage = Schema.Struct({
  /** HTTP requests, failed ones and the repair included. */
  calls: Schema.Number,
  inputTokens: Schema.Number,
  outputTokens: Schema.Number,
  /** USD from the models' prices; `null` = unknown (a model without prices). */
  costUsd: Schema.NullOr(Schema.Number),
  latencyMs: Schema.Number,
  /** Each request, in order (plans written before this was recorded have none). */
  requests: Schema.optionalKey(Schema.Array(PlannerRequest))
})
export type PlannerUsage = typeof PlannerUsage.Type

/** One unit of mission work that becomes one Run in its own worktree. */
export class WorkPacket extends Schema.Class<WorkPacket>("@spec-orch/contract/WorkPacket")({
  id: PacketId,
  title: Schema.String,
  specSection: Schema.String,
  runClass: RunClass,
  /** The packet's footprint: files or directories (trailing `/`) or globs it may change. */
  filesInScope: Schema.Array(Schema.String),
  filesOutOfScope: Schema.Array(Schema.String),
  dependsOn: Schema.Array(PacketId),
  acceptanceCriteria: Schema.Array(Schema.String),
  verification: Schema.Array(VerificationStep),
  builderPrompt: Schema.String,
  /** Tracker issue this packet was promoted to, if any. */
  trackerIssueId: Schema.optionalKey(Schema.String)
}) {}

/** A set of packets that may run in parallel. */
export class Wave extends Schema.Class<Wave>("@spec-orch/contract/Wave")({
  index: Schema.Number,
  description: Schema.String,
  packets: Schema.Array(WorkPacket)
}) {}

/** Plan status, as the original writes it (`draft` until promoted, `executing` once packets run). */
export const PlanStatus = Schema.Literals(["draft", "approved", "executing", "completed"])
export type PlanStatus = typeof PlanStatus.Type

/** A mission's plan. */
export class Plan extends Schema.Class<Plan>("@spec-orch/contract/Plan")({
  id: Schema.String,
  missionId: MissionId,
  /** Absent when the file had none; written back only when present. */
  status: Schema.optionalKey(PlanStatus),
  /** Who approved a model-written plan for `run-plan` (`spec-orch plan approve`, or `run-plan --auto-approve`). */
  approvedBy: Schema.optionalKey(Schema.String),
  /** When it was approved (ISO 8601). */
  approvedAt: Schema.optionalKey(Schema.String),
  /** `offline` or the model chain that produced it. */
  planner: Schema.String,
  /** Which model of the planner's chain wrote it: `b (claude-…) after 4 calls; fallback from a: …; repaired once`. */
  plannerModel: Schema.optionalKey(Schema.String),
  /** What the planner's model call took: requests, tokens, cost (`null` = unknown), latency. */
  plannerUsage: Schema.optionalKey(PlannerUsage),
  createdAt: Schema.String,
  waves: Schema.Array(Wave)
}) {}
