/**
 * `memory profile` end to end with the real binary: real runs in a test project (one issue that fails its
 * verification and then passes, one that fails the same step, one that passes at once), recorded in the
 * project's SQLite state database; the profile, failure patterns, success recipes and trend match a hand
 * count of those runs.
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { makeProject } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as any
const failing = { verification: { unit: "echo 'parser: expected 2 but got 3' >&2; exit 1" } }

describe("spec-orch memory profile", () => {
  it("after pass and fail runs, shows the stack, verification, hot files, adapters, failure patterns, recipes and trend of a hand count", () => {
    const p = makeProject()
    const run = (issue: string) => json(p.cli("run", issue, "--auto-approve", "--json").stdout).status as string
    const empty = p.cli("memory", "profile")
    assert.strictEqual(empty.status, 0, empty.stderr)
    assert.include(empty.stdout, "No runs yet")

    p.issue("PR-1", { builder_prompt: "WRITE src/a.ts export const a = 1", ...failing })
    assert.strictEqual(run("PR-1"), "blocked")
    p.issue("PR-1", { builder_prompt: "WRITE src/a.ts export const a = 2", verification: { unit: "true" } })
    assert.strictEqual(run("PR-1"), "succeeded")
    p.issue("PR-2", { builder_prompt: "WRITE src/b.ts export const b = 1", ...failing })
    assert.strictEqual(run("PR-2"), "blocked")
    p.issue("PR-3", { builder_prompt: "WRITE docs/c.md hello", verification: { unit: "true" } })
    assert.strictEqual(run("PR-3"), "succeeded")

    const out = p.cli("memory", "profile", "--json")
    assert.strictEqual(out.status, 0, out.stderr)
    const m = json(out.stdout)
    // By hand: 4 runs, PR-1-r2 and PR-3-r1 mergeable; Wilson 95% of 2 of 4 is 0.1500 .. 0.8500.
    assert.strictEqual(m.profile.runs, 4)
    assert.deepStrictEqual(m.profile.stack, [
      { name: "TypeScript", files: 2 },
      { name: "docs", files: 1 }
    ])
    assert.deepStrictEqual(
      m.profile.verification.map((v: any) => [v.step, v.command, v.passRate.k, v.passRate.n]),
      [["unit", "sh -c true", 2, 4]]
    )
    assert.deepStrictEqual(m.profile.hotFiles, [
      { file: "src/a.ts", runs: 2, notMergeable: 1 },
      { file: "src/b.ts", runs: 1, notMergeable: 1 },
      { file: "docs/c.md", runs: 1, notMergeable: 0 }
    ])
    const [adapter] = m.profile.adapters
    assert.deepStrictEqual(
      [
        adapter.adapter,
        adapter.passRate.k,
        adapter.passRate.n,
        adapter.passRate.low.toFixed(4),
        adapter.passRate.high.toFixed(4)
      ],
      ["command", 2, 4, "0.1500", "0.8500"]
    )
    // The verification condition and the unit step each failed in PR-1-r1 and PR-2-r1; memory says why.
    assert.deepStrictEqual(
      m.failurePatterns.map((f: any) => [f.kind, f.name, f.runs, f.issues, f.recurring]),
      [
        ["condition", "verification", 2, ["PR-1", "PR-2"], true],
        ["step", "unit", 2, ["PR-1", "PR-2"], true]
      ]
    )
    assert.include(m.failurePatterns[1].latest, "parser: expected 2 but got 3")
    assert.strictEqual(
      json(p.cli("memory", "show", m.failurePatterns[1].memoryId, "--json").stdout).kind,
      "verification-failed"
    )
    assert.deepStrictEqual(
      m.successRecipes.map((r: any) => [r.issueId, r.runId, r.attempts, r.overcame, r.changedFiles]),
      [
        ["PR-1", "PR-1-r2", 2, ["condition verification", "step unit"], ["src/a.ts"]],
        ["PR-3", "PR-3-r1", 1, [], ["docs/c.md"]]
      ]
    )
    assert.deepStrictEqual(
      m.trends.points.map((t: any) => [t.runs, t.passRate.k, t.passRate.n]),
      [[4, 2, 4]]
    )
    assert.strictEqual(m.trends.bucket, "day")

    const text = p.cli("memory", "profile").stdout
    assert.include(text, "Stack: TypeScript (2 files), docs (1 file)")
    assert.match(text, /\ncommand +50\.0% \(2 of 4\), 95% CI 15\.0%–85\.0%\n/)
    assert.match(text, /\nstep +unit +2 \(recurring\) +PR-1, PR-2 +Verification step unit/)
    assert.match(text, /\nPR-1 +PR-1-r2 +command +2 +condition verification, step unit\n/)
  })
})

describe("tool-call telemetry", () => {
  it("a run's tool calls, from the command agent's event stream, are in its evidence and in memory", () => {
    const p = makeProject()
    p.issue("TL-1", { builder_prompt: "TOOL read\nTOOL bash fail\nTOOL read\nWRITE src/t.ts t" })
    const run = json(p.cli("run", "TL-1", "--auto-approve", "--json").stdout)
    assert.strictEqual(run.status, "succeeded")
    const evidence = JSON.parse(readFileSync(join(p.root, ".spec-orch/runs/TL-1-r1/evidence.json"), "utf8"))
    assert.deepStrictEqual(evidence.builder.toolCalls, {
      total: 3,
      byName: { read: 2, bash: 1 },
      sequence: ["read", "bash", "read"]
    })
    const listed = p.cli("memory", "list", "--kind", "tool-calls", "--json")
    assert.strictEqual(listed.status, 0, listed.stderr)
    const [entry] = json(listed.stdout)
    assert.strictEqual(
      entry.content,
      "Run TL-1-r1 (command) made 3 tool calls: read 2, bash 1. In order: read → bash → read."
    )
    assert.deepStrictEqual([entry.provenance.runIds, entry.scopes], [["TL-1-r1"], ["issue:TL-1", "adapter:command"]])
    assert.includeMembers(entry.tags, ["adapter:command", "tool:read", "tool:bash"])
    const tagged = json(p.cli("memory", "list", "--tag", "tool:bash", "--json").stdout)
    assert.deepStrictEqual(
      tagged.map((e: any) => e.id),
      [entry.id]
    )
  })
})
