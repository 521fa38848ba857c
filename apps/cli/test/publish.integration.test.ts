/**
 * Publishing only when asked, end to end with the real binary and a bare repository standing in for
 * `origin`: a plain `spec-orch run` pushes nothing; `--publish` pushes a mergeable run and leaves a
 * blocked one local; `--publish=always` pushes a blocked run too; a push the remote refuses is a
 * publishing problem the evidence names, never a failed run.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { makeProject, type TestProject } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as Record<string, any>
const git = (cwd: string, ...args: Array<string>) =>
  spawnSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@t",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@t"
    }
  })

/** A project with a bare `origin`; `check` decides whether runs are mergeable. */
const withOrigin = (check = "true") => {
  const p = makeProject({ verification: { check } })
  const origin = mkdtempSync(join(tmpdir(), "e2e-origin-"))
  git(origin, "init", "-q", "--bare")
  git(p.root, "remote", "add", "origin", origin)
  git(p.root, "push", "-q", "origin", "HEAD:refs/heads/main")
  return {
    p,
    origin,
    remoteBranch: (branch: string) => git(origin, "rev-parse", "--verify", "-q", `refs/heads/${branch}`).stdout.trim()
  }
}

const publishJson = (p: TestProject, runId: string) =>
  json(readFileSync(join(p.root, ".spec-orch/runs", runId, "publish.json"), "utf8"))

describe("spec-orch run publishes only when asked", () => {
  it("pushes nothing by default, and says how to publish", () => {
    const { p, remoteBranch } = withOrigin()
    p.issue("PUB-1", { builder_prompt: "WRITE a.txt a" })
    const r = p.cli("run", "PUB-1", "--auto-approve", "--json")
    assert.strictEqual(r.status, 0, r.stderr)
    assert.strictEqual(remoteBranch("spec-orch/PUB-1"), "", "nothing left the machine")
    const published = publishJson(p, "PUB-1-r1")
    assert.strictEqual(published.mode, "local")
    assert.include(published.reason, 'not asked to publish ([publish] runs = "never")')
    assert.include(published.reason, "--publish")
  })

  it("--publish pushes a mergeable run, and leaves a blocked one local", () => {
    const { p, remoteBranch } = withOrigin()
    p.issue("PUB-2", { builder_prompt: "WRITE a.txt a" })
    const ok = p.cli("run", "PUB-2", "--auto-approve", "--publish", "--json")
    assert.strictEqual(ok.status, 0, ok.stderr)
    assert.strictEqual(remoteBranch("spec-orch/PUB-2"), json(ok.stdout).headCommit)
    assert.strictEqual(publishJson(p, "PUB-2-r1").push.outcome, "created")

    p.issue("PUB-3", { builder_prompt: "WRITE b.txt b", verification: { check: "false" } })
    const blocked = p.cli("run", "PUB-3", "--auto-approve", "--publish", "--json")
    assert.strictEqual(blocked.status, 1)
    assert.strictEqual(remoteBranch("spec-orch/PUB-3"), "", "a blocked run is not pushed")
    assert.include(publishJson(p, "PUB-3-r1").reason, 'blocked runs are not published ([publish] runs = "mergeable")')
  })

  it("--publish=always pushes a blocked run too", () => {
    const { p, remoteBranch } = withOrigin("false")
    p.issue("PUB-4", { builder_prompt: "WRITE a.txt a" })
    const r = p.cli("run", "PUB-4", "--auto-approve", "--publish=always", "--json")
    assert.strictEqual(r.status, 1)
    assert.strictEqual(json(r.stdout).status, "blocked")
    assert.strictEqual(remoteBranch("spec-orch/PUB-4"), json(r.stdout).headCommit)
  })

  it("a push the remote refuses leaves the verdict standing, names the problem, and says how to recover", () => {
    const { p, origin, remoteBranch } = withOrigin()
    // Someone pushed other work to the run's branch name: the push is not a fast-forward.
    const other = mkdtempSync(join(tmpdir(), "e2e-other-"))
    git(other, "clone", "-q", origin, ".")
    git(other, "commit", "-q", "--allow-empty", "-m", "someone else's work")
    git(other, "push", "-q", "origin", "HEAD:refs/heads/spec-orch/PUB-5")
    const theirs = remoteBranch("spec-orch/PUB-5")
    p.issue("PUB-5", { builder_prompt: "WRITE a.txt a" })
    const r = p.cli("run", "PUB-5", "--auto-approve", "--publish", "--json")
    assert.strictEqual(r.status, 0, r.stderr)
    const out = json(r.stdout)
    assert.strictEqual(out.status, "succeeded", "publishing failed, the run did not")
    assert.isTrue(out.mergeable)
    assert.strictEqual(remoteBranch("spec-orch/PUB-5"), theirs, "their work was not overwritten")
    const published = publishJson(p, "PUB-5-r1")
    assert.include(published.failed, "refused spec-orch/PUB-5")
    const notes = p
      .cli("logs", "PUB-5", "--json")
      .stdout.trim()
      .split("\n")
      .map(json)
      .filter((e) => e.kind === "note")
    assert.isTrue(notes.some((n) => /publishing failed \(the verdict stands\)/.test(n.data.text)))
  })

  it("keeps spec-orch's state directory out of git status, even without a .gitignore entry", () => {
    const { p } = withOrigin()
    writeFileSync(join(p.root, ".gitignore"), "")
    git(p.root, "commit", "-qam", "no ignore entries")
    p.issue("PUB-6", { builder_prompt: "WRITE a.txt a" })
    assert.strictEqual(p.cli("run", "PUB-6", "--auto-approve").status, 0)
    assert.notInclude(git(p.root, "status", "--porcelain").stdout, ".spec-orch")
  })
})
