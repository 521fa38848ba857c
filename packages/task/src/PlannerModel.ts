/**
 * The model the planner uses, when one is configured. The app provides it (from the harness' model
 * chains); without it the planner is offline. Task never builds model clients itself.
 */
import { Context, Effect, Layer } from "effect"
import { LanguageModel } from "effect/ai"

/** A language model for the planner role, with the name recorded in `plan.json` as `planner`. */
export class PlannerModel extends Context.Service<
  PlannerModel,
  {
    /** How the plan names its planner: a model chain id or model id, e.g. `chain:planner`. */
    readonly name: string
    readonly model: LanguageModel.LanguageModel
  }
>()("@spec-orch/task/PlannerModel") {
  /** The `LanguageModel` in context, as the planner's model called `name`. */
  static readonly layer = (name: string): Layer.Layer<PlannerModel, never, LanguageModel.LanguageModel> =>
    Layer.effect(
      PlannerModel,
      Effect.map(Effect.service(LanguageModel.LanguageModel), (model) => PlannerModel.of({ name, model }))
    )
}

/**
 * Why the configured planner model cannot be called (given by the app instead of `PlannerModel`): a
 * chain whose models all lack a key, or a reference to a model that does not exist. With it,
 * `Planner.plan` fails unless `offline` is asked for, instead of silently planning offline.
 */
export class PlannerModelProblem extends Context.Service<
  PlannerModelProblem,
  {
    /** What is wrong, naming the config keys and environment variables (never a value). */
    readonly description: string
  }
>()("@spec-orch/task/PlannerModelProblem") {
  static readonly layer = (description: string): Layer.Layer<PlannerModelProblem> =>
    Layer.succeed(PlannerModelProblem, PlannerModelProblem.of({ description }))
}
