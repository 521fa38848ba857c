/**
 * `spec-orch daemon status` shows what the daemon's readiness triage spent on model calls (the sums the
 * daemon keeps in its store, `triage_model_calls`), beside the issues it tracks.
 */
import { assert, describe, it } from "@effect/vitest"
import { DaemonStore, TRIAGE_USAGE_KEY } from "@spec-orch/control"
import { Redactor } from "@spec-orch/harness"
import { SqliteClient } from "@spec-orch/sqlite"
import { Effect, Layer } from "effect"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { makeProject } from "./utils/project.js"

describe("spec-orch daemon status", () => {
  it("shows the triage model calls' tokens and cost once the daemon made some, and nothing before", async () => {
    const p = makeProject()
    const before = p.cli("daemon", "status", "--json")
    assert.strictEqual(before.status, 0, before.stderr)
    assert.strictEqual(JSON.parse(before.stdout).triageModelCalls, null)
    assert.notInclude(p.cli("daemon", "status").stdout, "triage:")

    // What the daemon writes after triage calls (see the control plane's DaemonTriageUsage test), in the
    // state directory it creates when it starts (`daemon status` only reads, so it created none).
    mkdirSync(join(p.root, ".spec-orch"), { recursive: true })
    await Effect.runPromise(
      DaemonStore.use((s) =>
        s.setMeta(
          TRIAGE_USAGE_KEY,
          JSON.stringify({ calls: 3, failed: 1, inputTokens: 2000, outputTokens: 200, usd: 0.004 })
        )
      ).pipe(
        Effect.provide(
          DaemonStore.layer.pipe(
            Layer.provide(SqliteClient.layer({ filename: join(p.root, ".spec-orch", "state.db") })),
            Layer.provide(Redactor.layerFrom({}))
          )
        )
      )
    )

    const json = p.cli("daemon", "status", "--json")
    assert.deepStrictEqual(JSON.parse(json.stdout).triageModelCalls, {
      calls: 3,
      failed: 1,
      inputTokens: 2000,
      outputTokens: 200,
      usd: 0.004
    })
    const text = p.cli("daemon", "status")
    assert.strictEqual(text.status, 0, text.stderr)
    assert.include(text.stdout, "triage: 3 model calls (1 failed), 2000 in / 200 out tokens, $0.0040")
  })
})
