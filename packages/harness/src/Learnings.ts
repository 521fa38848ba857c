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

/** Whose prompt the learnings are for: each is told what it can act on. */
export type LearningAudience = "builder" | "reviewer" | "planner"

/** The tokens learnings may take in a reviewer's or planner's prompt (the builder's prompt has its own budget). */
export const LEARNING_TOKENS = 1_000

/**
 * The first learnings, in order, whose text and source fit `budgetTokens` (about 4 characters a token,
 * as the prompt budget counts); the rest are left out, never cut in the middle.
 */
export const withinTokens = (
  learnings: ReadonlyArray<Learning>,
  budgetTokens: number = LEARNING_TOKENS
): ReadonlyArray<Learning> => {
  const kept: Array<Learning> = []
  let used = 0
  for (const l of learnings) {
    const text = `${l.text} (from ${l.source})`
    let cjk = 0
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if ((c >= 0x3000 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) || (c >= 0xff00 && c <= 0xffef)) cjk++
    }
    // CJK text takes about a token per two characters.
    const tokens = Math.ceil(cjk / 2 + (text.length - cjk) / 4) + 1
    if (used + tokens > budgetTokens) break
    used += tokens
    kept.push(l)
  }
  return kept
}

/** What a mission's plan touches: the mission, the issues of its packets, and the files they name. */
export interface MissionScope {
  readonly missionId: string
  /** Issue ids of the mission's packets (`<mission>.<packet>`) and their tracker issues. */
  readonly issueIds: ReadonlyArray<string>
  /** Repository-relative files the mission's packets name. */
  readonly files: ReadonlyArray<string>
}

/**
 * Which proposals a run is offered beyond (or instead of) the ones in use: proposal ids to include even
 * though they are not approved (`include`), and ids to leave out even though they are (`exclude`). Set by
 * spec-orch itself for a replay's arms (`evolution validate --replay`), never from untrusted text; the
 * default changes nothing. An included proposal is offered exactly as an approved one would be (its scope
 * and kind still decide whether it reaches the run).
 */
export interface LearningsOverrideShape {
  readonly include: ReadonlyArray<string>
  readonly exclude: ReadonlyArray<string>
}

/** The override in effect (`Effect.provideService(LearningsOverride, …)`); by default none. */
export const LearningsOverride: Context.Reference<LearningsOverrideShape> = Context.Reference(
  "@spec-orch/harness/LearningsOverride",
  { defaultValue: (): LearningsOverrideShape => ({ include: [], exclude: [] }) }
)

/** Learnings relevant to an issue. */
export class Learnings extends Context.Service<
  Learnings,
  {
    /** At most a handful of learnings for this issue, most useful first, for the builder unless another audience is named. */
    readonly forIssue: (issue: Issue, audience?: LearningAudience) => Effect.Effect<ReadonlyArray<Learning>>
    /** At most a handful of learnings for planning a mission (the planner's audience), within `LEARNING_TOKENS`. */
    readonly forMission: (scope: MissionScope) => Effect.Effect<ReadonlyArray<Learning>>
  }
>()("@spec-orch/harness/Learnings") {
  /** Knows nothing: the default until evolution is enabled. */
  static readonly layerNone: Layer.Layer<Learnings> = Layer.succeed(
    Learnings,
    Learnings.of({ forIssue: () => Effect.succeed([]), forMission: () => Effect.succeed([]) })
  )

  /** A fixed list (tests, embedders). */
  static readonly layerStatic = (learnings: ReadonlyArray<Learning>): Layer.Layer<Learnings> =>
    Layer.succeed(
      Learnings,
      Learnings.of({ forIssue: () => Effect.succeed(learnings), forMission: () => Effect.succeed(learnings) })
    )
}
