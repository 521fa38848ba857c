/**
 * The LLM reviewer inside a real run, against the scripted model server: what it is told about the run
 * (changed files, verification results, the agent's summary), a diff reviewed in parts because it is
 * over `[reviewer] max_diff_chars`, and a file too large for one part.
 */
import { assert, describe, it } from "@effect/vitest"
import { type ModelRequest, type Reply, startModelServer } from "@spec-orch/test-kit"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { makeProject } from "./utils/project.js"

const pass: Reply = {
  tool: { name: "review", input: { verdict: "pass", summary: "Both files are as asked.", findings: [] } }
}
const isReview = (req: ModelRequest) => req.tools.some((t) => t.name === "review")

const project = (url: string, maxDiffChars: number) =>
  makeProject({
    profile: "reviewed",
    verification: { check: "test -f src/a.txt", lint: "true" },
    toml: [
      "[reviewer]",
      'adapter = "llm"',
      'model_ref = "double"',
      `max_diff_chars = ${maxDiffChars}`,
      "[models.double]",
      'model = "double-model"',
      'api_type = "anthropic"',
      'api_key_env = "DOUBLE_KEY"',
      'api_base_env = "DOUBLE_BASE"'
    ].join("\n"),
    env: { DOUBLE_KEY: "sk-test-double", DOUBLE_BASE: url }
  })

const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ")

describe("spec-orch run with an LLM reviewer", () => {
  it("tells the reviewer the changed files, the verification results and the agent's summary", async () => {
    const server = await startModelServer({ script: () => pass })
    try {
      const p = project(server.url, 60_000)
      p.issue("RV-1", { builder_prompt: "WRITE src/a.txt a\nWRITE src/b.txt b", target_files: ["src/"] })
      const r = await p.cliAsync("run", "RV-1", "--auto-approve", "--json")
      assert.strictEqual(r.status, 0, r.stderr)
      assert.isTrue(JSON.parse(r.stdout).mergeable)
      const asked = server.requests.filter(isReview)
      assert.strictEqual(asked.length, 1)
      const text = asked[0]!.lastUserText
      assert.match(
        text,
        /Changed files \(2\):\n<<<BEGIN CHANGED-FILES-[0-9a-f]{16}>>>\nsrc\/a\.txt\nsrc\/b\.txt\n<<<END CHANGED-FILES-/
      )
      assert.match(text, /<<<BEGIN VERIFICATION-[0-9a-f]{16}>>>\ncheck: passed\nlint: passed\n<<<END VERIFICATION-/)
      assert.match(text, /<<<BEGIN AGENT-SUMMARY-[0-9a-f]{16}>>>\ndone\n<<<END AGENT-SUMMARY-/)
      const report = JSON.parse(readFileSync(join(p.root, ".spec-orch/runs/RV-1-r1/report.json"), "utf8"))
      assert.isNull(report.review.partial, "the whole diff was shown")
    } finally {
      await server.close()
    }
  }, 120_000)

  it("reviews a diff over the budget in parts, one call per part, and a pass of every part passes", async () => {
    const server = await startModelServer({ script: () => pass })
    try {
      const p = project(server.url, 300)
      const medium = Array.from({ length: 10 }, (_, i) => `word${i}`).join(" ")
      p.issue("RV-3", {
        builder_prompt: `WRITE src/a.txt ${medium}\nWRITE src/b.txt ${medium}`,
        target_files: ["src/"]
      })
      const r = await p.cliAsync("run", "RV-3", "--auto-approve", "--json")
      assert.strictEqual(r.status, 0, r.stderr)
      assert.isTrue(JSON.parse(r.stdout).mergeable)
      const dir = join(p.root, ".spec-orch/runs/RV-3-r1")
      assert.isAbove(readFileSync(join(dir, "diff.patch"), "utf8").length, 300)
      const asked = server.requests.filter(isReview).map((q) => q.lastUserText)
      assert.strictEqual(asked.length, 2)
      assert.match(asked[0]!, /this is part 1 of 2/)
      assert.match(asked[1]!, /<<<BEGIN FILES-IN-THIS-PART-[0-9a-f]{16}>>>\nsrc\/b\.txt\n<<<END/)
      const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"))
      assert.strictEqual(report.review.verdict, "pass")
      assert.isNull(report.review.partial, "every file was shown in full, in one part or another")
    } finally {
      await server.close()
    }
  }, 120_000)

  it("records a pass on a diff with a file cut to fit the budget as partial, and the gate asks a person to review", async () => {
    const server = await startModelServer({ script: () => pass })
    try {
      const p = project(server.url, 300)
      p.issue("RV-2", { builder_prompt: `WRITE src/a.txt a\nWRITE src/b.txt ${long}`, target_files: ["src/"] })
      const r = await p.cliAsync("run", "RV-2", "--auto-approve", "--json")
      assert.strictEqual(r.status, 1, r.stderr)
      const out = JSON.parse(r.stdout)
      assert.isFalse(out.mergeable, "a pass on a partial view is not a pass")
      const dir = join(p.root, ".spec-orch/runs/RV-2-r1")
      const diff = readFileSync(join(dir, "diff.patch"), "utf8")
      const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"))
      assert.strictEqual(report.review.verdict, "pass")
      const b = diff.slice(diff.indexOf("diff --git a/src/b.txt"))
      assert.isAbove(b.length, 300)
      assert.deepStrictEqual(report.review.partial, {
        files: ["src/b.txt"],
        charsNotShown: b.length - 300,
        totalChars: diff.length
      })
      assert.deepStrictEqual([report.verdict.failed, report.verdict.notJudgeable], [[], ["review"]])
      const explain = readFileSync(join(dir, "explain.md"), "utf8")
      assert.match(
        explain,
        /\*\*Partial view:\*\* the reviewer did not see \d+ of \d+ diff characters; not shown in full: `src\/b\.txt`/
      )
      assert.match(explain, /passed the change on a partial view/)
      assert.include(
        server.requests.find(isReview)!.lastUserText,
        `${b.length - 300} of ${diff.length} characters are not shown`
      )
    } finally {
      await server.close()
    }
  }, 120_000)
})
