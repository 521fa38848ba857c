import { assert, describe, it } from "@effect/vitest"
import { VerificationStep } from "@spec-orch/contract"
import { copyFixture, createRepo, installPythonEditable, repoAt, tempDir, writeFiles } from "@spec-orch/test-kit"
import { Effect, Layer } from "effect"
import { execFileSync } from "node:child_process"
import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Verifier } from "../src/index.js"
import { Boxed } from "./utils/layers.js"

const step = (name: string, command: string | ReadonlyArray<string>, extra: { mayModify?: boolean } = {}) => new VerificationStep({ name, command, ...extra })

/** A repository in a temp dir with `files` committed, and a linked worktree of it on branch `run`. */
const repoWithWorktree = (files: Record<string, string>, before?: (main: string) => void) =>
  Effect.gen(function*() {
    const dir = yield* tempDir("spec-orch-eco-")
    const main = createRepo(join(dir, "main"), { files })
    before?.(main.path)
    const worktree = join(dir, "worktree")
    main.git("worktree", "add", "-q", "-b", "run", worktree)
    return { dir, main: main.path, worktree }
  })

const verify = (cwd: string, steps: ReadonlyArray<VerificationStep>, logDir: string) =>
  Effect.gen(function*() {
    const verifier = yield* Effect.service(Verifier).pipe(Effect.provide(Verifier.layer.pipe(Layer.provide(Boxed))))
    return yield* verifier.run({ cwd, steps, logDir })
  })

