/**
 * What spec-orch has learned that may help with an issue: declared here, implemented by
 * `@spec-orch/evolution`. The default knows nothing, so a run never depends on evolution.
 */
import { Context, Effect, Layer } from "effect"
import type { Issue } from "@spec-orch/contract"

/** One thing learned, with where it came from (for attribution in the run's artifacts). */
export interface Learning {
  readonly id: string
  readonly text: string
  /** The runs or proposal this was learned from. */
  readonly source: string
}

/** Learnings relevant to an issue. */
export class Learnings extends Context.Service<Learnings, {
  /** At most a handful of learnings for this issue, most useful first. */
  readonly forIssue: (issue: Issue) => Effect.Effect<ReadonlyArray<Learning>>
}>()("@spec-orch/harness/Learnings") {
  /** Knows nothing: the default until evolution is enabled. */
  static readonly layerNone: Layer.Layer<Learnings> = Layer.succeed(Learnings, Learnings.of({ forIssue: () => Effect.succeed([]) }))

  /** A fixed list (tests, embedders). */
  static readonly layerStatic = (learnings: ReadonlyArray<Learning>): Layer.Layer<Learnings> =>
    Layer.succeed(Learnings, Learnings.of({ forIssue: () => Effect.succeed(learnings) }))
}
