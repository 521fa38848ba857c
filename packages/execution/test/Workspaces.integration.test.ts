import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigFile, makeRunKey, Project } from "@spec-orch/contract"
import { repoAt, tempBareRemote, tempDir, tempRepo } from "@spec-orch/test-kit"
import { Effect, Layer } from "effect"
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { Verifier, WorkspaceBinding, Workspaces } from "../src/index.js"
import { Boxed } from "./utils/layers.js"

/** A repository, a worktree root outside it, and the Workspaces service over them. */
const setup = (options: { files?: Record<string, string>; config?: Record<string, unknown> } = {}) =>
  Effect.gen(function* () {
    const repo = yield* tempRepo({
      files: options.files ?? { "README.md": "# demo\n", "src/a.ts": "export const a = 1\n", ".gitignore": "*.log\n" }
    })
    const root = yield* tempDir("spec-orch-worktrees-")
    const config = ConfigFile.parse({
      ...options.config,
      workspace: { root, ...(options.config?.workspace as object | undefined) }
    })
    const layer = Workspaces.layer.pipe(
      Layer.provide(Project.layerFrom(repo.path, config)),
      Layer.provide(NodeServices.layer)
    )
    const ws = yield* Effect.provide(Effect.service(Workspaces), layer)
    return { repo, root, ws }
  })

const key = makeRunKey
const inWorktree = (b: WorkspaceBinding) => repoAt(b.path)

