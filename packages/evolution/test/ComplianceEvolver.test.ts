import { assert, describe, it } from "@effect/vitest"
import type { AgentEvent } from "@spec-orch/contract"
import { evaluateCompliance, parseLearnedComplianceRule } from "@spec-orch/harness"
import { commandSignatures, type RunEvidence, synthesizeComplianceRules } from "../src/index.js"

const cmd = (command: string): AgentEvent => ({ _tag: "command", at: 0, command, exitCode: 0 })
const run = (runId: string, outcome: RunEvidence["outcome"], ...commands: Array<string>): RunEvidence => ({
  runId,
  issueId: runId.split("-r")[0]!,
  outcome,
  events: commands.map(cmd)
})

const good = [
  run("G-1-r1", "succeeded", "git status --short", "npm test"),
  run("G-2-r1", "succeeded", "git status --short", "npm test"),
  run("G-3-r1", "succeeded", "npm test")
]

describe("the compliance-rule evolver", () => {
  it("a command recurring in failed runs and in no successful run becomes one rule, with its back-test numbers", () => {
    const runs = [
      run("B-1-r1", "failed", "git status --short", "rm -f CHANGELOG.md && npm test"),
      run("B-2-r1", "failed", "git status --short", "rm -f CHANGELOG.md"),
      ...good
    ]
    const r = synthesizeComplianceRules(runs)
    assert.deepStrictEqual(
      r.proposed.map((c) => c.signature),
      ["rm -f CHANGELOG.md"]
    )
    const [rule] = r.proposed
    assert.deepStrictEqual(rule!.failedRuns, ["B-1-r1", "B-2-r1"])
    assert.strictEqual(rule!.falsePositives.k, 0)
    assert.strictEqual(rule!.falsePositives.n, 3)
    assert.strictEqual(rule!.falsePositives.low, 0)
    // Wilson 95% upper bound for 0/3: z²/(n + z²) = 3.8415/6.8415.
    assert.closeTo(rule!.falsePositives.high!, 0.5615, 1e-3)
    assert.deepStrictEqual([rule!.firedOnFailed.k, rule!.firedOnFailed.n], [2, 2])
    // The candidate that also fires on successful runs is dropped, with the runs it fired on.
    assert.deepStrictEqual(
      r.dropped.map((c) => [c.signature, c.successfulRuns]),
      [["git status --short", ["G-1-r1", "G-2-r1"]]]
    )

    // The proposal's text is one contract in the compliance contracts format, judged by the gate's evaluator.
    const parsed = parseLearnedComplianceRule("prop-000000000001", rule!.content)
    assert.isTrue("contract" in parsed, rule!.content)
    if (!("contract" in parsed)) return
    assert.strictEqual(parsed.contract.id, "prop-000000000001")
    assert.strictEqual(parsed.contract.severity, "error")
    assert.isFalse(evaluateCompliance([parsed.contract], [cmd("rm -f CHANGELOG.md")]).compliant)
    assert.isTrue(evaluateCompliance([parsed.contract], [cmd("rm -f CHANGELOG.md.bak"), cmd("npm test")]).compliant)
  })

  it("proposes nothing without enough successful runs to back-test against", () => {
    const r = synthesizeComplianceRules([
      run("B-1-r1", "failed", "rm -f CHANGELOG.md"),
      run("B-2-r1", "failed", "rm -f CHANGELOG.md"),
      ...good.slice(0, 2)
    ])
    assert.deepStrictEqual(r.proposed, [])
    assert.include(r.skipped!, "2 successful run(s) to back-test against; a rule needs at least 3")
  })

  it("agent text cannot write beyond one pattern: odd tokens end the signature, secrets drop it", () => {
    assert.deepStrictEqual(commandSignatures(`FOO=1 sudo rm -rf "/x'\ny: 1" && git push --force origin`), [
      "rm -rf",
      "git push --force"
    ])
    assert.deepStrictEqual(
      commandSignatures("curl -H token=sk-secret-value", (t) => !t.includes("sk-secret")),
      []
    )
    const runs = [
      run("B-1-r1", "failed", "echo 'contracts: [x]'\nrm -rf build"),
      run("B-2-r1", "failed", "rm -rf build"),
      ...good
    ]
    const [rule] = synthesizeComplianceRules(runs).proposed
    const parsed = parseLearnedComplianceRule("prop-000000000002", rule!.content)
    assert.isTrue("contract" in parsed && parsed.contract.patterns.length === 1, rule!.content)
  })
})

describe("a learned compliance rule's text", () => {
  it("is refused unless it is exactly one pattern contract", () => {
    const two = "contracts:\n  - id: a\n    patterns: ['x']\n  - id: b\n    patterns: ['y']\n"
    assert.deepStrictEqual(parseLearnedComplianceRule("p", two), {
      problem: "a learned rule holds exactly one contract, this one has 2"
    })
    assert.deepStrictEqual(
      parseLearnedComplianceRule("p", "contracts:\n  - id: pre-action-narration\n    builtin: true\n"),
      { problem: "a learned rule cannot be a built-in contract" }
    )
    assert.deepStrictEqual(parseLearnedComplianceRule("p", "contracts:\n  - id: a\n"), {
      problem: "a learned rule needs at least one pattern"
    })
  })
})
