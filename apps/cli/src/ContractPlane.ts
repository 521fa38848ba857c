/**
 * The contract plane alone (issues, specs, missions over the loaded project), for reading commands.
 * Kept apart from Planes.ts, which wires every plane: the bundle evaluates a module's imports when it
 * loads, so `issue list` importing this file never loads the control plane's engine, the state
 * database or the models. It imports leaf modules, not plane indexes, for the same reason.
 */
import { ContractPlane, Project } from "@spec-orch/contract"
import { TrackerIssueSource } from "@spec-orch/control/TrackerIssueSource"
import { TrackerLayer } from "@spec-orch/control/TrackerLayer"
import { Redactor } from "@spec-orch/harness/Redaction"
import { Effect, Layer, Option } from "effect"
import { OutputRedaction } from "./Output.js"
import { Root } from "./Root.js"

/** The contract plane's services over a loaded project; issues come from `[issue] source` (fixtures, Linear or GitHub). */
export const ContractPlaneLive = Layer.mergeAll(
  ContractPlane,
  TrackerIssueSource.layer.pipe(Layer.provide(TrackerLayer))
)

/** The project from the root flags, optionally with `[issue] source` overridden (`--source`). */
export const projectLayer = (
  flags: { readonly cwd: string; readonly config: Option.Option<string> },
  source?: string
) => {
  const loaded = Project.layer({ start: flags.cwd, configFile: Option.getOrUndefined(flags.config) })
  return source === undefined
    ? loaded
    : Layer.effect(
        Project,
        Project.use((p) =>
          Effect.succeed(Project.of({ ...p, config: { ...p.config, issue: { ...p.config.issue, source } } }))
        )
      ).pipe(Layer.provide(loaded))
}

/** Runs `effect` with the project's `Redactor` (it knows the config's secret names) redacting everything printed. */
export const redactingOutput = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const redactor = yield* Redactor
    const output = yield* OutputRedaction
    output.current = redactor.redact
    return yield* effect
  })

/**
 * Runs `effect` with only the contract plane (issues, specs, missions): no state database, no
 * migrations, so reading commands (`issue list`, `spec show`, …) start fast.
 */
export const withContract = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options: { readonly source?: string | undefined } = {}
) =>
  Effect.gen(function* () {
    const flags = yield* Root
    return yield* redactingOutput(effect).pipe(
      Effect.provide(
        Layer.mergeAll(ContractPlaneLive, Redactor.layer).pipe(Layer.provideMerge(projectLayer(flags, options.source)))
      )
    )
  })
