/**
 * The gate: `evaluate(policy, profile, evidence)` is a pure, synchronous function from a policy, a
 * profile and an evidence bundle to a verdict, and the only place that decides mergeability. The
 * `Gate` service exposes the same function over the project's policy. "Could not judge" (missing
 * evidence) is kept distinct from "judged and failed" all the way to the verdict.
 */
import { ConditionResult, didYouMean, type EvidenceBundle, findingBlocks, GateVerdict } from "@spec-orch/contract"
import { Context, Effect, Layer, Result } from "effect"
import type { Condition, ConditionContext, Judgement } from "./Conditions.js"
import { UnknownProfile } from "./GateError.js"
import { GatePolicies, type PolicyUnavailable } from "./GatePolicies.js"
import type { GatePolicy } from "./GatePolicy.js"

/** One condition as a profile applies it. */
export interface PlannedCondition {
  readonly name: string
  readonly condition: Condition
  /** Required conditions decide mergeability. */
  readonly required: boolean
  /** Switched off by the profile: reported as disabled, never judged. */
  readonly disabled: boolean
}

/** What a policy means under one profile: which conditions are judged, required or off. */
export interface GatePlan {
  readonly policy: string
  readonly profile: string | null
  readonly conditions: ReadonlyArray<PlannedCondition>
  readonly autoMerge: boolean
  /** Conditions that must have passed for auto-merge (disabled ones are left out). */
  readonly autoMergeConditions: ReadonlyArray<string>
  readonly context: ConditionContext
}

const plans = new WeakMap<GatePolicy, Map<string | null, GatePlan>>()

/**
 * Applies a profile to a policy. `enable` makes a condition required (adding it when the policy
 * does not declare it), `disable` switches it off, `auto_merge` overrides the policy's. Conditions
 * named only in `auto_merge_conditions` are judged as advisory so auto-merge can check them.
 * Enforced conditions (`protected_paths`) are already in the policy as required; only a profile
 * that disables one by name switches it off.
 */
export const resolveProfile = (
  policy: GatePolicy,
  profile: string | null | undefined
): Result.Result<GatePlan, UnknownProfile> => {
  const key = profile ?? null
  let byProfile = plans.get(policy)
  const hit = byProfile?.get(key)
  if (hit !== undefined) return Result.succeed(hit)
  const p = key === null ? undefined : policy.profiles.find((x) => x.name === key)
  if (key !== null && p === undefined) {
    const known = policy.profiles.map((x) => x.name)
    const suggestion = didYouMean(key, known)
    return Result.fail(
      new UnknownProfile({
        profile: key,
        policy: policy.name,
        known,
        ...(suggestion !== undefined ? { suggestion } : {})
      })
    )
  }
  const entries = new Map<string, { required: boolean; disabled: boolean }>()
  for (const c of policy.conditions) entries.set(c.name, { required: c.required, disabled: false })
  for (const name of p?.enable ?? []) entries.set(name, { required: true, disabled: false })
  for (const name of p?.disable ?? []) {
    const e = entries.get(name)
    if (e !== undefined) e.disabled = true
  }
  const requiredNames = [...entries].filter(([, e]) => e.required && !e.disabled).map(([n]) => n)
  const autoMergeOn = (policy.autoMergeConditions ?? requiredNames).filter((n) => entries.get(n)?.disabled !== true)
  for (const name of autoMergeOn) if (!entries.has(name)) entries.set(name, { required: false, disabled: false })
  const plan: GatePlan = {
    policy: policy.name,
    profile: key,
    conditions: [...entries].map(([name, e]) => ({
      name,
      condition: policy.registry.get(name)!,
      required: e.required,
      disabled: e.disabled
    })),
    autoMerge: p?.autoMerge ?? policy.autoMerge,
    autoMergeConditions: autoMergeOn,
    context: { blockOn: policy.blockOn, protected: policy.protected }
  }
  if (byProfile === undefined) {
    byProfile = new Map()
    plans.set(policy, byProfile)
  }
  byProfile.set(key, plan)
  return Result.succeed(plan)
}

const STATUSES = new Set(["passed", "failed", "not_judgeable"])

const judgeSafely = (condition: Condition, evidence: EvidenceBundle, context: ConditionContext): Judgement => {
  let j: Judgement
  try {
    j = condition.judge(evidence, context)
  } catch (e) {
    // An embedder's condition threw: that is a failure to pass, never a silent pass.
    return {
      status: "failed",
      reason: `the condition crashed: ${e instanceof Error ? e.message : String(e)}`,
      unblock: "fix the condition's code"
    }
  }
  if (
    j === null ||
    typeof j !== "object" ||
    !STATUSES.has(j.status) ||
    typeof j.reason !== "string" ||
    (j.unblock !== undefined && typeof j.unblock !== "string")
  ) {
    return {
      status: "failed",
      reason: "the condition returned an invalid judgement (need status passed, failed or not_judgeable and a reason)",
      unblock: "fix the condition's code"
    }
  }
  return j
}

