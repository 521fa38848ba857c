/**
 * `spec-orch doctor` as a new user meets it: every check with its mark, a problem that would stop a
 * run with its fix and exit 1, the same as JSON, and what worktrees will get of the project's
 * installed dependencies. It changes nothing: on a project that never ran it creates no state database,
 * and one that does not open is a failed check like any other.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFileSync, spawnSync } from "node:child_process"
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, join } from "node:path"
import { makeProject } from "./utils/project.js"
import { seedLedger } from "./utils/seed-ledger.js"

const json = (text: string) =>
  JSON.parse(text) as { ok: boolean; checks: Array<{ name: string; status: string; detail: string; fix?: string }> }
const commit = (root: string, message: string) => {
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@t",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@t"
  }
  spawnSync("git", ["add", "-A"], { cwd: root, env })
  spawnSync("git", ["commit", "-qm", message], { cwd: root, env })
}
/** This machine's PATH without any directory that holds a `uv`. */
const pathWithoutUv = (process.env.PATH ?? "")
  .split(delimiter)
  .filter((d) => d !== "" && !existsSync(join(d, "uv")))
  .join(delimiter)
const dependencies = (checks: ReturnType<typeof json>["checks"]) => checks.filter((c) => c.name === "dependencies")

describe("spec-orch doctor", () => {
  it("shows every check with its mark and exits 0 when nothing would stop a run; --json says the same", () => {
    const p = makeProject()
    const r = p.cli("doctor")
    assert.strictEqual(r.status, 0, r.stderr + r.stdout)
    for (const line of [
      /^✓ git\s+git version [\d.]+; repository /m,
      /^✓ tracker\s+issues from fixtures\/issues/m,
      /^✓ state database\s+\.spec-orch\/state\.db: none yet, the first run creates it$/m,
      /^[✓!] disk\s+[\d.]+ GB free for worktrees under /m
    ]) {
      assert.match(r.stdout, line)
    }
    assert.match(r.stdout, /\nready/)
    assert.isFalse(existsSync(join(p.root, ".spec-orch")), "doctor created the state directory")
    const j = json(p.cli("doctor", "--json").stdout)
    assert.isTrue(j.ok)
    assert.includeMembers(
      j.checks.map((c) => c.name),
      ["git", "sandbox", "tracker", "state database", "disk"]
    )
    assert.deepStrictEqual(
      dependencies(j.checks),
      [],
      "a project without package.json or Python packaging has nothing to say about dependencies"
    )
  }, 120_000)

  it("a state database that opens shows its journal mode; one that is not a database is a ✗ with its fix, and the other checks still run", async () => {
    const p = makeProject()
    const file = join(p.root, ".spec-orch", "state.db")
    await Effect.runPromise(seedLedger(p.root, []))
    assert.match(p.cli("doctor").stdout, /^✓ state database\s+\.spec-orch\/state\.db \(wal\)$/m)

    const notes = "my notes, not a database\n".repeat(200)
    rmSync(file)
    writeFileSync(file, notes)
    const r = p.cli("doctor")
    assert.strictEqual(r.status, 1, r.stderr + r.stdout)
    assert.match(
      r.stdout,
      new RegExp(
        `^✗ state database\\s+${file.replaceAll(".", "\\.")} is not a SQLite database \\(file is not a database\\)\n\\s+fix: restore it from a backup, or move it aside and spec-orch starts an empty one$`,
        "m"
      )
    )
    assert.match(r.stdout, /^✓ git\s/m)
    assert.match(r.stdout, /^[✓!] disk\s/m)
    assert.match(r.stdout, /\n1 problem would stop a run/)
    const j = json(p.cli("doctor", "--json").stdout)
    assert.isFalse(j.ok)
    assert.deepStrictEqual(
      j.checks.filter((c) => c.status === "fail").map((c) => c.name),
      ["state database"]
    )
    assert.strictEqual(readFileSync(file, "utf8"), notes)
  }, 120_000)

  it("a tracker without its token is a problem that would stop a run: ✗, its fix, exit 1", () => {
    const p = makeProject({
      toml: '[issue]\nsource = "github"\n[github]\nrepo = "acme/widgets"\ntoken_env = "DOCTOR_TEST_GH_TOKEN"\n'
    })
    const r = p.cli("doctor")
    assert.strictEqual(r.status, 1, r.stderr + r.stdout)
    assert.match(r.stdout, /^✗ tracker github\s+DOCTOR_TEST_GH_TOKEN is not set$/m)
    assert.match(r.stdout, /^\s+fix: export DOCTOR_TEST_GH_TOKEN=… \(a GitHub token with repo scope\)$/m)
    assert.match(r.stdout, /1 problem would stop a run\s*$/)
    const j = json(p.cli("doctor", "--json").stdout)
    assert.isFalse(j.ok)
    assert.deepInclude(j.checks, {
      name: "tracker github",
      status: "fail",
      detail: "DOCTOR_TEST_GH_TOKEN is not set",
      fix: "export DOCTOR_TEST_GH_TOKEN=… (a GitHub token with repo scope)"
    })
  }, 120_000)

  it("warns when a lockfile's dependencies are not installed in the checkout or not ignored by git (worktrees would get none), with the fix; then says they are linked", () => {
    const p = makeProject()
    writeFileSync(
      join(p.root, "package.json"),
      JSON.stringify({ name: "app", version: "1.0.0", devDependencies: { dep: "1.0.0" } })
    )
    writeFileSync(
      join(p.root, "package-lock.json"),
      JSON.stringify({
        name: "app",
        lockfileVersion: 3,
        packages: { "": { name: "app" }, "node_modules/dep": { version: "1.0.0" } }
      })
    )
    commit(p.root, "a Node project")
    const before = p.cli("doctor")
    assert.strictEqual(before.status, 0, "a warning does not stop a run")
    assert.match(
      before.stdout,
      /^! dependencies\s+package-lock\.json, but no node_modules in the main checkout: worktrees get no dependencies, and steps that need them fail \("command not found"\)$/m
    )
    assert.include(before.stdout, `fix: run \`npm ci\` in ${p.root}, once: each worktree then links to it`)
    assert.match(before.stdout, /ready \(\d+ warnings?\)\s*$/)
    mkdirSync(join(p.root, "node_modules/dep"), { recursive: true })
    writeFileSync(join(p.root, "node_modules/dep/package.json"), JSON.stringify({ name: "dep", version: "1.0.0" }))
    const unignored = p.cli("doctor")
    assert.match(
      unignored.stdout,
      /^! dependencies\s+node_modules is not ignored by git: worktrees do not get it \(a provisioned node_modules would be committed\)$/m
    )
    assert.match(unignored.stdout, /fix: add node_modules\/ to \.gitignore$/m)
    writeFileSync(join(p.root, ".gitignore"), ".spec-orch/\nnode_modules/\n")
    const after = json(p.cli("doctor", "--json").stdout)
    assert.deepStrictEqual(dependencies(after.checks), [
      {
        name: "dependencies",
        status: "ok",
        detail: "detected: Node (package.json, package-lock.json)"
      },
      {
        name: "dependencies",
        status: "ok",
        detail:
          "node_modules (package-lock.json) linked into each new worktree while its lockfile is unchanged; reinstalled in the box when the agent changes it"
      }
    ])
  }, 120_000)

  it("names the virtualenv verification uses, and warns when uv.lock cannot be reinstalled because uv is not on PATH", () => {
    const stub = mkdtempSync(join(tmpdir(), "doctor-uv-"))
    writeFileSync(join(stub, "uv"), "#!/bin/sh\nexit 0\n")
    chmodSync(join(stub, "uv"), 0o755)
    const setUp = (path: string) => {
      const p = makeProject({ env: { PATH: path } })
      writeFileSync(join(p.root, "pyproject.toml"), '[project]\nname = "app"\nversion = "1.0.0"\n')
      writeFileSync(join(p.root, "uv.lock"), "version = 1\n")
      writeFileSync(join(p.root, ".gitignore"), ".spec-orch/\n.venv/\n")
      commit(p.root, "a uv project")
      mkdirSync(join(p.root, ".venv/bin"), { recursive: true })
      writeFileSync(join(p.root, ".venv/pyvenv.cfg"), "home = /usr/bin\n")
      symlinkSync(
        execFileSync("python3", ["-c", "import os, sys; print(os.path.realpath(sys.executable))"], {
          encoding: "utf8"
        }).trim(),
        join(p.root, ".venv/bin/python")
      )
      return p
    }
    const without = setUp(pathWithoutUv)
    const r = without.cli("doctor")
    assert.strictEqual(r.status, 0, r.stderr + r.stdout)
    assert.match(
      r.stdout,
      /^✓ dependencies\s+virtualenv \.venv: verification uses it, with the worktree's code first on PYTHONPATH$/m
    )
    assert.match(
      r.stdout,
      /^! dependencies\s+uv\.lock, but uv is not on PATH: when the agent changes uv\.lock, verification cannot reinstall it/m
    )
    assert.match(r.stdout, /fix: install uv and put it on PATH$/m)
    const withUv = json(setUp(`${stub}${delimiter}${pathWithoutUv}`).cli("doctor", "--json").stdout)
    assert.deepStrictEqual(
      dependencies(withUv.checks).map((c) => c.status),
      ["ok", "ok"]
    )
  }, 120_000)

  it("for poetry, pdm and Pipfile projects names the lockfile's tool when it is missing, and how to fill the virtualenv", () => {
    for (const [lock, tool, install] of [
      ["poetry.lock", "poetry", "poetry install"],
      ["pdm.lock", "pdm", "pdm install"],
      ["Pipfile.lock", "pipenv", "pipenv sync --dev"]
    ] as const) {
      const p = makeProject({ env: { PATH: "/usr/bin:/bin" } })
      writeFileSync(join(p.root, "pyproject.toml"), '[project]\nname = "app"\nversion = "1.0.0"\n')
      writeFileSync(join(p.root, lock), "# locked\n")
      commit(p.root, `a ${tool} project`)
      const j = json(p.cli("doctor", "--json").stdout)
      const deps = dependencies(j.checks)
      assert.strictEqual(deps[0]!.detail, `detected: Python (pyproject.toml, ${lock})`)
      assert.strictEqual(
        deps[1]!.detail,
        `${lock}, but no virtualenv (.venv, venv) in the main checkout: steps run without the project's dependencies`
      )
      assert.include(deps[1]!.fix, install)
      assert.strictEqual(
        deps[2]!.detail,
        `${lock}, but ${tool} is not on PATH: when the agent changes ${lock}, verification cannot reinstall it and runs with the main checkout's virtualenv (the report says so)`
      )
      assert.strictEqual(deps[2]!.fix, `install ${tool} and put it on PATH`)
    }
  }, 120_000)

  it("for a Go module says whether go is installed and whether its required modules are in the module cache, with the fix", () => {
    const cache = mkdtempSync(join(tmpdir(), "doctor-gomodcache-"))
    assert.strictEqual(
      spawnSync("go", ["version"]).status,
      0,
      "this test needs go on PATH: install it (Debian: apt-get install golang-go; .ci/run does)"
    )
    const goPath = execFileSync("sh", ["-c", "command -v go"], { encoding: "utf8" }).trim()
    const withGo = makeProject({ env: { GOMODCACHE: cache } })
    writeFileSync(
      join(withGo.root, "go.mod"),
      "module app\n\ngo 1.19\n\nrequire (\n\texample.com/Greet v1.0.0\n\texample.com/other v0.2.0 // indirect\n)\n"
    )
    commit(withGo.root, "a Go module")
    const before = withGo.cli("doctor")
    assert.strictEqual(before.status, 0, before.stderr + before.stdout)
    assert.match(before.stdout, /^✓ dependencies\s+detected: Go \(go\.mod\)$/m)
    assert.match(
      before.stdout,
      /^! dependencies\s+go\.mod requires 2 modules not in the module cache \(.*\): verification has no network by default, so steps that build fail \(example\.com\/Greet@v1\.0\.0, example\.com\/other@v0\.2\.0\)$/m
    )
    assert.include(
      before.stdout,
      `fix: run \`go mod download\` in ${withGo.root}, once: each worktree then reads the cache`
    )
    for (const [mod, v] of [
      ["example.com/!greet", "v1.0.0"],
      ["example.com/other", "v0.2.0"]
    ] as const) {
      mkdirSync(join(cache, "cache/download", mod, "@v"), { recursive: true })
      writeFileSync(join(cache, "cache/download", mod, "@v", `${v}.mod`), "module x\n")
    }
    const after = dependencies(json(withGo.cli("doctor", "--json").stdout).checks)
    assert.deepStrictEqual(
      after.map((c) => c.status),
      ["ok", "ok"]
    )
    assert.strictEqual(
      after[1]!.detail,
      `go.mod: steps read modules from the module cache (${cache}), read-only in the box; a changed go.sum is downloaded in the box`
    )
    // go lives beside node and git here (/usr/bin): a PATH of links to everything else but go.
    const bin = mkdtempSync(join(tmpdir(), "doctor-nogo-"))
    for (const tool of ["node", "git", "sh"])
      symlinkSync(execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim(), join(bin, tool))
    assert.isFalse(existsSync(join(bin, "go")), goPath)
    const noGo = makeProject({ env: { PATH: bin } })
    writeFileSync(join(noGo.root, "go.mod"), "module app\n\ngo 1.19\n")
    commit(noGo.root, "a Go module")
    const r = json(noGo.cli("doctor", "--json").stdout)
    assert.deepStrictEqual(dependencies(r.checks)[1], {
      name: "dependencies",
      status: "warn",
      detail:
        "go.mod, but go is not on PATH: steps that build or test the module fail, and a changed go.sum cannot be downloaded",
      fix: "install Go (Debian: `apt-get install golang-go`) and put it on PATH"
    })
  }, 120_000)
})
