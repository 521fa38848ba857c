import { assert, describe, it } from "@effect/vitest"
import { EvidenceBundle } from "@spec-orch/contract"
import type { LedgerRecord } from "@spec-orch/evidence"
import { LearnedRules, LearningsOverride, parseLearnedPolicy, policyContent } from "@spec-orch/harness"
import { Effect } from "effect"
import { type Actor, parsePolicyAnswer, policyCandidates, Proposals } from "../src/index.js"
import { verdictOf } from "./utils/runs.js"
import { fixtureIssue, proposalRulesLayer } from "./utils/proposals.js"

let seq = 0
const record = (issueId: string, runId: string | null, failed: ReadonlyArray<string> = []): LedgerRecord => ({
  seq: ++seq,
  issueId,
  runId,
  recordedAt: "2026-12-01T10:00:00.000Z",
  bundle: new EvidenceBundle({ schemaVersion: 1, issueId }),
  verdict: verdictOf(failed)
})

const issues = [
  { id: "DOC-1", title: "Docs: add a page", labels: ["docs", "Chore"] },
  { id: "DOC-2", title: "Docs: fix a typo", labels: ["chore", "docs "] },
  { id: "DOC-3", title: "Docs: rename", labels: ["docs", "chore"] },
  { id: "DOC-4", title: "Docs: only docs", labels: ["docs"] },
  { id: "FEAT-1", title: "A feature", labels: [] }
]

describe("policyCandidates", () => {
  it("groups issues by their exact label set (without case or spaces), counting an issue once when its latest run passed", () => {
    const records = [
      record("DOC-1", "DOC-1-r1", ["verification"]),
      record("DOC-1", "DOC-1-r2"),
      record("DOC-1", "DOC-1-r3"),
      record("DOC-2", "DOC-2-r1"),
      record("DOC-3", "DOC-3-r1"),
      record("DOC-4", "DOC-4-r1"),
      record("FEAT-1", "FEAT-1-r1"),
      record("FEAT-1", null)
    ]
    const found = policyCandidates(records, issues)
    assert.deepStrictEqual(
      found.map((c) => [c.key, c.labels, c.issues.map((i) => i.runId)]),
      [["chore,docs", ["chore", "docs"], ["DOC-1-r3", "DOC-2-r1", "DOC-3-r1"]]]
    )
    assert.strictEqual(found[0]!.issues[0]!.title, "Docs: add a page")
  })

  it("does not count an issue whose latest run failed, nor an issue the source does not know, and honours min", () => {
    const records = [
      record("DOC-1", "DOC-1-r1"),
      record("DOC-2", "DOC-2-r1"),
      record("DOC-3", "DOC-3-r1"),
      record("DOC-3", "DOC-3-r2", ["verification"]),
      record("GONE-1", "GONE-1-r1")
    ]
    assert.deepStrictEqual(policyCandidates(records, issues), [])
    assert.deepStrictEqual(
      policyCandidates(records, issues, { min: 2 }).map((c) => c.key),
      ["chore,docs"]
    )
  })
})

describe("parsePolicyAnswer", () => {
  it("takes exactly one sh block and refuses none, several, another language or an oversized one (never cut)", () => {
    assert.deepStrictEqual(parsePolicyAnswer("Here:\n```sh\necho hi > a.txt\n```\nDone."), {
      script: "echo hi > a.txt\n"
    })
    assert.deepStrictEqual(parsePolicyAnswer("```\nset -e\n```"), { script: "set -e\n" })
    assert.match((parsePolicyAnswer("echo hi") as { problem: string }).problem, /0 fenced code blocks/)
    assert.match(
      (parsePolicyAnswer("```sh\na\n```\n```sh\nb\n```") as { problem: string }).problem,
      /2 fenced code blocks/
    )
    assert.match((parsePolicyAnswer("```python\nprint(1)\n```") as { problem: string }).problem, /POSIX sh/)
    assert.match((parsePolicyAnswer("```sh\n   \n```") as { problem: string }).problem, /empty/)
    assert.match(
      (parsePolicyAnswer(`\`\`\`sh\n${"echo x\n".repeat(3000)}\`\`\``) as { problem: string }).problem,
      /21000 bytes, more than 16384/
    )
  })
})

