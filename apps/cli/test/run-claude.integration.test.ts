/**
 * The whole workflow with the real Claude Code CLI (from the tool cache) as the builder and an LLM
 * reviewer, both talking to the scripted model server on 127.0.0.1: a passing run whose review is
 * recorded and whose verdict is mergeable, and a run whose verification fails.
 */
import { assert, describe, it } from "@effect/vitest"
import { type ModelRequest, type Reply, scripts, startModelServer } from "@spec-orch/test-kit"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { makeProject } from "./utils/project.js"

/** Claude writes hello.txt, shows it, says DONE; the reviewer's structured answer is a pass. */
const script = (review: Reply) => {
  const claude = scripts.writeThenShellThenDone()
  return (req: ModelRequest): Reply => (req.tools.some((t) => t.name === "review") ? review : claude(req))
}

const project = (url: string, verification: string, reviewer: ReadonlyArray<string> = []) =>
  makeProject({
    profile: "reviewed",
    builder: ['adapter = "claude_code"', "timeout_seconds = 120"],
    verification: { check: verification },
    toml: [
      "[reviewer]",
      'adapter = "llm"',
      'model_ref = "double"',
      ...(reviewer.length > 0 ? ['fallbacks = ["backup"]'] : []),
      "[models.double]",
      'model = "double-model"',
      'api_type = "anthropic"',
      'api_key_env = "DOUBLE_KEY"',
      'api_base_env = "DOUBLE_BASE"',
      ...reviewer
    ].join("\n"),
    env: { SPEC_ORCH_AGENT_ENDPOINT: url, DOUBLE_KEY: "sk-test-double", DOUBLE_BASE: url }
  })

describe("spec-orch run with Claude Code", () => {
  it("changes the file in the worktree, passes verification, records the review and is mergeable", async () => {
    const server = await startModelServer({
      script: script({
        tool: { name: "review", input: { verdict: "pass", summary: "hello.txt holds hi as asked.", findings: [] } }
      })
    })
    try {
      const p = project(server.url, 'test "$(cat hello.txt)" = hi')
      p.issue("CC-1", {
        builder_prompt: "Create hello.txt containing hi, then show it with cat. Reply DONE.",
        target_files: ["hello.txt"]
      })
      const r = await p.cliAsync("run", "CC-1", "--auto-approve", "--json")
      assert.strictEqual(r.status, 0, r.stderr)
      const out = JSON.parse(r.stdout)
      assert.isTrue(out.mergeable)
      assert.strictEqual(readFileSync(join(out.worktree, "hello.txt"), "utf8"), "hi\n")
      const dir = join(p.root, ".spec-orch/runs/CC-1-r1")
      const evidence = JSON.parse(readFileSync(join(dir, "evidence.json"), "utf8"))
      assert.strictEqual(evidence.builder.kind, "completed")
      assert.strictEqual(evidence.builder.adapter, "claude_code")
      assert.strictEqual(evidence.review.verdict, "pass")
      assert.strictEqual(evidence.review.source, "llm")
      assert.strictEqual(evidence.review.diffHash, evidence.diffHash)
      for (const f of ["agent.jsonl", "events.jsonl", "explain.md", "report.json", "diff.patch"])
        assert.isTrue(existsSync(join(dir, f)), f)
      assert.match(
        readFileSync(join(dir, "agent.jsonl"), "utf8"),
        /"type":"result"/,
        "Claude's raw stream is kept verbatim"
      )
      assert.isTrue(
        server.requests.some((q) => q.tools.some((t) => t.name === "review")),
        "the reviewer asked the model"
      )
    } finally {
      await server.close()
    }
  }, 240_000)

  it("blocks on verification and shows the failing step's output in explain.md", async () => {
    const server = await startModelServer({
      script: script({ tool: { name: "review", input: { verdict: "pass", summary: "fine", findings: [] } } })
    })
    try {
      const p = project(server.url, 'echo "hello.txt should say bye, found $(cat hello.txt)" >&2; false')
      p.issue("CC-2", {
        builder_prompt: "Create hello.txt containing hi, then show it with cat. Reply DONE.",
        target_files: ["hello.txt"]
      })
      const r = await p.cliAsync("run", "CC-2", "--auto-approve", "--json")
      assert.strictEqual(r.status, 1)
      const out = JSON.parse(r.stdout)
      assert.strictEqual(out.status, "blocked")
      assert.deepStrictEqual(out.failed, ["verification"])
      const explain = readFileSync(join(p.root, ".spec-orch/runs/CC-2-r1/explain.md"), "utf8")
      assert.match(explain, /hello\.txt should say bye, found hi/)
    } finally {
      await server.close()
    }
  }, 240_000)

  it("records which model reviewed after the primary was overloaded, and shows a failed review as ✗", async () => {
    const answer: Reply = {
      tool: { name: "review", input: { verdict: "pass", summary: "hello.txt holds hi as asked.", findings: [] } }
    }
    const claude = scripts.writeThenShellThenDone()
    let failReview = false
    const server = await startModelServer({
      script: (req) => {
        if (!req.tools.some((t) => t.name === "review")) return claude(req)
        if (failReview) return { error: 400, message: "this request is not accepted" }
        return req.body?.model === "double-model" ? { error: 529 } : answer
      }
    })
    const backup = [
      "[models.backup]",
      'model = "backup-model"',
      'api_type = "anthropic"',
      'api_key_env = "DOUBLE_KEY"',
      'api_base_env = "DOUBLE_BASE"'
    ]
    try {
      const p = project(server.url, 'test "$(cat hello.txt)" = hi', backup)
      p.issue("CC-3", {
        builder_prompt: "Create hello.txt containing hi, then show it with cat. Reply DONE.",
        target_files: ["hello.txt"]
      })
      const r = await p.cliAsync("run", "CC-3", "--auto-approve", "--json")
      assert.strictEqual(r.status, 0, r.stderr)
      const dir = join(p.root, ".spec-orch/runs/CC-3-r1")
      const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"))
      const reviewRequests = server.requests.filter((q) => q.tools.some((t) => t.name === "review"))
      assert.strictEqual(
        reviewRequests.length,
        4,
        "three tries of the overloaded model, then the fallback; no outer retry"
      )
      assert.match(report.review.model, /^backup \(backup-model\) after 4 calls; fallback from double: HTTP 529/)
      assert.match(
        readFileSync(join(dir, "explain.md"), "utf8"),
        /Reviewed by model backup \(backup-model\) after 4 calls; fallback from double/
      )
      assert.include(r.stderr, "reviewer: waiting for backup (backup-model) (attempt 1/3")

      failReview = true
      p.issue("CC-4", {
        builder_prompt: "Create hello.txt containing hi, then show it with cat. Reply DONE.",
        target_files: ["hello.txt"]
      })
      const failed = await p.cliAsync("run", "CC-4", "--auto-approve")
      assert.match(failed.stderr, /^✗ review \(\d+\.\ds\): no valid review after 1 request: /m, failed.stderr)
      assert.notMatch(failed.stderr, /^✓ review/m)
    } finally {
      await server.close()
    }
  }, 240_000)
})
