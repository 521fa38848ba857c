import { assert, describe, it } from "@effect/vitest"
import { type AgentEvent, formatProblem } from "@spec-orch/contract"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { evaluateCompliance, loadComplianceContracts } from "../src/index.js"

const loaded = loadComplianceContracts(
  readFileSync(join(import.meta.dirname, "fixtures/compliance.contracts.yaml"), "utf8"),
  "compliance.contracts.yaml"
)
const contracts = loaded.contracts!
const msg = (text: string): AgentEvent => ({ _tag: "message", at: 0, role: "assistant", text })
const cmd = (command: string): AgentEvent => ({ _tag: "command", at: 0, command })

describe("loadComplianceContracts", () => {
  it("loads the original's contract file unchanged, with Python-style inline flags", () => {
    assert.deepStrictEqual(loaded.problems, [])
    assert.deepStrictEqual(
      contracts.map((c) => [c.id, c.severity]),
      [
        ["pre-action-narration", "warning"],
        ["no-secrets-in-output", "error"],
        ["no-force-push", "error"],
        ["no-destructive-commands", "error"]
      ]
    )
    assert.isTrue(contracts[1]!.patterns[0]!.flags.includes("i"))
  })

  it("names the line of a bad pattern and of an unknown built-in", () => {
    const r = loadComplianceContracts(
      "contracts:\n  - id: x\n    severity: error\n    patterns:\n      - '(unclosed'\n  - id: made-up\n    builtin: true\n",
      "c.yaml"
    )
    assert.deepStrictEqual(
      r.problems.map(formatProblem).map((s) => s.replace(/: Invalid regular.*$/, "")),
      [
        "c.yaml:5:9: error: contracts.0.patterns.0: invalid regular expression",
        'c.yaml:6:5: error: contracts.1.id: no built-in contract "made-up" (built-ins: pre-action-narration)'
      ]
    )
  })
})

describe("evaluateCompliance", () => {
  it("is compliant for a turn that acts first and stays clean", () => {
    const r = evaluateCompliance(contracts, [cmd("cat src/greet.js"), msg("Done: added farewell.")])
    assert.isTrue(r.compliant)
    assert.strictEqual(r.violations.length, 0)
  })

  it("flags narration before the first action as a warning only", () => {
    const r = evaluateCompliance(contracts, [
      msg("I'm going to read the file first."),
      cmd("cat x"),
      msg("I will now finish.")
    ])
    assert.isTrue(r.compliant)
    assert.strictEqual(r.warningCount, 1)
    assert.strictEqual(r.violations[0]!.match, "I'm going to")
  })

  it("makes a turn non-compliant for a force push, a destructive command or a leaked secret", () => {
    const r = evaluateCompliance(contracts, [
      cmd("git push --force origin main"),
      cmd("rm -r -f ~/"),
      msg("export API_KEY=sk_live_abcdefghijklmnopqrstuvwxyz")
    ])
    assert.isFalse(r.compliant)
    assert.deepStrictEqual(
      r.violations.map((v) => v.contractId),
      ["no-secrets-in-output", "no-force-push", "no-destructive-commands"]
    )
    assert.strictEqual(r.errorCount, 3)
  })
})