describe("parseLearnedPolicy", () => {
  it("reads back the match rule and script policyContent wrote, and says what is wrong with anything else", () => {
    const text = policyContent(["Docs", "chore"], "echo hi")
    assert.deepStrictEqual(parseLearnedPolicy(text), { labels: ["chore", "docs"], script: "echo hi\n" })
    assert.match((parseLearnedPolicy("echo hi") as { problem: string }).problem, /starts with "spec-orch policy: sh"/)
    assert.match(
      (parseLearnedPolicy("spec-orch policy: sh\nmatch-labels: []\n---\necho\n") as { problem: string }).problem,
      /at least one label/
    )
  })
})

const issue = (id: string, labels: ReadonlyArray<string>) => fixtureIssue(id, { labels })

const layer = () => proposalRulesLayer("policy-rules")

const distiller: Actor = { type: "system", id: "evolver:policy" }
const ana: Actor = { type: "human", id: "ana" }

describe("LearnedRules: policies", () => {
  it.effect(
    "an approved policy runs for an issue carrying all its labels (the most specific wins), never for others, and not after rollback; only a person approves one",
    () =>
      Effect.gen(function* () {
        const store = yield* Proposals
        const rules = yield* LearnedRules
        const approve = (labels: ReadonlyArray<string>, script: string) =>
          Effect.gen(function* () {
            const p = yield* store.propose(
              { kind: "policy", scope: "project", content: policyContent(labels, script) },
              distiller,
              "test"
            )
            yield* store.transition(p.id, "validated", { actor: ana, why: "replayed" })
            return yield* store.transition(p.id, "approved", { actor: ana, why: "read it" })
          })
        const docs = yield* approve(["docs"], "echo docs > a.txt")
        const byMachine = yield* store.propose(
          { kind: "policy", scope: "project", content: policyContent(["docs"], "echo machine") },
          distiller,
          "test"
        )
        yield* store.transition(byMachine.id, "validated", { actor: distiller, why: "replayed" })
        const refused = yield* Effect.flip(
          store.transition(byMachine.id, "approved", { actor: distiller, why: "looks fine" })
        )
        assert.strictEqual(refused._tag, "HumanApprovalRequired", "only a person approves a policy")
        assert.strictEqual((yield* rules.forIssue(issue("D-1", ["Docs", "x"]))).policy?.proposalId, docs.id)
        assert.strictEqual((yield* rules.forIssue(issue("F-1", ["feature"]))).policy, undefined)
        assert.strictEqual((yield* rules.forIssue(issue("F-2", []))).policy, undefined)
        const both = yield* approve(["docs", "chore"], "echo both > a.txt")
        const chosen = (yield* rules.forIssue(issue("D-2", ["chore", "docs"]))).policy
        assert.deepStrictEqual(
          [chosen?.proposalId, chosen?.contentHash, chosen?.labels, chosen?.script],
          [both.id, both.contentHash, ["chore", "docs"], "echo both > a.txt\n"]
        )
        yield* store.transition(both.id, "rolled-back", { actor: ana, why: "wrong" })
        assert.strictEqual((yield* rules.forIssue(issue("D-2", ["chore", "docs"]))).policy?.proposalId, docs.id)
        // A replay's baseline leaves it out; its candidate arm offers a proposed one.
        const proposed = yield* store.propose(
          { kind: "policy", scope: "project", content: policyContent(["ops"], "true") },
          distiller,
          "test"
        )
        assert.strictEqual((yield* rules.forIssue(issue("O-1", ["ops"]))).policy, undefined)
        assert.strictEqual(
          (yield* rules
            .forIssue(issue("O-1", ["ops"]))
            .pipe(Effect.provideService(LearningsOverride, { include: [proposed.id], exclude: [] }))).policy
            ?.proposalId,
          proposed.id
        )
        assert.strictEqual(
          (yield* rules
            .forIssue(issue("D-1", ["docs"]))
            .pipe(Effect.provideService(LearningsOverride, { include: [], exclude: [docs.id] }))).policy,
          undefined
        )
      }).pipe(Effect.provide(layer()))
  )
})
