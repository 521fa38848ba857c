/**
 * What a run's model calls cost, against the scripted model server: the LLM reviewer's requests, with
 * their tokens, cost from the model's prices (or "unknown" without prices) and latency, in report.json,
 * evidence.json, explain.md, `explain` and `status`, beside the agent's usage.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Reply, startModelServer } from "@spec-orch/test-kit"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { makeProject } from "./utils/project.js"

const pass: Reply = {
  tool: { name: "review", input: { verdict: "pass", summary: "As asked.", findings: [] } },
  usage: { input: 1200, output: 300 }
}

const project = (url: string, prices: boolean) =>
  makeProject({
    profile: "reviewed",
    verification: { check: "test -f src/a.txt" },
    toml: [
      "[reviewer]",
      'adapter = "llm"',
      'model_ref = "judge"',
      "[models.judge]",
      'model = "judge-model"',
      'api_type = "anthropic"',
      'api_key_env = "JUDGE_KEY"',
      'api_base_env = "JUDGE_BASE"',
      ...(prices ? ["input_usd_per_mtok = 3", "output_usd_per_mtok = 15"] : [])
    ].join("\n"),
    env: { JUDGE_KEY: "sk-test-judge-0123456789", JUDGE_BASE: url }
  })

const COST = (1200 * 3 + 300 * 15) / 1_000_000

describe("spec-orch run records what its model calls cost", () => {
  it("puts the reviewer's tokens, cost and latency in report.json, evidence.json, explain and status", async () => {
    const server = await startModelServer({ script: () => pass })
    try {
      const p = project(server.url, true)
      p.issue("MU-1", { builder_prompt: "WRITE src/a.txt a", target_files: ["src/"] })
      const r = await p.cliAsync("run", "MU-1", "--auto-approve", "--json")
      assert.strictEqual(r.status, 0, r.stderr)
      const run = JSON.parse(r.stdout)
      const dir = join(p.root, ".spec-orch/runs/MU-1-r1")

      const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"))
      const m = report.modelCalls
      assert.deepStrictEqual(
        { ...m, costUsd: 0, latencyMs: 0, byRole: m.byRole.map((x: any) => ({ ...x, costUsd: 0, latencyMs: 0 })) },
        {
          calls: 1,
          failed: 0,
          inputTokens: 1200,
          outputTokens: 300,
          costUsd: 0,
          latencyMs: 0,
          byRole: [
            {
              role: "reviewer",
              calls: 1,
              failed: 0,
              inputTokens: 1200,
              outputTokens: 300,
              costUsd: 0,
              latencyMs: 0,
              models: ["judge"]
            }
          ]
        }
      )
      assert.closeTo(m.costUsd, COST, 1e-12)
      assert.closeTo(m.byRole[0].costUsd, COST, 1e-12)
      assert.isAtLeast(m.latencyMs, 0)
      assert.deepStrictEqual(JSON.parse(readFileSync(join(dir, "evidence.json"), "utf8")).modelCalls, m)
      assert.deepStrictEqual(run.modelCalls, m, "run --json says it too")

      const explain = readFileSync(join(dir, "explain.md"), "utf8")
      assert.match(explain, /^- Model calls: reviewer 1 call, 1200 in \/ 300 out tokens, \$0\.0081, \d+\.\d s$/m)
      assert.match(explain, /^- Cost: agent unknown \(the agent reported none\) · model calls \$0\.0081$/m)
      const shown = p.cli("explain", "MU-1")
      assert.strictEqual(shown.status, 0, shown.stderr)
      assert.include(shown.stdout, "model calls $0.0081")

      const status = p.cli("status", "MU-1", "--json")
      assert.strictEqual(status.status, 0, status.stderr)
      const record = JSON.parse(status.stdout)[0]
      assert.strictEqual(record.runId, run.runId)
      assert.deepStrictEqual(record.modelCalls, m, "the run store has the same summary")
      assert.isNotNull(record.agent, "the agent's usage is beside it")
      const events = p
        .cli("logs", "MU-1", "--json")
        .stdout.trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .filter((e) => e.kind === "model-call")
      assert.strictEqual(events.length, 1)
      const call = events[0].data
      assert.deepStrictEqual(
        [call.role, call.model, call.modelName, call.api, call.attempt, call.ok, call.inputTokens, call.outputTokens],
        ["reviewer", "judge", "judge-model", "anthropic", 1, true, 1200, 300]
      )
      assert.strictEqual(call.provider, new URL(server.url).host)
      assert.closeTo(call.usd, COST, 1e-12)
      assert.isAtLeast(call.latencyMs, 0)
      const logs = p.cli("logs", "MU-1")
      assert.match(
        logs.stdout,
        /model reviewer: judge \(judge-model\) attempt 1 ok, 1200 in \/ 300 out tokens, \$0\.0081, \d+\.\ds/
      )
      const table = p.cli("status", "MU-1")
      assert.match(table.stdout, /COST/)
      assert.include(table.stdout, "agent unknown · models $0.0081 (1 call)")
    } finally {
      await server.close()
    }
  }, 120_000)

  it("records every request of a fallback: the failed ones with why, the model that answered, and an unknown cost once an unpriced model answered", async () => {
    const server = await startModelServer({
      script: (req) => (req.body.model === "judge-model" ? { error: 429, retryAfter: 0 } : pass)
    })
    try {
      const p = makeProject({
        profile: "reviewed",
        verification: { check: "test -f src/a.txt" },
        toml: [
          "[reviewer]",
          'adapter = "llm"',
          'model_chain = "judges"',
          "[models.judge]",
          'model = "judge-model"',
          'api_type = "anthropic"',
          'api_key_env = "JUDGE_KEY"',
          'api_base_env = "JUDGE_BASE"',
          "input_usd_per_mtok = 3",
          "output_usd_per_mtok = 15",
          "[models.backup]",
          'model = "backup-model"',
          'api_type = "anthropic"',
          'api_key_env = "JUDGE_KEY"',
          'api_base_env = "JUDGE_BASE"',
          "[model_chains.judges]",
          'primary = "judge"',
          'fallbacks = ["backup"]'
        ].join("\n"),
        env: { JUDGE_KEY: "sk-test-judge-0123456789", JUDGE_BASE: server.url }
      })
      p.issue("MU-3", { builder_prompt: "WRITE src/a.txt a", target_files: ["src/"] })
      const r = await p.cliAsync("run", "MU-3", "--auto-approve", "--json")
      assert.strictEqual(r.status, 0, r.stderr)
      const events = p
        .cli("logs", "MU-3", "--json")
        .stdout.trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .filter((e) => e.kind === "model-call")
        .map((e) => e.data)
      assert.deepStrictEqual(
        events.map((c) => `${c.model}#${c.attempt}:${c.ok ? "ok" : c.error}`),
        ["judge#1:RateLimitError", "judge#2:RateLimitError", "judge#3:RateLimitError", "backup#1:ok"]
      )
      assert.include(events[0].detail, "rate limited (HTTP 429")
      assert.notInclude(JSON.stringify(events), "sk-test-judge-0123456789")
      const report = JSON.parse(readFileSync(join(p.root, ".spec-orch/runs/MU-3-r1/report.json"), "utf8"))
      assert.deepStrictEqual(
        report.modelCalls.byRole.map((x: any) => [x.role, x.calls, x.failed, x.inputTokens, x.costUsd, x.models]),
        [["reviewer", 4, 3, 1200, null, ["judge", "backup"]]]
      )
      assert.match(report.review.model, /^backup \(backup-model\) after 4 calls; fallback from judge: rate limited/)
      assert.include(
        p.cli("logs", "MU-3").stdout,
        "model reviewer: judge (judge-model) attempt 1 failed: rate limited (HTTP 429"
      )
    } finally {
      await server.close()
    }
  }, 120_000)

  it("says the cost of model calls is unknown when the model has no prices, and never makes one up", async () => {
    const server = await startModelServer({ script: () => pass })
    try {
      const p = project(server.url, false)
      p.issue("MU-2", { builder_prompt: "WRITE src/a.txt a", target_files: ["src/"] })
      const r = await p.cliAsync("run", "MU-2", "--auto-approve")
      assert.strictEqual(r.status, 0, r.stderr)
      assert.match(r.stdout, /^ {2}cost {6}agent unknown · models unknown \(1 call\)$/m)
      assert.match(
        r.stderr,
        /model reviewer: judge \(judge-model\) attempt 1 ok, 1200 in \/ 300 out tokens, cost unknown/,
        "progress shows the call as it happens"
      )
      const report = JSON.parse(readFileSync(join(p.root, ".spec-orch/runs/MU-2-r1/report.json"), "utf8"))
      assert.strictEqual(report.modelCalls.inputTokens, 1200)
      assert.isNull(report.modelCalls.costUsd)
      assert.include(
        readFileSync(join(p.root, ".spec-orch/runs/MU-2-r1/explain.md"), "utf8"),
        "cost unknown (no prices configured)"
      )
      assert.include(p.cli("status", "MU-2").stdout, "models unknown (1 call)")
    } finally {
      await server.close()
    }
  }, 120_000)
})
