/**
 * The gate's verdict. "Could not judge" (missing evidence) is distinct from "judged and failed",
 * and a condition the profile disabled is reported as disabled, never as passed.
 */
import { Schema } from "effect"

/** The result of one condition. */
export const ConditionStatus = Schema.Literals(["passed", "failed", "not_judgeable", "disabled"])
export type ConditionStatus = typeof ConditionStatus.Type

/** One condition, judged. */
export class ConditionResult extends Schema.Class<ConditionResult>("@spec-orch/contract/ConditionResult")({
  condition: Schema.String,
  required: Schema.Boolean,
  status: ConditionStatus,
  /** Why, in one sentence a human can act on. */
  reason: Schema.String,
  /** What would make this condition pass, when it did not. */
  unblock: Schema.optionalKey(Schema.String)
}) {}

/** The gate's decision for one piece of evidence under one policy and profile. */
export class GateVerdict extends Schema.Class<GateVerdict>("@spec-orch/contract/GateVerdict")({
  policy: Schema.String,
  profile: Schema.NullOr(Schema.String),
  mergeable: Schema.Boolean,
  autoMergeable: Schema.Boolean,
  conditions: Schema.Array(ConditionResult),
  /** Required conditions that were judged and failed. */
  failed: Schema.Array(Schema.String),
  /** Required conditions that could not be judged for lack of evidence. */
  notJudgeable: Schema.Array(Schema.String)
}) {}
