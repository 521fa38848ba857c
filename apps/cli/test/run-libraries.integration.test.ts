/**
 * `spec-orch run` on real library projects, with no manual install step: a JavaScript library with
 * devDependencies and `npm test`, and a src-layout Python package installed editable into its venv.
 * A deliberately breaking agent change fails verification in both (the steps test the worktree's
 * code, with the main checkout's dependencies); a harmless one passes. A verification step that
 * rewrites files is reported as modifying the worktree.
 */
import { assert, describe, it } from "@effect/vitest"
import { installNodeModules, installPythonEditable } from "@spec-orch/test-kit"
import { execFileSync, spawnSync } from "node:child_process"
import { lstatSync, readFileSync, readlinkSync } from "node:fs"
import { join } from "node:path"
import { makeProject } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as Record<string, any>
const evidence = (root: string, runId: string) =>
  json(readFileSync(join(root, ".spec-orch/runs", runId, "evidence.json"), "utf8"))
const explain = (root: string, runId: string) =>
  readFileSync(join(root, ".spec-orch/runs", runId, "explain.md"), "utf8")

describe("spec-orch run on a JavaScript library with devDependencies", () => {
  it("fails verification on a breaking change and passes a harmless one, using the main checkout's node_modules", () => {
    const p = makeProject({ fixture: "js-lib", verification: { test: "npm test" } })
    installNodeModules(p.root)
    p.issue("JS-1", {
      builder_prompt: "WRITE index.js module.exports = { slugify: (title) => String(title).toLowerCase() }"
    })
    const broken = p.cli("run", "JS-1", "--auto-approve", "--json")
    assert.strictEqual(broken.status, 1, broken.stderr)
    const out = json(broken.stdout)
    assert.strictEqual(out.status, "blocked")
    assert.deepStrictEqual(out.failed, ["verification"])
    const step = evidence(p.root, "JS-1-r1").verification.steps[0]
    assert.strictEqual(step.outcome, "failed", "mocha ran and failed, rather than `mocha: command not found`")
    assert.match(readFileSync(step.logPath, "utf8"), /0 passing[\s\S]*3 failing/)
    assert.include(explain(p.root, "JS-1-r1"), "**Verdict: BLOCKED**")
    const nm = join(out.worktree, "node_modules")
    assert.isTrue(lstatSync(nm).isDirectory())
    assert.strictEqual(
      readlinkSync(join(nm, "mocha")),
      join(p.root, "node_modules/mocha"),
      "linked, not installed again"
    )

    p.issue("JS-2", {
      builder_prompt: "WRITE lib/words.js module.exports = (text) => String(text).split(/\\s+/).filter(Boolean).length"
    })
    const fine = p.cli("run", "JS-2", "--auto-approve", "--json")
    assert.strictEqual(fine.status, 0, fine.stdout + fine.stderr)
    assert.isTrue(json(fine.stdout).mergeable)
    assert.match(evidence(p.root, "JS-2-r1").verification.steps[0].outputTail, /3 passing/)
  }, 180_000)
})

describe("spec-orch run on a src-layout Python package installed editable in a venv", () => {
  it("fails verification on a breaking change the main checkout's editable install would have hidden, and passes a harmless one", () => {
    const p = makeProject({
      fixture: "py-lib",
      verification: { test: "{python} -m unittest -q" },
      workspace: ['copy = ["src/textkit/_version.py"]']
    })
    const { python, mode } = installPythonEditable(p.root)
    p.issue("PY-1", {
      builder_prompt:
        "WRITE src/textkit/__init__.py from ._version import __version__; slugify = str.lower; word_count = lambda text: len(text.split())"
    })
    const broken = p.cli("run", "PY-1", "--auto-approve", "--json")
    assert.strictEqual(broken.status, 1, broken.stderr)
    const out = json(broken.stdout)
    assert.deepStrictEqual(out.failed, ["verification"])
    const step = evidence(p.root, "PY-1-r1").verification.steps[0]
    assert.deepStrictEqual(step.command, ["sh", "-c", `${python} -m unittest -q`], "{python} is the project's venv")
    assert.match(step.outputTail, /FAILED \(failures=2\)/)

    // The old behaviour: the venv's interpreter in the worktree imports the main checkout and passes.
    const where = execFileSync(python, ["-c", "import textkit; print(textkit.__file__)"], {
      cwd: out.worktree,
      encoding: "utf8"
    }).trim()
    assert.strictEqual(
      where,
      join(p.root, "src/textkit/__init__.py"),
      `the ${mode} editable install points at the main checkout`
    )
    const falseGreen = spawnSync(python, ["-m", "unittest", "-q"], { cwd: out.worktree, encoding: "utf8" })
    assert.strictEqual(
      falseGreen.status,
      0,
      "without the worktree first on PYTHONPATH the broken change would have passed"
    )

    p.issue("PY-2", { builder_prompt: "WRITE docs/usage.md Call textkit.slugify(title) to make a URL slug." })
    const fine = p.cli("run", "PY-2", "--auto-approve", "--json")
    assert.strictEqual(fine.status, 0, fine.stdout + fine.stderr)
    assert.isTrue(json(fine.stdout).mergeable)
    assert.strictEqual(
      readFileSync(join(json(fine.stdout).worktree, "src/textkit/_version.py"), "utf8"),
      readFileSync(join(p.root, "src/textkit/_version.py"), "utf8"),
      "[workspace] copy brought the generated version file"
    )
  }, 240_000)
})

describe("spec-orch run with a verification step that rewrites files", () => {
  it("blocks the run, names the files in explain.md and leaves the change in the worktree; may_modify allows it", () => {
    const p = makeProject({
      verification: { format: "sed -i 's/hi/HI/' src/hello.txt", check: "test -f src/hello.txt" }
    })
    p.issue("FMT-1", { builder_prompt: "WRITE src/hello.txt hi" })
    const r = p.cli("run", "FMT-1", "--auto-approve", "--json")
    assert.strictEqual(r.status, 1, r.stderr)
    const out = json(r.stdout)
    assert.deepStrictEqual(out.failed, ["verification"])
    const [format] = evidence(p.root, "FMT-1-r1").verification.steps
    assert.strictEqual(format.outcome, "failed")
    assert.deepStrictEqual(format.modified, ["src/hello.txt"])
    const text = explain(p.root, "FMT-1-r1")
    assert.include(text, "## Verification changed the worktree")
    assert.include(text, "- format: `src/hello.txt`")
    assert.include(text, "changed 1 file in the worktree: src/hello.txt — the verified code is not what was committed")
    assert.strictEqual(readFileSync(join(out.worktree, "src/hello.txt"), "utf8"), "HI\n")

    const allowed = makeProject({
      verification: { format: { command: "sed -i 's/hi/HI/' src/hello.txt", may_modify: true } }
    })
    allowed.issue("FMT-2", { builder_prompt: "WRITE src/hello.txt hi" })
    const ok = allowed.cli("run", "FMT-2", "--auto-approve", "--json")
    assert.strictEqual(ok.status, 0, ok.stdout + ok.stderr)
    assert.include(explain(allowed.root, "FMT-2-r1"), "- format (allowed by may_modify): `src/hello.txt`")
  }, 120_000)
})
