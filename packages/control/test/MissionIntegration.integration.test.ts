/**
 * MissionIntegration against real git repositories: the mission branch, `--no-ff` merges in its own
 * worktree, conflicts aborted and named, a dirty or mid-merge worktree left alone, and a merge left
 * behind by a killed process undone.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { defaultConfig, Project } from "@spec-orch/contract"
import { gitEnv, makeTempDir, removeDir, tempRepo, type TempRepo } from "@spec-orch/test-kit"
import { Effect, Layer } from "effect"
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { MissionIntegration } from "../src/mission/MissionIntegration.js"

/** Runs git and returns its exit code (for commands expected to fail, like a conflicting merge). */
const gitCode = (cwd: string, ...args: Array<string>) =>
  spawnSync("git", args, { cwd, env: { ...process.env, ...gitEnv }, stdio: "ignore" }).status

/** A packet branch `spec-orch/<key>` from `from` with one commit writing `files`. */
const packetBranch = (repo: TempRepo, key: string, files: Record<string, string>, from = "spec-orch/mission/m1") => {
  repo.git("branch", `spec-orch/${key}`, from)
  repo.git("checkout", "-q", `spec-orch/${key}`)
  const sha = repo.commit(`work on ${key}`, files)
  repo.git("checkout", "-q", "main")
  return sha
}

const input = (worktreesDir: string, packetId: string) => ({
  missionId: "m1",
  packetId,
  runId: `m1.${packetId}-r1`,
  title: `Packet ${packetId}`,
  branch: `spec-orch/m1.${packetId}`,
  worktreesDir
})

/** Runs `body` with a fresh repository, a worktrees directory outside it, and MissionIntegration over them. */
const withRepo = <A, E>(
  body: (w: {
    readonly repo: TempRepo
    readonly worktrees: string
    readonly mi: MissionIntegration["Service"]
  }) => Effect.Effect<A, E>
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const repo = yield* tempRepo({ files: { "README.md": "# app\n", "CHANGELOG.md": "start\n" } })
      const worktrees = yield* Effect.acquireRelease(
        Effect.sync(() => makeTempDir("spec-orch-wt-")),
        (d) => Effect.sync(() => removeDir(d))
      )
      const layer = MissionIntegration.layer.pipe(
        Layer.provide(Project.layerFrom(repo.path, defaultConfig())),
        Layer.provide(NodeServices.layer)
      )
      return yield* Effect.gen(function* () {
        const mi = yield* MissionIntegration
        return yield* body({ repo, worktrees, mi })
      }).pipe(Effect.provide(layer))
    })
  )

