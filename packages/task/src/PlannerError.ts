/**
 * Why a plan could not be made. A plan with problems is not an error (problems are data); these
 * mean no plan was produced at all.
 */
import { Schema } from "effect"

/** The planner model could not be reached or refused the request (network, authentication, quota). */
export class PlannerModelFailed extends Schema.TaggedError<PlannerModelFailed>()("PlannerModelFailed", {
  model: Schema.String,
  description: Schema.String
}) {
  override get message(): string {
    return `the planner model ${this.model} failed: ${this.description} (check [planner] in spec-orch.toml, or plan with --offline)`
  }
}

/** The model's answer was not a usable plan, even after one repair attempt. */
export class PlanOutputInvalid extends Schema.TaggedError<PlanOutputInvalid>()("PlanOutputInvalid", {
  model: Schema.String,
  attempts: Schema.Number,
  problems: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `the planner model ${this.model} gave no usable plan in ${this.attempts} attempts:\n${this.problems.map((p) => `  - ${p}`).join("\n")}\n(plan with --offline, or write plan.json by hand)`
  }
}

/** `Planner.plan` made no plan for `missionId`; `reason` says why. */
export class PlannerError extends Schema.TaggedError<PlannerError>()("PlannerError", {
  missionId: Schema.String,
  reason: Schema.Union([PlannerModelFailed, PlanOutputInvalid])
}) {
  override get message(): string {
    return `cannot plan mission ${this.missionId}: ${this.reason.message}`
  }
}
