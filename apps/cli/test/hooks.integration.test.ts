/**
 * `[workspace]` hooks, end to end: after_create prepares a new worktree once (a generated file the
 * verification needs), after_run's changes belong to the commit, and a failing hook stops the run
 * with its log named, a hook that hangs is killed at hook_timeout_seconds — all in the sandbox like
 * verification steps.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { makeProject } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as Record<string, any>
/** A sleep no other test starts, and whether a process running it is left. */
const uniqueSleep = () => 3000 + Math.floor(Math.random() * 100_000)
const stillRunning = (seconds: number) =>
  execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes(`sleep ${seconds}`))

describe("[workspace] hooks", () => {
  it("after_create runs once in a new worktree; after_run's output is committed with the agent's change", () => {
    const p = makeProject({
      verification: { check: "test -f generated.txt && grep -q formatted a.txt" },
      workspace: [`after_create = ["echo made > generated.txt"]`, `after_run = ["sed -i 's/^a$/a formatted/' a.txt"]`]
    })
    // generated.txt is ignored, as generated files are.
    p.issue("HOOK-1", { builder_prompt: "WRITE a.txt a" })
    const r = p.cli("run", "HOOK-1", "--auto-approve", "--json")
    assert.strictEqual(r.status, 0, r.stderr)
    const out = json(r.stdout)
    assert.strictEqual(
      readFileSync(join(out.worktree, "a.txt"), "utf8"),
      "a formatted\n",
      "after_run's change is in the worktree"
    )
    const evidence = json(readFileSync(join(p.root, ".spec-orch/runs/HOOK-1-r1/evidence.json"), "utf8"))
    assert.include(evidence.changedFiles, "a.txt")
    assert.isTrue(existsSync(join(p.root, ".spec-orch/runs/HOOK-1-r1/hooks/after_create/01-after_create-1.log")))
    const notes = p
      .cli("logs", "HOOK-1", "--json")
      .stdout.trim()
      .split("\n")
      .map(json)
      .filter((e) => e.kind === "note")
      .map((e) => e.data.text)
    assert.include(notes, "[workspace] after_create: after_create-1 passed")
    assert.include(notes, "[workspace] after_run: after_run-1 passed")
    // A later attempt in the same worktree does not run after_create again.
    const again = json(p.cli("run", "HOOK-1", "--auto-approve", "--new-attempt", "--continue", "--json").stdout)
    assert.strictEqual(again.runId, "HOOK-1-r2")
    assert.isFalse(existsSync(join(p.root, ".spec-orch/runs/HOOK-1-r2/hooks/after_create")))
  })

  it("a failing hook stops the run before the agent, naming the command and its log", () => {
    const p = makeProject({ workspace: [`after_create = ["echo cannot install >&2; exit 3"]`] })
    p.issue("HOOK-2", { builder_prompt: "WRITE a.txt a" })
    const r = p.cli("run", "HOOK-2", "--auto-approve")
    assert.strictEqual(r.status, 1)
    assert.include(r.stderr, "workspace stage failed: [workspace] after_create command")
    assert.include(r.stderr, "failed (exit 3)")
    assert.include(r.stderr, "hooks/after_create/01-after_create-1.log")
    const [status] = json(p.cli("status", "HOOK-2", "--json").stdout) as unknown as Array<Record<string, any>>
    assert.strictEqual(status!.status, "failed")
    assert.deepStrictEqual(p.agentRuns(), [], "the agent never ran")
  })

  it("before_remove runs before `workspace remove`; when it fails the output says so and the worktree goes anyway", () => {
    const p = makeProject({ workspace: [`before_remove = ["echo could not stop the dev server >&2; exit 3"]`] })
    p.issue("HOOK-3", { builder_prompt: "WRITE a.txt a" })
    const out = json(p.cli("run", "HOOK-3", "--auto-approve", "--json").stdout)
    assert.isTrue(existsSync(out.worktree))
    const r = p.cli("workspace", "remove", "HOOK-3", "--force")
    assert.strictEqual(r.status, 0, r.stderr)
    assert.include(r.stdout, `Removed ${out.worktree}`)
    assert.match(
      r.stdout,
      /\[workspace\] before_remove command .* failed \(exit 3\); the worktree was removed anyway; its log: (\S+)/
    )
    const log = /its log: (\S+)/.exec(r.stdout)![1]!
    assert.include(readFileSync(log, "utf8"), "could not stop the dev server")
    assert.isFalse(existsSync(out.worktree))
  })

  it("a before_run hook that hangs is killed at hook_timeout_seconds and stops the run before the agent, saying it timed out", () => {
    const seconds = uniqueSleep()
    const p = makeProject({
      workspace: [`before_run = ["echo starting the database; sleep ${seconds}"]`, "hook_timeout_seconds = 1"]
    })
    p.issue("HOOK-4", { builder_prompt: "WRITE a.txt a" })
    const r = p.cli("run", "HOOK-4", "--auto-approve")
    assert.strictEqual(r.status, 1, r.stdout)
    assert.match(r.stderr, /\[workspace\] before_run command .* timed out: no exit after 1 s/)
    assert.isTrue(existsSync(/its log: (\S+)/.exec(r.stderr)![1]!), "its log is kept")
    assert.deepStrictEqual(p.agentRuns(), [], "the agent never ran")
    assert.deepStrictEqual(stillRunning(seconds), [], "the hook's processes are gone")
  })

  it("`workspace remove` with a before_remove hook that hangs kills it at hook_timeout_seconds, removes the worktree anyway and says so", () => {
    const seconds = uniqueSleep()
    const p = makeProject({
      workspace: [`before_remove = ["sleep ${seconds} & sleep ${seconds}"]`, "hook_timeout_seconds = 1"]
    })
    p.issue("HOOK-5", { builder_prompt: "WRITE a.txt a" })
    const out = json(p.cli("run", "HOOK-5", "--auto-approve", "--json").stdout)
    assert.isTrue(existsSync(out.worktree))
    const r = p.cli("workspace", "remove", "HOOK-5", "--force")
    assert.strictEqual(r.status, 0, r.stderr)
    assert.match(
      r.stdout,
      /\[workspace\] before_remove command .* timed out: no exit after 1 s.*; the worktree was removed anyway; its log: \S+/
    )
    assert.isFalse(existsSync(out.worktree))
    assert.deepStrictEqual(stillRunning(seconds), [], "the hook and what it started are gone")
  })
})
