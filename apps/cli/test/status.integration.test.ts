/**
 * Reading commands with the real binary, on a project that never ran: they say there is nothing yet and
 * create nothing (no state directory, no database). `status` also lists a run once one exists. A state
 * database that is not one stops them, and `run`, with what to do, and is left as it was.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { makeProject } from "./utils/project.js"

describe("spec-orch status", () => {
  it("on a project that never ran says so and writes nothing; after a run lists it", () => {
    const p = makeProject()
    const state = join(p.root, ".spec-orch")
    assert.isFalse(existsSync(state), "a fresh project has no state directory")

    const none = p.cli("status")
    assert.strictEqual(none.status, 0, none.stderr)
    assert.strictEqual(none.stdout.trim(), "No runs yet. Start one with `spec-orch run <issue>`.")
    const json = p.cli("status", "--json")
    assert.strictEqual(json.status, 0, json.stderr)
    assert.deepStrictEqual(JSON.parse(json.stdout), [])
    const one = p.cli("status", "ST-1")
    assert.strictEqual(one.stdout.trim(), "ST-1 has never run.")
    assert.isFalse(existsSync(state), "status created the state directory")

    p.issue("ST-1", { builder_prompt: "WRITE a.txt a" })
    const run = p.cli("run", "ST-1", "--auto-approve", "--json")
    assert.strictEqual(run.status, 0, run.stderr)
    const runs = JSON.parse(p.cli("status", "--json").stdout) as Array<{ issueId: string; runId: string }>
    assert.deepStrictEqual(
      runs.map((r) => [r.issueId, r.runId]),
      [["ST-1", "ST-1-r1"]]
    )
    assert.match(p.cli("status").stdout, /^ST-1 +ST-1-r1 /m)
  })

  it("the other reading commands answer on a project that never ran and write nothing", () => {
    const p = makeProject()
    const state = join(p.root, ".spec-orch")
    const cases: ReadonlyArray<[ReadonlyArray<string>, number, string]> = [
      [["evidence", "summary"], 0, "No runs yet"],
      [["eval", "degradation"], 0, "Only 0 finished run(s)"],
      [["explain", "NR-1"], 1, "no evidence recorded for NR-1"],
      [["logs", "NR-1"], 1, "NR-1 has never run"],
      [["retro", "NR-1"], 1, "NR-1 has never run"],
      [["memory", "profile"], 0, "No runs yet"],
      [["daemon", "status", "--json"], 0, '"health"'],
      [["daemon", "dlq"], 0, "No dead-lettered issues."],
      [["findings", "list", "NR-1"], 0, "No unresolved findings on NR-1."],
      [["gate", "evaluate", "NR-1"], 1, "no evidence recorded for NR-1"]
    ]
    for (const [args, code, says] of cases) {
      const r = p.cli(...args)
      assert.strictEqual(r.status, code, `${args.join(" ")}: ${r.stdout}${r.stderr}`)
      assert.include(r.stdout + r.stderr, says, args.join(" "))
      assert.isFalse(existsSync(state), `${args.join(" ")} created the state directory`)
    }
  })

  it("a state database that is not one stops reading and running commands with what to do, and is left as it was", () => {
    const p = makeProject()
    const db = join(p.root, ".spec-orch", "state.db")
    mkdirSync(join(p.root, ".spec-orch"))
    const notes = "my notes, not a database\n".repeat(200)
    writeFileSync(db, notes)
    p.issue("ST-2", { builder_prompt: "WRITE a.txt a" })
    const says = `spec-orch: ${db} is not a SQLite database (file is not a database). Restore it from a backup, or move it aside and spec-orch starts an empty one.`
    for (const args of [["status"], ["gate", "evaluate", "ST-2"], ["run", "ST-2", "--auto-approve"]]) {
      const r = p.cli(...args)
      assert.strictEqual(r.status, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`)
      assert.strictEqual(r.stderr.trim(), says, args.join(" "))
    }
    const json = p.cli("status", "--json")
    assert.deepStrictEqual(JSON.parse(json.stdout), {
      error: { kind: "SqliteOpenError", message: says.slice("spec-orch: ".length) }
    })
    assert.strictEqual(readFileSync(db, "utf8"), notes)
    // The run stopped before any work: no worktree was made for it.
    const worktrees = spawnSync("git", ["worktree", "list", "--porcelain"], { cwd: p.root, encoding: "utf8" })
    assert.deepStrictEqual(worktrees.stdout.match(/^worktree /gm), ["worktree "])
  })
})
