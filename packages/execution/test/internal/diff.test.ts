import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { splitRawPatch } from "../../src/internal/diff.js"
import { statusPaths } from "../../src/internal/git.js"

/** A real repository with a base commit and a second one that adds, modifies and deletes files. */
const twoCommits = () => {
  const dir = mkdtempSync(join(tmpdir(), "spec-orch-diff-"))
  const git = (...args: Array<string>) =>
    execFileSync("git", ["-c", "core.hooksPath=/dev/null", ...args], {
      cwd: dir,
      encoding: "utf8",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@t",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@t"
      }
    })
  git("init", "-q")
  writeFileSync(join(dir, "kept.txt"), "one\n")
  writeFileSync(join(dir, "gone.txt"), "bye\n")
  git("add", "-A")
  git("commit", "-q", "-m", "base")
  writeFileSync(join(dir, "kept.txt"), "two\n")
  unlinkSync(join(dir, "gone.txt"))
  writeFileSync(join(dir, "new\nline name.txt"), "hi\n")
  git("add", "-A")
  git("commit", "-q", "-m", "work")
  return { dir, git }
}

describe("splitRawPatch", () => {
  it("reads git's raw records and patch from one call, as --name-status and -p would", () => {
    const { dir, git } = twoCommits()
    try {
      const out = git("diff", "-z", "--raw", "-p", "--no-renames", "--no-color", "HEAD~1", "HEAD")
      const split = splitRawPatch(out)
      assert.deepStrictEqual(split.changedFiles, ["gone.txt", "kept.txt", "new\nline name.txt"])
      assert.deepStrictEqual(
        split.changes.map((c) => `${c.status} ${c.path}`),
        ["D gone.txt", "M kept.txt", "A new\nline name.txt"]
      )
      assert.strictEqual(split.diff, git("diff", "-p", "--no-renames", "--no-color", "HEAD~1", "HEAD"))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("reads an empty diff as no changes", () => {
    assert.deepStrictEqual(splitRawPatch(""), { changedFiles: [], changes: [], diff: "" })
  })
})

describe("statusPaths", () => {
  it("lists uncommitted paths sorted, a rename by its new name only", () => {
    const { dir, git } = twoCommits()
    try {
      git("mv", "kept.txt", "renamed.txt")
      writeFileSync(join(dir, "untracked.txt"), "x\n")
      const out = git("status", "--porcelain=v1", "-z", "--untracked-files=all")
      assert.deepStrictEqual(statusPaths(out), ["renamed.txt", "untracked.txt"])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