describe("Workspaces.prepare", () => {
  it.live("creates a worktree outside the repository on spec-orch/<key> and records the binding", () =>
    Effect.gen(function* () {
      const { repo, root, ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("SPC-1") })
      assert.strictEqual(b.branch, "spec-orch/SPC-1")
      assert.strictEqual(b.repo, repo.path)
      assert.strictEqual(b.baseCommit, repo.head())
      assert.isTrue(b.path.startsWith(`${root}/`), b.path)
      assert.match(relative(root, b.path), /^[^/]+-[0-9a-f]{8}\/SPC-1$/)
      assert.isTrue(relative(repo.path, b.path).startsWith(".."))
      assert.strictEqual(inWorktree(b).git("symbolic-ref", "HEAD"), "refs/heads/spec-orch/SPC-1")
      assert.strictEqual(readFileSync(join(b.path, "src/a.ts"), "utf8"), "export const a = 1\n")
      const record = JSON.parse(readFileSync(join(repo.path, ".spec-orch/workspaces/SPC-1.json"), "utf8"))
      assert.strictEqual(record.path, b.path)
      assert.strictEqual(record.baseCommit, b.baseCommit)
    })
  )

  it.live("reuses the binding on re-run", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup()
      const first = yield* ws.prepare({ runKey: key("SPC-2") })
      writeFileSync(join(first.path, "work.txt"), "in progress\n")
      const second = yield* ws.prepare({ runKey: key("SPC-2") })
      assert.deepStrictEqual(second, first)
      assert.isTrue(existsSync(join(second.path, "work.txt")))
    })
  )

  it.live("branches from [github] base_branch when it exists, and names a base that does not", () =>
    Effect.gen(function* () {
      const { repo, ws } = yield* setup({ config: { github: { base_branch: "develop" } } })
      repo.git("switch", "-q", "-c", "develop")
      const developHead = repo.commit("on develop", { "dev.txt": "d\n" })
      repo.git("switch", "-q", "main")
      const b = yield* ws.prepare({ runKey: key("SPC-3") })
      assert.strictEqual(b.baseCommit, developHead)
      assert.strictEqual(b.baseRef, "develop")
      const error = yield* Effect.flip(ws.prepare({ runKey: key("SPC-4"), base: "no-such-branch" }))
      assert.strictEqual(error.reason._tag, "BaseNotFound")
      assert.include(error.message, `base "no-such-branch" is not a branch, tag or commit`)
    })
  )

  it.live("recreates a deleted worktree from its branch, keeping its commits", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("SPC-5") })
      const commit = inWorktree(b).commit("agent work", { "feature.ts": "export {}\n" })
      rmSync(b.path, { recursive: true, force: true })
      const again = yield* ws.prepare({ runKey: key("SPC-5") })
      assert.strictEqual(again.path, b.path)
      assert.strictEqual(inWorktree(again).head(), commit)
      yield* ws.check(again)
    })
  )

  it.live("continues an existing spec-orch branch after its worktree was removed, measuring from the base", () =>
    Effect.gen(function* () {
      const { repo, ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("SPC-6") })
      const commit = inWorktree(b).commit("first attempt", { "attempt.ts": "1\n" })
      yield* ws.remove("SPC-6", { force: true })
      const again = yield* ws.prepare({ runKey: key("SPC-6") })
      assert.strictEqual(inWorktree(again).head(), commit)
      assert.strictEqual(again.baseCommit, repo.head())
      assert.deepStrictEqual(yield* ws.changedFiles(again), ["attempt.ts"])
    })
  )

  it.live("adopts a worktree whose record was lost", () =>
    Effect.gen(function* () {
      const { repo, ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("SPC-7") })
      writeFileSync(join(b.path, "keep.txt"), "precious\n")
      rmSync(join(repo.path, ".spec-orch/workspaces/SPC-7.json"))
      const again = yield* ws.prepare({ runKey: key("SPC-7") })
      assert.strictEqual(again.path, b.path)
      assert.strictEqual(readFileSync(join(again.path, "keep.txt"), "utf8"), "precious\n")
    })
  )

  it.live("fails clearly outside a git repository", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      const root = yield* tempDir()
      const layer = Workspaces.layer.pipe(
        Layer.provide(Project.layerFrom(dir, ConfigFile.parse({ workspace: { root } }))),
        Layer.provide(NodeServices.layer)
      )
      const error = yield* Effect.flip(
        Effect.flatMap(Effect.service(Workspaces), (ws) => ws.prepare({ runKey: key("X-1") })).pipe(
          Effect.provide(layer)
        )
      )
      assert.strictEqual(error.reason._tag, "NotAGitRepo")
      assert.include(error.message, `${dir} is not inside a git repository`)
    })
  )

  it.live("refuses a worktree root inside the repository", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup({ config: { workspace: { root: "wt" } } })
      const error = yield* Effect.flip(ws.prepare({ runKey: key("X-2") }))
      assert.strictEqual(error.reason._tag, "InvalidWorkspaceRoot")
      assert.include(error.message, "worktrees must live outside it")
    })
  )
})

describe("Workspaces.check", () => {
  it.live("passes for a fresh worktree and fails when it was deleted", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("C-1") })
      yield* ws.check(b)
      rmSync(b.path, { recursive: true, force: true })
      const error = yield* Effect.flip(ws.check(b))
      assert.strictEqual(error.reason._tag, "WorktreeMissing")
      assert.include(error.message, `workspace C-1: the worktree ${b.path} does not exist`)
    })
  )

  it.live("fails on another branch and names both", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("C-2") })
      inWorktree(b).git("switch", "-q", "-c", "elsewhere")
      const error = yield* Effect.flip(ws.check(b))
      assert.strictEqual(error.reason._tag, "WrongBranch")
      assert.include(error.message, "is on branch elsewhere, expected spec-orch/C-2")
    })
  )

  it.live("fails on a detached HEAD", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("C-3") })
      inWorktree(b).git("checkout", "-q", "--detach")
      const error = yield* Effect.flip(ws.check(b))
      assert.strictEqual(error.reason._tag, "Detached")
      assert.include(error.message, "has a detached HEAD")
    })
  )

  it.live("refuses a binding that points at the main checkout or into a worktree's subdirectory", () =>
    Effect.gen(function* () {
      const { repo, ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("C-4") })
      const main = yield* Effect.flip(ws.check(new WorkspaceBinding({ ...b, path: repo.path })))
      assert.strictEqual(main.reason._tag, "NotAWorktree")
      assert.include(main.message, "it is the main checkout")
      const sub = yield* Effect.flip(ws.check(new WorkspaceBinding({ ...b, path: join(b.path, "src") })))
      assert.strictEqual(sub.reason._tag, "NotAWorktree")
      assert.include(sub.message, "it is a directory inside the working tree")
    })
  )

  it.live("refuses a worktree of another repository", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup()
      const other = yield* setup()
      const b = yield* other.ws.prepare({ runKey: key("C-5") })
      const error = yield* Effect.flip(ws.check(b))
      assert.strictEqual(error.reason._tag, "NotAWorktree")
      assert.include(error.message, "it belongs to the repository at")
    })
  )
})

