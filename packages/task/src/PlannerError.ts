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

/**
 * A planner model is configured, but none of its models can be called (a key or base URL is missing
 * from the environment, or the config names a model that does not exist). Planning offline instead
 * would hide that, so it is an error; `--offline` asks for the offline planner explicitly.
 */
export class PlannerModelUnavailable extends Schema.TaggedError<PlannerModelUnavailable>()("PlannerModelUnavailable", {
  missionId: Schema.String,
  description: Schema.String
}) {
  override get message(): string {
    return (
      `a planner model is configured but cannot be called: ${this.description}. ` +
      `Set the missing environment variables (\`spec-orch models check\` shows what each model needs), ` +
      `or plan without a model: \`spec-orch plan ${this.missionId} --offline\``
    )
  }
}

/** Writing the plan would replace a model-written plan with an offline one, and `force` was not given. */
export class PlanWouldDowngrade extends Schema.TaggedError<PlanWouldDowngrade>()("PlanWouldDowngrade", {
  missionId: Schema.String,
  file: Schema.String,
  previous: Schema.String
}) {
  override get message(): string {
    return (
      `${this.file} was written by the planner model ${this.previous}; an offline plan would replace it, so nothing was written. ` +
      `Keep it, re-plan with the model (plan without --offline once its key is set), ` +
      `or replace it anyway: \`spec-orch plan ${this.missionId} --offline --force\``
    )
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
  reason: Schema.Union([PlannerModelFailed, PlanOutputInvalid, PlannerModelUnavailable, PlanWouldDowngrade])
}) {
  override get message(): string {
    return `cannot plan mission ${this.missionId}: ${this.reason.message}`
  }
}
