/** `spec-orch mission logs`: the events of a real mission run's packets, interleaved, prefixed with the packet id. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeMissionProject } from "./utils/mission-project.js"

describe("spec-orch mission logs", () => {
  it.live(
    "interleaves every packet run's events in time, each line with its packet id",
    () =>
      Effect.sync(() => {
        const p = makeMissionProject()
        p.mission("logs", [
          [
            { id: "alpha", files: ["src/alpha.js"], prompt: "WRITE src/alpha.js alpha" },
            { id: "beta-long", files: ["src/beta.js"], prompt: "WRITE src/beta.js beta" }
          ]
        ])
        const before = p.cli("mission", "logs", "logs")
        assert.strictEqual(before.status, 0, before.stderr)
        assert.include(before.stderr, "No packet of mission logs has run yet; start it with `spec-orch run-plan logs`.")
        const ran = p.cli("run-plan", "logs")
        assert.strictEqual(ran.status, 0, ran.stderr)

        const r = p.cli("mission", "logs", "logs")
        assert.strictEqual(r.status, 0, r.stderr)
        const lines = r.stdout.trim().split("\n")
        for (const l of lines) assert.match(l, /^\[(alpha\] {4}|beta-long\]) \d\d:\d\d:\d\d /, l)
        assert.isTrue(lines.some((l) => l.startsWith("[alpha]")) && lines.some((l) => l.startsWith("[beta-long]")))
        assert.isTrue(
          lines.some((l) => /^\[alpha\] +\S+ ▸ agent/.test(l)),
          r.stdout
        )

        const json = p
          .cli("mission", "logs", "logs", "--json")
          .stdout.trim()
          .split("\n")
          .map((l) => JSON.parse(l) as { packet: string; at: string; runId: string })
        assert.deepStrictEqual([...new Set(json.map((e) => e.packet))].sort(), ["alpha", "beta-long"])
        const times = json.map((e) => e.at)
        assert.deepStrictEqual(times, [...times].sort(), "events in time order across packets")
        assert.isTrue(
          json.some((e) => e.runId.startsWith("logs.alpha")) && json.some((e) => e.runId.startsWith("logs.beta-long"))
        )

        // --follow on a finished mission prints the same and ends by itself.
        const followed = p.cli("mission", "logs", "logs", "--follow")
        assert.strictEqual(followed.status, 0, followed.stderr)
        assert.strictEqual(followed.stdout, r.stdout)
      }),
    { timeout: 240_000 }
  )
})