/** A worktree with every kind of change: committed, staged, unstaged, deleted, untracked, ignored, spec-orch artifacts. */
const withChanges = (b: WorkspaceBinding) => {
  const wt = inWorktree(b)
  wt.commit("committed change", { "committed.ts": "export const c = 1\n" })
  wt.write({ "staged.ts": "export const s = 1\n" })
  wt.git("add", "staged.ts")
  wt.write({
    "src/a.ts": "export const a = 2\n",
    "new dir/untracked file.ts": "export {}\n",
    "debug.log": "ignored\n",
    ".spec-orch/runs/r1/report.json": "{}\n"
  })
  wt.git("rm", "-q", "README.md")
  return wt
}

describe("Workspaces.changedFiles", () => {
  it.live(
    "lists committed, staged, unstaged, deleted and untracked files, sorted, without ignored files or spec-orch artifacts",
    () =>
      Effect.gen(function* () {
        const { ws } = yield* setup()
        const b = yield* ws.prepare({ runKey: key("F-1") })
        assert.deepStrictEqual(yield* ws.changedFiles(b), [])
        withChanges(b)
        assert.deepStrictEqual(yield* ws.changedFiles(b), [
          "README.md",
          "committed.ts",
          "new dir/untracked file.ts",
          "src/a.ts",
          "staged.ts"
        ])
      })
  )

  it.live("refuses to report on a worktree that fails the check", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("F-2") })
      inWorktree(b).git("checkout", "-q", "--detach")
      const error = yield* Effect.flip(ws.changedFiles(b))
      assert.strictEqual(error.reason._tag, "Detached")
    })
  )
})

describe("Workspaces.diff", () => {
  it.live("includes committed, uncommitted and untracked changes and leaves the index alone", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("D-1") })
      const wt = withChanges(b)
      const statusBefore = wt.git("status", "--porcelain")
      const diff = yield* ws.diff(b)
      assert.include(diff, "diff --git a/committed.ts b/committed.ts")
      assert.include(diff, "+export const a = 2")
      assert.include(diff, "diff --git a/new dir/untracked file.ts b/new dir/untracked file.ts")
      assert.include(diff, "deleted file mode")
      assert.notInclude(diff, "debug.log")
      assert.notInclude(diff, ".spec-orch")
      assert.strictEqual(wt.git("status", "--porcelain"), statusBefore)
    })
  )
})

