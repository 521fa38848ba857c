import { assert, describe, it } from "@effect/vitest"
import type { AgentEvent } from "@spec-orch/contract"
import { isUnlimited, overBudget, SpendMeter } from "../src/index.js"

const usage = (inputTokens: number, outputTokens: number, cumulative: boolean, costUsd?: number): AgentEvent => ({
  _tag: "usage",
  at: 0,
  inputTokens,
  outputTokens,
  cumulative,
  ...(costUsd !== undefined ? { costUsd } : {})
})

describe("SpendMeter", () => {
  it("sums incremental usage and lets a cumulative report replace the totals", () => {
    const meter = new SpendMeter()
    meter.add(usage(100, 10, false, 0.01))
    meter.add(usage(200, 20, false, 0.02))
    meter.add({ _tag: "message", at: 0, role: "assistant", text: "hi" })
    assert.deepStrictEqual(meter.spend(3), { inputTokens: 300, outputTokens: 30, usd: 0.03, seconds: 3 })
    meter.add(usage(250, 25, true, 0.025))
    assert.deepStrictEqual(meter.spend(4), { inputTokens: 250, outputTokens: 25, usd: 0.025, seconds: 4 })
  })

  it("reports no cost until the agent reports one", () => {
    const meter = new SpendMeter()
    meter.add(usage(1, 1, false))
    assert.isUndefined(meter.spend(0).usd)
  })
})

describe("overBudget", () => {
  it("names the limit that was crossed and the config key that sets it", () => {
    assert.strictEqual(
      overBudget({ maxTokens: 100 }, { inputTokens: 90, outputTokens: 20, usd: undefined, seconds: 1 }),
      "used 110 tokens, over the budget of 100 ([builder] max_tokens)"
    )
    assert.strictEqual(
      overBudget({ maxUsd: 0.5 }, { inputTokens: 0, outputTokens: 0, usd: 0.75, seconds: 1 }),
      "spent $0.7500, over the budget of $0.5 ([builder] max_cost_usd)"
    )
    assert.strictEqual(
      overBudget({ maxSeconds: 10 }, { inputTokens: 0, outputTokens: 0, usd: undefined, seconds: 12 }),
      "ran 12 s, over the time budget of 10 s"
    )
  })

  it("is within budget at the limit, and when the cost is unknown", () => {
    assert.isUndefined(
      overBudget({ maxTokens: 100, maxUsd: 1 }, { inputTokens: 50, outputTokens: 50, usd: undefined, seconds: 0 })
    )
    assert.isTrue(isUnlimited({}))
    assert.isFalse(isUnlimited({ maxUsd: 1 }))
  })
})
