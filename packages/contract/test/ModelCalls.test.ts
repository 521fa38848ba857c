import { assert, describe, it } from "@effect/vitest"
import { describeModelCalls, formatModelCost, summarizeModelCalls } from "../src/index.js"

const call = (over: Partial<Parameters<typeof summarizeModelCalls>[0][number]>) => ({
  model: "a",
  ok: true,
  inputTokens: 100,
  outputTokens: 10,
  latencyMs: 50,
  ...over
})

describe("summarizeModelCalls", () => {
  it("sums per role in the order roles were first called, with the models each used", () => {
    const s = summarizeModelCalls([
      call({ role: "reviewer", usd: 0.01 }),
      call({ role: "planner", model: "p", usd: 0.02, latencyMs: 100 }),
      call({ role: "reviewer", model: "b", ok: false, inputTokens: 0, outputTokens: 0 }),
      call({ role: "reviewer", model: "b", usd: 0.03 })
    ])!
    assert.strictEqual(s.calls, 4)
    assert.strictEqual(s.failed, 1)
    assert.strictEqual(s.inputTokens, 300)
    assert.closeTo(s.costUsd!, 0.06, 1e-12)
    assert.deepStrictEqual(
      s.byRole.map((r) => [r.role, r.calls, r.failed, r.models]),
      [
        ["reviewer", 3, 1, ["a", "b"]],
        ["planner", 1, 0, ["p"]]
      ]
    )
    assert.closeTo(
      s.byRole[0]!.costUsd!,
      0.04,
      1e-12,
      "a failed request that used no tokens costs nothing, priced or not"
    )
    assert.strictEqual(s.byRole[0]!.latencyMs, 150)
  })

  it("makes a cost unknown (null) as soon as one call used tokens of a model without prices, never a partial sum", () => {
    const s = summarizeModelCalls([call({ role: "reviewer", usd: 0.01 }), call({ role: "reviewer" })])!
    assert.isNull(s.costUsd)
    assert.isNull(s.byRole[0]!.costUsd)
    assert.strictEqual(formatModelCost(s.costUsd), "unknown")
    assert.include(
      describeModelCalls(s),
      "reviewer 2 calls, 200 in / 20 out tokens, cost unknown (no prices configured)"
    )
  })

  it("has nothing to say about no calls", () => {
    assert.isUndefined(summarizeModelCalls([]))
  })
})