describe("Workspaces.commitAll", () => {
  it.live("commits every change the user wants, as spec-orch, and nothing when clean", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("M-1") })
      assert.strictEqual((yield* ws.commitAll(b, "nothing yet")).commit, undefined)
      const wt = withChanges(b)
      const before = { changedFiles: yield* ws.changedFiles(b), diff: yield* ws.diff(b) }
      const { changes, commit, changedFiles, diff } = yield* ws.commitAll(b, "spec-orch: M-1")
      assert.isDefined(commit)
      // Each file with git's status against the base: what the gate needs to tell a new test from an edited one.
      assert.deepStrictEqual(
        changes.map((c) => `${c.status} ${c.path}`),
        ["D README.md", "A committed.ts", "A new dir/untracked file.ts", "M src/a.ts", "A staged.ts"]
      )
      // It reports the change as it was before the commit: the committed work plus what was uncommitted.
      assert.deepStrictEqual(changedFiles, [
        "README.md",
        "committed.ts",
        "new dir/untracked file.ts",
        "src/a.ts",
        "staged.ts"
      ])
      assert.deepStrictEqual({ changedFiles, diff }, before)
      assert.strictEqual(wt.head(), commit)
      assert.strictEqual(
        wt.git("log", "-1", "--format=%an <%ae>|%cn <%ce>|%s"),
        "spec-orch <spec-orch@localhost>|spec-orch <spec-orch@localhost>|spec-orch: M-1"
      )
      const files = wt.git("show", "--name-status", "--format=", "HEAD").split("\n").sort()
      assert.deepStrictEqual(files, ["A\tnew dir/untracked file.ts", "A\tstaged.ts", "D\tREADME.md", "M\tsrc/a.ts"])
      // Ignored files and spec-orch's own artifacts stay out; nothing the user wants is left behind.
      assert.deepStrictEqual(wt.git("status", "--porcelain", "--untracked-files=all").split("\n"), [
        "?? .spec-orch/runs/r1/report.json"
      ])
      const again = yield* ws.commitAll(b, "again")
      assert.strictEqual(again.commit, undefined)
      assert.deepStrictEqual({ changedFiles: again.changedFiles, diff: again.diff }, before)
    })
  )

  it.live("reports awkward file names exactly: spaces, tabs, quotes, non-ASCII, a leading colon", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("M-4") })
      const names = ["a b.ts", "tab\there.ts", 'quo"te.ts', "\u00fcn\u00efcode.ts", ":colon.ts"]
      inWorktree(b).write(Object.fromEntries(names.map((n) => [n, `export const x = ${JSON.stringify(n)}\n`])))
      const before = yield* ws.diff(b)
      const after = yield* ws.commitAll(b, "awkward names")
      assert.deepStrictEqual(after.changedFiles, [...names].sort())
      assert.strictEqual(after.diff, before)
    })
  )

  it.live("never commits spec-orch artifacts even when someone staged them", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("M-2") })
      const wt = inWorktree(b)
      wt.write({ ".spec-orch/state.json": "{}\n", "code.ts": "export {}\n" })
      wt.git("add", "-A")
      const { commit } = yield* ws.commitAll(b, "work")
      assert.isDefined(commit)
      assert.deepStrictEqual(wt.git("show", "--name-only", "--format=", "HEAD").split("\n"), ["code.ts"])
      // Only spec-orch's files staged: nothing to commit, and they are unstaged again.
      wt.write({ ".spec-orch/more.json": "{}\n" })
      wt.git("add", "-f", ".spec-orch/more.json")
      assert.strictEqual((yield* ws.commitAll(b, "nothing of the user's")).commit, undefined)
      assert.strictEqual(wt.git("diff", "--cached", "--name-only"), "")
    })
  )

  it.live("refuses to commit on the wrong branch", () =>
    Effect.gen(function* () {
      const { repo, ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("M-3") })
      const wt = inWorktree(b)
      wt.git("switch", "-q", "-c", "other")
      wt.write({ "x.ts": "export {}\n" })
      const error = yield* Effect.flip(ws.commitAll(b, "should not happen"))
      assert.strictEqual(error.reason._tag, "WrongBranch")
      assert.strictEqual(wt.head(), repo.head())
    })
  )
})

