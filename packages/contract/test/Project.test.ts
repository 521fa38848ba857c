import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Project } from "../src/index.js"

const load = (options: { start: string; configFile?: string }) =>
  Effect.service(Project).pipe(Effect.provide(Project.layer(options).pipe(Layer.provide(NodeServices.layer))))

describe("Project.load", () => {
  it.effect("finds spec-orch.toml up from the start, and the project is where it lives", () =>
    Effect.gen(function* () {
      const repo = mkdtempSync(join(tmpdir(), "project-"))
      mkdirSync(join(repo, ".git"))
      mkdirSync(join(repo, "src/deep"), { recursive: true })
      writeFileSync(join(repo, "spec-orch.toml"), '[issue]\nfixtures_dir = "issues"\n')
      const p = yield* load({ start: join(repo, "src/deep") })
      assert.strictEqual(p.root, repo)
      assert.strictEqual(p.resolve(p.config.issue.fixtures_dir), join(repo, "issues"))
    })
  )

  it.effect("with --config outside the project, the project is still the repository --cwd is in", () =>
    Effect.gen(function* () {
      const repo = mkdtempSync(join(tmpdir(), "project-"))
      mkdirSync(join(repo, ".git"))
      mkdirSync(join(repo, "sub"))
      const elsewhere = mkdtempSync(join(tmpdir(), "configs-"))
      writeFileSync(join(elsewhere, "ci.toml"), '[issue]\nfixtures_dir = "issues"\n')
      const p = yield* load({ start: join(repo, "sub"), configFile: join(elsewhere, "ci.toml") })
      assert.strictEqual(p.root, repo)
      assert.strictEqual(p.configFile, join(elsewhere, "ci.toml"))
      assert.strictEqual(p.stateDir, join(repo, ".spec-orch"))
      assert.strictEqual(p.resolve(p.config.issue.fixtures_dir), join(repo, "issues"))
    })
  )

  it.effect("fails with FileMissing when the start is not a directory, before looking for a config", () =>
    Effect.gen(function* () {
      const repo = mkdtempSync(join(tmpdir(), "project-"))
      writeFileSync(join(repo, "spec-orch.toml"), "")
      const file = join(repo, "spec-orch.toml")
      const missing = yield* Effect.flip(load({ start: join(repo, "nope") }))
      assert.strictEqual(missing.message, `project directory not found: ${join(repo, "nope")} (check --cwd)`)
      const notDir = yield* Effect.flip(load({ start: file }))
      assert.strictEqual(notDir.message, `project directory not found: ${file} (it is not a directory: check --cwd)`)
    })
  )
})
