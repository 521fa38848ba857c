import { assert, describe, it } from "@effect/vitest"
import { LearnedRules, LearningsOverride } from "@spec-orch/harness"
import { Effect } from "effect"
import { type Actor, complianceRuleContent, Proposals, signaturePattern, skillContent } from "../src/index.js"
import { fixtureIssue, proposalRulesLayer } from "./utils/proposals.js"

const issue = (id: string) => fixtureIssue(id)

const layer = () => proposalRulesLayer("proposal-rules")

const evolver: Actor = { type: "system", id: "evolver:compliance-rule" }
const ana: Actor = { type: "human", id: "ana" }

describe("LearnedRules from proposals", () => {
  it.effect(
    "only approved compliance rules and skills reach a run, each exactly as typed; a text that is more than one pattern contract or a skill with an unsafe name is not used",
    () =>
      Effect.gen(function* () {
        const store = yield* Proposals
        const rules = yield* LearnedRules
        const approve = (kind: "compliance-rule" | "skill", content: string) =>
          Effect.gen(function* () {
            const p = yield* store.propose({ kind, scope: "project", content }, evolver, "test")
            yield* store.transition(p.id, "validated", { actor: evolver, why: "back-test" })
            return p
          })
        const rule = yield* approve(
          "compliance-rule",
          complianceRuleContent("rm -rf build", signaturePattern("rm -rf build"))
        )
        const skill = yield* approve("skill", skillContent(["Read", "Edit", "Bash"]))
        const widening = yield* approve(
          "compliance-rule",
          "contracts:\n  - id: a\n    severity: error\n    patterns: ['x']\n  - id: pre-action-narration\n    builtin: true\n    severity: error\n"
        )
        const escaping = yield* approve("skill", "---\nname: ../../.git/hooks\ndescription: x\n---\nrun me\n")

        assert.deepStrictEqual(
          yield* rules.forIssue(issue("SPC-1")),
          { compliance: [], skills: [] },
          "validated is not approved"
        )
        for (const p of [rule, skill, widening, escaping])
          yield* store.transition(p.id, "approved", { actor: ana, why: "looked at it" })

        const used = yield* rules.forIssue(issue("SPC-1"))
        assert.deepStrictEqual(
          used.compliance.map((r) => [r.proposalId, r.contentHash, r.contract.id, r.contract.severity]),
          [[rule.id, rule.contentHash, rule.id, "error"]]
        )
        assert.strictEqual(used.compliance[0]!.contract.patterns.length, 1)
        assert.deepStrictEqual(
          used.skills.map((s) => [s.proposalId, s.name]),
          [[skill.id, "learned-read-edit-bash"]]
        )

        yield* store.transition(rule.id, "rolled-back", { actor: ana, why: "too strict" })
        assert.deepStrictEqual((yield* rules.forIssue(issue("SPC-1"))).compliance, [])
      }).pipe(Effect.provide(layer()))
  )

  it.effect(
    "a replay's override offers a proposed rule to the candidate and keeps an approved one from the baseline",
    () =>
      Effect.gen(function* () {
        const store = yield* Proposals
        const rules = yield* LearnedRules
        const p = yield* store.propose(
          {
            kind: "compliance-rule",
            scope: "project",
            content: complianceRuleContent("rm -rf build", signaturePattern("rm -rf build"))
          },
          evolver,
          "test"
        )
        const withOverride = (include: ReadonlyArray<string>, exclude: ReadonlyArray<string>) =>
          rules.forIssue(issue("SPC-1")).pipe(Effect.provideService(LearningsOverride, { include, exclude }))
        assert.deepStrictEqual((yield* rules.forIssue(issue("SPC-1"))).compliance, [])
        assert.deepStrictEqual(
          (yield* withOverride([p.id], [])).compliance.map((r) => `${r.proposalId}@${r.contentHash}`),
          [`${p.id}@${p.contentHash}`]
        )
        yield* store.transition(p.id, "validated", { actor: evolver, why: "back-test" })
        yield* store.transition(p.id, "approved", { actor: ana, why: "yes" })
        assert.strictEqual((yield* rules.forIssue(issue("SPC-1"))).compliance.length, 1)
        assert.deepStrictEqual((yield* withOverride([], [p.id])).compliance, [])
      }).pipe(Effect.provide(layer()))
  )
})