/** Judges `evidence` under an already resolved plan. Pure. */
export const evaluatePlan = (plan: GatePlan, evidence: EvidenceBundle): GateVerdict => {
  const results: Array<ConditionResult> = []
  const failed: Array<string> = []
  const notJudgeable: Array<string> = []
  const passedNames = new Set<string>()
  for (const c of plan.conditions) {
    if (c.disabled) {
      results.push(
        new ConditionResult({
          condition: c.name,
          required: c.required,
          status: "disabled",
          reason: `disabled by profile "${plan.profile}"`
        })
      )
      continue
    }
    const j = judgeSafely(c.condition, evidence, plan.context)
    results.push(
      new ConditionResult({
        condition: c.name,
        required: c.required,
        status: j.status,
        reason: j.reason,
        ...(j.status !== "passed" && j.unblock !== undefined ? { unblock: j.unblock } : {})
      })
    )
    if (j.status === "passed") passedNames.add(c.name)
    else if (c.required) (j.status === "failed" ? failed : notJudgeable).push(c.name)
  }
  const mergeable = failed.length === 0 && notJudgeable.length === 0
  return new GateVerdict({
    policy: plan.policy,
    profile: plan.profile,
    mergeable,
    // An open blocking finding never auto-merges, whatever the profile switched off (the original refuses too).
    autoMergeable:
      mergeable &&
      plan.autoMerge &&
      plan.autoMergeConditions.every((n) => passedNames.has(n)) &&
      !(evidence.findings ?? []).some(findingBlocks),
    conditions: results,
    failed,
    notJudgeable
  })
}

/**
 * Judges `evidence` against `policy` under `profile` (`null`/`undefined` = the policy as written).
 * Pure and synchronous. Throws `UnknownProfile` when the policy has no such profile; check with
 * `resolveProfile` first, or use the `Gate` service, to get it as a typed error instead.
 */
export const evaluate = (
  policy: GatePolicy,
  profile: string | null | undefined,
  evidence: EvidenceBundle
): GateVerdict => evaluatePlan(Result.getOrThrow(resolveProfile(policy, profile)), evidence)

/** One line for people: `mergeable`, or what failed and what could not be judged. */
export const verdictHeadline = (v: GateVerdict): string => {
  if (v.mergeable) return v.autoMergeable ? "MERGEABLE (auto-merge allowed)" : "MERGEABLE"
  const parts = [
    ...(v.failed.length > 0 ? [`failed: ${v.failed.join(", ")}`] : []),
    ...(v.notJudgeable.length > 0 ? [`could not judge: ${v.notJudgeable.join(", ")}`] : [])
  ]
  return `BLOCKED (${parts.join("; ")})`
}

/** The gate over one policy: evaluates bundles, with the profile given or the default one. */
export class Gate extends Context.Service<
  Gate,
  {
    /** The policy this gate judges with (loaded on first use for the project's gate). */
    readonly policy: Effect.Effect<GatePolicy, PolicyUnavailable>
    /** The profile used when `evaluate` is not given one (`null` = the policy as written). */
    readonly defaultProfile: string | null
    /** Judges `evidence`; a blocked verdict is a success. Errors: unknown profile, unusable policy file. */
    readonly evaluate: (
      evidence: EvidenceBundle,
      profile?: string | null
    ) => Effect.Effect<GateVerdict, UnknownProfile | PolicyUnavailable>
    /**
     * The plan the gate will judge with under `profile` (default: `defaultProfile`). Runs call it
     * before any work, so an unusable policy or an unknown profile fails before the agent runs.
     */
    readonly plan: (profile?: string | null) => Effect.Effect<GatePlan, UnknownProfile | PolicyUnavailable>
  }
>()("@spec-orch/evidence/Gate") {
  /** A gate over a given policy (embedders, tests). */
  static readonly layerFrom = (policy: GatePolicy, defaultProfile: string | null = null): Layer.Layer<Gate> =>
    Layer.succeed(Gate, Gate.make(Effect.succeed(policy), defaultProfile))

  /**
   * The project's gate: the policy file from `[gate] policy` (or the built-in), the profile from
   * `[gate] profile`. The file is read on first use, so a broken policy fails only what judges.
   */
  static readonly layer: Layer.Layer<Gate, never, GatePolicies> = Layer.effect(
    Gate,
    Effect.gen(function* () {
      const policies = yield* GatePolicies
      return Gate.make(policies.current, policies.configuredProfile)
    })
  )

  /** The service value over a (possibly lazy) policy. */
  static readonly make = (
    policy: Effect.Effect<GatePolicy, PolicyUnavailable>,
    defaultProfile: string | null = null
  ): Gate["Service"] => {
    const plan = Effect.fn("Gate.plan")(function* (profile?: string | null) {
      return yield* Effect.fromResult(resolveProfile(yield* policy, profile === undefined ? defaultProfile : profile))
    })
    return Gate.of({
      policy,
      defaultProfile,
      plan,
      evaluate: Effect.fn("Gate.evaluate")(function* (evidence: EvidenceBundle, profile?: string | null) {
        return evaluatePlan(yield* plan(profile), evidence)
      })
    })
  }
}
