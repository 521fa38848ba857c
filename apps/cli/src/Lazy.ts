/**
 * Lazy command handlers. Command definitions (flags, help text) load at start-up; the code that does
 * the work, and the planes it needs, load only when that command runs. This keeps `--help` and
 * usage errors fast in the bundled binary.
 */
import { Context, Effect } from "effect"

type Handler = (input: any) => Effect.Effect<any, any, any>
type HandlerKeys<M> = { [K in keyof M]: M[K] extends Handler ? K : never }[keyof M] & string

/**
 * The input that makes a lazy handler hand over its loader instead of running: the build walks the
 * command tree with it to learn which handler modules each command loads (lean.ts, `handlerLoaders`).
 */
export class LoaderProbe {
  readonly loaders: Array<() => Promise<unknown>> = []
}

/**
 * Whether the running command only reads runs and evidence (`lazy(…, { reads: true })`). On a project
 * that never ran, such a command reads an empty state database in memory instead of creating the file
 * (StatePlane.ts, `StateDb`): reading creates nothing. Live views (`dashboard`, `watch`) are not marked:
 * they must see the database a run creates after they started.
 */
export const ReadsOnly = Context.Reference<boolean>("@spec-orch/cli/ReadsOnly", { defaultValue: () => false })

/**
 * A handler that imports `load()` on first use and calls its export `name` with the parsed input;
 * `reads: true` for a command that only reads (ReadsOnly).
 */
export const lazy =
  <M, K extends HandlerKeys<M>>(load: () => Promise<M>, name: K, options: { readonly reads?: boolean } = {}) =>
  (input: M[K] extends Handler ? Parameters<M[K]>[0] : never): M[K] extends Handler ? ReturnType<M[K]> : never => {
    const probe: unknown = input
    if (probe instanceof LoaderProbe) {
      probe.loaders.push(load)
      return Effect.void as any
    }
    return Effect.flatMap(Effect.promise(load), (m) => {
      const handler = m[name] as Handler | undefined
      // Only a launcher that ran a lean bundle for a command it does not hold gets here (the build checks it cannot).
      if (handler === undefined) return Effect.die(new Error(`spec-orch: no handler "${name}" in this bundle`))
      return options.reads === true ? Effect.provideService(handler(input), ReadsOnly, true) : handler(input)
    }) as any
  }
