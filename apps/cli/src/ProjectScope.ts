/**
 * How a command gets its project: loaded from the root flags (`--cwd`, `--config`), with the services
 * it needs over it, and everything it prints redacted by the project's `Redactor` (which knows the
 * config's secret names). Every `with…` of the planes is `withProject` with that plane's layer. It
 * imports no plane, so a reading command that uses it loads only what its layer needs.
 */
import { Project } from "@spec-orch/contract"
import { Redactor } from "@spec-orch/harness/Redaction"
import { Effect, Layer, Option } from "effect"
import { OutputRedaction } from "./Output.js"
import { Root } from "./Root.js"

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
 * Runs `effect` with `layer` over the project the root flags load (`source` overrides `[issue] source`),
 * redacting everything it prints. `layer` may need the project, the project's `Redactor` and the
 * platform's services.
 */
export const withProject =
  <ROut, E2, RIn>(layer: Layer.Layer<ROut, E2, RIn>, options: { readonly source?: string | undefined } = {}) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.gen(function* () {
      const flags = yield* Root
      return yield* redactingOutput(effect).pipe(
        Effect.provide(
          layer.pipe(Layer.provideMerge(Redactor.layer), Layer.provideMerge(projectLayer(flags, options.source)))
        )
      )
    })
