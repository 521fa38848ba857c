/**
 * Missions: a spec larger than one issue, stored in git under `docs/specs/<mission-id>/`. Status
 * moves only along the lifecycle below; anything else is refused.
 */
import { Schema } from "effect"
import { MissionId } from "./Ids.js"

/** Mission status, as stored in `mission.json`. */
export const MissionStatus = Schema.Literals(["drafting", "approved", "in_progress", "completed", "failed", "archived"])
export type MissionStatus = typeof MissionStatus.Type

const transitions: Record<MissionStatus, ReadonlyArray<MissionStatus>> = {
  drafting: ["approved", "archived"],
  approved: ["drafting", "in_progress", "archived"],
  in_progress: ["completed", "failed", "approved", "archived"],
  completed: ["archived", "in_progress"],
  failed: ["in_progress", "approved", "archived"],
  archived: []
}

/** Whether a mission may move from `from` to `to`. */
export const canTransitionMission = (from: MissionStatus, to: MissionStatus): boolean => transitions[from].includes(to)

/** A mission: title, status, where its spec lives, and the approval that froze it. */
export class Mission extends Schema.Class<Mission>("@spec-orch/contract/Mission")({
  id: MissionId,
  title: Schema.String,
  status: MissionStatus,
  /** Repository-relative path of `spec.md`. */
  specPath: Schema.String,
  acceptanceCriteria: Schema.Array(Schema.String),
  constraints: Schema.Array(Schema.String),
  interfaceContracts: Schema.Array(Schema.String),
  createdAt: Schema.String,
  approvedAt: Schema.optionalKey(Schema.String),
  approvedBy: Schema.optionalKey(Schema.String),
  /** sha256 of `spec.md` at approval; a different hash later means the spec changed after approval. */
  specHash: Schema.optionalKey(Schema.String),
  completedAt: Schema.optionalKey(Schema.String)
}) {}
