/**
 * Which learned proposals a run was offered, from its `context.json`: the learnings, learned compliance
 * rules and skills, and the distilled policy, whose id is a proposal's (`prop-…@<sha256>`, docs/evolution.md). `report.json` and `explain.md` list them.
 */
import { Option, Schema } from "effect"

const PROPOSAL_LEARNING = /^(prop-[0-9a-f]+)@([0-9a-f]{64})$/

/** A proposal active in a run, with the content hash of the text the builder was given. */
export interface ActiveProposal {
  readonly id: string
  readonly contentHash: string
}

const parseContext = Schema.decodeUnknownOption(
  Schema.fromJsonString(
    Schema.Struct({
      learnings: Schema.Array(Schema.Unknown),
      compliance: Schema.optionalKey(Schema.Struct({ learned: Schema.Array(Schema.Unknown) })),
      skills: Schema.optionalKey(Schema.Array(Schema.Struct({ id: Schema.Unknown }))),
      policy: Schema.optionalKey(Schema.Struct({ id: Schema.Unknown }))
    })
  )
)

/**
 * The proposals in a `context.json` text (pure): the builder's learnings, then the learned compliance
 * rules and skills the run used, then the policy that ran instead of the builder; none when the text is not a context.json.
 */
export const activeProposals = (contextJson: string): ReadonlyArray<ActiveProposal> =>
  Option.match(parseContext(contextJson), {
    onNone: () => [],
    onSome: (c) =>
      [
        ...c.learnings,
        ...(c.compliance?.learned ?? []),
        ...(c.skills ?? []).map((s) => s.id),
        ...(c.policy !== undefined ? [c.policy.id] : [])
      ].flatMap((l) => {
        const m = typeof l === "string" ? PROPOSAL_LEARNING.exec(l) : null
        return m === null ? [] : [{ id: m[1]!, contentHash: m[2]! }]
      })
  })
