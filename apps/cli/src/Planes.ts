/**
 * The only place where planes are wired together. Commands call `withPlanes(effect)`: it loads the
 * project named by the root flags (`--cwd`, `--config`) and provides every plane's services.
 */
import { Missions, Project, Specs } from "@spec-orch/contract"
import { EngineLockLayer, JournalLayer, MissionIntegration, MissionRunner, MissionStore, ProcessToken, Publisher, RunPublisher, Runs, RunStore, RunWorkflowLayer, TrackerIssueSource, TrackerLayer, WorkflowEngineLayer } from "@spec-orch/control"
import { EvidencePlane, Reviewer } from "@spec-orch/evidence"
import { Memory, MemoryLearnings, RunMemory } from "@spec-orch/evolution"
import { Agents, Sandbox, Verifier, Workspaces } from "@spec-orch/execution"
import { SqliteClient } from "@spec-orch/sqlite"
import { Compliance, ContextAssembler, Learnings, Models, Redactor, SecretScan } from "@spec-orch/harness"
import { PlannerModel, PlannerModelProblem, TaskPlane } from "@spec-orch/task"
import { Effect, FileSystem, Layer, Option, Path } from "effect"
import { FetchHttpClient } from "effect/http"
import { OutputRedaction } from "./Output.js"
import { Root } from "./Root.js"
import { RunTracing } from "./Trace.js"

/** The contract plane's services over a loaded project; issues come from `[issue] source` (fixtures, Linear or GitHub). */
export const ContractPlane = Layer.mergeAll(TrackerIssueSource.layer.pipe(Layer.provide(TrackerLayer)), Specs.layer, Missions.layer)

/** The execution plane's services: worktrees, agents and the verification runner. */
// Workspaces runs [workspace] before_remove through the Verifier, so it is built over it.
export const ExecutionPlane = Layer.mergeAll(Workspaces.layer, Agents.layer).pipe(
  Layer.provideMerge(Verifier.layer),
  Layer.provideMerge(Layer.mergeAll(Sandbox.layer, Redactor.layer))
)

/** The state database `<state_dir>/state.db` (SQLite, WAL); the state directory is created first. */
export const StateDb = Layer.unwrap(Effect.gen(function*() {
  const project = yield* Project
  const path = yield* Path.Path
  const fs = yield* FileSystem.FileSystem
  yield* fs.makeDirectory(project.stateDir, { recursive: true }).pipe(Effect.orDie)
  // The state directory ignores itself: nothing spec-orch keeps there shows up in `git status` or a commit.
  const ignore = path.join(project.stateDir, ".gitignore")
  if (!(yield* fs.exists(ignore).pipe(Effect.orElseSucceed(() => true)))) {
    yield* fs.writeFileString(ignore, "# spec-orch's state: never committed\n*\n").pipe(Effect.ignore)
  }
  return SqliteClient.layer({ filename: path.join(project.stateDir, "state.db") })
}))

/** The evidence plane's services: the gate, gate policies and the evidence ledger in the state database. */
export const EvidencePlaneLive = EvidencePlane.pipe(Layer.provide(StateDb))

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
export const PlannerModelLive = Layer.unwrap(Effect.map(Effect.service(Models), (models) => {
  const planner = models.role("planner")
  if (planner.problem === undefined && planner.plan !== undefined) {
    return PlannerModel.layer(planner.plan.name).pipe(Layer.provide(Models.languageModelOrFailing("planner")))
  }
  return planner.problem !== undefined && planner.problem.reason._tag !== "RoleNotConfigured"
    ? PlannerModelProblem.layer(planner.problem.message)
    : Layer.empty
})).pipe(Layer.provide(ModelsLive))

/** The readiness-triage model of the daemon: the planner's model (as in the original) when it resolves with a key; otherwise the rules decide alone. */
export const TriageModelLive = Layer.unwrap(Effect.map(Effect.service(Models), (models) => {
  const planner = models.role("planner")
  return planner.problem === undefined && planner.plan !== undefined ? Models.languageModelOrFailing("planner") : Layer.empty
}))

/** The LLM reviewer when `[reviewer] adapter = "llm"` and its model resolves with a key; otherwise none (a person reviews). */
export const ReviewerLive = Layer.unwrap(Effect.gen(function*() {
  const project = yield* Project
  const reviewer = (yield* Models).role("reviewer")
  return project.config.reviewer.adapter === "llm" && reviewer.problem === undefined && reviewer.plan !== undefined
    ? Reviewer.layer.pipe(Layer.provide(Models.languageModelOrFailing("reviewer")))
    : Layer.empty
})).pipe(Layer.provide(ModelsLive))

/** The task plane's services: the planner and plan.json files, over the contract plane's missions (and the planner's model, if any). */
export const TaskPlaneLive = TaskPlane.pipe(Layer.provide(ContractPlane), Layer.provide(PlannerModelLive))

/** Memory in the state database when `[memory] enabled` (the default; docs/memory.md): `on` over it, else `off`. */
const whenMemory = <A>(on: Layer.Layer<A, never, Memory | MemoryNeeds>, off: Layer.Layer<A>) =>
  Layer.unwrap(Effect.map(Effect.service(Project), (p): Layer.Layer<A, never, MemoryNeeds> => (p.config.memory.enabled ? on.pipe(Layer.provide(Memory.layer), Layer.provide(StateDb)) : off)))
type MemoryNeeds = FileSystem.FileSystem | Path.Path | Project | Redactor

/** The harness plane's services: prompt envelopes (with what memory learned, when it is on), compliance contracts, the models, and redaction and the diff's secret scan. */
export const HarnessPlane = Layer.mergeAll(ContextAssembler.layer.pipe(Layer.provide(whenMemory(MemoryLearnings, Learnings.layerNone))), Compliance.layer, ModelsLive, SecretScan.layer).pipe(
  Layer.provideMerge(Redactor.layer)
)

