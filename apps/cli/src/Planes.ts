/**
 * The only place where planes are wired together. Commands call `withPlanes(effect)`: it loads the
 * project named by the root flags (`--cwd`, `--config`) and provides every plane's services.
 */
import { Project } from "@spec-orch/contract"
import {
  ControlPlane,
  EngineLockLayer,
  JournalLayer,
  MissionRunner,
  Runs,
  RunWorkflowLayer,
  WorkflowEngineLayer
} from "@spec-orch/control"
import { Reviewer } from "@spec-orch/evidence"
import { EvolutionPlane, Memory, ProposalRules, Proposals, RunMemory } from "@spec-orch/evolution"
import { ExecutionPlane } from "@spec-orch/execution"
import { Embeddings, HarnessPlane, Models, Redactor } from "@spec-orch/harness"
import { PlannerModel, PlannerModelProblem, TaskPlane } from "@spec-orch/task"
import { Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { Root } from "./Root.js"
import { ContractPlaneLive } from "./ContractPlane.js"
import { projectLayer, redactingOutput, withProject } from "./ProjectScope.js"
import { EvidencePlaneLive } from "./LedgerPlane.js"
import { StateDb } from "./StatePlane.js"
import { RunTracing } from "./Trace.js"

export { ContractPlaneLive, withContract } from "./ContractPlane.js"
export { StateDb } from "./StatePlane.js"

/** The execution plane's services: worktrees, agents, the verification runner and the sandbox. */
export const ExecutionPlaneLive = ExecutionPlane.pipe(Layer.provide(Redactor.layer))

/**
 * The LLM roles' models (`[models]`, `[model_chains]`, `[llm]`, role sections; keys from the
 * environment) over fetch. Building it reads the environment only; nothing is sent until a call.
 */
export const ModelsLive = Models.layer.pipe(Layer.provide(FetchHttpClient.layer))

/**
 * The planner's model when `[planner]` (or `[llm]`) resolves to a model with a key; when a model is
 * configured but cannot be called (no key, an unknown reference), why not, so `plan` fails instead of
 * silently planning offline; with nothing configured, neither, and the planner is offline.
 */
export const PlannerModelLive = Layer.unwrap(
  Effect.map(Effect.service(Models), (models) => {
    const planner = models.role("planner")
    if (planner.problem === undefined && planner.plan !== undefined) {
      return PlannerModel.layer(planner.plan.name).pipe(Layer.provide(Models.languageModelOrFailing("planner")))
    }
    return planner.problem !== undefined && planner.problem.reason._tag !== "RoleNotConfigured"
      ? PlannerModelProblem.layer(planner.problem.message)
      : Layer.empty
  })
).pipe(Layer.provide(ModelsLive))

/** The readiness-triage model of the daemon: the planner's model (as in the original) when it resolves with a key; otherwise the rules decide alone. */
export const TriageModelLive = Layer.unwrap(
  Effect.map(Effect.service(Models), (models) => {
    const planner = models.role("planner")
    return planner.problem === undefined && planner.plan !== undefined
      ? Models.languageModelOrFailing("planner")
      : Layer.empty
  })
)

/** The LLM reviewer when `[reviewer] adapter = "llm"` and its model resolves with a key; otherwise none (a person reviews). */
export const ReviewerLive = Layer.unwrap(
  Effect.gen(function* () {
    const project = yield* Project
    const reviewer = (yield* Models).role("reviewer")
    return project.config.reviewer.adapter === "llm" && reviewer.problem === undefined && reviewer.plan !== undefined
      ? Reviewer.layer.pipe(Layer.provide(Models.languageModelOrFailing("reviewer")))
      : Layer.empty
  })
).pipe(Layer.provide(ModelsLive))

/** The task plane's services: the planner and plan.json files, over the contract plane's missions (and the planner's model, if any). */
export const TaskPlaneLive = TaskPlane.pipe(Layer.provide(ContractPlaneLive), Layer.provide(PlannerModelLive))

/** The embedding model of `[memory] embedding_model`, when one is named (docs/memory.md); building it reads the environment only. */
const EmbeddingsLive = Embeddings.layer.pipe(Layer.provide(FetchHttpClient.layer))

/** Memory over the state database, with vector recall fused with full text when an embedding model is configured. */
export const MemoryLive = Memory.layer.pipe(Layer.provide(EmbeddingsLive))

/**
 * The evolution plane over the state database: what the builder is offered (the proposals in use for the
 * issue, docs/evolution.md, then what memory learned) and the memory writer, when `[memory] enabled`
 * (docs/memory.md).
 */
const EvolutionPlaneLive = EvolutionPlane.pipe(
  Layer.provide(EmbeddingsLive),
  Layer.provide(Layer.orDie(EvidencePlaneLive)),
  Layer.provide(StateDb),
  Layer.provide(Redactor.layer)
)

/** The approved learned compliance rules and skills a run uses (docs/evolution.md). */
const LearnedRulesLive = ProposalRules.pipe(Layer.provide(Proposals.layer), Layer.provide(StateDb))

/** The harness plane's services: prompt envelopes (with the proposals in use and what memory learned, when it is on), compliance contracts, the models, and redaction and the diff's secret scan; with the evolution plane's learnings and the memory writer that `run`, `review-issue`, `accept-issue` and `findings` record through. */
export const HarnessPlaneLive = Layer.merge(HarnessPlane, LearnedRulesLive).pipe(
  Layer.provideMerge(EvolutionPlaneLive),
  Layer.provide(FetchHttpClient.layer),
  Layer.provideMerge(Redactor.layer)
)

/** The control plane's stores (runs, events, missions) over the state database, which it also exposes, publishing and `[notify]` webhooks; all redact with the harness's `Redactor`. */
export const ControlPlaneLive = ControlPlane.pipe(Layer.provideMerge(StateDb), Layer.provide(Redactor.layer))

/** `Runs` that records each finished run in memory when it is on (best-effort: a memory failure is logged, never fails the run). */
export const RunsRecorded = Layer.effect(
  Runs,
  Effect.gen(function* () {
    const [runs, memory] = [yield* Runs, yield* RunMemory]
    return Runs.of({
      ...runs,
      start: (options) => Effect.tap(runs.start(options), (result) => memory.record(result.record))
    })
  })
).pipe(Layer.provide(Runs.layer), Layer.provide(EvolutionPlaneLive))

/** Every plane, over the project. */
export const Planes = Layer.mergeAll(
  ContractPlaneLive,
  ExecutionPlaneLive,
  EvidencePlaneLive,
  TaskPlaneLive,
  HarnessPlaneLive,
  ControlPlaneLive,
  ReviewerLive
)

/** Services a command may use once the project is loaded. */
export type PlaneServices = Layer.Success<typeof Planes> | Project

/** Runs `effect` with the project from the root flags and every plane provided. */
export const withPlanes = withProject(Planes)

/**
 * Runs `effect` with every plane and the durable workflow engine: the lock of the journal `journal`
 * names (`wait` waits for it; a refusal says another process is running `what`), the cluster runner over that journal (`<state dir>/engines/<journal>.db`),
 * the Run workflow and the `Runs` and `MissionRunner` services. A terminal's `run` of one issue, a
 * mission and the daemon each have their own journal, so they run side by side; the run store stays
 * the shared state database. `command` is recorded on the lock so a second process can say who holds it.
 */
export const withEngine = <A, E, R>(
  command: string,
  options: {
    readonly journal: string
    readonly what: string
    readonly wait?: boolean
    readonly source?: string | undefined
    /** The project the engine sees, from the one the root flags load (an offline replay's own state directory). */
    readonly project?: ((project: Project["Service"]) => Project["Service"]) | undefined
  },
  effect: Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    const flags = yield* Root
    const loaded = projectLayer(flags, options.source)
    const adjust = options.project
    const project =
      adjust === undefined
        ? loaded
        : Layer.effect(
            Project,
            Project.use((p) => Effect.succeed(Project.of(adjust(p))))
          ).pipe(Layer.provide(loaded))
    const base = Planes.pipe(Layer.provideMerge(project))
    const journal = Layer.unwrap(
      Effect.map(Effect.service(Project), (project) => JournalLayer(project.stateDir, options.journal))
    )
    // MissionRunner (run-plan) drives packets through Runs.
    const engine = MissionRunner.layer.pipe(
      Layer.provideMerge(RunsRecorded),
      Layer.provideMerge(RunWorkflowLayer),
      Layer.provideMerge(WorkflowEngineLayer.pipe(Layer.provide(journal))),
      Layer.provideMerge(
        EngineLockLayer(`spec-orch ${command}`, {
          wait: options.wait ?? false,
          key: options.journal,
          what: options.what
        })
      )
    )
    // Runs are traced (docs/traces.md): the tracer is provided below the engine, so the workflow's fibers use it too.
    const tracing = RunTracing.pipe(Layer.provide(Redactor.layer), Layer.provideMerge(project))
    return yield* redactingOutput(effect).pipe(
      Effect.provide(engine.pipe(Layer.provideMerge(base), Layer.provideMerge(tracing)))
    )
  })
