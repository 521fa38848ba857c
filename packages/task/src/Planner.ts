/**
 * The planner: turns a mission's spec into `plan.json`. With a planner model (`PlannerModel`, given
 * by the app) it asks the LLM scoper; without one, or with `offline`, it uses the offline planner.
 * Either way the plan is normalized, validated and written; finished packets survive re-planning.
 */
import {
  atomicWriter,
  configuredSteps,
  type MissionsError,
  Missions,
  type Plan,
  Project,
  type SpecOrchConfig,
  VerificationStep
} from "@spec-orch/contract"
import { Clock, Context, Effect, FileSystem, Layer, Option, Path } from "effect"
import { LanguageModel } from "effect/ai"
import { listFiles, summarizeFileTree } from "./internal/file-tree.js"
import { missionCriteria, planOffline } from "./OfflinePlanner.js"
import { PlannerError, PlannerModelUnavailable, PlanWouldDowngrade } from "./PlannerError.js"
import { PlannerModel, PlannerModelProblem } from "./PlannerModel.js"
import { normalizePlan, type PacketMove } from "./PlanNormalization.js"
import { type PlanProblem, validatePlan } from "./PlanValidation.js"
import { Plans } from "./Plans.js"
import { type PlannerLearning, scopePlan } from "./Scoper.js"
import { parseMissionSpec } from "./MissionSpec.js"

/** The note printed when no planner model is configured. */
export const OFFLINE_NOTE = "no planner model configured; using the offline planner"

/** Options of `Planner.plan`. */
export interface PlanOptions {
  /** Use the offline planner even when a planner model is configured. */
  readonly offline?: boolean | undefined
  /** Replace a model-written plan with an offline one (otherwise that is refused). */
  readonly force?: boolean | undefined
  /** Packets of the current plan that finished; they are kept as they are. */
  readonly finished?: Iterable<string> | undefined
  /**
   * What earlier runs of the mission, its issues and files showed (the caller's `Learnings`, already
   * within the planner's token budget): fenced as data in the planner model's prompt.
   */
  readonly learnings?: ReadonlyArray<PlannerLearning> | undefined
}

/** The file beside plan.json that lists what the planner was told (the learnings, with their ids and sources). */
export const PLAN_CONTEXT_FILE = "plan-context.json"

/** What planning produced. */
export interface PlanOutcome {
  readonly plan: Plan
  /** Repository-relative path of the plan.json written. */
  readonly file: string
  /** `offline` or the planner model's name. */
  readonly planner: string
  /** Things the operator should know: offline fallback, an unapproved or changed spec. */
  readonly notes: ReadonlyArray<string>
  /** Packets normalization moved to later waves, and why. */
  readonly moves: ReadonlyArray<PacketMove>
  /** Problems left in the written plan (data; see `validatePlan`). */
  readonly problems: ReadonlyArray<PlanProblem>
  /** Model calls made: 0 offline, 1, or 2 when the answer needed a repair. */
  readonly attempts: number
  /** The learnings the planner model was given (none offline); listed in `contextFile`. */
  readonly learnings: ReadonlyArray<PlannerLearning>
  /** Repository-relative path of the plan's context file (`PLAN_CONTEXT_FILE` beside plan.json). */
  readonly contextFile: string
  /** What re-planning kept, dropped and added, when a plan existed. */
  readonly replan?: {
    readonly kept: ReadonlyArray<string>
    readonly removed: ReadonlyArray<string>
    readonly added: ReadonlyArray<string>
    readonly unknownFinished: ReadonlyArray<string>
  }
}

/** The project's `[verification]` section as steps, in file order. */
export const verificationSteps = (verification: SpecOrchConfig["verification"]): Array<VerificationStep> =>
  configuredSteps(verification).map((s) => new VerificationStep(s))

/** Plans missions. */
export class Planner extends Context.Service<
  Planner,
  {
    /**
     * Plans `missionId` from its spec.md and writes docs/specs/<mission>/plan.json. Problems left in
     * the plan are returned, not raised; `PlannerError` means no plan could be made.
     */
    readonly plan: (
      missionId: string,
      options?: PlanOptions
    ) => Effect.Effect<PlanOutcome, PlannerError | MissionsError>
    /** Whether a planner model is available (otherwise `plan` is always offline). */
    readonly hasModel: boolean
  }