/** Host-side publishing (push, pull request, commit status, tracker comments) over the shared tracker clients, which it also exposes. */
export const PublishingPlane = RunPublisher.layer.pipe(Layer.provideMerge(Publisher.layer), Layer.provideMerge(TrackerLayer))

/** The control plane's stores (runs, events) over the state database, which it also exposes, and publishing; both redact with the harness's `Redactor`. */
export const ControlPlane = Layer.mergeAll(RunStore.layer, ProcessToken.layer, MissionStore.layer, MissionIntegration.layer, PublishingPlane).pipe(
  Layer.provideMerge(StateDb),
  Layer.provide(Redactor.layer)
)

/** `Runs` that records each finished run in memory when it is on (best-effort: a memory failure is logged, never fails the run). */
const RunsRecorded = Layer.effect(Runs, Effect.gen(function*() {
  const [runs, memory] = [yield* Runs, yield* RunMemory]
  return Runs.of({ ...runs, start: (options) => Effect.tap(runs.start(options), (result) => memory.record(result.record)) })
})).pipe(Layer.provide(Runs.layer), Layer.provide(whenMemory(RunMemory.layer.pipe(Layer.provide(Layer.orDie(EvidencePlaneLive))), RunMemory.layerNone)))

/** The memory writer for commands that add evidence (`review-issue`, `accept-issue`, `findings`): records when memory is on, else nothing. */
const RunMemoryLive = whenMemory(RunMemory.layer.pipe(Layer.provide(Layer.orDie(EvidencePlaneLive))), RunMemory.layerNone).pipe(Layer.provide(Redactor.layer))

/** Every plane, over the project. */
export const Planes = Layer.mergeAll(ContractPlane, ExecutionPlane, EvidencePlaneLive, TaskPlaneLive, HarnessPlane, ControlPlane, ReviewerLive, RunMemoryLive)

/** Services a command may use once the project is loaded. */
export type PlaneServices = Layer.Success<typeof Planes> | Project

/** The project from the root flags, optionally with `[issue] source` overridden (`--source`). */
const projectLayer = (flags: { readonly cwd: string; readonly config: Option.Option<string> }, source?: string) => {
  const loaded = Project.layer({ start: flags.cwd, configFile: Option.getOrUndefined(flags.config) })
  return source === undefined
    ? loaded
    : Layer.effect(Project, Project.use((p) => Effect.succeed(Project.of({ ...p, config: { ...p.config, issue: { ...p.config.issue, source } } })))).pipe(Layer.provide(loaded))
}

/** Runs `effect` with the project's `Redactor` (it knows the config's secret names) redacting everything printed. */
const redactingOutput = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const redactor = yield* Redactor
    const output = yield* OutputRedaction
    output.current = redactor.redact
    return yield* effect
  })

/**
 * Runs `effect` with only the contract plane (issues, specs, missions): no state database, no
 * migrations, so reading commands (`issue list`, `spec show`, …) start fast.
 */
export const withContract = <A, E, R>(effect: Effect.Effect<A, E, R>, options: { readonly source?: string | undefined } = {}) =>
  Effect.gen(function*() {
    const flags = yield* Root
    return yield* redactingOutput(effect).pipe(Effect.provide(Layer.mergeAll(ContractPlane, Redactor.layer).pipe(Layer.provideMerge(projectLayer(flags, options.source)))))
  })

/** Runs `effect` with the project from the root flags and every plane provided. */
export const withPlanes = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const flags = yield* Root
    return yield* redactingOutput(effect).pipe(Effect.provide(Planes.pipe(Layer.provideMerge(projectLayer(flags)))))
  })

/**
 * Runs `effect` with every plane and the durable workflow engine: the lock of the journal `journal`
 * names (`wait` waits for it; a refusal says another process is running `what`), the cluster runner over that journal (`<state dir>/engines/<journal>.db`),
 * the Run workflow and the `Runs` and `MissionRunner` services. A terminal's `run` of one issue, a
 * mission and the daemon each have their own journal, so they run side by side; the run store stays
 * the shared state database. `command` is recorded on the lock so a second process can say who holds it.
 */
export const withEngine = <A, E, R>(
  command: string,
  options: { readonly journal: string; readonly what: string; readonly wait?: boolean; readonly source?: string | undefined },
  effect: Effect.Effect<A, E, R>
) =>
  Effect.gen(function*() {
    const flags = yield* Root
    const project = projectLayer(flags, options.source)
    const base = Planes.pipe(Layer.provideMerge(project))
    const journal = Layer.unwrap(Effect.map(Effect.service(Project), (project) => JournalLayer(project.stateDir, options.journal)))
    // MissionRunner (run-plan) drives packets through Runs.
    const engine = MissionRunner.layer.pipe(
      Layer.provideMerge(RunsRecorded),
      Layer.provideMerge(RunWorkflowLayer),
      Layer.provideMerge(WorkflowEngineLayer.pipe(Layer.provide(journal))),
      Layer.provideMerge(EngineLockLayer(`spec-orch ${command}`, { wait: options.wait ?? false, key: options.journal, what: options.what }))
    )
    // Runs are traced (docs/traces.md): the tracer is provided below the engine, so the workflow's fibers use it too.
    const tracing = RunTracing.pipe(Layer.provide(Redactor.layer), Layer.provideMerge(project))
    return yield* redactingOutput(effect).pipe(Effect.provide(engine.pipe(Layer.provideMerge(base), Layer.provideMerge(tracing))))
  })
