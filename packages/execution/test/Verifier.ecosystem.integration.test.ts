import { assert, describe, it } from "@effect/vitest"
import { VerificationStep } from "@spec-orch/contract"
import { copyFixture, createRepo, installPythonEditable, repoAt, tempDir, writeFiles } from "@spec-orch/test-kit"
import { environmentProvider } from "@spec-orch/harness"
import { ConfigProvider, Effect, Layer } from "effect"
import { execFileSync, spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Verifier } from "../src/index.js"
import { Boxed } from "./utils/layers.js"

const step = (name: string, command: string | ReadonlyArray<string>, extra: { mayModify?: boolean } = {}) =>
  new VerificationStep({ name, command, ...extra })

/** A repository in a temp dir with `files` committed, and a linked worktree of it on branch `run`. */
const repoWithWorktree = (files: Record<string, string>, before?: (main: string) => void) =>
  Effect.gen(function* () {
    const dir = yield* tempDir("spec-orch-eco-")
    const main = createRepo(join(dir, "main"), { files })
    before?.(main.path)
    const worktree = join(dir, "worktree")
    main.git("worktree", "add", "-q", "-b", "run", worktree)
    return { dir, main: main.path, worktree }
  })

const verify = (cwd: string, steps: ReadonlyArray<VerificationStep>, logDir: string, reinstall?: boolean) =>
  Effect.gen(function* () {
    const verifier = yield* Effect.service(Verifier).pipe(Effect.provide(Verifier.layer.pipe(Layer.provide(Boxed))))
    return yield* verifier.run({ cwd, steps, logDir, reinstall })
  })

/**
 * A Go module proxy on disk (GOPROXY=file://…) serving `example.com/greet` at `versions`, each
 * version's `greet.Hello()` returning the version.
 */
const goProxy = (dir: string, versions: ReadonlyArray<string>) => {
  const at = join(dir, "example.com/greet/@v")
  mkdirSync(at, { recursive: true })
  writeFileSync(join(at, "list"), `${versions.join("\n")}\n`)
  for (const v of versions) {
    const mod = "module example.com/greet\n\ngo 1.19\n"
    writeFileSync(join(at, `${v}.info`), JSON.stringify({ Version: v, Time: "2024-01-01T00:00:00Z" }))
    writeFileSync(join(at, `${v}.mod`), mod)
    const zip = `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("example.com/greet@${v}/go.mod", ${JSON.stringify(mod)})
    z.writestr("example.com/greet@${v}/greet.go", "package greet\\n\\nfunc Hello() string { return \\"${v}\\" }\\n")
`
    execFileSync("python3", ["-c", zip, join(at, `${v}.zip`)])
  }
}

/** go.mod and go.sum of a program printing `greet.Hello()` at `version`, resolved (and the module cached in `modCache`) from `proxy`. */
const goModule = (dir: string, proxy: string, modCache: string, version: string) => {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, "go.mod"), `module app\n\ngo 1.19\n\nrequire example.com/greet ${version}\n`)
  writeFileSync(
    join(dir, "main.go"),
    'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n)\n\nfunc main() { fmt.Println(greet.Hello()) }\n'
  )
  execFileSync("go", ["mod", "download", "-x", "example.com/greet"], {
    cwd: dir,
    stdio: "ignore",
    env: {
      ...process.env,
      GOPROXY: `file://${proxy}`,
      GOSUMDB: "off",
      GOMODCACHE: modCache,
      GOFLAGS: "-modcacherw -mod=mod"
    }
  })
  execFileSync("go", ["mod", "tidy"], {
    cwd: dir,
    stdio: "ignore",
    env: { ...process.env, GOPROXY: `file://${proxy}`, GOSUMDB: "off", GOMODCACHE: modCache, GOFLAGS: "-modcacherw" }
  })
  return {
    mod: readFileSync(join(dir, "go.mod"), "utf8"),
    sum: readFileSync(join(dir, "go.sum"), "utf8"),
    main: readFileSync(join(dir, "main.go"), "utf8")
  }
}