>()("@spec-orch/task/Planner") {
  /** The planner; it uses `PlannerModel` when the app provides one (an optional dependency). */
  static readonly layer: Layer.Layer<Planner, never, Plans | Missions | Project | FileSystem.FileSystem | Path.Path> =
    Layer.effect(
      Planner,
      Effect.gen(function* () {
        const plans = yield* Plans
        const missions = yield* Missions
        const project = yield* Project
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const model = yield* Effect.serviceOption(PlannerModel)
        const modelProblem = yield* Effect.serviceOption(PlannerModelProblem)
        const writeAtomic = atomicWriter(fs, path)

        const plan = Effect.fn("Planner.plan")(function* (missionId: string, options: PlanOptions = {}) {
          const view = yield* missions.get(missionId)
          const specText = yield* missions.specText(missionId)
          const mission = view.mission
          const spec = parseMissionSpec(specText)
          const criteria = missionCriteria(mission.acceptanceCriteria, specText)
          const constraints = [...new Set([...mission.constraints, ...spec.constraints])]
          const verification = verificationSteps(project.config.verification)
          const createdAt = new Date(yield* Clock.currentTimeMillis).toISOString()

          const notes: Array<string> = []
          if (view.specState === "unapproved")
            notes.push(
              `mission ${missionId} is not approved yet; this plan is a draft (approve the spec with \`spec-orch mission approve ${missionId}\`)`
            )
          if (view.specState === "changed-since-approval")
            notes.push(
              `${mission.specPath} changed after it was approved; planned from the current text (approve it again to freeze it)`
            )

          const useModel = Option.isSome(model) && options.offline !== true
          // A configured model that cannot be called is an error, not a silent fallback to the offline planner.
          if (!useModel && options.offline !== true && Option.isSome(modelProblem)) {
            return yield* new PlannerError({
              missionId,
              reason: new PlannerModelUnavailable({ missionId, description: modelProblem.value.description })
            })
          }
          if (Option.isNone(model) && options.offline !== true) notes.unshift(OFFLINE_NOTE)
          const current = yield* plans.find(missionId).pipe(Effect.orElseSucceed(() => undefined))
          const previous = current?.plan.planner ?? ""
          // An offline plan is worse than a model's: replacing one is refused unless forced, and said when forced.
          if (!useModel && previous !== "" && previous !== "offline") {
            if (options.force !== true) {
              return yield* new PlannerError({
                missionId,
                reason: new PlanWouldDowngrade({ missionId, file: plans.fileOf(missionId), previous })
              })
            }
            notes.push(`replaced the plan written by the planner model ${previous} with an offline plan (--force)`)
          }

          let fresh: Plan
          let moves: ReadonlyArray<PacketMove>
          let attempts = 0
          let planner = "offline"
          const learnings = useModel ? [...(options.learnings ?? [])] : []
          if (useModel) {
            const files = yield* listFiles(fs, path, project.root)
            const scoped = yield* scopePlan({
              missionId: mission.id,
              title: mission.title,
              specText,
              acceptanceCriteria: criteria,
              constraints,
              verification,
              fileTree: summarizeFileTree(files),
              modelName: model.value.name,
              createdAt,
              learnings
            }).pipe(Effect.provideService(LanguageModel.LanguageModel, model.value.model))
            fresh = scoped.plan
            moves = scoped.moves
            attempts = scoped.attempts
            planner = model.value.name
            notes.push(
              `${planner}${scoped.answeredBy !== undefined ? ` (${scoped.answeredBy})` : ""} wrote this plan: review it, then approve it for run-plan with \`spec-orch plan approve ${missionId}\``
            )
            const u = fresh.plannerUsage
            if (u !== undefined) {
              notes.push(
                `the planner's model call took ${u.calls} request${u.calls === 1 ? "" : "s"}, ${u.inputTokens} in / ${u.outputTokens} out tokens, ` +
                  `${u.costUsd === null ? "cost unknown (no prices configured)" : `$${u.costUsd.toFixed(4)}`}, ${(u.latencyMs / 1000).toFixed(1)} s`
              )
            }
          } else {
            const offline = normalizePlan(
              planOffline({
                missionId: mission.id,
                specText,
                specPath: mission.specPath,
                acceptanceCriteria: criteria,
                constraints: mission.constraints,
                verification,
                createdAt
              })
            )
            fresh = offline.plan
            moves = offline.moves
          }

          const existed = current !== undefined
          const replanned = yield* plans.replan(missionId, fresh, options.finished ?? []).pipe(
            // An unreadable current plan cannot be merged; the fresh plan replaces it (the file is in git).
            Effect.catchTag("InvalidFile", (invalid) =>
              Effect.map(plans.write(fresh), (file) => {
                const n = invalid.problems.filter((p) => p.severity === "error").length
                notes.push(
                  `the previous ${invalid.file} could not be read (${n} problem${n === 1 ? "" : "s"}), so nothing was kept from it; it is replaced`
                )
                return {
                  plan: fresh,
                  file,
                  kept: [],
                  removed: [],
                  added: [],
                  unknownFinished: [...(options.finished ?? [])],
                  moves: []
                }
              })
            )
          )
          // What the planner was told, beside the plan: rewritten with every plan, so it never describes an older one.
          const contextFile = path.join(path.dirname(replanned.file), PLAN_CONTEXT_FILE)
          yield* writeAtomic(
            project.resolve(contextFile),
            `${JSON.stringify(
              {
                mission: missionId,
                planner,
                created_at: createdAt,
                learnings: learnings.map((l) => ({ id: l.id, source: l.source, text: l.text }))
              },
              null,
              2
            )}\n`
          )
          const problems = [
            ...validatePlan(replanned.plan, { acceptanceCriteria: criteria }),
            ...(yield* plans.linkEscapes(replanned.plan))
          ]
          return {
            plan: replanned.plan,
            file: replanned.file,
            planner,
            notes,
            moves: [...moves, ...replanned.moves],
            problems,
            attempts,
            learnings,
            contextFile,
            ...(existed
              ? {
                  replan: {
                    kept: replanned.kept,
                    removed: replanned.removed,
                    added: replanned.added,
                    unknownFinished: replanned.unknownFinished
                  }
                }
              : {})
          } satisfies PlanOutcome
        })

        return Planner.of({ plan, hasModel: Option.isSome(model) })
      })
    )
}
