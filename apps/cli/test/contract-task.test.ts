import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli } from "./cli.js"

const example = join(import.meta.dirname, "../../../examples/hello-node")
/** The quick-start project plus a risky issue touching a migration, auth code, CI and the manifest. */
const project = () => {
  const dir = mkdtempSync(join(tmpdir(), "contract-"))
  cpSync(example, dir, { recursive: true })
  writeFileSync(
    join(dir, "fixtures/issues/RISK-1.json"),
    JSON.stringify({
      issue_id: "RISK-1",
      title: "Store sessions in the database",
      summary: "Move login sessions from memory to a sessions table.",
      builder_prompt: "Add the table and use it.",
      acceptance_criteria: ["sessions survive a restart"],
      context: {
        target_files: ["migrations/002_sessions.sql", "src/auth/session.js", ".github/workflows/ci.yml", "package.json"]
      }
    })
  )
  return dir
}

describe("spec-orch contract", () => {
  it.effect("generate writes the issue's contract in the original's keys, and validate accepts it", () =>
    Effect.gen(function* () {
      const dir = project()
      const r = yield* cli("--cwd", dir, "contract", "generate", "HELLO-1")
      assert.strictEqual(r.code, 0, r.stderr)
      assert.include(
        r.stdout,
        "Wrote .spec-orch/contracts/HELLO-1.yaml: the task contract for HELLO-1 (risk low, 3 completion criteria, 1 verification commands)"
      )
      assert.match(
        readFileSync(join(dir, ".spec-orch/contracts/HELLO-1.yaml"), "utf8"),
        /^# Task contract for HELLO-1[\s\S]*\ncontract_id: contract-HELLO-1\n/
      )
      const read = yield* cli("--cwd", dir, "contract", "validate", ".spec-orch/contracts/HELLO-1.yaml", "--json")
      const c = JSON.parse(read.stdout).contract
      assert.strictEqual(c.contract_id, "contract-HELLO-1")
      assert.strictEqual(c.intent, "Add a farewell function")
      assert.deepStrictEqual(c.allowed_paths, ["src/greet.js", "test/greet.test.js"])
      assert.deepStrictEqual(c.completion_criteria[0], 'farewell("Ada") returns "Goodbye, Ada!"')
      assert.deepStrictEqual(c.verification_commands, { test: ["npm", "test", "--silent"] })
      assert.deepStrictEqual(c.boundaries, ["No new dependencies"])
      const ok = yield* cli("--cwd", dir, "contract", "validate", ".spec-orch/contracts/HELLO-1.yaml")
      assert.strictEqual(ok.code, 0, ok.stdout)
      assert.include(ok.stdout, "a valid task contract for HELLO-1 (risk low, 3 completion criteria)")
      const printed = yield* cli("--cwd", dir, "contract", "generate", "RISK-1", "--output", "-")
      assert.match(printed.stdout, /\nrisk_level: high\n/)
    })
  )

  it.effect("validate names each problem with its line and key and exits 1", () =>
    Effect.gen(function* () {
      const dir = project()
      writeFileSync(
        join(dir, "c.yaml"),
        "contract_id: c-1\nissue_id: HELLO 1\nintent: x\nrisk_level: extreme\ncompletion_criteria: []\nverificaton_commands: {}\n"
      )
      const r = yield* cli("--cwd", dir, "contract", "validate", "c.yaml")
      assert.strictEqual(r.code, 1)
      assert.match(r.stdout, /c\.yaml:2:\d+: error: issue_id: an issue id is letters, digits, - and _/)
      assert.match(
        r.stdout,
        /c\.yaml:4:\d+: error: risk_level: expected one of "low", "medium", "high", "critical", found the string "extreme"/
      )
      assert.match(r.stdout, /c\.yaml:5:\d+: error: completion_criteria: needs at least one completion criterion/)
      assert.match(r.stdout, /c\.yaml:6:\d+: warning: verificaton_commands: .*verification_commands/)
      assert.include(r.stdout, "c.yaml: not a valid task contract")
      const missing = yield* cli("--cwd", dir, "contract", "validate", "nope.yaml")
      assert.strictEqual(missing.code, 1)
      assert.include(missing.stderr, "task contract file not found: nope.yaml")
    })
  )

  it.effect("assess-risk gives a deterministic level with every reason and the paths behind it", () =>
    Effect.gen(function* () {
      const dir = project()
      const r = yield* cli("--cwd", dir, "contract", "assess-risk", "RISK-1")
      assert.strictEqual(r.code, 0, r.stderr)
      assert.match(r.stdout, /^RISK-1: risk high\n/)
      assert.match(r.stdout, /high +touches database migrations or schema: migrations\/002_sessions\.sql/)
      assert.match(r.stdout, /high +touches authentication or authorization code: src\/auth\/session\.js/)
      assert.match(r.stdout, /high +touches CI configuration: \.github\/workflows\/ci\.yml/)
      assert.match(r.stdout, /medium +touches dependency manifests or lockfiles: package\.json/)
      const again = yield* cli("--cwd", dir, "contract", "assess-risk", "RISK-1", "--json")
      assert.deepStrictEqual(JSON.parse(again.stdout).level, "high")
      assert.strictEqual(
        JSON.parse(again.stdout).reasons.length,
        JSON.parse((yield* cli("--cwd", dir, "contract", "assess-risk", "RISK-1", "--json")).stdout).reasons.length
      )
      const low = yield* cli("--cwd", dir, "contract", "assess-risk", "HELLO-1")
      assert.match(low.stdout, /^HELLO-1: risk low\n {2}no risk signals/)
    })
  )
})