describe("host-side git is inert to the repository's configuration", () => {
  it.live("runs no hook and no fsmonitor the repository configures when it commits, diffs and lists", () =>
    Effect.gen(function* () {
      const { repo, ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("INERT-1") })
      const marker = join(repo.path, "..", `ran-${Date.now()}`)
      const script = `#!/bin/sh\necho "$0" >> ${marker}\nexit 0\n`
      // What an agent with write access to the shared git directory could plant.
      for (const hook of [
        "pre-commit",
        "post-commit",
        "commit-msg",
        "post-checkout",
        "reference-transaction",
        "post-index-change"
      ]) {
        writeFileSync(join(repo.path, ".git", "hooks", hook), script, { mode: 0o755 })
      }
      writeFileSync(join(repo.path, ".git", "evil-fsmonitor"), script, { mode: 0o755 })
      repo.git("config", "core.fsmonitor", join(repo.path, ".git", "evil-fsmonitor"))
      repo.git("config", "core.hooksPath", join(repo.path, ".git", "hooks"))
      inWorktree(b).write({ "feature.ts": "export const f = 1\n" })
      yield* ws.changedFiles(b)
      yield* ws.diff(b)
      const { commit } = yield* ws.commitAll(b, "work")
      yield* ws.list
      assert.isDefined(commit)
      assert.isFalse(existsSync(marker), existsSync(marker) ? readFileSync(marker, "utf8") : "")
    })
  )
})

/** `setup` with the Verifier in context, as the CLI builds it, so `[workspace] before_remove` runs (in the box). */
const setupWithHooks = (beforeRemove: ReadonlyArray<string>, hookTimeoutSeconds?: number) =>
  Effect.gen(function* () {
    const repo = yield* tempRepo({ files: { "README.md": "# demo\n", ".gitignore": "*.log\n" } })
    const root = yield* tempDir("spec-orch-worktrees-")
    const config = ConfigFile.parse({
      workspace: {
        root,
        before_remove: beforeRemove,
        ...(hookTimeoutSeconds !== undefined ? { hook_timeout_seconds: hookTimeoutSeconds } : {})
      }
    })
    const layer = Workspaces.layer.pipe(
      Layer.provide(Project.layerFrom(repo.path, config)),
      Layer.provideMerge(Verifier.layer),
      Layer.provide(Boxed)
    )
    const ws = yield* Effect.provide(Effect.service(Workspaces), layer)
    return { repo, ws }
  })

