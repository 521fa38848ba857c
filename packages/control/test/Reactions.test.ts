import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { DEFAULT_REACTIONS, parseReactions, renderTemplate } from "../src/daemon/Reactions.js"

const fixture = readFileSync(join(import.meta.dirname, "fixtures", "reactions.yaml"), "utf8")

describe("parseReactions", () => {
  it("loads the original's reactions.yaml unchanged", () => {
    const r = parseReactions(fixture, ".spec_orch/reactions.yaml")
    assert.deepStrictEqual(r.problems, [])
    assert.isTrue(r.fromFile)
    assert.deepStrictEqual(
      r.rules.map((x) => [x.name, x.trigger, x.action, x.enabled, x.mergeMethod]),
      [
        ["ci-failed", "ci_failed", "comment_ci_failed", true, "squash"],
        ["changes-requested", "changes_requested", "requeue_ready", true, "squash"],
        ["approved-and-green", "approved_and_green", "auto_merge", false, "rebase"]
      ]
    )
    assert.strictEqual(r.rules[0]!.commentTemplate, "CI failed for {issue_id} at {sha}: {checks_failed}")
  })

  it("a file with an unknown action falls back to the defaults, reporting the line and the allowed values", () => {
    const r = parseReactions(
      "reactions:\n  - name: x\n    trigger: ci_failed\n    action: explode\n",
      ".spec_orch/reactions.yaml"
    )
    assert.isFalse(r.fromFile)
    assert.strictEqual(r.rules, DEFAULT_REACTIONS)
    assert.strictEqual(r.problems.length, 1)
    assert.deepStrictEqual(
      [r.problems[0]!.file, r.problems[0]!.line, r.problems[0]!.key],
      [".spec_orch/reactions.yaml", 4, "reactions.0.action"]
    )
    assert.match(r.problems[0]!.message, /expected one of .*"comment_ci_failed".*found the string "explode"/)
  })

  it("invalid YAML falls back to the defaults with the parser's message", () => {
    const r = parseReactions("reactions: [\n", "r.yaml")
    assert.strictEqual(r.rules, DEFAULT_REACTIONS)
    assert.match(r.problems[0]!.message, /is not valid YAML/)
  })

  it("the defaults are the original's three rules plus re-verify on a new head", () => {
    assert.deepStrictEqual(
      DEFAULT_REACTIONS.map((x) => `${x.trigger}→${x.action}`),
      [
        "ci_failed→comment_ci_failed",
        "changes_requested→comment_changes_requested",
        "approved_and_green→auto_merge",
        "head_changed→reverify"
      ]
    )
  })
})

describe("renderTemplate", () => {
  it("fills known placeholders only", () => {
    assert.strictEqual(
      renderTemplate("{issue_id} #{pr_number} {checks_passed} {mergeable} {secret} {sha}", {
        issue_id: "SON-1",
        pr_number: 3,
        checks_passed: false,
        mergeable: true
      }),
      "SON-1 #3 false true {secret} {sha}"
    )
  })
})
