/**
 * The contract plane alone (issues, specs, missions over the loaded project), for reading commands.
 * Kept apart from Planes.ts, which wires every plane: the bundle evaluates a module's imports when it
 * loads, so `issue list` importing this file never loads the control plane's engine, the state
 * database or the models. It imports leaf modules, not plane indexes, for the same reason.
 */
import { ContractPlane, IssueSource, Project } from "@spec-orch/contract"
import { Effect, type FileSystem, Layer, type Path } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import { withProject } from "./ProjectScope.js"

/**
 * The issues `[issue] source` names. Fixture files need nothing more: the tracker clients (Linear, GitHub,
 * their shared request budget and its SQL table) are loaded only for a tracker source.
 */
const IssueSourceLive: Layer.Layer<
  IssueSource,
  never,
  Project | FileSystem.FileSystem | Path.Path | ChildProcessSpawner.ChildProcessSpawner
> = Layer.unwrap(
  Effect.gen(function* () {
    const project = yield* Project
    if (IssueSource.isFixtures(project.config.issue.source)) return IssueSource.layerFixtures
    const [{ TrackerIssueSource }, { TrackerLayer }] = yield* Effect.promise(() =>
      Promise.all([import("@spec-orch/control/TrackerIssueSource"), import("@spec-orch/control/TrackerLayer")])
    )
    return TrackerIssueSource.layer.pipe(Layer.provide(TrackerLayer))
  })
)

/** The contract plane's services over a loaded project; issues come from `[issue] source` (fixtures, Linear or GitHub). */
export const ContractPlaneLive = Layer.mergeAll(ContractPlane, IssueSourceLive)

/**
 * Runs `effect` with only the contract plane (issues, specs, missions): no state database, no
 * migrations, so reading commands (`issue list`, `spec show`, …) start fast.
 */
export const withContract = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options: { readonly source?: string | undefined } = {}
) => withProject(ContractPlaneLive, options)(effect)
