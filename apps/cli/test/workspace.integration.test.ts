import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { makeRunKey, Project } from "@spec-orch/contract"
import { Workspaces } from "@spec-orch/execution"
import { repoAt, tempDir, tempRepo } from "@spec-orch/test-kit"
import { Effect, Layer } from "effect"
import { TestConsole } from "effect/testing"
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { runCli } from "../src/Cli.js"

/** A project repository with [verification] steps, fixture issues and a worktree root outside it. */
const project = Effect.gen(function* () {
  const root = yield* tempDir("spec-orch-cli-wt-")
  const repo = yield* tempRepo({
    files: {
      "spec-orch.toml": [
        "[workspace]",
        `root = "${root}"`,
        "",
        "[verification]",
        `greet = ["node", "-e", "console.log('hello from ' + process.cwd())"]`,
        `marker = "test -f marker.txt || { echo 'marker.txt is missing' >&2; exit 2; }"`,
        ""
      ].join("\n"),
      "fixtures/issues/V-1.json": JSON.stringify({ issue_id: "V-1", title: "Verify me", summary: "s" }),
      "fixtures/issues/V-2.json": JSON.stringify({ issue_id: "V-2", title: "No worktree", summary: "s" }),
      ".gitignore": ".spec-orch/\n"
    }
  })
  const workspaces = yield* Effect.service(Workspaces).pipe(
    Effect.provide(
      Workspaces.layer.pipe(Layer.provide(Project.layer({ start: repo.path })), Layer.provide(NodeServices.layer))
    )
  )
  return { repo, root, workspaces }
})

/** Runs the CLI in-process; returns the exit code and what it printed. */
const cli = (...args: Array<string>) =>
  Effect.gen(function* () {
    const code = yield* runCli(args)
    const out = (yield* TestConsole.logLines).map(String).join("\n")
    const err = (yield* TestConsole.errorLines).map(String).join("\n")
    return { code, out, err }
  }).pipe(Effect.provide(Layer.merge(TestConsole.layer, NodeServices.layer)))

describe("spec-orch verify", () => {
  it.live("runs the configured steps in the issue's worktree, logs them, and exits 1 when one fails", () =>
    Effect.gen(function* () {
      const { repo, workspaces } = yield* project
      const b = yield* workspaces.prepare({ runKey: makeRunKey("V-1") })
      const failing = yield* cli("--cwd", repo.path, "verify", "V-1")
      assert.strictEqual(failing.code, 1)
      assert.include(failing.out, `Verifying V-1 in ${b.path} (2 step(s))`)
      assert.include(failing.out, "✓ greet")
      assert.include(failing.out, "✗ marker failed (exit 2)")
      assert.include(failing.out, "marker.txt is missing")
      assert.include(failing.out, "1/2 step(s) passed")
      const runs = readdirSync(join(repo.path, ".spec-orch/runs"))
      assert.strictEqual(runs.length, 1)
      assert.match(runs[0]!, /^verify-V-1-\d{8}T\d{6}Z$/)
      const dir = join(repo.path, ".spec-orch/runs", runs[0]!)
      assert.deepStrictEqual(readdirSync(dir).sort(), ["01-greet.log", "02-marker.log", "report.json", "trace.jsonl"])
      assert.include(readFileSync(join(dir, "01-greet.log"), "utf8"), `hello from ${b.path}`)
      // The command is traced: `trace show` draws Verify with each step under it.
      assert.include(failing.err, `note: trace: \`spec-orch trace show ${runs[0]}\``)
      const trace = yield* cli("--cwd", repo.path, "trace", "show", runs[0]!, "--json")
      assert.strictEqual(trace.code, 0, trace.err)
      const [root] = JSON.parse(trace.out).spans
      assert.strictEqual(root.name, "Verify")
      const steps: Array<string> = []
      const walk = (n: { name: string; attributes: Record<string, unknown>; children: Array<any> }) => {
        if (n.name === "Verifier.step") steps.push(String(n.attributes.step))
        n.children.forEach(walk)
      }
      walk(root)
      assert.deepStrictEqual(steps, ["greet", "marker"])

      repoAt(b.path).write({ "marker.txt": "ok\n" })
      const passing = yield* cli("--cwd", repo.path, "verify", "V-1", "--json")
      assert.strictEqual(passing.code, 0)
      const json = JSON.parse(passing.out)
      assert.strictEqual(json.passed, true)
      assert.deepStrictEqual(
        json.report.steps.map((s: { outcome: string }) => s.outcome),
        ["passed", "passed"]
      )
    })
  )

  it.live("says how to get a worktree when the issue has none", () =>
    Effect.gen(function* () {
      const { repo } = yield* project
      const r = yield* cli("--cwd", repo.path, "verify", "V-2")
      assert.strictEqual(r.code, 1)
      assert.include(r.err, "no workspace for V-2; a run creates it (`spec-orch run V-2`)")
    })
  )
})

