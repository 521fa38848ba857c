/**
 * `spec-orch linear-sync` end to end: a real mission run (real binary, git, processes) promoted to the
 * fake Linear server (real GraphQL over loopback); a succeeded packet's issue moves to Done, an issue
 * canceled in Linear shows its packet as canceled, and a second sync changes nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import { fakeLinear } from "@spec-orch/test-kit"
import { Effect } from "effect"
import { appendFileSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { makeMissionProject } from "./utils/mission-project.js"

describe("spec-orch linear-sync", () => {
  it.live(
    "moves succeeded packets' issues to completed, shows canceled ones, and is idempotent",
    () =>
      Effect.gen(function* () {
        const fake = yield* fakeLinear()
        const p = makeMissionProject()
        appendFileSync(join(p.root, "spec-orch.toml"), `\n[linear]\nteam_key = "SON"\napi_url = "${fake.url}"\n`)
        p.mission("sync", [
          [
            { id: "alpha", files: ["src/alpha.js"], prompt: "WRITE src/alpha.js alpha" },
            { id: "beta", files: ["src/beta.js"], prompt: "WRITE src/beta.js beta" }
          ]
        ])
        const env = { SPEC_ORCH_LINEAR_TOKEN: fake.token }
        const promoted = yield* Effect.promise(() => p.cliAsync(["promote", "sync", "--tracker", "linear"], env))
        assert.strictEqual(promoted.status, 0, promoted.stderr)
        const packets = JSON.parse(readFileSync(join(p.root, "docs/specs/sync/promotion.json"), "utf8")).packets
        const alpha = packets.alpha.ref as string
        const beta = packets.beta.ref as string

        // Nothing has run yet: nothing to complete.
        const early = yield* Effect.promise(() => p.cliAsync(["linear-sync", "sync"], env))
        assert.strictEqual(early.status, 0, early.stderr)
        assert.match(early.stdout, /^In sync: mission sync's issues in SON already match its packets\./m)
        assert.strictEqual(fake.issue(alpha).state, "Todo")

        const ran = p.cli("run-plan", "sync")
        assert.strictEqual(ran.status, 0, ran.stderr)
        fake.moveIssue(beta, "Canceled")

        const dry = yield* Effect.promise(() => p.cliAsync(["linear-sync", "sync", "--dry-run"], env))
        assert.match(dry.stdout, /^Dry run: would move 1 issue in SON to completed/m)
        assert.strictEqual(fake.issue(alpha).state, "Todo", "a dry run changes nothing")

        const synced = yield* Effect.promise(() => p.cliAsync(["linear-sync", "sync"], env))
        assert.strictEqual(synced.status, 0, synced.stderr)
        assert.match(synced.stdout, /^Moved 1 issue in SON to completed for mission sync\./m)
        assert.match(
          synced.stdout,
          new RegExp(`completed +packet alpha +${alpha} +packet succeeded, Linear Todo → Done`)
        )
        assert.match(synced.stdout, new RegExp(`canceled +packet beta +${beta} +packet succeeded, Linear Canceled`))
        assert.match(synced.stdout, /^Canceled in Linear: beta/m)
        assert.strictEqual(fake.issue(alpha).state, "Done")
        assert.strictEqual(fake.issue(beta).state, "Canceled", "a canceled issue is left alone")

        const updates = fake.requestsTo("issueUpdate").length
        const again = yield* Effect.promise(() => p.cliAsync(["linear-sync", "sync", "--json"], env))
        assert.strictEqual(again.status, 0, again.stderr)
        const out = JSON.parse(again.stdout)
        assert.strictEqual(out.completed, 0)
        assert.deepStrictEqual(out.canceled, ["beta"])
        assert.strictEqual(fake.requestsTo("issueUpdate").length, updates, "a second sync changes nothing in Linear")
      }),
    { timeout: 240_000 }
  )

  it.live("refuses a mission that was never promoted, saying how to promote it", () =>
    Effect.sync(() => {
      const p = makeMissionProject()
      p.mission("lone", [[{ id: "one", files: ["a.js"], prompt: "WRITE a.js a" }]])
      const r = p.cli("linear-sync", "lone")
      assert.strictEqual(r.status, 1)
      assert.include(r.stderr, "spec-orch promote lone --tracker linear")
    })
  )
})
