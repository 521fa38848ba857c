/**
 * Offline replay, the pure part: which past issues are held out for a proposal, how one arm's run is
 * scored, and the counts the promotion rule is given. The runs themselves go through the same Runs
 * service as `spec-orch run` (the app drives them, `evolution validate --replay`); nothing here runs
 * anything. An issue the proposal was learned from is never held out: it would score the proposal on the
 * evidence that made it.
 */
import type { RunRecord } from "@spec-orch/contract"
import type { ArmCounts } from "./PromotionRule.js"
import type { Proposal } from "./Proposals.js"

/** The metric a replay is scored on, fixed before the runs. */
export const REPLAY_METRIC = "gate mergeable on replay"

/** Held-out issues when none are named. */
export const DEFAULT_HELD_OUT = 10

/** Run states that are finished: a replay re-runs issues whose real runs got this far. */
const FINISHED: ReadonlyArray<RunRecord["status"]> = ["succeeded", "blocked", "failed"]

/** The issues a replay re-runs, or why it cannot. */
export type HeldOut =
  | { readonly issues: ReadonlyArray<string>; readonly excluded: ReadonlyArray<string> }
  | { readonly problem: string }

/** The issues the proposal was learned from (from the run ids it names). */
export const sourceIssues = (proposal: Proposal, runs: ReadonlyArray<RunRecord>): ReadonlyArray<string> => {
  const ids = new Set(proposal.sources.runIds)
  return [...new Set(runs.filter((r) => ids.has(r.runId)).map((r) => r.issueId as string))]
}

/**
 * The issues that could be held out (pure), most recent first: distinct issues with a finished run of their
 * own (not a mission packet's key, not a replay's), less those the proposal was learned from. `runs` newest first.
 */
export const heldOutCandidates = (proposal: Proposal, runs: ReadonlyArray<RunRecord>): ReadonlyArray<string> => {
  const excluded = sourceIssues(proposal, runs)
  return [
    ...new Set(
      runs
        .filter((r) => FINISHED.includes(r.status) && (r.runKey as string) === (r.issueId as string))
        .map((r) => r.issueId as string)
    )
  ].filter((i) => !excluded.includes(i))
}

/**
 * The held-out issues (pure): the ones named (each must have a finished run of its own, be known to the issue
 * source and not be one the proposal was learned from), else the `count` most recent of `heldOutCandidates`
 * the issue source knows (`known`; a mission packet's issue is not in it) and the proposal's scope covers
 * (`inScope`). `runs` newest first.
 */
export const selectHeldOut = (
  proposal: Proposal,
  runs: ReadonlyArray<RunRecord>,
  options: {
    readonly issues?: ReadonlyArray<string> | undefined
    readonly count: number
    /** Whether the issue source knows the issue (default: every issue). */
    readonly known?: ((issueId: string) => boolean) | undefined
    /** Whether the proposal's scope covers the issue (`appliesTo`; default: every issue): elsewhere both arms are the same run. */
    readonly inScope?: ((issueId: string) => boolean) | undefined
  }
): HeldOut => {
  const known = options.known ?? (() => true)
  const inScope = options.inScope ?? (() => true)
  const excluded = sourceIssues(proposal, runs)
  const finished = runs.filter((r) => FINISHED.includes(r.status) && (r.runKey as string) === (r.issueId as string))
  if (options.issues !== undefined) {
    const named = [...new Set(options.issues.map((i) => i.trim()).filter((i) => i !== ""))]
    if (named.length === 0) return { problem: "--issues names no issue; give ids such as --issues CL-3,CL-4" }
    const learned = named.filter((i) => excluded.includes(i))
    if (learned.length > 0)
      return {
        problem: `${learned.join(", ")} ${learned.length === 1 ? "is" : "are"} where ${proposal.id} was learned from (runs ${proposal.sources.runIds.join(", ")}), so not held out; name other issues`
      }
    const unrun = named.filter((i) => !finished.some((r) => r.issueId === i))
    if (unrun.length > 0)
      return {
        problem: `${unrun.join(", ")} ${unrun.length === 1 ? "has" : "have"} no finished run of ${unrun.length === 1 ? "its" : "their"} own to replay; \`spec-orch status\` lists the runs`
      }
    const unknown = named.filter((i) => !known(i))
    if (unknown.length > 0)
      return {
        problem: `the issue source does not know ${unknown.join(", ")} (a mission packet's issue cannot be replayed on its own); name other issues`
      }
    const outside = named.filter((i) => !inScope(i))
    if (outside.length > 0)
      return {
        problem: `${outside.join(", ")} ${outside.length === 1 ? "is" : "are"} outside the scope of ${proposal.id} (${proposal.scope}): it would not be offered there, so both arms would be the same run; name other issues`
      }
    return { issues: named, excluded }
  }
  if (!Number.isInteger(options.count) || options.count < 1)
    return { problem: `--held-out: expected a positive number, got ${options.count}` }
  const issues = heldOutCandidates(proposal, runs)
    .filter((i) => known(i) && inScope(i))
    .slice(0, options.count)
  if (issues.length === 0)
    return {
      problem: `no finished run of an issue other than the ones ${proposal.id} was learned from (${excluded.join(", ") || "none"}): run more issues first, or name them with --issues`
    }
  return { issues, excluded }
}

/** How one arm's run of one issue ended. */
export interface ArmOutcome {
  readonly runId: string
  /** The run's final status (`succeeded` = the gate found it mergeable). */
  readonly status: string
  /** The metric: the gate's verdict was mergeable. */
  readonly success: boolean
  /** The gate's `verification` condition: passed, failed, or not judged (no verdict, or disabled). */
  readonly verification: "passed" | "failed" | "not judged"
}

/** One held-out issue, replayed without (baseline) and with (candidate) the proposal. */
export interface ReplayOutcome {
  readonly issueId: string
  readonly baseline: ArmOutcome
  readonly candidate: ArmOutcome
}

/** Scores one finished replay run (pure). */
export const armOutcome = (record: RunRecord): ArmOutcome => {
  const verification = record.verdict?.conditions.find((c) => c.condition === "verification")
  return {
    runId: record.runId,
    status: record.status,
    success: record.status === "succeeded" && record.verdict?.mergeable === true,
    verification:
      verification === undefined || (verification.status !== "passed" && verification.status !== "failed")
        ? "not judged"
        : verification.status
  }
}

/** The counts the promotion rule is given: successes out of replayed issues, per arm (pure). */
export const replayCounts = (
  outcomes: ReadonlyArray<ReplayOutcome>
): { readonly candidate: ArmCounts; readonly baseline: ArmCounts } => ({
  candidate: { successes: outcomes.filter((o) => o.candidate.success).length, trials: outcomes.length },
  baseline: { successes: outcomes.filter((o) => o.baseline.success).length, trials: outcomes.length }
})

/** The run key of one arm's replay of an issue: apart from the issue's own runs, branches and worktrees. */
export const replayRunKey = (proposalId: string, issueId: string, arm: "candidate" | "baseline"): string =>
  `replay.${proposalId}.${arm}.${issueId}`