describe("spec-orch workspace", () => {
  it.live("lists, shows, refuses to remove uncommitted work, and cleans finished worktrees", () =>
    Effect.gen(function* () {
      const { repo, workspaces } = yield* project
      const b = yield* workspaces.prepare({ runKey: makeRunKey("V-1") })
      repoAt(b.path).write({ "wip.ts": "export {}\n" })

      const listed = yield* cli("--cwd", repo.path, "workspace", "list")
      assert.strictEqual(listed.code, 0)
      assert.match(listed.out, /V-1\s+dirty\s+0\s+0\s+1\s+no\s+/)

      const shown = yield* cli("--cwd", repo.path, "workspace", "show", "V-1", "--json")
      assert.deepStrictEqual(JSON.parse(shown.out).uncommitted, ["wip.ts"])

      const refused = yield* cli("--cwd", repo.path, "workspace", "remove", "V-1")
      assert.strictEqual(refused.code, 1)
      assert.include(refused.err, "would lose 1 uncommitted file(s): wip.ts")
      assert.isTrue(existsSync(join(b.path, "wip.ts")))

      const unfinished = yield* cli("--cwd", repo.path, "workspace", "clean")
      assert.include(unfinished.out, "kept     V-1: run not finished")

      yield* workspaces.markFinished("V-1")
      const kept = yield* cli("--cwd", repo.path, "workspace", "clean")
      assert.include(kept.out, "kept     V-1: removing")
      const forced = yield* cli("--cwd", repo.path, "workspace", "clean", "--force")
      assert.include(forced.out, "removed  V-1: removed with its branch")
      assert.isFalse(existsSync(b.path))
      assert.strictEqual(
        (yield* cli("--cwd", repo.path, "workspace", "list")).out,
        "No workspaces. A run creates one (`spec-orch run <issue>`)."
      )
    })
  )

  it.live("show lists what the worktree got from the main checkout (its installed node_modules)", () =>
    Effect.gen(function* () {
      const { repo, workspaces } = yield* project
      repo.commit("a Node project", {
        "package.json": JSON.stringify({ name: "app", version: "1.0.0" }),
        "package-lock.json": JSON.stringify({ name: "app", lockfileVersion: 3, packages: { "": { name: "app" } } }),
        ".gitignore": ".spec-orch/\nnode_modules/\n"
      })
      mkdirSync(join(repo.path, "node_modules/dep"), { recursive: true })
      writeFileSync(join(repo.path, "node_modules/dep/package.json"), "{}")
      yield* workspaces.prepare({ runKey: makeRunKey("V-1") })
      const shown = yield* cli("--cwd", repo.path, "workspace", "show", "V-1")
      assert.strictEqual(shown.code, 0, shown.err)
      assert.include(
        shown.out,
        `Provisioned from the main checkout (ignored, never committed):\n  node_modules: links to the entries of ${join(repo.path, "node_modules")}`
      )
    })
  )
})