describe("[workspace] before_remove", () => {
  it.live("runs in the worktree before it is removed and keeps its log", () =>
    Effect.gen(function* () {
      const { ws } = yield* setupWithHooks(["cat README.md; echo stopping the dev server"])
      const b = yield* ws.prepare({ runKey: key("BR-1") })
      const done = yield* ws.remove("BR-1")
      assert.isFalse(existsSync(b.path))
      assert.isTrue(done.beforeRemove?.passed)
      const log = readFileSync(
        join(done.beforeRemove!.logDir!, readdirSync(done.beforeRemove!.logDir!).find((f) => f.endsWith(".log"))!),
        "utf8"
      )
      // It ran in the worktree (its README) before the worktree went.
      assert.include(log, "# demo")
      assert.include(log, "stopping the dev server")
    })
  )

  it.live("a failing hook is reported, and the worktree is removed anyway", () =>
    Effect.gen(function* () {
      const { ws } = yield* setupWithHooks(["echo could not archive the logs >&2; exit 3"])
      const b = yield* ws.prepare({ runKey: key("BR-2") })
      const done = yield* ws.remove("BR-2")
      assert.isFalse(existsSync(b.path))
      assert.isUndefined(yield* ws.get("BR-2"))
      assert.isFalse(done.beforeRemove?.passed)
      assert.include(done.beforeRemove!.summary, "failed (exit 3)")
      assert.include(done.beforeRemove!.summary, "the worktree was removed anyway")
      const logPath = /its log: (\S+)$/.exec(done.beforeRemove!.summary)![1]!
      assert.include(readFileSync(logPath, "utf8"), "could not archive the logs")
    })
  )

  it.live(
    "a hook that hangs is killed at hook_timeout_seconds, with what it started; the worktree is removed anyway and the report says so",
    () =>
      Effect.gen(function* () {
        // A unique sleep, so the test can tell whether this hook's processes outlived it.
        const seconds = 3000 + Math.floor(Math.random() * 100_000)
        const { ws } = yield* setupWithHooks([`echo stopping the dev server; sleep ${seconds} & sleep ${seconds}`], 1)
        const b = yield* ws.prepare({ runKey: key("BR-5") })
        const done = yield* ws.remove("BR-5")
        assert.isFalse(existsSync(b.path))
        assert.isUndefined(yield* ws.get("BR-5"))
        assert.isFalse(done.beforeRemove?.passed)
        assert.match(
          done.beforeRemove!.summary,
          /^\[workspace\] before_remove command .* timed out: no exit after 1 s.*; the worktree was removed anyway; its log: \S+$/
        )
        assert.isTrue(existsSync(/its log: (\S+)$/.exec(done.beforeRemove!.summary)![1]!), "its log is kept")
        const left = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
          .split("\n")
          .filter((l) => l.includes(`sleep ${seconds}`))
        assert.deepStrictEqual(left, [], "nothing the hook started is still running")
      })
  )

  it.live("clean runs it for each worktree it removes and says when it failed", () =>
    Effect.gen(function* () {
      const { ws } = yield* setupWithHooks(["test ! -e keep-me || { echo refusing >&2; exit 4; }"])
      const ok = yield* ws.prepare({ runKey: key("BR-3") })
      const bad = yield* ws.prepare({ runKey: key("BR-4") })
      writeFileSync(join(bad.path, "keep-me.log"), "x\n")
      writeFileSync(join(bad.path, "keep-me"), "x\n")
      const report = yield* ws.clean({ all: true, force: true })
      assert.isFalse(existsSync(ok.path))
      assert.isFalse(existsSync(bad.path))
      const byKey = new Map(report.removed.map((r) => [r.runKey, r]))
      assert.isTrue(byKey.get("BR-3")?.beforeRemove?.passed)
      assert.notInclude(byKey.get("BR-3")!.note, "before_remove")
      assert.isFalse(byKey.get("BR-4")?.beforeRemove?.passed)
      assert.include(byKey.get("BR-4")!.note, "before_remove command")
      assert.include(byKey.get("BR-4")!.note, "failed (exit 4)")
    })
  )
})

describe("Workspaces.remove", () => {
  it.live("refuses to delete uncommitted work and lists the files", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("R-1") })
      inWorktree(b).write({ "unsaved.ts": "export {}\n", "src/a.ts": "changed\n" })
      const error = yield* Effect.flip(ws.remove("R-1"))
      assert.strictEqual(error.reason._tag, "WouldLoseWork")
      assert.include(error.message, "2 uncommitted file(s): src/a.ts, unsaved.ts")
      assert.include(error.message, "use --force")
      assert.isTrue(existsSync(join(b.path, "unsaved.ts")))
      assert.isDefined(yield* ws.get("R-1"))
    })
  )

  it.live("refuses to delete unpushed commits, and removes once they are pushed", () =>
    Effect.gen(function* () {
      const { repo, ws } = yield* setup()
      yield* tempBareRemote(repo)
      const b = yield* ws.prepare({ runKey: key("R-2") })
      const wt = inWorktree(b)
      const commit = wt.commit("add the feature", { "feature.ts": "export {}\n" })
      const error = yield* Effect.flip(ws.remove("R-2", { deleteBranch: true }))
      assert.strictEqual(error.reason._tag, "WouldLoseWork")
      assert.include(error.message, `1 unpushed commit(s): ${commit.slice(0, 8)} add the feature`)
      wt.git("push", "-q", "origin", "spec-orch/R-2")
      yield* ws.remove("R-2", { deleteBranch: true })
      assert.isFalse(existsSync(b.path))
      assert.isUndefined(yield* ws.get("R-2"))
      assert.strictEqual(repo.git("branch", "--list", "spec-orch/R-2"), "")
      assert.notInclude(repo.git("worktree", "list"), b.path)
    })
  )

  it.live("treats commits merged into the base as safe", () =>
    Effect.gen(function* () {
      const { repo, ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("R-3") })
      inWorktree(b).commit("merged later", { "m.ts": "export {}\n" })
      repo.git("merge", "-q", "--ff-only", "spec-orch/R-3")
      const st = yield* ws.status("R-3")
      assert.deepStrictEqual(st.unpushed, [])
      yield* ws.remove("R-3")
    })
  )

  it.live("removes anyway with force, keeping the branch unless asked", () =>
    Effect.gen(function* () {
      const { repo, ws } = yield* setup()
      const b = yield* ws.prepare({ runKey: key("R-4") })
      const commit = inWorktree(b).commit("local only", { "l.ts": "export {}\n" })
      inWorktree(b).write({ "dirty.ts": "x\n" })
      yield* ws.remove("R-4", { force: true })
      assert.isFalse(existsSync(b.path))
      assert.strictEqual(repo.head("spec-orch/R-4"), commit)
      const unknown = yield* Effect.flip(ws.remove("R-4"))
      assert.strictEqual(unknown.reason._tag, "WorkspaceUnknown")
      assert.include(unknown.message, "no workspace for R-4")
    })
  )
})

