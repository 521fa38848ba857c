import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli } from "./cli.js"

/** The original spec-orch's contracts file. */
const compat = "/work/shared/compat/spec-orch/compliance.contracts.yaml"
/** A project holding the original spec-orch's compliance.contracts.yaml, unchanged. */
const project = () => {
  const dir = mkdtempSync(join(tmpdir(), "compliance-"))
  copyFileSync(compat, join(dir, "compliance.contracts.yaml"))
  return dir
}
const lines = (...events: Array<unknown>) => `${events.map((e) => JSON.stringify(e)).join("\n")}\n`

describe("spec-orch compliance", () => {
  it.effect(
    "judges a run's events.jsonl: a force push is an error and exits 1, naming the contract and the command",
    () =>
      Effect.gen(function* () {
        const dir = project()
        const run = join(dir, ".spec-orch", "runs", "r1")
        mkdirSync(run, { recursive: true })
        writeFileSync(
          join(run, "events.jsonl"),
          lines(
            { _tag: "message", at: 1, role: "assistant", text: "Let me check the branch first." },
            { _tag: "command", at: 2, command: "git push --force origin main", exitCode: 0 },
            { _tag: "turn_end", at: 3, reason: "completed", ok: true }
          )
        )
        const r = yield* cli("--cwd", dir, "compliance", "evaluate", ".spec-orch/runs/r1/events.jsonl")
        assert.strictEqual(r.code, 1, r.stderr)
        assert.match(r.stdout, /no-force-push +error +1 violation/)
        assert.match(r.stdout, /pre-action-narration +warning +1 violation/)
        assert.include(r.stdout, "git push --force origin main")
        assert.include(r.stdout, "NOT compliant: 1 error, 1 warning")
        // A run directory stands for its events.jsonl; --json is one document.
        const json = yield* cli("--cwd", dir, "compliance", "evaluate", ".spec-orch/runs/r1", "--json")
        assert.strictEqual(json.code, 1)
        const doc = JSON.parse(json.stdout)
        assert.strictEqual(doc.compliant, false)
        assert.strictEqual(doc.events, 3)
        assert.strictEqual(doc.contractsSource, "compliance.contracts.yaml")
        assert.deepStrictEqual(
          doc.violations.map((v: { contractId: string }) => v.contractId),
          ["pre-action-narration", "no-force-push"]
        )
      })
  )

  it.effect("a clean log of the original's builder events is compliant and exits 0", () =>
    Effect.gen(function* () {
      const dir = project()
      writeFileSync(
        join(dir, "builder_events.jsonl"),
        lines(
          { timestamp: "2026-01-01T00:00:00Z", kind: "command_start", text: "npm test" },
          { timestamp: "2026-01-01T00:00:01Z", kind: "command_end", text: "npm test", exit_code: 0 },
          { timestamp: "2026-01-01T00:00:02Z", kind: "message", text: "Done: the tests pass." }
        )
      )
      const r = yield* cli("--cwd", dir, "compliance", "evaluate", "builder_events.jsonl")
      assert.strictEqual(r.code, 0, r.stderr)
      assert.match(r.stdout, /3 events judged against 4 contracts/)
      assert.match(r.stdout, /\ncompliant$/)
      // The original's destructive-command pattern loads and matches, from its own file via --contracts.
      writeFileSync(join(dir, "bad.jsonl"), lines({ kind: "command_start", text: "rm -r -f ~/" }))
      const bad = yield* cli("--cwd", dir, "compliance", "evaluate", "bad.jsonl", "--contracts", compat)
      assert.strictEqual(bad.code, 1)
      assert.match(bad.stdout, /no-destructive-commands +error +1 violation/)
    })
  )

  it.effect("a missing or broken event log exits 2 with the file, the line and how to fix it", () =>
    Effect.gen(function* () {
      const dir = project()
      const missing = yield* cli("--cwd", dir, "compliance", "evaluate", "nope.jsonl")
      assert.strictEqual(missing.code, 2)
      assert.include(missing.stderr, "event log not found: nope.jsonl")
      writeFileSync(
        join(dir, "broken.jsonl"),
        `${lines({ _tag: "message", at: 1, role: "assistant", text: "hi" })}{not json\n${lines({ kind: "telepathy" })}`
      )
      const broken = yield* cli("--cwd", dir, "compliance", "evaluate", "broken.jsonl", "--json")
      assert.strictEqual(broken.code, 2)
      assert.include(broken.stderr, "broken.jsonl:2: error: not a JSON object")
      assert.include(broken.stderr, 'broken.jsonl:3: error: unknown event kind "telepathy"')
      assert.strictEqual(JSON.parse(broken.stdout).error.kind, "InvalidFile")
      writeFileSync(join(dir, "bad-contracts.yaml"), "contracts:\n  - id: x\n    patterns: ['(unclosed']\n")
      const contracts = yield* cli("--cwd", dir, "compliance", "list-contracts", "--contracts", "bad-contracts.yaml")
      assert.strictEqual(contracts.code, 2)
      assert.match(
        contracts.stderr,
        /bad-contracts\.yaml:3:\d+: error: contracts\.0\.patterns\.0: invalid regular expression/
      )
    })
  )

  it.effect("list-contracts shows the original's contracts, and the built-ins when the project has none", () =>
    Effect.gen(function* () {
      const dir = project()
      const r = yield* cli("--cwd", dir, "compliance", "list-contracts")
      assert.strictEqual(r.code, 0, r.stderr)
      assert.match(r.stdout, /^Compliance contracts from compliance\.contracts\.yaml:/)
      assert.match(r.stdout, /pre-action-narration +warning +built-in check +Pre-Action Narration Detection/)
      assert.match(r.stdout, /no-destructive-commands +error +2 patterns +No Destructive Commands/)
      const json = JSON.parse((yield* cli("--cwd", dir, "compliance", "list-contracts", "--json")).stdout)
      assert.deepStrictEqual(
        json.contracts.map((c: { id: string }) => c.id),
        ["pre-action-narration", "no-secrets-in-output", "no-force-push", "no-destructive-commands"]
      )
      assert.include(json.contracts[2].description, "git push --force")
      const empty = mkdtempSync(join(tmpdir(), "compliance-none-"))
      const defaults = yield* cli("--cwd", empty, "compliance", "list-contracts")
      assert.match(defaults.stdout, /^Compliance contracts from built-in defaults:/)
    })
  )
})
