/**
 * Analytics end to end with the real binary: six real runs in a test project (two pass, one fails its
 * verification, one whose agent fails, one blocked on review that a person then accepts, one whose
 * workspace hook fails so the run itself fails); `evidence summary --json` gives the hand count with its
 * Wilson interval, `eval compare|degradation` the test and p-value a hand computation gives, and `retro`
 * writes the failed run's retrospective from its evidence.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { makeProject } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as any

describe("spec-orch evidence summary, eval and retro", () => {
  it("after pass, fail, blocked and accepted runs, the summary and comparisons match a hand count", () => {
    // The hook fails only once `fail-hook` is committed, so the last run fails at its workspace stage.
    const p = makeProject({ workspace: [`after_create = ["test ! -e fail-hook"]`] })
    const git = (...args: Array<string>) =>
      spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: p.root, encoding: "utf8" })
    const run = (issue: string, ...extra: Array<string>) =>
      json(p.cli("run", issue, "--auto-approve", "--json", ...extra).stdout).status as string
    p.issue("AN-1", { builder_prompt: "WRITE a.txt a" })
    p.issue("AN-2", { builder_prompt: "WRITE b.txt b" })
    p.issue("AN-3", {
      builder_prompt: "WRITE c.txt c",
      verification: { unit: "echo 'expected 2 but got 3' >&2; exit 1" }
    })
    p.issue("AN-4", { builder_prompt: "FAIL the model is unreachable" })
    p.issue("AN-5", { builder_prompt: "WRITE e.txt e" })
    p.issue("AN-6", { builder_prompt: "WRITE f.txt f" })
    git("add", "-A")
    git("commit", "-qm", "issues")
    assert.deepStrictEqual(
      [run("AN-1"), run("AN-2"), run("AN-3"), run("AN-4"), run("AN-5", "--profile", "reviewed")],
      ["succeeded", "succeeded", "blocked", "blocked", "blocked"]
    )
    assert.strictEqual(p.cli("review-issue", "AN-5", "--verdict", "pass", "--reviewed-by", "ada").status, 0)
    assert.strictEqual(p.cli("accept-issue", "AN-5", "--accepted-by", "ada").status, 0)
    writeFileSync(join(p.root, "fail-hook"), "")
    git("add", "-A")
    git("commit", "-qm", "break the hook")
    p.cli("run", "AN-6", "--auto-approve")
    assert.strictEqual(json(p.cli("status", "AN-6", "--json").stdout)[0].status, "failed")

    const out = p.cli("evidence", "summary", "--json")
    assert.strictEqual(out.status, 0, out.stderr)
    const s = json(out.stdout)
    // By hand: AN-1, AN-2 and the accepted AN-5 mergeable; AN-3, AN-4 blocked; AN-6 failed.
    assert.deepStrictEqual(s.outcomes, {
      mergeable: 3,
      blocked: 2,
      failed: 1,
      cancelled: 0,
      unfinished: 0,
      accepted: 1
    })
    // 3 of 6, Wilson 95%: (0.5 + 1.96²/12 ± 1.96·sqrt(0.25/6 + 1.96²/144)) / (1 + 1.96²/6) = 0.1876 .. 0.8124.
    assert.deepStrictEqual(
      [s.passRate.k, s.passRate.n, s.passRate.low.toFixed(4), s.passRate.high.toFixed(4)],
      [3, 6, "0.1876", "0.8124"]
    )
    assert.deepStrictEqual(
      s.byAdapter.map((a: any) => [a.adapter, a.passRate.k, a.passRate.n]),
      [["command", 3, 6]]
    )
    assert.deepStrictEqual(s.blockedBy, [
      { condition: "verification", runs: 2 },
      { condition: "builder", runs: 1 }
    ])
    const stages = Object.fromEntries(s.stages.map((t: any) => [t.stage, t.n]))
    // Every run loaded and made a workspace attempt; the failed one never reached the agent.
    assert.deepStrictEqual([stages.load, stages.agent, stages.gate], [6, 5, 5])
    assert.isTrue(s.stages.every((t: any) => t.meanMs >= 0 && t.medianMs >= 0))
    assert.deepStrictEqual(s.cost, { runsWithCost: 0, totalUsd: 0, meanUsd: null })

    assert.deepStrictEqual(json(p.cli("eval", "run", "--json").stdout), s, "eval run is the same summary")
    const selected = json(p.cli("evidence", "summary", "--select", "status=blocked|failed", "--json").stdout)
    assert.deepStrictEqual(
      [selected.runs, selected.passRate.k, selected.passRate.n, selected.passRate.high.toFixed(4)],
      [3, 0, 3, "0.5615"]
    )
    const text = p.cli("evidence", "summary").stdout
    assert.include(text, "Runs: 6; finished 6: 3 mergeable, 2 blocked, 1 failed; accepted by a person: 1")
    assert.include(text, "Pass rate: 50.0% (3 of 6), 95% CI 18.8%–81.2% (Wilson)")
    assert.match(text, /\nverification +2\nbuilder +1\n/)

    // AN-1..AN-3: 2 of 3; AN-4..AN-6: 1 of 3. Fisher on [[2,1],[1,2]]: the tables with these margins have
    // probabilities 1/20, 9/20, 9/20, 1/20; all are at most as likely as the observed 9/20, so p = 1.
    const c = json(p.cli("eval", "compare", "issue=AN-1|AN-2|AN-3", "issue=AN-4|AN-5|AN-6", "--json").stdout)
    assert.deepStrictEqual(
      [c.a.passRate.k, c.a.passRate.n, c.b.passRate.k, c.b.passRate.n, c.test, c.pValue.toFixed(6), c.significant],
      [2, 3, 1, 3, "fisher-exact", "1.000000", false]
    )
    assert.strictEqual(c.difference.toFixed(4), (1 / 3).toFixed(4))
    assert.strictEqual(c.verdict, "no evidence of a difference at n = 3 vs 3 (66.7% vs 33.3%, p = 1.000)")
    const compared = p.cli("eval", "compare", "issue=AN-1|AN-2|AN-3", "issue=AN-4|AN-5|AN-6").stdout
    assert.include(compared, "A issue=AN-1|AN-2|AN-3: 66.7% (2 of 3), 95% CI 20.8%–93.9%")
    assert.include(compared, "difference: +33.3 points\ntest: Fisher's exact test (two-sided), p = 1.000")

    const d = json(p.cli("eval", "degradation", "--recent", "3", "--baseline", "3", "--json").stdout)
    // Baseline AN-1..AN-3 (2 of 3), recent AN-4..AN-6 (1 of 3).
    assert.deepStrictEqual([d.recent, d.baseline, d.a.passRate.k, d.b.passRate.k, d.degraded], [3, 3, 1, 2, false])

    // The retrospective of the run that failed verification, from its evidence.
    assert.strictEqual(
      p.cli("findings", "add", "AN-3", "--source", "ci", "--description", "parser | off by one\non the last line")
        .status,
      0
    )
    const retro = p.cli("retro", "AN-3")
    assert.strictEqual(retro.status, 0, retro.stderr)
    assert.include(retro.stdout, "written to .spec-orch/runs/AN-3-r1/retrospective.md")
    const md = readFileSync(join(p.root, ".spec-orch/runs/AN-3-r1/retrospective.md"), "utf8")
    assert.match(md, /^# Retrospective: AN-3 — Issue AN-3\n/)
    assert.include(
      md,
      "- 1 attempt(s): 0 mergeable, 1 blocked, 0 failed.\n- Latest: AN-3-r1 (attempt 1), blocked by verification.\n"
    )
    assert.match(md, /\n- \*\*verification\*\* \(required, failed\): [^\n]+\n/)
    assert.match(
      md,
      /## Failed verification steps\n\n- `unit`: failed \(exit 1\), [^\n]+\n\n```text\n[\s\S]*expected 2 but got 3\n```\n/
    )
    assert.match(
      md,
      /## Findings\n\n- f-[0-9a-f]+ advisory, in spec, from ci: parser \\\| off by one on the last line\n/
    )
    assert.match(md, /\| agent \| \d[^|]* \| \d[^|]* \| 1 \|\n/)
    assert.include(md, "## Cost\n\nNo attempt reported a cost.")
    assert.strictEqual(
      json(p.cli("retro", "AN-3", "--json").stdout).markdown,
      md,
      "the same evidence gives the same retrospective"
    )
    const accepted = readFileSync(join(json(p.cli("retro", "AN-5", "--json").stdout).path), "utf8")
    assert.include(accepted, "- Accepted by ada (")
    assert.match(accepted, /## Reviews\n\n(- [^\n]+\n)*- pass by ada \(human, \d{4}-\d\d-\d\d\)\n/)
    const never = p.cli("retro", "AN-9")
    assert.strictEqual(never.status, 1)
    assert.include(
      never.stderr,
      "AN-9 has never run, so there is nothing to look back on; start it with `spec-orch run AN-9`"
    )

    const bad = p.cli("eval", "compare", "adapter", "all")
    assert.strictEqual(bad.status, 2)
    assert.include(bad.stderr, `selector "adapter": "adapter" is not key=value`)
    const window = p.cli("eval", "degradation", "--recent", "0")
    assert.strictEqual(window.status, 2)
    assert.include(window.stderr, "--recent must be a positive whole number of runs, got 0")
  })

  it("with no runs, says how to start one", () => {
    const p = makeProject()
    const out = p.cli("evidence", "summary")
    assert.strictEqual(out.status, 0, out.stderr)
    assert.strictEqual(out.stdout.trim(), "No runs yet. Start one with `spec-orch run <issue>`.")
  })
})
