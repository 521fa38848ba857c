/**
 * The promotion rule: whether a candidate (a proposal applied) beats the baseline (runs without it) on a
 * metric chosen before the data were seen. Pure: counts in, decision out.
 *
 * The metric is a proportion (e.g. runs whose gate passed). Each arm needs at least `minSamplePerArm`
 * trials; then a one-sided test of "the candidate's rate is greater" — Fisher's exact test when any
 * expected cell of the 2×2 table is below 5, the pooled two-proportion z-test otherwise — must give
 * p < alpha (0.05). A higher raw rate on a handful of runs promotes nothing.
 */
import {
  chooseTest,
  fisherExactGreater,
  type ProportionTest,
  type Rate,
  twoProportionZ,
  upperNormalP,
  wilson
} from "./internal/stats.js"
import { HUMAN_APPROVAL_KINDS, type ProposalKind } from "./Proposals.js"

/** The plan, fixed before the trials: what is measured, how many trials each arm needs, the level. */
export interface PromotionPlan {
  /** What a success is, in words (e.g. `gate passed on the first attempt`). */
  readonly metric: string
  readonly minSamplePerArm: number
  /** The one-sided significance level (default 0.05). */
  readonly alpha?: number | undefined
}

/** Successes out of trials, for one arm. */
export interface ArmCounts {
  readonly successes: number
  readonly trials: number
}

export interface PromotionDecision {
  /** `promote`: the candidate beats the baseline; `hold`: not shown (yet); nothing is promoted on raw rates. */
  readonly decision: "promote" | "hold"
  /** Why, in one sentence a user can check against the numbers below. */
  readonly reason: string
  readonly metric: string
  readonly test: ProportionTest
  /** One-sided p-value for "candidate rate > baseline rate"; null when the sample was too small to test. */
  readonly pValue: number | null
  readonly alpha: number
  readonly minSamplePerArm: number
  /** Each arm's rate with its 95% Wilson interval (k, n, low, high). */
  readonly candidate: Rate
  readonly baseline: Rate
  /** Whether a person must still approve before it is used (prompts, policies, gate-affecting rules). */
  readonly needsHumanApproval: boolean
}

const check = (name: string, arm: ArmCounts) => {
  if (
    !Number.isInteger(arm.successes) ||
    !Number.isInteger(arm.trials) ||
    arm.successes < 0 ||
    arm.trials < 0 ||
    arm.successes > arm.trials
  ) {
    throw new RangeError(
      `promotion rule: the ${name} arm must have whole numbers 0 <= successes <= trials, got ${arm.successes}/${arm.trials}`
    )
  }
}

const fmt = (r: Rate) => `${r.k}/${r.n}`

/** Decides whether the candidate is promoted (pure). */
export const decidePromotion = (
  plan: PromotionPlan,
  candidate: ArmCounts,
  baseline: ArmCounts,
  kind?: ProposalKind
): PromotionDecision => {
  check("candidate", candidate)
  check("baseline", baseline)
  const alpha = plan.alpha ?? 0.05
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`promotion rule: alpha must be between 0 and 1, got ${alpha}`)
  if (!Number.isInteger(plan.minSamplePerArm) || plan.minSamplePerArm < 1) {
    throw new RangeError(
      `promotion rule: minSamplePerArm must be a whole number of at least 1, got ${plan.minSamplePerArm}`
    )
  }
  const c = wilson(candidate.successes, candidate.trials)
  const b = wilson(baseline.successes, baseline.trials)
  const test = chooseTest(candidate.successes, candidate.trials, baseline.successes, baseline.trials)
  const common = {
    metric: plan.metric,
    test,
    alpha,
    minSamplePerArm: plan.minSamplePerArm,
    candidate: c,
    baseline: b,
    needsHumanApproval: kind !== undefined && HUMAN_APPROVAL_KINDS.includes(kind)
  }
  if (candidate.trials < plan.minSamplePerArm || baseline.trials < plan.minSamplePerArm) {
    return {
      ...common,
      decision: "hold",
      reason: `too few trials: candidate ${fmt(c)}, baseline ${fmt(b)}; each arm needs at least ${plan.minSamplePerArm}`,
      pValue: null
    }
  }
  const pValue =
    test === "fisher-exact"
      ? fisherExactGreater(
          candidate.successes,
          candidate.trials - candidate.successes,
          baseline.successes,
          baseline.trials - baseline.successes
        )
      : upperNormalP(twoProportionZ(candidate.successes, candidate.trials, baseline.successes, baseline.trials).z)
  // Floating-point sums land a hair below an exact boundary (3/3 against 0/3: Fisher's p is exactly 1/20, summed
  // as 0.04999999999999999): a p within a relative 1e-9 of alpha counts as alpha, which is not below it.
  const better = pValue < alpha * (1 - 1e-9)
  return {
    ...common,
    decision: better ? "promote" : "hold",
    reason: better
      ? `candidate ${fmt(c)} beats baseline ${fmt(b)} on "${plan.metric}": one-sided ${test} p = ${pValue.toPrecision(3)} < ${alpha}`
      : `not shown better: candidate ${fmt(c)} against baseline ${fmt(b)} on "${plan.metric}", one-sided ${test} p = ${pValue.toPrecision(3)} >= ${alpha}`,
    pValue
  }
}
