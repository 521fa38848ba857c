/**
 * The few statistics analytics needs, written out so their behaviour is known exactly: the Wilson score
 * interval for a proportion, Fisher's exact test and the pooled two-proportion z-test for a difference,
 * and mean/median. No dependency; every function is total (n = 0 gives an empty interval, not NaN).
 */

/** The standard normal quantile for a two-sided 95% interval. */
export const Z95 = 1.959963984540054

/** A proportion k/n with its Wilson score interval. */
export interface Rate {
  readonly k: number
  readonly n: number
  /** k/n, or null when n = 0. */
  readonly rate: number | null
  /** Bounds of the interval, or null when n = 0. */
  readonly low: number | null
  readonly high: number | null
  /** The interval's confidence level (0.95). */
  readonly confidence: number
}

/**
 * The Wilson score interval (without continuity correction) for k successes in n trials:
 * (p + z²/2n ± z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n). Unlike p ± z·sqrt(p(1−p)/n) it stays inside
 * [0, 1] and does not collapse to a point at 0/n or n/n.
 */
export const wilson = (k: number, n: number, z: number = Z95): Rate => {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || n < 0 || k > n)
    throw new RangeError(`wilson: expected integers 0 <= k <= n, got k=${k}, n=${n}`)
  if (n === 0) return { k, n, rate: null, low: null, high: null, confidence: 0.95 }
  const p = k / n
  const z2 = z * z
  const centre = p + z2 / (2 * n)
  const spread = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))
  const denominator = 1 + z2 / n
  return {
    k,
    n,
    rate: p,
    // At k = 0 (k = n) the lower (upper) bound is exactly 0 (1); say so instead of −1e-17.
    low: k === 0 ? 0 : Math.max(0, (centre - spread) / denominator),
    high: k === n ? 1 : Math.min(1, (centre + spread) / denominator),
    confidence: 0.95
  }
}

/** ln(n!) by summing logs, cached: exact enough for the counts of runs a project has (thousands). */
const logFactorials: Array<number> = [0]
const logFactorial = (n: number): number => {
  for (let i = logFactorials.length; i <= n; i++) logFactorials.push(logFactorials[i - 1]! + Math.log(i))
  return logFactorials[n]!
}

/**
 * The hypergeometric log-probability of each 2×2 table with the margins of [[a, b], [c, d]], as a
 * function of its top-left cell; shared by both forms of Fisher's exact test.
 */
const tableLogP = (a: number, b: number, c: number, d: number) => {
  const row1 = a + b
  const row2 = c + d
  const col1 = a + c
  const n = row1 + row2
  const constant =
    logFactorial(row1) + logFactorial(row2) + logFactorial(col1) + logFactorial(n - col1) - logFactorial(n)
  return {
    row1,
    row2,
    col1,
    n,
    logP: (x: number) =>
      constant - logFactorial(x) - logFactorial(row1 - x) - logFactorial(col1 - x) - logFactorial(row2 - col1 + x)
  }
}

/**
 * Fisher's exact test, two-sided, for the 2×2 table [[a, b], [c, d]] (rows: groups; columns: success,
 * failure). The p-value sums the hypergeometric probabilities of every table with the same margins
 * that is no more likely than the observed one (the usual definition, as R's fisher.test).
 */
export const fisherExact = (a: number, b: number, c: number, d: number): number => {
  const { row1, row2, col1, n, logP } = tableLogP(a, b, c, d)
  if (n === 0) return 1
  const observed = logP(a)
  const lo = Math.max(0, col1 - row2)
  const hi = Math.min(row1, col1)
  let p = 0
  // A relative tolerance so tables exactly as likely as the observed one are not lost to rounding.
  for (let x = lo; x <= hi; x++) {
    const lp = logP(x)
    if (lp <= observed + 1e-7) p += Math.exp(lp)
  }
  return Math.min(1, p)
}

/** The complementary error function, erfc(x), with relative error below 1.2e-7 (Chebyshev fit). */
const erfc = (x: number): number => {
  const z = Math.abs(x)
  const t = 1 / (1 + z / 2)
  const poly =
    -z * z -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
  const r = t * Math.exp(poly)
  return x >= 0 ? r : 2 - r
}

/** P(|Z| >= |z|) for a standard normal Z. */
export const twoSidedNormalP = (z: number): number => erfc(Math.abs(z) / Math.SQRT2)

/**
 * The pooled two-proportion z-test, two-sided: z = (p1 − p2) / sqrt(p(1−p)(1/n1 + 1/n2)) with p the
 * pooled rate. Returns z and its p-value; with no variance (all successes or none) z is 0 and p is 1.
 */
export const twoProportionZ = (
  k1: number,
  n1: number,
  k2: number,
  n2: number
): { readonly z: number; readonly p: number } => {
  if (n1 === 0 || n2 === 0) return { z: 0, p: 1 }
  const pooled = (k1 + k2) / (n1 + n2)
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
  if (se === 0) return { z: 0, p: 1 }
  const z = (k1 / n1 - k2 / n2) / se
  return { z, p: twoSidedNormalP(z) }
}

/** Which test compares two proportions, and why. */
export type ProportionTest = "fisher-exact" | "two-proportion-z"

/**
 * The rule: Fisher's exact test when any expected cell count of the 2×2 table is below 5 (where the
 * normal approximation is poor), the pooled two-sided z-test otherwise.
 */
export const chooseTest = (k1: number, n1: number, k2: number, n2: number): ProportionTest => {
  const n = n1 + n2
  if (n === 0) return "fisher-exact"
  const successes = k1 + k2
  const failures = n - successes
  const expected = [(n1 * successes) / n, (n1 * failures) / n, (n2 * successes) / n, (n2 * failures) / n]
  return expected.some((e) => e < 5) ? "fisher-exact" : "two-proportion-z"
}

/** The arithmetic mean, or null for no values. */
export const mean = (xs: ReadonlyArray<number>): number | null =>
  xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length

/** The median (the mean of the middle two for an even count), or null for no values. */
export const median = (xs: ReadonlyArray<number>): number | null => {
  if (xs.length === 0) return null
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Fisher's exact test, one-sided: the probability, under the table's margins, of row 1 having at least
 * `a` successes (the alternative: row 1's rate is greater than row 2's). Table [[a, b], [c, d]].
 */
export const fisherExactGreater = (a: number, b: number, c: number, d: number): number => {
  const { row1, col1, n, logP } = tableLogP(a, b, c, d)
  if (n === 0) return 1
  let p = 0
  for (let x = a; x <= Math.min(row1, col1); x++) p += Math.exp(logP(x))
  return Math.min(1, p)
}

/** P(Z >= z) for a standard normal Z (the upper tail). */
export const upperNormalP = (z: number): number => (z >= 0 ? twoSidedNormalP(z) / 2 : 1 - twoSidedNormalP(z) / 2)
