import { assert, describe, it } from "@effect/vitest"
import { decidePromotion } from "../src/index.js"

const plan = { metric: "gate passed", minSamplePerArm: 5 }

describe("the promotion rule", () => {
  it("a candidate with a higher raw rate on a handful of runs is not promoted", () => {
    const d = decidePromotion(plan, { successes: 4, trials: 5 }, { successes: 2, trials: 5 })
    assert.strictEqual(d.decision, "hold")
    assert.strictEqual(d.test, "fisher-exact")
    // P(X >= 4) for the hypergeometric with margins 5, 5 and 6 successes: (C(5,4)C(5,2) + C(5,5)C(5,1)) / C(10,6) = 55/210.
    assert.closeTo(d.pValue!, 55 / 210, 1e-12)
    assert.include(d.reason, "not shown better: candidate 4/5 against baseline 2/5")
    const perfect = decidePromotion(
      { ...plan, minSamplePerArm: 10 },
      { successes: 3, trials: 3 },
      { successes: 0, trials: 3 }
    )
    assert.strictEqual(perfect.decision, "hold", "3/3 against 0/3 is below the minimum sample")
    assert.isNull(perfect.pValue)
    assert.include(perfect.reason, "each arm needs at least 10")
  })

  it("a candidate that clearly beats the baseline is promoted, with its p-value, sample sizes and intervals", () => {
    const small = decidePromotion(plan, { successes: 5, trials: 5 }, { successes: 0, trials: 5 })
    assert.strictEqual(small.decision, "promote")
    assert.closeTo(small.pValue!, 1 / 252, 1e-12)
    const large = decidePromotion(plan, { successes: 80, trials: 100 }, { successes: 60, trials: 100 })
    assert.strictEqual(large.test, "two-proportion-z")
    assert.strictEqual(large.decision, "promote")
    // z = 0.2 / sqrt(0.7 · 0.3 · 0.02) = 3.086; upper tail 0.00101.
    assert.closeTo(large.pValue!, 0.00101, 0.00002)
    assert.deepStrictEqual(
      [large.candidate.k, large.candidate.n, large.baseline.k, large.baseline.n],
      [80, 100, 60, 100]
    )
    assert.isTrue(large.candidate.low! < 0.8 && large.candidate.high! > 0.8)
    assert.include(large.reason, "p = 0.00101 < 0.05")
  })

  it("the test is one-sided: a worse candidate is never promoted, however large the sample", () => {
    const worse = decidePromotion(plan, { successes: 60, trials: 100 }, { successes: 80, trials: 100 })
    assert.strictEqual(worse.decision, "hold")
    assert.isAbove(worse.pValue!, 0.99)
    // Fisher's one-sided p for [[3, 1], [1, 3]] is 17/70 (R: fisher.test(..., alternative = "greater")).
    assert.closeTo(
      decidePromotion({ ...plan, minSamplePerArm: 4 }, { successes: 3, trials: 4 }, { successes: 1, trials: 4 })
        .pValue!,
      17 / 70,
      1e-12
    )
  })

  it("says when a person must still approve, and refuses counts that cannot be", () => {
    assert.isTrue(
      decidePromotion(plan, { successes: 5, trials: 5 }, { successes: 0, trials: 5 }, "prompt-variant")
        .needsHumanApproval
    )
    assert.isFalse(
      decidePromotion(plan, { successes: 5, trials: 5 }, { successes: 0, trials: 5 }, "review-learning")
        .needsHumanApproval
    )
    assert.throws(
      () => decidePromotion(plan, { successes: 6, trials: 5 }, { successes: 0, trials: 5 }),
      /candidate arm must have whole numbers 0 <= successes <= trials, got 6\/5/
    )
  })

  it("a p-value exactly at alpha is not below it, however the sum rounds", () => {
    // 3/3 against 0/3: Fisher's one-sided p = 1/C(6,3) = 1/20 = 0.05 exactly (R: fisher.test(..., alternative = "greater")).
    const d = decidePromotion({ ...plan, minSamplePerArm: 3 }, { successes: 3, trials: 3 }, { successes: 0, trials: 3 })
    assert.closeTo(d.pValue!, 0.05, 1e-12)
    assert.strictEqual(d.decision, "hold")
    assert.include(d.reason, "not shown better: candidate 3/3 against baseline 0/3")
  })
})
