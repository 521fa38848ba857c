/**
 * `[evolution] trigger_after_n_runs` end to end: the real `spec-orch daemon start --once` against a fake
 * Linear and a fake GitHub on 127.0.0.1. Two ready issues whose agent breaks the project's check fail
 * verification; with `trigger_after_n_runs = 2` the daemon runs the evolvers after them, and a learning
 * from the recurring failure is proposed (not approved: nothing reaches a run before a person says so).
 */
import { assert, describe, it } from "@effect/vitest"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { daemonCli, daemonProject, git, readyIssue } from "./utils/daemon-project.js"

/** Breaks the check (writes broken.txt) and finishes. */
const AGENT = `
import { writeFileSync } from "node:fs"
writeFileSync("broken.txt", "the check rejects this\\n")
console.log(JSON.stringify({ type: "file_change", path: "broken.txt", kind: "add" }))
console.log(JSON.stringify({ type: "result", text: "done" }))
`

/** Issues titled "breaks …" delete the file the check needs; the others read, grep and edit. */
const RULES_AGENT = `
import { readFileSync, rmSync, writeFileSync } from "node:fs"
const prompt = readFileSync(0, "utf8")
const say = (e) => console.log(JSON.stringify(e))
if (prompt.includes("breaks")) {
  rmSync("needed.txt", { force: true })
  say({ type: "command", command: "rm -f needed.txt", exit_code: 0 })
} else {
  for (const [i, name] of ["Read", "Grep", "Edit"].entries()) {
    say({ type: "tool_call", id: "t" + i, name, input: {} })
    say({ type: "tool_result", id: "t" + i, ok: true, output: "ok" })
  }
  writeFileSync("ok.txt", "ok\\n")
  say({ type: "file_change", path: "ok.txt", kind: "add" })
}
say({ type: "result", text: "done" })
`
const NEEDS = `import { existsSync } from "node:fs"
if (!existsSync("needed.txt")) { console.error("needed.txt is gone"); process.exit(1) }
`

/** A project on a fake Linear and a fake GitHub whose agent is `agent`; `extra` lines end its spec-orch.toml. */
const daemonProjectWith = (agent: string, extra: ReadonlyArray<string>, maxConcurrent = 2) =>
  daemonProject({
    agent,
    daemon: [`max_concurrent = ${maxConcurrent}`, "max_retries = 3", "retry_base_delay_seconds = 600"],
    toml: extra
  })

describe("spec-orch daemon: the evolution trigger", () => {
  it("after trigger_after_n_runs finished runs the daemon proposes a learning from their recurring failure", async () => {
    const { root, env, github, linear } = await daemonProjectWith(AGENT, ["[evolution]", "trigger_after_n_runs = 2"])
    try {
      readyIssue(linear, "a health endpoint")
      readyIssue(linear, "a version endpoint")
      const once = await daemonCli({ root, env }, "daemon", "start", "--once")
      assert.strictEqual(once.status, 0, once.stderr)
      assert.include(once.stderr, "dispatched SON-1, SON-2")

      const listed = await daemonCli({ root, env }, "evolution", "proposals", "--json")
      assert.strictEqual(listed.status, 0, listed.stderr)
      const proposals = JSON.parse(listed.stdout) as Array<any>
      assert.strictEqual(proposals.length, 1, listed.stdout)
      assert.strictEqual(proposals[0].kind, "review-learning")
      assert.strictEqual(proposals[0].state, "proposed", "the daemon only proposes")
      assert.strictEqual(proposals[0].scope, "project", "the check failed for both issues")
      assert.deepStrictEqual(proposals[0].sources.runIds, ["SON-1-r1", "SON-2-r1"])
      assert.include(proposals[0].content, "node check.mjs")
      const shown = JSON.parse((await daemonCli({ root, env }, "evolution", "show", proposals[0].id, "--json")).stdout)
      assert.deepStrictEqual(shown.history[0].actor, { type: "system", id: "evolver:verification-learning" })
    } finally {
      await github.close()
      await linear.close()
    }
  })

  it("with memory off, the trigger still runs the compliance-rule evolver and the skills miner over the daemon's runs", async () => {
    const { root, env, github, linear } = await daemonProjectWith(
      RULES_AGENT,
      ["[evolution]", "trigger_after_n_runs = 5", "[memory]", "enabled = false"],
      5
    )
    writeFileSync(join(root, "check.mjs"), NEEDS)
    writeFileSync(join(root, "needed.txt"), "needed\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "needs needed.txt")
    git(root, "push", "-q", "origin", "main")
    try {
      for (const title of ["breaks health", "breaks version", "a", "b", "c"]) readyIssue(linear, title)
      const once = await daemonCli({ root, env }, "daemon", "start", "--once")
      assert.strictEqual(once.status, 0, once.stderr)
      const listed = await daemonCli({ root, env }, "evolution", "proposals", "--json")
      const proposals = JSON.parse(listed.stdout) as Array<any>
      assert.deepStrictEqual(
        proposals.map((p) => `${p.kind}:${p.state}`).sort(),
        ["compliance-rule:validated", "skill:validated"],
        listed.stdout
      )
      const rule = proposals.find((p) => p.kind === "compliance-rule")
      assert.deepStrictEqual(rule.sources.runIds, ["SON-1-r1", "SON-2-r1"])
      assert.include(rule.content, "rm\\\\s+-f\\\\s+needed\\\\.txt")
      const shown = JSON.parse((await daemonCli({ root, env }, "evolution", "show", rule.id, "--json")).stdout)
      assert.deepStrictEqual(
        shown.history.map((t: any) => t.actor.id),
        ["evolver:compliance-rule", "evolver:compliance-rule"]
      )
      assert.include(shown.history[1].why, "back-test: fired on 0 of 3 successful runs")
    } finally {
      await github.close()
      await linear.close()
    }
  })
})