describe("MissionIntegration", () => {
  it.live(
    "creates the mission branch at the base once, merges a packet with --no-ff, and knows what is already merged",
    () =>
      withRepo(({ repo, worktrees, mi }) =>
        Effect.gen(function* () {
          const base = repo.head()
          assert.deepStrictEqual(yield* mi.ensureBranch("m1"), {
            branch: "spec-orch/mission/m1",
            head: base,
            created: true
          })
          repo.commit("main moves on", { "other.txt": "x\n" })
          assert.deepStrictEqual(
            yield* mi.ensureBranch("m1"),
            { branch: "spec-orch/mission/m1", head: base, created: false },
            "an existing mission branch is kept"
          )

          const tip = packetBranch(repo, "m1.api", { "src/api.js": "api\n" })
          const first = yield* mi.integrate(input(worktrees, "api"))
          assert.strictEqual(first.integration.outcome, "merged", first.integration.message)
          assert.strictEqual(first.worktree, join(worktrees, ".missions", "m1"))
          const merge = repo.git("rev-parse", "spec-orch/mission/m1")
          assert.strictEqual(first.integration.commit, merge)
          assert.strictEqual(first.integration.tip, tip)
          assert.strictEqual(
            repo.git("rev-list", "--parents", "-n", "1", merge).split(" ").length,
            3,
            "a merge commit (--no-ff)"
          )
          assert.strictEqual(repo.git("log", "-1", "--format=%s", merge), "spec-orch: merge packet api into mission m1")
          assert.strictEqual(repo.git("show", "spec-orch/mission/m1:src/api.js"), "api")

          const second = yield* mi.integrate(input(worktrees, "api"))
          assert.strictEqual(second.integration.outcome, "up-to-date")
          assert.strictEqual(repo.git("rev-parse", "spec-orch/mission/m1"), merge, "nothing new was committed")

          const missing = yield* mi.integrate(input(worktrees, "ghost"))
          assert.strictEqual(missing.integration.outcome, "error")
          assert.strictEqual(missing.integration.message, "the packet branch spec-orch/m1.ghost does not exist")
        })
      ),
    60_000
  )

  it.live(
    "aborts a conflicting merge, names the files, leaves the branch as it was, and sees a resolution made by hand",
    () =>
      withRepo(({ repo, worktrees, mi }) =>
        Effect.gen(function* () {
          yield* mi.ensureBranch("m1")
          packetBranch(repo, "m1.a", { "CHANGELOG.md": "from a\n", "a.js": "a\n" })
          packetBranch(repo, "m1.b", { "CHANGELOG.md": "from b\n", "b.js": "b\n" })
          assert.strictEqual((yield* mi.integrate(input(worktrees, "a"))).integration.outcome, "merged")
          const before = repo.git("rev-parse", "spec-orch/mission/m1")
          const { integration, worktree } = yield* mi.integrate(input(worktrees, "b"))
          assert.strictEqual(integration.outcome, "conflict")
          assert.deepStrictEqual(integration.files, ["CHANGELOG.md"])
          assert.match(
            integration.message,
            /^merging spec-orch\/m1\.b into spec-orch\/mission\/m1 conflicts in CHANGELOG\.md; the merge was aborted/
          )
          assert.strictEqual(repo.git("rev-parse", "spec-orch/mission/m1"), before)
          assert.strictEqual(repo.git("-C", worktree, "status", "--porcelain"), "")
          assert.strictEqual(repo.git("show", "spec-orch/mission/m1:CHANGELOG.md"), "from a")

          // Someone resolves it by hand in the mission worktree, as the message says.
          assert.strictEqual(gitCode(worktree, "merge", "spec-orch/m1.b"), 1)
          writeFileSync(join(worktree, "CHANGELOG.md"), "from a and b\n")
          repo.git("-C", worktree, "add", "CHANGELOG.md")
          repo.git("-C", worktree, "commit", "-q", "--no-edit")
          assert.strictEqual((yield* mi.integrate(input(worktrees, "b"))).integration.outcome, "up-to-date")
        })
      ),
    60_000
  )

  it.live(
    "leaves a mission worktree alone when someone is mid-merge or has uncommitted changes, and undoes a merge its own crash left",
    () =>
      withRepo(({ repo, worktrees, mi }) =>
        Effect.gen(function* () {
          yield* mi.ensureBranch("m1")
          packetBranch(repo, "m1.a", { "CHANGELOG.md": "from a\n" })
          packetBranch(repo, "m1.b", { "CHANGELOG.md": "from b\n" })
          packetBranch(repo, "m1.c", { "c.js": "c\n" })
          const { worktree } = yield* mi.integrate(input(worktrees, "a"))

          writeFileSync(join(worktree, "CHANGELOG.md"), "edited by a person\n")
          const dirty = yield* mi.integrate(input(worktrees, "c"))
          assert.strictEqual(dirty.integration.outcome, "error")
          assert.strictEqual(
            dirty.integration.message,
            `the mission worktree ${worktree} has uncommitted changes (CHANGELOG.md); commit or discard them`
          )
          repo.git("-C", worktree, "checkout", "--", "CHANGELOG.md")

          // A person's unfinished merge is theirs.
          assert.strictEqual(gitCode(worktree, "merge", "spec-orch/m1.b"), 1)
          const busy = yield* mi.integrate(input(worktrees, "c"))
          assert.strictEqual(busy.integration.outcome, "error")
          assert.match(
            busy.integration.message,
            /has a merge in progress; finish it .* or abort it \(`git -C .* merge --abort`\)$/
          )
          assert.isTrue(
            existsSync(join(repo.git("-C", worktree, "rev-parse", "--absolute-git-dir"), "MERGE_HEAD")),
            "untouched"
          )

          // The same state with spec-orch's marker is a merge its killed process left: undone, then the merge goes on.
          const marker = join(repo.path, ".spec-orch", "missions", "m1.merging")
          mkdirSync(join(repo.path, ".spec-orch", "missions"), { recursive: true })
          writeFileSync(marker, "b\n")
          const recovered = yield* mi.integrate(input(worktrees, "c"))
          assert.strictEqual(recovered.integration.outcome, "merged", recovered.integration.message)
          assert.isFalse(existsSync(marker))
          assert.strictEqual(repo.git("show", "spec-orch/mission/m1:c.js"), "c")
          assert.strictEqual(repo.git("show", "spec-orch/mission/m1:CHANGELOG.md"), "from a")
        })
      ),
    60_000
  )
})
