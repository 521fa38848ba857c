import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { Analytics, InvalidSelector, InvalidWindow, type RunFacts, RunHistory } from "../src/index.js"

const run = (i: number, status: RunFacts["status"], more: Partial<RunFacts> = {}): RunFacts => ({
  runId: `R-${i}`,
  issueId: `SPC-${i}`,
  status,
  adapter: "codex",
  profile: "standard",
  startedAt: new Date(Date.UTC(2026, 11, 1) + i * 3_600_000).toISOString(),
  blockedBy: [],
  accepted: false,
  stageMs: {},
  ...more
})

describe("Analytics", () => {
  it.effect("summarizes outcomes, the pass rate with its Wilson interval, blockers, stage times and cost", () =>
    Effect.gen(function* () {
      const summary = yield* (yield* Analytics).summary()
      assert.deepStrictEqual(summary.outcomes, {
        mergeable: 3,
        blocked: 2,
        failed: 1,
        cancelled: 1,
        unfinished: 1,
        accepted: 1
      })
      // 3 of 6 finished: Wilson 95% = 0.1876 to 0.8124.
      assert.deepStrictEqual([summary.passRate.k, summary.passRate.n], [3, 6])
      assert.strictEqual(summary.passRate.low!.toFixed(4), "0.1876")
      assert.strictEqual(summary.passRate.high!.toFixed(4), "0.8124")
      assert.deepStrictEqual(
        summary.byAdapter.map((a) => [a.adapter, a.passRate.k, a.passRate.n]),
        [
          ["claude", 1, 2],
          ["codex", 2, 4]
        ]
      )
      assert.deepStrictEqual(summary.blockedBy, [
        { condition: "verification", runs: 2 },
        { condition: "review", runs: 1 }
      ])
      assert.deepStrictEqual(
        summary.stages.map((s) => [s.stage, s.n, s.meanMs, s.medianMs]),
        [
          ["agent", 3, 40, 20],
          ["verify", 2, 5, 5]
        ]
      )
      assert.deepStrictEqual(summary.cost, { runsWithCost: 2, totalUsd: 0.75, meanUsd: 0.375 })
    }).pipe(
      Effect.provide(Analytics.layer),
      Effect.provide(
        RunHistory.layerOf([
          run(1, "succeeded", { stageMs: { agent: 10, verify: 4 }, costUsd: 0.25 }),
          run(2, "succeeded", { accepted: true, stageMs: { agent: 20, verify: 6 }, costUsd: 0.5 }),
          run(3, "succeeded", { adapter: "claude", stageMs: { agent: 90 } }),
          run(4, "blocked", { blockedBy: ["verification", "review"] }),
          run(5, "blocked", { adapter: "claude", blockedBy: ["verification"] }),
          run(6, "failed"),
          run(7, "cancelled"),
          run(8, "running")
        ])
      )
    )
  )

  it.effect("compares selections with Fisher's exact test at small n and says when there is no evidence", () =>
    Effect.gen(function* () {
      const analytics = yield* Analytics
      const c = yield* analytics.compare("adapter=codex", "adapter=claude")
      assert.deepStrictEqual(
        [c.a.passRate.k, c.a.passRate.n, c.b.passRate.k, c.b.passRate.n, c.test],
        [4, 4, 0, 4, "fisher-exact"]
      )
      // [[4,0],[0,4]]: two tables as extreme, each 1/C(8,4) = 1/70.
      assert.strictEqual(c.pValue!.toFixed(4), (2 / 70).toFixed(4))
      assert.isTrue(c.significant)
      assert.match(
        c.verdict,
        /^adapter=codex passes more often than adapter=claude: 100\.0% vs 0\.0% \(p = 0\.029, n = 4 vs 4\)$/
      )
      const same = yield* analytics.compare("since=2026-12-01T00:00:00Z,until=2026-12-01T02:30:00Z", "issue=SPC-3")
      assert.strictEqual(same.verdict, "no evidence of a difference at n = 2 vs 1 (100.0% vs 100.0%, p = 1.000)")
      const overlapping = yield* analytics.compare("all", "adapter=claude")
      assert.strictEqual(overlapping.overlap, 4)
      assert.match(
        overlapping.verdict,
        /; the two sets share 4 run\(s\), so the test, which assumes independent sets, is only indicative$/
      )
      const either = yield* analytics.compare("adapter=gemini|claude,issue=SPC-5|SPC-6*", "status=blocked|failed")
      assert.deepStrictEqual([either.a.passRate.n, either.b.passRate.n], [2, 4])
      const none = yield* analytics.compare("adapter=gemini", "all")
      assert.strictEqual(none.verdict, "cannot compare: adapter=gemini selects no finished runs")
      const bad = yield* Effect.exit(analytics.compare("adapter", "all"))
      assert.isTrue(Exit.isFailure(bad))
      const error = yield* Effect.flip(analytics.compare("since=yesterday", "all"))
      assert.instanceOf(error, InvalidSelector)
      assert.match(error.message, /since must be an ISO date or time such as 2026-12-01/)
    }).pipe(
      Effect.provide(Analytics.layer),
      Effect.provide(
        RunHistory.layerOf([
          ...[1, 2, 3, 4].map((i) => run(i, "succeeded")),
          ...[5, 6, 7, 8].map((i) => run(i, "blocked", { adapter: "claude", blockedBy: ["verification"] }))
        ])
      )
    )
  )

  it.effect("degradation: the most recent runs against the ones before them", () =>
    Effect.gen(function* () {
      const analytics = yield* Analytics
      const d = yield* analytics.degradation(10, 20)
      assert.deepStrictEqual(
        [d.recent, d.baseline, d.a.passRate.k, d.b.passRate.k, d.test],
        [10, 20, 2, 19, "fisher-exact"]
      )
      assert.isTrue(d.degraded)
      assert.match(d.verdict, /^degraded: recent 10 passes less often than baseline 20/)
      const error = yield* Effect.flip(analytics.degradation(0, 5))
      assert.instanceOf(error, InvalidWindow)
      assert.strictEqual(error.message, "--recent must be a positive whole number of runs, got 0")
    }).pipe(
      Effect.provide(Analytics.layer),
      Effect.provide(
        RunHistory.layerOf([
          ...Array.from({ length: 20 }, (_, i) => run(i, i === 3 ? "blocked" : "succeeded")),
          ...Array.from({ length: 10 }, (_, i) => run(20 + i, i < 2 ? "succeeded" : "failed")),
          run(40, "cancelled")
        ])
      )
    )
  )
})
