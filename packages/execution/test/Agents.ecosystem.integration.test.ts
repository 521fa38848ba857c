/**
 * An agent turn in a worktree sees the project's toolchains as verification does: with the project
 * installed editable in the main checkout's virtualenv, the agent's own `python`/`pytest` run imports
 * the worktree's package (the one it edits), not the main checkout's.
 */
import { assert, describe, it } from "@effect/vitest"
import { defaultConfig } from "@spec-orch/contract"
import { copyFixture, createRepo, installPythonEditable, tempDir } from "@spec-orch/test-kit"
import { Effect, Layer } from "effect"
import { execFileSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Agents } from "../src/index.js"
import { Boxed } from "./utils/layers.js"

describe("Agents.run in a worktree of a Python project", () => {
  it.live(
    "the agent's python is the project's virtualenv and imports the worktree's package, not the main checkout's editable install",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir("spec-orch-agent-py-")
        const mainDir = join(dir, "main")
        copyFixture("py-lib", mainDir)
        const main = createRepo(mainDir, { files: {} })
        const { python } = installPythonEditable(main.path)
        const worktree = join(dir, "worktree")
        main.git("worktree", "add", "-q", "-b", "run", worktree)
        writeFileSync(join(worktree, "src/textkit/_version.py"), "__version__ = '0.3.0'\n")
        const where = "import sys, textkit; print(sys.prefix); print(textkit.__file__)"
        // What the agent would get without spec-orch's environment: the main checkout's code.
        assert.strictEqual(
          execFileSync(python, ["-c", where], {
            cwd: worktree,
            encoding: "utf8",
            env: { PATH: process.env.PATH ?? "" }
          })
            .trim()
            .split("\n")[1],
          join(main.path, "src/textkit/__init__.py")
        )
        const agents = yield* Effect.service(Agents).pipe(Effect.provide(Agents.layer.pipe(Layer.provide(Boxed))))
        const runDir = join(dir, "run")
        const outcome = yield* agents.run({
          adapter: "command",
          prompt: "run the tests",
          cwd: worktree,
          runDir,
          builder: { ...defaultConfig().builder, adapter: "command", command: ["sh", "-c", `python -c "${where}"`] }
        })
        assert.strictEqual(outcome.kind, "completed", readFileSync(join(runDir, "agent.jsonl"), "utf8"))
        const printed = readFileSync(join(runDir, "agent.jsonl"), "utf8").trim().split("\n")
        assert.deepStrictEqual(printed, [join(main.path, ".venv"), join(worktree, "src/textkit/__init__.py")])
      }),
    180_000
  )
})
