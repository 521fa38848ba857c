/**
 * The contract plane alone (issues, specs, missions over the loaded project), for reading commands.
 * Kept apart from Planes.ts, which wires every plane: the bundle evaluates a module's imports when it
 * loads, so `issue list` importing this file never loads the control plane's engine, the state
 * database or the models. It imports leaf modules, not plane indexes, for the same reason.
 */
import { ContractPlane } from "@spec-orch/contract"
import { TrackerIssueSource } from "@spec-orch/control/TrackerIssueSource"
import { TrackerLayer } from "@spec-orch/control/TrackerLayer"
import { type Effect, Layer } from "effect"
import { withProject } from "./ProjectScope.js"

/** The contract plane's services over a loaded project; issues come from `[issue] source` (fixtures, Linear or GitHub). */
export const ContractPlaneLive = Layer.mergeAll(
  ContractPlane,
  TrackerIssueSource.layer.pipe(Layer.provide(TrackerLayer))
)

/**
 * Runs `effect` with only the contract plane (issues, specs, missions): no state database, no
 * migrations, so reading commands (`issue list`, `spec show`, …) start fast.
 */
export const withContract = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options: { readonly source?: string | undefined } = {}
) => withProject(ContractPlaneLive, options)(effect)
