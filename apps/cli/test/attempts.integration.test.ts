/**
 * Attempts that say what they start from, end to end with the real binary: a new attempt starts over
 * from the base unless asked to continue (the old commits stay reachable), a fix a person made by hand
 * is committed as theirs on a rerun, and a rerun whose branch is gone refuses instead of judging the base.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { makeProject } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as Record<string, any>
const git = (cwd: string, ...args: Array<string>) => spawnSync("git", args, { cwd, encoding: "utf8" }).stdout.trim()

describe("attempts", () => {
  it("a new attempt starts over from the base and says so; --continue builds on the previous one", () => {
    const p = makeProject()
    p.issue("ATT-1", { builder_prompt: "WRITE notes.txt one" })
    const first = json(p.cli("run", "ATT-1", "--auto-approve", "--json").stdout)
    const firstHead = first.headCommit as string
    writeFileSync(
      join(p.root, "fixtures/issues/ATT-1.json"),
      p.read("fixtures/issues/ATT-1.json").replace("WRITE notes.txt one", "WRITE other.txt two")
    )
    const fresh = p.cli("run", "ATT-1", "--auto-approve", "--new-attempt", "--json")
    assert.strictEqual(fresh.status, 0, fresh.stderr)
    const second = json(fresh.stdout)
    assert.strictEqual(second.runId, "ATT-1-r2")
    assert.isFalse(
      existsSync(join(second.worktree, "notes.txt")),
      "the first attempt's change is not in the fresh worktree"
    )
    assert.deepStrictEqual(
      json(readFileSync(join(p.root, ".spec-orch/runs/ATT-1-r2/evidence.json"), "utf8")).changedFiles,
      ["other.txt"]
    )
    assert.include(
      git(p.root, "for-each-ref", "--format=%(objectname)", "refs/spec-orch/attempts/ATT-1/"),
      firstHead,
      "the first attempt's commits are kept"
    )
    assert.include(
      readFileSync(join(p.root, ".spec-orch/runs/ATT-1-r2/prompt.md"), "utf8"),
      "It starts over from the base commit"
    )
    const notes = p
      .cli("logs", "ATT-1", "--json")
      .stdout.trim()
      .split("\n")
      .map(json)
      .filter((e) => e.runId === "ATT-1-r2" && e.kind === "note")
    assert.isTrue(notes.some((n) => /attempt 2 starts over from the base/.test(n.data.text)))

    writeFileSync(
      join(p.root, "fixtures/issues/ATT-1.json"),
      p.read("fixtures/issues/ATT-1.json").replace("WRITE other.txt two", "WRITE third.txt three")
    )
    const cont = json(p.cli("run", "ATT-1", "--auto-approve", "--new-attempt", "--continue", "--json").stdout)
    assert.isTrue(existsSync(join(cont.worktree, "other.txt")), "the previous attempt's work is there")
    assert.include(
      readFileSync(join(p.root, ".spec-orch/runs/ATT-1-r3/prompt.md"), "utf8"),
      "It continues the previous attempt"
    )
  })

  it("a rerun commits a person's fix by hand as theirs, not as built by the agent", () => {
    const p = makeProject({ verification: { check: "test -f fixed.txt" } })
    p.issue("ATT-2", { builder_prompt: "WRITE a.txt a" })
    const first = json(p.cli("run", "ATT-2", "--auto-approve", "--json").stdout)
    assert.strictEqual(first.status, "blocked")
    writeFileSync(join(first.worktree, "fixed.txt"), "fixed by a person\n")
    const again = p.cli("rerun", "ATT-2", "--json")
    assert.strictEqual(again.status, 0, again.stderr)
    const log = git(first.worktree, "log", "-1", "--format=%an <%ae>|%s")
    const me = `${git(p.root, "config", "user.name")} <${git(p.root, "config", "user.email")}>`
    assert.strictEqual(log, `${me}|ATT-2: changes made by hand in the worktree`)
  })

  it("a rerun whose branch is gone refuses, saying how to start again, instead of judging the base", () => {
    const p = makeProject()
    p.issue("ATT-3", { builder_prompt: "WRITE a.txt a" })
    assert.strictEqual(p.cli("run", "ATT-3", "--auto-approve").status, 0)
    assert.strictEqual(p.cli("workspace", "remove", "ATT-3", "--force", "--delete-branch").status, 0)
    const r = p.cli("rerun", "ATT-3")
    assert.strictEqual(r.status, 1)
    assert.include(r.stderr, "its branch spec-orch/ATT-3 is gone")
    assert.include(r.stderr, "spec-orch run ATT-3 --new-attempt")
  })

  it("status and the run's explain.md show a person's acceptance at once, with the checklist ticked", () => {
    const p = makeProject({ profile: "reviewed" })
    p.issue("ATT-4", { builder_prompt: "WRITE a.txt a" })
    const first = json(p.cli("run", "ATT-4", "--auto-approve", "--json").stdout)
    assert.strictEqual(first.status, "blocked")
    assert.strictEqual(p.cli("review-issue", "ATT-4", "--verdict", "pass", "--reviewed-by", "ada").status, 0)
    const accepted = p.cli("accept-issue", "ATT-4", "--accepted-by", "ada")
    assert.strictEqual(accepted.status, 0, accepted.stderr)
    const [status] = json(p.cli("status", "ATT-4", "--json").stdout) as unknown as Array<Record<string, any>>
    assert.deepStrictEqual([status!.status, status!.mergeable], ["succeeded", true])
    const explain = readFileSync(join(p.root, ".spec-orch/runs/ATT-4-r1/explain.md"), "utf8")
    assert.match(explain, /\*\*Verdict: MERGEABLE\*\*/)
    assert.include(explain, "- [x] The change does what the issue asks")
    assert.notInclude(explain, "- [ ]")
  })

  it("workspace clean removes a finished run's worktree (its branch stays), and a later run takes the key up again", () => {
    const p = makeProject()
    p.issue("ATT-5", { builder_prompt: "WRITE a.txt a" })
    const first = json(p.cli("run", "ATT-5", "--auto-approve", "--json").stdout)
    const cleaned = p.cli("workspace", "clean", "--json")
    assert.strictEqual(cleaned.status, 0, cleaned.stderr)
    assert.deepStrictEqual(
      json(cleaned.stdout).removed.map((r: any) => r.runKey),
      ["ATT-5"]
    )
    assert.isFalse(existsSync(first.worktree), "the finished run's worktree is gone")
    assert.strictEqual(
      git(p.root, "rev-parse", "--verify", "-q", "refs/heads/spec-orch/ATT-5"),
      first.headCommit,
      "its branch stays (unpushed work)"
    )
    const again = json(p.cli("run", "ATT-5", "--auto-approve", "--new-attempt", "--continue", "--json").stdout)
    assert.isTrue(existsSync(join(again.worktree, "a.txt")), "the worktree came back from the branch")
  })

  it("an agent that failed and changed nothing is not followed by verification of the base", () => {
    const marker = "verified-the-base"
    const p = makeProject({ verification: { check: `echo ${marker}` } })
    p.issue("ATT-6", { builder_prompt: "FAIL the model is unreachable" })
    const run = p.cli("run", "ATT-6", "--auto-approve")
    assert.strictEqual(run.status, 1)
    assert.include(run.stdout, "ATT-6: BLOCKED")
    assert.match(run.stderr, /^✗ agent \(\d+\.\ds\): .*the model is unreachable$/m)
    assert.match(
      run.stderr,
      /^– verify \(\d+\.\ds\): not run: the agent failed and changed nothing/m,
      "progress never shows ✓ on a verification that did not run"
    )
    const evidence = json(readFileSync(join(p.root, ".spec-orch/runs/ATT-6-r1/evidence.json"), "utf8"))
    assert.deepStrictEqual(
      evidence.verification.steps.map((s: any) => s.outcome),
      ["skipped"]
    )
    assert.include(evidence.verification.notes[0], "the agent failed and changed nothing")
    const explain = readFileSync(join(p.root, ".spec-orch/runs/ATT-6-r1/explain.md"), "utf8")
    assert.include(explain, "the model is unreachable")
  })

  it("says which uncommitted files in the checkout the run will not see", () => {
    const p = makeProject()
    writeFileSync(join(p.root, "draft.md"), "not committed\n")
    p.issue("ATT-7", { builder_prompt: "WRITE a.txt a" })
    const r = p.cli("run", "ATT-7", "--auto-approve")
    assert.strictEqual(r.status, 0, r.stderr)
    assert.include(r.stderr, "uncommitted file(s) in your checkout are not in the run's worktree")
    assert.include(r.stderr, "draft.md")
  })
})