describe("Verifier.run in a worktree, in the OS sandbox", () => {
  it.live("imports the worktree's Python package, not the main checkout's editable install, with the project's venv as {python}", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("spec-orch-eco-py-")
      const mainDir = join(dir, "main")
      copyFixture("py-lib", mainDir)
      const main = createRepo(mainDir, { files: {} })
      const { python, mode } = installPythonEditable(main.path)
      const worktree = join(dir, "worktree")
      main.git("worktree", "add", "-q", "-b", "run", worktree)
      // The generated version file is ignored: a fresh worktree lacks it ([workspace] copy provides it in a run).
      writeFileSync(join(worktree, "src/textkit/_version.py"), "__version__ = '0.3.0'\n")
      writeFileSync(join(worktree, "src/textkit/__init__.py"), "from ._version import __version__\ndef slugify(title):\n    return title\n")
      const where = "import textkit; print(textkit.__file__)"
      // Without spec-orch's environment, the venv's interpreter run in the worktree imports the main checkout (the false green).
      const plain = execFileSync(python, ["-c", where], { cwd: worktree, encoding: "utf8", env: { PATH: process.env["PATH"] ?? "" } }).trim()
      assert.strictEqual(plain, join(main.path, "src/textkit/__init__.py"), `the ${mode} editable install points at the main checkout`)
      const report = yield* verify(worktree, [
        step("where", ["{python}", "-c", where]),
        step("env", "echo \"$VIRTUAL_ENV|$PYTHONPATH|{project}\"; command -v python"),
        step("unittest", ["{python}", "-m", "unittest", "-q"])
      ], join(dir, "logs"))
      const [found, env, tests] = report.steps
      assert.strictEqual(found!.command[0], python)
      assert.strictEqual(found!.outputTail, join(worktree, "src/textkit/__init__.py"))
      assert.strictEqual(env!.outputTail, `${join(main.path, ".venv")}|${join(worktree, "src")}|${main.path}\n${join(main.path, ".venv/bin/python")}`)
      assert.strictEqual(tests!.outcome, "failed", "the worktree's broken slugify is what the tests ran")
      assert.match(tests!.outputTail, /FAILED \(failures=2/)
      assert.include(readFileSync(tests!.logPath!, "utf8"), `# PYTHONPATH=${join(worktree, "src")}\n`, "the log says what the step saw")
    }), 180_000)

  it.live("puts the worktree's node_modules/.bin first on PATH", () =>
    Effect.gen(function*() {
      const { dir, worktree } = yield* repoWithWorktree({ "package.json": "{}\n", ".gitignore": "node_modules/\n" })
      mkdirSync(join(worktree, "node_modules/.bin"), { recursive: true })
      writeFileSync(join(worktree, "node_modules/.bin/fixture-tool"), "#!/bin/sh\necho from node_modules\n", { mode: 0o755 })
      const report = yield* verify(worktree, [step("tool", "fixture-tool")], join(dir, "logs"))
      assert.strictEqual(report.steps[0]!.outcome, "passed")
      assert.strictEqual(report.steps[0]!.outputTail, "from node_modules")
    }))

  it.live("fails a step that rewrites committed files, naming them, and leaves the change for a person to see", () =>
    Effect.gen(function*() {
      const { dir, worktree } = yield* repoWithWorktree({ "a.py": "x  =  1\n", "b.py": "y  =  2\n", "c.py": "z = 3\n" })
      const report = yield* verify(worktree, [
        step("format", "sed -i 's/  =  / = /' a.py b.py"),
        step("test", "grep -q 'x = 1' a.py")
      ], join(dir, "logs"))
      const [format, test] = report.steps
      assert.strictEqual(format!.outcome, "failed")
      assert.strictEqual(format!.exitCode, 0)
      assert.deepStrictEqual(format!.modified, ["a.py", "b.py"])
      assert.match(format!.note!, /^changed 2 files in the worktree: a\.py, b\.py — the verified code is not what was committed/)
      assert.include(readFileSync(format!.logPath!, "utf8"), "changed 2 files in the worktree")
      assert.strictEqual(test!.outcome, "passed")
      assert.isUndefined(test!.modified, "a step that changes nothing records nothing")
      assert.strictEqual(readFileSync(join(worktree, "a.py"), "utf8"), "x = 1\n", "the change is left in the worktree")
    }))

  it.live("allows a step with may_modify to change files, still recording them; a rewrite of an already-dirty file is seen", () =>
    Effect.gen(function*() {
      const { dir, worktree } = yield* repoWithWorktree({ "a.py": "x = 1\n", ".gitignore": "out/\n" })
      writeFileSync(join(worktree, "a.py"), "x = 10\n") // uncommitted work before verification
      const report = yield* verify(worktree, [
        step("fix", "echo 'x = 11' > a.py; touch new.txt", { mayModify: true }),
        step("dirty rewrite", "echo 'x = 12' > a.py"),
        step("ignored output", "mkdir -p out && echo report > out/r.txt")
      ], join(dir, "logs"))
      const [fix, rewrite, ignored] = report.steps
      assert.strictEqual(fix!.outcome, "passed")
      assert.deepStrictEqual(fix!.modified, ["a.py", "new.txt"])
      assert.match(fix!.note!, /allowed by may_modify/)
      assert.strictEqual(rewrite!.outcome, "failed")
      assert.deepStrictEqual(rewrite!.modified, ["a.py"])
      assert.strictEqual(ignored!.outcome, "passed", "files git ignores are the step's own business")
    }))

  it.live("notes a lockfile that differs from the main checkout's: the dependencies were not reinstalled", () =>
    Effect.gen(function*() {
      const lock = "{\"lockfileVersion\": 3}\n"
      const { dir, main, worktree } = yield* repoWithWorktree({ "package.json": "{}\n", "package-lock.json": lock, ".gitignore": "node_modules/\n" })
      mkdirSync(join(main, "node_modules"))
      symlinkSync(join(main, "node_modules"), join(worktree, "node_modules"))
      repoAt(worktree).commit("agent adds a dependency", { "package-lock.json": "{\"lockfileVersion\": 3, \"packages\": {}}\n" })
      const report = yield* verify(worktree, [step("t", "true")], join(dir, "logs"))
      assert.strictEqual(report.notes?.length, 1)
      assert.match(report.notes![0]!, /^package-lock\.json differs from the main checkout's .*dependencies were not reinstalled: the steps ran with the main checkout's installed dependencies/)
      const same = yield* verify(main, [step("t", "true")], join(dir, "logs2"))
      assert.isUndefined(same.notes, "no note when verifying the main checkout itself")
      writeFiles(worktree, { "package-lock.json": lock })
      assert.isUndefined((yield* verify(worktree, [step("t", "true")], join(dir, "logs3"))).notes)
    }))

  it.live("notes a changed requirements.txt: the steps ran with the main checkout's virtualenv, or with none", () =>
    Effect.gen(function*() {
      const { dir, main, worktree } = yield* repoWithWorktree({ "pyproject.toml": "[project]\nname = \"app\"\n", "requirements.txt": "requests==2.31.0\n", ".gitignore": ".venv/\n" })
      repoAt(worktree).commit("agent adds a dependency", { "requirements.txt": "requests==2.31.0\nrich==13.7.0\n" })
      const none = yield* verify(worktree, [step("t", "true")], join(dir, "logs"))
      assert.deepStrictEqual(none.notes, [
        "requirements.txt differs from the main checkout's (changed on the run branch, or the main checkout moved on); dependencies were not reinstalled: no virtualenv of the project was found. Reinstalling needs the network: install them in a verification step if the change is intended"
      ])
      mkdirSync(join(main, ".venv/bin"), { recursive: true })
      writeFileSync(join(main, ".venv/pyvenv.cfg"), "home = /usr/bin\n")
      symlinkSync(realpathSync(execFileSync("sh", ["-c", "command -v python3"], { encoding: "utf8" }).trim()), join(main, ".venv/bin/python"))
      const withVenv = yield* verify(worktree, [step("t", "true")], join(dir, "logs2"))
      assert.match(withVenv.notes![0]!, /^requirements\.txt differs .*dependencies were not reinstalled: the steps ran with the main checkout's virtualenv, which it no longer describes/)
    }))
})