describe("Verifier.run in a worktree, in the OS sandbox", () => {
  it.live(
    "imports the worktree's Python package, not the main checkout's editable install, with the project's venv as {python}",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir("spec-orch-eco-py-")
        const mainDir = join(dir, "main")
        copyFixture("py-lib", mainDir)
        const main = createRepo(mainDir, { files: {} })
        const { python, mode } = installPythonEditable(main.path)
        const worktree = join(dir, "worktree")
        main.git("worktree", "add", "-q", "-b", "run", worktree)
        // The generated version file is ignored: a fresh worktree lacks it ([workspace] copy provides it in a run).
        writeFileSync(join(worktree, "src/textkit/_version.py"), "__version__ = '0.3.0'\n")
        writeFileSync(
          join(worktree, "src/textkit/__init__.py"),
          "from ._version import __version__\ndef slugify(title):\n    return title\n"
        )
        const where = "import textkit; print(textkit.__file__)"
        // Without spec-orch's environment, the venv's interpreter run in the worktree imports the main checkout (the false green).
        const plain = execFileSync(python, ["-c", where], {
          cwd: worktree,
          encoding: "utf8",
          env: { PATH: process.env.PATH ?? "" }
        }).trim()
        assert.strictEqual(
          plain,
          join(main.path, "src/textkit/__init__.py"),
          `the ${mode} editable install points at the main checkout`
        )
        const report = yield* verify(
          worktree,
          [
            step("where", ["{python}", "-c", where]),
            step("env", 'echo "$VIRTUAL_ENV|$PYTHONPATH|{project}"; command -v python'),
            step("unittest", ["{python}", "-m", "unittest", "-q"])
          ],
          join(dir, "logs")
        )
        const [found, env, tests] = report.steps
        assert.strictEqual(found!.command[0], python)
        assert.strictEqual(found!.outputTail, join(worktree, "src/textkit/__init__.py"))
        assert.strictEqual(
          env!.outputTail,
          `${join(main.path, ".venv")}|${join(worktree, "src")}|${main.path}\n${join(main.path, ".venv/bin/python")}`
        )
        assert.strictEqual(tests!.outcome, "failed", "the worktree's broken slugify is what the tests ran")
        assert.match(tests!.outputTail, /FAILED \(failures=2/)
        assert.include(
          readFileSync(tests!.logPath!, "utf8"),
          `# PYTHONPATH=${join(worktree, "src")}\n`,
          "the log says what the step saw"
        )
      }),
    180_000
  )

  it.live("puts the worktree's node_modules/.bin first on PATH", () =>
    Effect.gen(function* () {
      const { dir, worktree } = yield* repoWithWorktree({ "package.json": "{}\n", ".gitignore": "node_modules/\n" })
      mkdirSync(join(worktree, "node_modules/.bin"), { recursive: true })
      writeFileSync(join(worktree, "node_modules/.bin/fixture-tool"), "#!/bin/sh\necho from node_modules\n", {
        mode: 0o755
      })
      const report = yield* verify(worktree, [step("tool", "fixture-tool")], join(dir, "logs"))
      assert.strictEqual(report.steps[0]!.outcome, "passed")
      assert.strictEqual(report.steps[0]!.outputTail, "from node_modules")
    })
  )

  it.live("fails a step that rewrites committed files, naming them, and leaves the change for a person to see", () =>
    Effect.gen(function* () {
      const { dir, worktree } = yield* repoWithWorktree({ "a.py": "x  =  1\n", "b.py": "y  =  2\n", "c.py": "z = 3\n" })
      const report = yield* verify(
        worktree,
        [step("format", "sed -i 's/  =  / = /' a.py b.py"), step("test", "grep -q 'x = 1' a.py")],
        join(dir, "logs")
      )
      const [format, test] = report.steps
      assert.strictEqual(format!.outcome, "failed")
      assert.strictEqual(format!.exitCode, 0)
      assert.deepStrictEqual(format!.modified, ["a.py", "b.py"])
      assert.match(
        format!.note!,
        /^changed 2 files in the worktree: a\.py, b\.py — the verified code is not what was committed/
      )
      assert.include(readFileSync(format!.logPath!, "utf8"), "changed 2 files in the worktree")
      assert.strictEqual(test!.outcome, "passed")
      assert.isUndefined(test!.modified, "a step that changes nothing records nothing")
      assert.strictEqual(readFileSync(join(worktree, "a.py"), "utf8"), "x = 1\n", "the change is left in the worktree")
    })
  )

  it.live(
    "allows a step with may_modify to change files, still recording them; a rewrite of an already-dirty file is seen",
    () =>
      Effect.gen(function* () {
        const { dir, worktree } = yield* repoWithWorktree({ "a.py": "x = 1\n", ".gitignore": "out/\n" })
        writeFileSync(join(worktree, "a.py"), "x = 10\n") // uncommitted work before verification
        const report = yield* verify(
          worktree,
          [
            step("fix", "echo 'x = 11' > a.py; touch new.txt", { mayModify: true }),
            step("dirty rewrite", "echo 'x = 12' > a.py"),
            step("ignored output", "mkdir -p out && echo report > out/r.txt")
          ],
          join(dir, "logs")
        )
        const [fix, rewrite, ignored] = report.steps
        assert.strictEqual(fix!.outcome, "passed")
        assert.deepStrictEqual(fix!.modified, ["a.py", "new.txt"])
        assert.match(fix!.note!, /allowed by may_modify/)
        assert.strictEqual(rewrite!.outcome, "failed")
        assert.deepStrictEqual(rewrite!.modified, ["a.py"])
        assert.strictEqual(ignored!.outcome, "passed", "files git ignores are the step's own business")
      })
  )

  it.live("notes a lockfile that differs from the main checkout's: the dependencies were not reinstalled", () =>
    Effect.gen(function* () {
      const lock = '{"lockfileVersion": 3}\n'
      const { dir, main, worktree } = yield* repoWithWorktree({
        "package.json": "{}\n",
        "package-lock.json": lock,
        ".gitignore": "node_modules/\n"
      })
      mkdirSync(join(main, "node_modules"))
      symlinkSync(join(main, "node_modules"), join(worktree, "node_modules"))
      repoAt(worktree).commit("agent adds a dependency", {
        "package-lock.json": '{"lockfileVersion": 3, "packages": {}}\n'
      })
      const report = yield* verify(worktree, [step("t", "true")], join(dir, "logs"))
      assert.strictEqual(report.notes?.length, 1)
      assert.match(
        report.notes![0]!,
        /^package-lock\.json differs from the main checkout's .*dependencies were not reinstalled: the steps ran with the main checkout's installed dependencies/
      )
      const same = yield* verify(main, [step("t", "true")], join(dir, "logs2"))
      assert.isUndefined(same.notes, "no note when verifying the main checkout itself")
      writeFiles(worktree, { "package-lock.json": lock })
      assert.isUndefined((yield* verify(worktree, [step("t", "true")], join(dir, "logs3"))).notes)
    })
  )

  it.live("notes a changed requirements.txt: the steps ran with the main checkout's virtualenv, or with none", () =>
    Effect.gen(function* () {
      const { dir, main, worktree } = yield* repoWithWorktree({
        "pyproject.toml": '[project]\nname = "app"\n',
        "requirements.txt": "requests==2.31.0\n",
        ".gitignore": ".venv/\n"
      })
      repoAt(worktree).commit("agent adds a dependency", { "requirements.txt": "requests==2.31.0\nrich==13.7.0\n" })
      const none = yield* verify(worktree, [step("t", "true")], join(dir, "logs"))
      assert.deepStrictEqual(none.notes, [
        "requirements.txt differs from the main checkout's (changed on the run branch, or the main checkout moved on); dependencies were not reinstalled: no virtualenv of the project was found. Reinstalling needs the network: install them in a verification step if the change is intended"
      ])
      mkdirSync(join(main, ".venv/bin"), { recursive: true })
      writeFileSync(join(main, ".venv/pyvenv.cfg"), "home = /usr/bin\n")
      symlinkSync(
        realpathSync(execFileSync("sh", ["-c", "command -v python3"], { encoding: "utf8" }).trim()),
        join(main, ".venv/bin/python")
      )
      const withVenv = yield* verify(worktree, [step("t", "true")], join(dir, "logs2"))
      assert.match(
        withVenv.notes![0]!,
        /^requirements\.txt differs .*dependencies were not reinstalled: the steps ran with the main checkout's virtualenv, which it no longer describes/
      )
    })
  )

  it.live(
    "Go: steps read the host's module cache; a changed go.sum is downloaded into the box's own cache before the steps, and said",
    () =>
      Effect.gen(function* () {
        assert.strictEqual(
          spawnSync("go", ["version"]).status,
          0,
          "this test needs go on PATH: install it (Debian: apt-get install golang-go; .ci/run does)"
        )
        const dir = yield* tempDir("spec-orch-eco-go-")
        const proxy = join(dir, "proxy")
        const hostCache = join(dir, "host-gomodcache")
        goProxy(proxy, ["v1.0.0", "v1.1.0", "v1.2.0"])
        const v1 = goModule(join(dir, "scratch1"), proxy, hostCache, "v1.0.0")
        // The host's cache has v1.1.0 (downloaded once for another project); v1.2.0 only exists on the proxy.
        const v11 = goModule(join(dir, "scratch11"), proxy, hostCache, "v1.1.0")
        const v12 = goModule(join(dir, "scratch12"), proxy, join(dir, "elsewhere"), "v1.2.0")
        const main = createRepo(join(dir, "main"), {
          files: { "go.mod": v1.mod, "go.sum": v1.sum, "main.go": v1.main }
        })
        const worktree = join(dir, "worktree")
        main.git("worktree", "add", "-q", "-b", "run", worktree)
        const host = { ...(process.env as Record<string, string>), GOMODCACHE: hostCache }
        const run = (logs: string) =>
          verify(worktree, [step("run", "go run .")], join(dir, logs), true).pipe(
            Effect.provideService(ConfigProvider.ConfigProvider, environmentProvider(host))
          )

        const same = yield* run("logs0")
        assert.strictEqual(same.steps[0]!.outcome, "passed", same.steps[0]!.outputTail)
        assert.strictEqual(same.steps[0]!.outputTail, "v1.0.0", "the module came from the host's cache, offline")
        assert.isUndefined(same.notes)

        repoAt(worktree).commit("agent upgrades greet", { "go.mod": v11.mod, "go.sum": v11.sum })
        const upgraded = yield* run("logs1")
        assert.strictEqual(upgraded.steps[0]!.outputTail, "v1.1.0")
        assert.match(
          upgraded.notes![0]!,
          /^go\.sum changed on the run branch: the dependencies were reinstalled into the box's own Go module cache before the steps \(`go mod download`, [\d.]+ s; log: .*00-reinstall-go-modules\.log\)$/
        )

        repoAt(worktree).commit("agent upgrades greet again", { "go.mod": v12.mod, "go.sum": v12.sum })
        const offline = yield* run("logs2")
        assert.strictEqual(offline.steps[0]!.outcome, "failed", "v1.2.0 is in no cache and the box has no network")
        assert.match(
          offline.notes![0]!,
          /^dependencies may be stale: go\.sum changed on the run branch and reinstalling them \(`go mod download`\) failed \(exit 1\); the steps ran with the host's Go module cache, which go\.sum may no longer describe\. Log: .*Allow the module proxy in \[sandbox\] allow_hosts/
        )
        assert.include(readFileSync(join(dir, "logs2/00-reinstall-go-modules.log"), "utf8"), "example.com/greet@v1.2.0")
      }),
    180_000
  )

  it.live(
    "a changed poetry.lock, pdm.lock or Pipfile.lock without its tool on PATH: the report says the tool is not installed",
    () =>
      Effect.gen(function* () {
        for (const [lock, tool] of [
          ["poetry.lock", "poetry"],
          ["pdm.lock", "pdm"],
          ["Pipfile.lock", "pipenv"]
        ] as const) {
          const { dir, main, worktree } = yield* repoWithWorktree({
            "pyproject.toml": '[project]\nname = "app"\n',
            [lock]: "# v1\n",
            ".gitignore": ".venv/\n"
          })
          mkdirSync(join(main, ".venv/bin"), { recursive: true })
          writeFileSync(join(main, ".venv/pyvenv.cfg"), "home = /usr/bin\n")
          symlinkSync(
            realpathSync(execFileSync("sh", ["-c", "command -v python3"], { encoding: "utf8" }).trim()),
            join(main, ".venv/bin/python")
          )
          repoAt(worktree).commit("agent adds a dependency", { [lock]: "# v2\n" })
          const report = yield* verify(worktree, [step("t", "true")], join(dir, "logs"), true).pipe(
            Effect.provideService(ConfigProvider.ConfigProvider, environmentProvider({ PATH: "/usr/bin:/bin" }))
          )
          assert.strictEqual(report.notes?.length, 1, JSON.stringify(report.notes))
          assert.match(
            report.notes![0]!,
            new RegExp(
              `^${lock.replace(".", "\\.")} changed on the run branch; ${tool} is not installed \\(no \`${tool}\` on the steps' PATH\\), so the dependencies were not reinstalled \\(\`${tool} [^\`]+\`\\): the steps ran with the main checkout's virtualenv, which ${lock.replace(".", "\\.")} no longer describes\\. Install ${tool}`
            )
          )
        }
      }),
    60_000
  )
})
