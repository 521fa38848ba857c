import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli } from "./cli.js"

const example = join(import.meta.dirname, "../../../examples/hello-node")
const project = () => {
  const dir = mkdtempSync(join(tmpdir(), "cli-"))
  cpSync(example, dir, { recursive: true })
  return dir
}

describe("spec-orch issue", () => {
  it.effect("lists fixture issues as a table and as JSON", () =>
    Effect.gen(function* () {
      const dir = project()
      const text = yield* cli("--cwd", dir, "issue", "list")
      assert.strictEqual(text.code, 0)
      assert.match(text.stdout, /^ID +TITLE +AC +VERIFY +BUILDER\nHELLO-1 +Add a farewell function +3 +config +yes$/)
      const json = yield* cli("issue", "list", "--json", "--cwd", dir)
      assert.deepStrictEqual(
        JSON.parse(json.stdout).issues.map((i: { id: string }) => i.id),
        ["HELLO-1"]
      )
    })
  )

  it.effect("--source overrides [issue] source for one command, and names a wrong one", () =>
    Effect.gen(function* () {
      const dir = project()
      writeFileSync(
        join(dir, "spec-orch.toml"),
        readFileSync(join(dir, "spec-orch.toml"), "utf8").replace(/source = "[a-z]+"/, 'source = "linear"')
      )
      const fixtures = yield* cli("--cwd", dir, "issue", "list", "--source", "fixture", "--json")
      assert.strictEqual(fixtures.code, 0, fixtures.stderr)
      assert.deepStrictEqual(
        JSON.parse(fixtures.stdout).issues.map((i: { id: string }) => i.id),
        ["HELLO-1"]
      )
      const wrong = yield* cli("--cwd", dir, "issue", "list", "--source", "jira")
      assert.strictEqual(wrong.code, 1)
      assert.include(wrong.stderr, 'unknown [issue] source "jira"')
    })
  )

  it.effect("exits 1 with one readable line when an issue does not exist", () =>
    Effect.gen(function* () {
      const r = yield* cli("--cwd", project(), "issue", "show", "HELO-1")
      assert.strictEqual(r.code, 1)
      assert.strictEqual(
        r.stderr,
        "spec-orch: issue HELO-1 not found in fixtures (fixtures/issues) (did you mean HELLO-1?)"
      )
      assert.notMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace without --verbose")
    })
  )

  it.effect("with --json, a failure is a JSON document on stdout as well as a line on stderr", () =>
    Effect.gen(function* () {
      const r = yield* cli("--cwd", project(), "issue", "show", "HELO-1", "--json")
      assert.strictEqual(r.code, 1)
      const doc = JSON.parse(r.stdout)
      assert.match(doc.error.message, /issue HELO-1 not found/)
      assert.isString(doc.error.kind)
      assert.include(r.stderr, "issue HELO-1 not found")
    })
  )

  it.effect("exits 2 on a usage error and suggests the command", () =>
    Effect.gen(function* () {
      const r = yield* cli("issue", "lst")
      assert.strictEqual(r.code, 2)
      assert.match(r.stderr, /unknown command "lst" \(did you mean "list"\?\)/)
    })
  )
})

describe("spec-orch config check", () => {
  it.effect("passes on the example and names every problem in a broken config", () =>
    Effect.gen(function* () {
      const dir = project()
      const ok = yield* cli("--cwd", dir, "config", "check")
      assert.strictEqual(ok.code, 0)
      assert.match(ok.stdout, /ok: no errors/)
      writeFileSync(
        join(dir, "spec-orch.toml"),
        '[builder]\nadapter = "command"\ncommand = ["node", "agent/implement.mjs"]\ntimeout_seconds = "1h"\n[verificaton]\ntest = "npm test"\n'
      )
      const bad = yield* cli("--cwd", dir, "config", "check", "--json")
      assert.strictEqual(bad.code, 1)
      const report = JSON.parse(bad.stdout)
      assert.strictEqual(report.ok, false)
      assert.deepStrictEqual(
        report.problems.map((p: any) => [p.line, p.key, p.severity]),
        [
          [4, "builder.timeout_seconds", "error"],
          [5, "verificaton", "warning"]
        ]
      )
      // A config that loads keeps its warnings: the command passes and still lists them.
      writeFileSync(join(dir, "spec-orch.toml"), '[verificaton]\ntest = "npm test"\n')
      const warned = yield* cli("--cwd", dir, "config", "check", "--json")
      assert.strictEqual(warned.code, 0)
      const warnings = JSON.parse(warned.stdout)
      assert.strictEqual(warnings.ok, true)
      assert.deepStrictEqual(
        warnings.problems.map((p: any) => [p.line, p.key, p.severity]),
        [[1, "verificaton", "warning"]]
      )
      assert.match(warnings.problems[0].message, /unknown/)
    })
  )
})