describe("Workspaces.list and clean", () => {
  it.live("reports clean, dirty and missing workspaces with their unpushed commits", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup()
      const clean = yield* ws.prepare({ runKey: key("L-1") })
      const dirty = yield* ws.prepare({ runKey: key("L-2") })
      const gone = yield* ws.prepare({ runKey: key("L-3") })
      inWorktree(dirty).write({ "wip.ts": "x\n" })
      inWorktree(clean).commit("one", { "one.ts": "1\n" })
      rmSync(gone.path, { recursive: true, force: true })
      const all = yield* ws.list
      assert.deepStrictEqual(
        all.map((s) => [s.binding.runKey, s.state, s.uncommitted.length, s.unpushed.length, s.commitsAhead]),
        [
          ["L-1", "clean", 0, 1, 1],
          ["L-2", "dirty", 1, 0, 0],
          ["L-3", "missing", 0, 0, 0]
        ]
      )
    })
  )

  it.live("drops missing and finished workspaces, keeps unfinished ones and uncommitted work", () =>
    Effect.gen(function* () {
      const { repo, ws } = yield* setup()
      const gone = yield* ws.prepare({ runKey: key("K-1") })
      const done = yield* ws.prepare({ runKey: key("K-2") })
      const doneDirty = yield* ws.prepare({ runKey: key("K-3") })
      const running = yield* ws.prepare({ runKey: key("K-4") })
      const local = yield* ws.prepare({ runKey: key("K-5") })
      rmSync(gone.path, { recursive: true, force: true })
      inWorktree(doneDirty).write({ "wip.ts": "x\n" })
      inWorktree(local).commit("not pushed", { "n.ts": "1\n" })
      for (const k of ["K-2", "K-3", "K-5"]) yield* ws.markFinished(k)
      const report = yield* ws.clean()
      assert.deepStrictEqual(
        report.removed.map((r) => [r.runKey, r.branchDeleted]),
        [
          ["K-1", false],
          ["K-2", true],
          ["K-5", false]
        ]
      )
      assert.deepStrictEqual(
        report.kept.map((k) => k.runKey),
        ["K-3", "K-4"]
      )
      assert.include(report.kept[0]!.reason, "1 uncommitted file(s): wip.ts")
      assert.isFalse(existsSync(done.path))
      assert.isTrue(existsSync(running.path))
      assert.isTrue(existsSync(join(doneDirty.path, "wip.ts")))
      // The unpushed commit survives on its branch.
      assert.strictEqual(repo.git("log", "-1", "--format=%s", "spec-orch/K-5"), "not pushed")
      const forced = yield* ws.clean({ force: true })
      assert.deepStrictEqual(
        forced.removed.map((r) => r.runKey),
        ["K-3"]
      )
      assert.deepStrictEqual(
        (yield* ws.list).map((s) => s.binding.runKey),
        ["K-4"]
      )
    })
  )
})
