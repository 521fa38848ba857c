/**
 * A run whose agent upgrades a dependency (package.json and package-lock.json): the worktree was
 * provisioned with the main checkout's node_modules, and verification must test the upgraded one —
 * reinstalled offline from the agent's lockfile in the box — and explain.md must say so.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, join } from "node:path"
import { makeProject } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as Record<string, any>
const npm = (cwd: string, ...args: ReadonlyArray<string>) =>
  execFileSync("npm", [...args, "--offline", "--no-audit", "--no-fund"], { cwd, stdio: "ignore" })
const manifest = (version: string) =>
  JSON.stringify({ name: "app", version: "1.0.0", devDependencies: { dep: `file:vendor/dep-${version}.tgz` } })

/** `dep` at `version`, packed into `<root>/vendor`. */
const packDep = (root: string, version: string) => {
  const src = mkdtempSync(join(tmpdir(), "dep-"))
  writeFileSync(join(src, "package.json"), JSON.stringify({ name: "dep", version, main: "index.js" }))
  writeFileSync(join(src, "index.js"), `exports.version = "${version}"\n`)
  mkdirSync(join(root, "vendor"), { recursive: true })
  execFileSync("npm", ["pack", "-q", "--pack-destination", join(root, "vendor")], { cwd: src, stdio: "ignore" })
  rmSync(src, { recursive: true, force: true })
}

describe("a run whose agent changed the lockfile", () => {
  it("verifies against the dependencies the agent's lockfile names, reinstalled in the box, and explain.md says so", () => {
    const p = makeProject({ verification: { dep: `test "$(node -p "require('dep').version")" = 2.0.0` } })
    packDep(p.root, "1.0.0")
    packDep(p.root, "2.0.0")
    writeFileSync(join(p.root, "package.json"), manifest("1.0.0"))
    writeFileSync(join(p.root, ".gitignore"), ".spec-orch/\nnode_modules/\n")
    npm(p.root, "install")
    const git = (...args: Array<string>) =>
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: p.root, stdio: "ignore" })
    git("add", "-A")
    git("commit", "-qm", "app with dep 1.0.0")
    // The lockfile the agent will write: dep 2.0.0 (made here with npm, written by the agent on one line).
    const scratch = mkdtempSync(join(tmpdir(), "lock-"))
    execFileSync("cp", ["-r", join(p.root, "vendor"), scratch])
    writeFileSync(join(scratch, "package.json"), manifest("2.0.0"))
    npm(scratch, "install", "--package-lock-only")
    const lock = JSON.stringify(JSON.parse(readFileSync(join(scratch, "package-lock.json"), "utf8")))
    rmSync(scratch, { recursive: true, force: true })
    p.issue("LOCK-1", { builder_prompt: `WRITE package.json ${manifest("2.0.0")}\nWRITE package-lock.json ${lock}` })
    const r = p.cli("run", "LOCK-1", "--auto-approve", "--json")
    const run = json(r.stdout)
    const report = json(readFileSync(join(p.root, ".spec-orch/runs/LOCK-1-r1/report.json"), "utf8"))
    assert.strictEqual(
      report.verification.steps[0].outcome,
      "passed",
      `${r.stderr}\n${JSON.stringify(report.verification)}`
    )
    assert.match(
      report.verification.notes[0],
      /^package-lock\.json changed on the run branch: the dependencies were reinstalled/
    )
    const explain = readFileSync(join(p.root, ".spec-orch/runs/LOCK-1-r1/explain.md"), "utf8")
    assert.include(explain, "## Verification notes")
    assert.match(
      explain,
      /package-lock\.json changed on the run branch: the dependencies were reinstalled in the worktree before the steps/
    )
    assert.strictEqual(
      execFileSync("node", ["-p", "require('dep').version"], { cwd: p.root, encoding: "utf8" }).trim(),
      "1.0.0",
      "the main checkout's install is untouched"
    )
    assert.isString(run.worktree)
    // `spec-orch verify` re-verifies the worktree the same way, and prints the note.
    const again = p.cli("verify", "LOCK-1")
    assert.strictEqual(again.status, 0, again.stderr + again.stdout)
    assert.match(again.stdout, /Note: package-lock\.json changed on the run branch: the dependencies were reinstalled/)
  }, 180_000)

  it("whose project uses uv but has no uv on PATH: the run says uv is not installed, in its report and explain.md", () => {
    const path = (process.env.PATH ?? "")
      .split(delimiter)
      .filter((d) => d !== "" && !existsSync(join(d, "uv")))
      .join(delimiter)
    const p = makeProject({
      verification: { check: `{python} -c "import sys; print(sys.prefix)"` },
      env: { PATH: path }
    })
    writeFileSync(
      join(p.root, "pyproject.toml"),
      '[project]\nname = "app"\nversion = "1.0.0"\ndependencies = ["dep"]\n'
    )
    writeFileSync(join(p.root, "uv.lock"), 'version = 1\n\n[[package]]\nname = "dep"\nversion = "1.0.0"\n')
    writeFileSync(join(p.root, ".gitignore"), ".spec-orch/\n.venv/\n")
    const git = (...args: Array<string>) =>
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: p.root, stdio: "ignore" })
    git("add", "-A")
    git("commit", "-qm", "a uv project")
    const python = execFileSync("python3", ["-c", "import os, sys; print(os.path.realpath(sys.executable))"], {
      encoding: "utf8"
    }).trim()
    execFileSync(python, ["-m", "venv", "--without-pip", join(p.root, ".venv")])
    p.issue("UV-1", { builder_prompt: `WRITE uv.lock version = 1 [[package]] name = "dep" version = "2.0.0"` })
    const r = p.cli("run", "UV-1", "--auto-approve", "--json")
    const report = json(readFileSync(join(p.root, ".spec-orch/runs/UV-1-r1/report.json"), "utf8"))
    assert.strictEqual(
      report.verification.steps[0].outcome,
      "passed",
      `${r.stderr}\n${JSON.stringify(report.verification)}`
    )
    assert.include(
      report.verification.steps[0].command[2],
      join(p.root, ".venv/bin/python"),
      "the steps ran with the main checkout's virtualenv"
    )
    assert.deepStrictEqual(report.verification.notes, [
      "uv.lock changed on the run branch; uv is not installed (no `uv` on the steps' PATH), so the dependencies were not reinstalled (`uv sync --frozen --offline`): " +
        "the steps ran with the main checkout's virtualenv, which uv.lock no longer describes. Install uv, or install the dependencies in a verification step"
    ])
    assert.include(
      readFileSync(join(p.root, ".spec-orch/runs/UV-1-r1/explain.md"), "utf8"),
      "uv.lock changed on the run branch; uv is not installed"
    )
  }, 180_000)
})
