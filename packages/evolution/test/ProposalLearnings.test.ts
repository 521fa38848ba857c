import { assert, describe, it } from "@effect/vitest"
import { ContextAssembler, Learnings, LearningsOverride } from "@spec-orch/harness"
import { Effect, Layer } from "effect"
import { type Actor, ProposalLearnings, Proposals } from "../src/index.js"
import { fixtureIssue, proposalsLayer } from "./utils/proposals.js"

const issue = (id: string) => fixtureIssue(id, { targetFiles: ["src/greet.ts"] })

const layer = () => {
  const proposals = proposalsLayer("proposal-learnings")
  const learnings = ProposalLearnings.pipe(
    Layer.provide(Learnings.layerStatic([{ id: "mem-1", text: "gate condition failed: tests", source: "run-1" }]))
  )
  return Layer.mergeAll(ContextAssembler.layer.pipe(Layer.provide(learnings))).pipe(Layer.provideMerge(proposals))
}

const evolver: Actor = { type: "system", id: "evolver:review-learning" }
const ana: Actor = { type: "human", id: "ana" }

describe("Learnings from proposals", () => {
  it.effect(
    "only an approved proposal reaches the builder's prompt, listed by id and content hash; after rollback the next prompt is without it",
    () =>
      Effect.gen(function* () {
        const assembler = yield* ContextAssembler
        const proposals = yield* Proposals
        const p = yield* proposals.propose(
          { kind: "review-learning", scope: "project", content: "Add a line to CHANGELOG.md for every change." },
          evolver,
          "from failed runs"
        )
        const other = yield* proposals.propose(
          { kind: "review-learning", scope: "issue:SPC-9", content: "Only for SPC-9." },
          evolver,
          "x"
        )
        for (const id of [p.id, other.id]) {
          yield* proposals.transition(id, "validated", { actor: evolver, why: "replay" })
        }
        const unapproved = yield* assembler.assemble({ issue: issue("SPC-1"), verification: [] })
        assert.deepStrictEqual(unapproved.learnings, ["mem-1"], "a validated proposal is not used before approval")
        assert.notInclude(unapproved.prompt, "CHANGELOG")
        yield* proposals.transition(p.id, "approved", { actor: ana, why: "yes" })
        yield* proposals.transition(other.id, "approved", { actor: ana, why: "yes" })
        const used = yield* assembler.assemble({ issue: issue("SPC-1"), verification: [] })
        assert.deepStrictEqual(
          used.learnings,
          [`${p.id}@${p.contentHash}`, "mem-1"],
          "proposals first; SPC-9's is out of scope"
        )
        assert.include(
          used.prompt,
          `learned rule (review-learning, approved): Add a line to CHANGELOG.md for every change. (from proposal ${p.id})`
        )
        yield* proposals.transition(p.id, "rolled-back", { actor: ana, why: "no longer needed" })
        const after = yield* assembler.assemble({ issue: issue("SPC-1"), verification: [] })
        assert.deepStrictEqual(after.learnings, ["mem-1"])
        assert.notInclude(after.prompt, "CHANGELOG")
      }).pipe(Effect.provide(layer()))
  )

  it.effect(
    "a replay's override offers a proposed proposal to the candidate as an approved one would be, and keeps an approved one from the baseline",
    () =>
      Effect.gen(function* () {
        const assembler = yield* ContextAssembler
        const proposals = yield* Proposals
        const p = yield* proposals.propose(
          { kind: "review-learning", scope: "project", content: "Add a line to CHANGELOG.md for every change." },
          evolver,
          "from failed runs"
        )
        const elsewhere = yield* proposals.propose(
          { kind: "review-learning", scope: "issue:SPC-9", content: "Only for SPC-9." },
          evolver,
          "x"
        )
        const assemble = (include: ReadonlyArray<string>, exclude: ReadonlyArray<string>) =>
          assembler
            .assemble({ issue: issue("SPC-1"), verification: [] })
            .pipe(Effect.provideService(LearningsOverride, { include, exclude }))
        const plain = yield* assembler.assemble({ issue: issue("SPC-1"), verification: [] })
        assert.deepStrictEqual(plain.learnings, ["mem-1"], "without an override a proposed proposal is not used")
        const candidate = yield* assemble([p.id, elsewhere.id, "prop-000000000000"], [])
        assert.deepStrictEqual(
          candidate.learnings,
          [`${p.id}@${p.contentHash}`, "mem-1"],
          "included, it is offered as in use; out of scope or unknown, it is not"
        )
        assert.include(candidate.prompt, "learned rule (review-learning, proposed): Add a line to CHANGELOG.md")
        yield* proposals.transition(p.id, "validated", { actor: evolver, why: "replay" })
        yield* proposals.transition(p.id, "approved", { actor: ana, why: "yes" })
        const baseline = yield* assemble([], [p.id])
        assert.deepStrictEqual(baseline.learnings, ["mem-1"], "excluded, even an approved proposal is left out")
        const both = yield* assemble([p.id], [p.id])
        assert.deepStrictEqual(both.learnings, ["mem-1"], "exclude wins")
      }).pipe(Effect.provide(layer()))
  )
})
