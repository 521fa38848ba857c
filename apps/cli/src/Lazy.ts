/**
 * Lazy command handlers. Command definitions (flags, help text) load at start-up; the code that does
 * the work, and the planes it needs, load only when that command runs. This keeps `--help` and
 * usage errors fast in the bundled binary.
 */
import { Effect } from "effect"

type Handler = (input: any) => Effect.Effect<any, any, any>
type HandlerKeys<M> = { [K in keyof M]: M[K] extends Handler ? K : never }[keyof M] & string

/** A handler that imports `load()` on first use and calls its export `name` with the parsed input. */
export const lazy =
  <M, K extends HandlerKeys<M>>(load: () => Promise<M>, name: K) =>
  (input: M[K] extends Handler ? Parameters<M[K]>[0] : never): M[K] extends Handler ? ReturnType<M[K]> : never =>
    Effect.flatMap(Effect.promise(load), (m) => (m[name] as Handler)(input)) as any
