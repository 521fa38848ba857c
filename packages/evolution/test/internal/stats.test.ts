/**
 * The statistics against published values: Wilson intervals from Newcombe (1998), "Two-sided confidence
 * intervals for the single proportion", Statistics in Medicine 17:857–872, Table I (method 3, score
 * interval without continuity correction); Fisher's exact test from Fisher's tea-tasting experiment
 * (p = 34/70) and the 2×2 example of the Wikipedia article "Fisher's exact test" (p ≈ 0.002759).
 */
import { assert, describe, it } from "@effect/vitest"
import {
  chooseTest,
  fisherExact,
  mean,
  median,
  twoProportionZ,
  twoSidedNormalP,
  wilson,
  Z95
} from "../../src/internal/stats.js"

const close = (actual: number | null, expected: number, digits = 4) =>
  assert.strictEqual(actual === null ? null : Number(actual.toFixed(digits)), expected)

describe("wilson", () => {
  it("matches Newcombe's Table I to four decimals", () => {
    for (const [k, n, low, high] of [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718]
    ] as const) {
      const r = wilson(k, n)
      close(r.low, low)
      close(r.high, high)
    }
  })

  it("stays inside [0, 1] at n/n and says nothing at n = 0", () => {
    const all = wilson(10, 10)
    assert.strictEqual(all.high, 1)
    close(all.low, 0.7225)
    assert.deepStrictEqual([wilson(0, 0).rate, wilson(0, 0).low, wilson(0, 0).high], [null, null, null])
  })
})

describe("fisherExact", () => {
  it("gives the tea-tasting p-value 34/70 and the textbook 0.002759", () => {
    close(fisherExact(3, 1, 1, 3), Number((34 / 70).toFixed(4)))
    close(fisherExact(1, 9, 11, 3), 0.002759, 6)
    // Perfect separation of 5 and 5: only two tables as extreme, each 1/C(10,5).
    close(fisherExact(5, 0, 0, 5), Number((2 / 252).toFixed(6)), 6)
    close(fisherExact(2, 2, 2, 2), 1, 9)
  })
})

describe("two-proportion z-test", () => {
  it("50/100 vs 30/100: z = 0.2 / sqrt(0.4·0.6·0.02) = 2.8868, two-sided p = 0.0039", () => {
    const { p, z } = twoProportionZ(50, 100, 30, 100)
    close(z, 2.8868)
    close(p, 0.0039)
    close(twoSidedNormalP(Z95), 0.05, 6)
    close(twoSidedNormalP(2.5758), 0.01, 5)
  })

  it("is chosen only when every expected cell is at least 5", () => {
    assert.strictEqual(chooseTest(50, 100, 30, 100), "two-proportion-z")
    assert.strictEqual(chooseTest(3, 4, 1, 4), "fisher-exact")
    assert.strictEqual(chooseTest(19, 20, 18, 20), "fisher-exact")
  })
})

describe("mean and median", () => {
  it("of odd and even counts, and of nothing", () => {
    assert.deepStrictEqual(
      [median([3, 1, 2]), median([4, 1, 3, 2]), median([]), mean([1, 2, 6]), mean([])],
      [2, 2.5, null, 3, null]
    )
  })
})