describe("spec-orch init", () => {
  it.effect("writes a spec-orch.toml with the project's own commands, and refuses to overwrite it", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "init-"))
      writeFileSync(join(dir, "package.json"), JSON.stringify({ scripts: { test: "node --test", lint: "eslint ." } }))
      const r = yield* cli("--cwd", dir, "init")
      assert.strictEqual(r.code, 0)
      const text = readFileSync(join(dir, "spec-orch.toml"), "utf8")
      assert.match(text, /\nlint = \["npm", "run", "--silent", "lint"\]\ntest = \["npm", "test", "--silent"\]\n/)
      const again = yield* cli("--cwd", dir, "init")
      assert.strictEqual(again.code, 1)
      assert.match(again.stderr, /spec-orch\.toml already exists; use --force to overwrite it/)
      const check = yield* cli("--cwd", dir, "config", "check")
      assert.strictEqual(check.code, 0)
    })
  )
})

describe("spec-orch spec and questions", () => {
  it.effect("approves a spec, blocks on an open blocking question, and records the answer", () =>
    Effect.gen(function* () {
      const dir = project()
      const before = yield* cli("--cwd", dir, "spec", "show", "HELLO-1", "--json")
      assert.strictEqual(JSON.parse(before.stdout).state, "unapproved")
      const approved = yield* cli("--cwd", dir, "spec", "approve", "HELLO-1", "--approved-by", "ada")
      assert.match(approved.stdout, /^Approved spec HELLO-1 v1 \(sha256 [0-9a-f]{12}\) by ada\.$/)
      yield* cli("--cwd", dir, "questions", "add", "HELLO-1", "--text", "Which language for the message?", "--blocking")
      const listed = JSON.parse((yield* cli("--cwd", dir, "spec", "show", "HELLO-1", "--json")).stdout)
      assert.deepStrictEqual(listed.unresolvedBlocking, ["Q1"])
      yield* cli("--cwd", dir, "questions", "answer", "HELLO-1", "Q1", "--answer", "English", "--decided-by", "grace")
      const after = JSON.parse((yield* cli("--cwd", dir, "spec", "show", "HELLO-1", "--json")).stdout)
      assert.deepStrictEqual(after.unresolvedBlocking, [])
      assert.isTrue(existsSync(join(dir, ".spec-orch/specs/HELLO-1.json")))
    })
  )
})

describe("spec-orch mission", () => {
  it.effect("creates, lists, approves and shows a mission", () =>
    Effect.gen(function* () {
      const dir = project()
      const created = yield* cli("--cwd", dir, "mission", "create", "Say goodbye everywhere", "--id", "goodbye")
      assert.match(created.stdout, /Created mission goodbye \(drafting\)/)
      const approved = yield* cli("--cwd", dir, "mission", "approve", "goodbye", "--approved-by", "ada", "--json")
      assert.strictEqual(JSON.parse(approved.stdout).status, "approved")
      const list = yield* cli("--cwd", dir, "mission", "list")
      assert.match(list.stdout, /goodbye +approved +approved +Say goodbye everywhere/)
      const show = yield* cli("--cwd", dir, "mission", "show", "goodbye")
      assert.match(show.stdout, /^goodbye: Say goodbye everywhere\nstatus: approved/)
    })
  )
})
