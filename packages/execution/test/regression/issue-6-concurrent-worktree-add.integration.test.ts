/**
 * Issue 6 (mission waves): the packets of a wave prepare their worktrees at the same time, and
 * concurrent `git worktree add`s in one repository failed with "failed to read
 * .git/worktrees/<other>/commondir". Every prepare must succeed, each on its own branch.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigFile, makeRunKey, Project } from "@spec-orch/contract"
import { repoAt, tempDir, tempRepo } from "@spec-orch/test-kit"
import { Effect, Layer } from "effect"
import { Workspaces } from "../../src/index.js"

describe("Workspaces.prepare, many at once", () => {
  it.live(
    "prepares 16 worktrees of one repository concurrently",
    () =>
      Effect.gen(function* () {
        const repo = yield* tempRepo()
        const root = yield* tempDir("spec-orch-worktrees-")
        const layer = Workspaces.layer.pipe(
          Layer.provide(Project.layerFrom(repo.path, ConfigFile.parse({ workspace: { root } }))),
          Layer.provide(NodeServices.layer)
        )
        const ws = yield* Effect.provide(Effect.service(Workspaces), layer)
        const keys = Array.from({ length: 16 }, (_, i) => makeRunKey(`m.p${i}`))
        const bindings = yield* Effect.forEach(keys, (runKey) => ws.prepare({ runKey }), { concurrency: "unbounded" })
        assert.deepStrictEqual(
          bindings.map((b) => b.branch),
          keys.map((k) => `spec-orch/${k}`)
        )
        for (const b of bindings)
          assert.strictEqual(repoAt(b.path).git("symbolic-ref", "HEAD"), `refs/heads/${b.branch}`)
      }),
    120_000
  )
})
