/**
 * The feedback loop's reading side: what a published pull request says now (head commit, reviews,
 * review comments, checks), the findings that come out of it, and which reaction triggers fire.
 * Reviews and comments are untrusted text: they become findings (data), never instructions. The
 * original's rules are kept: source by login, severity by tag, review state or bot wording.
 */
import type { Finding } from "@spec-orch/contract"
import { makeFinding, type NewFinding } from "@spec-orch/evidence"
import { Effect } from "effect"
import { GATE_CONTEXT } from "../publish/Publisher.js"
import type {
  GitHub,
  GitHubCheckRun,
  GitHubPull,
  GitHubReview,
  GitHubReviewComment,
  GitHubStatus
} from "../trackers/GitHub.js"
import type { TrackerError } from "../trackers/TrackerError.js"
import type { ReactionTrigger } from "./Reactions.js"

/** Everything read about one pull request. */
export interface PullObservation {
  readonly pull: GitHubPull
  readonly reviews: ReadonlyArray<GitHubReview>
  readonly reviewComments: ReadonlyArray<GitHubReviewComment>
  readonly checkRuns: ReadonlyArray<GitHubCheckRun>
  /** Commit statuses on the head other than spec-orch's own, newest first. */
  readonly statuses: ReadonlyArray<GitHubStatus>
}

/** What the observation adds up to (the original's signal, plus the review that requested changes). */
export interface PullSignal {
  readonly headSha: string
  readonly reviewDecision: "APPROVED" | "CHANGES_REQUESTED" | "REVIEW_REQUIRED"
  /** The newest review requesting changes that is still standing (its reviewer has not approved since). */
  readonly changesRequestedReview: number | null
  readonly checksPassed: boolean
  readonly checksFailed: ReadonlyArray<string>
  readonly checksPending: ReadonlyArray<string>
  readonly mergeable: boolean | null
  readonly mergeState: string | null
}

const FAILED_CONCLUSIONS = new Set(["failure", "timed_out", "cancelled", "action_required", "startup_failure"])

/** Reads a pull request, its reviews, review comments and the checks on its head. */
export const observePull = (
  github: GitHub["Service"],
  number: number
): Effect.Effect<PullObservation | undefined, TrackerError> =>
  Effect.gen(function* () {
    const found = yield* github.getPull(number)
    if (found._tag === "None") return undefined
    const pull = found.value
    const [reviews, reviewComments, checkRuns, statuses] = yield* Effect.all([
      github.listReviews(number),
      github.listReviewComments(number),
      github.listCheckRuns(pull.headSha),
      github.listStatuses(pull.headSha)
    ])
    // The newest status per context, without spec-orch's own gate status.
    const latest = new Map<string, GitHubStatus>()
    for (const s of statuses) if (s.context !== GATE_CONTEXT && !latest.has(s.context)) latest.set(s.context, s)
    return { pull, reviews, reviewComments, checkRuns, statuses: [...latest.values()] }
  })

/** The newest run of each check name. */
const latestRuns = (runs: ReadonlyArray<GitHubCheckRun>): ReadonlyArray<GitHubCheckRun> => {
  const seen = new Map<string, GitHubCheckRun>()
  for (const r of runs) if (!seen.has(r.name)) seen.set(r.name, r)
  return [...seen.values()]
}

/** The signal of an observation: review decision, checks, mergeability. */
export const signalOf = (o: PullObservation): PullSignal => {
  // The latest decisive review per reviewer counts, as on GitHub.
  const byUser = new Map<string, GitHubReview>()
  for (const r of o.reviews) {
    if (r.state !== "APPROVED" && r.state !== "CHANGES_REQUESTED" && r.state !== "DISMISSED") continue
    byUser.set(r.user ?? `#${r.id}`, r)
  }
  const standing = [...byUser.values()]
  const requesting = standing.filter((r) => r.state === "CHANGES_REQUESTED")
  const reviewDecision =
    requesting.length > 0
      ? "CHANGES_REQUESTED"
      : standing.some((r) => r.state === "APPROVED")
        ? "APPROVED"
        : "REVIEW_REQUIRED"
  // A check re-run on the same commit replaces the earlier run of that name (runs come newest first).
  const onHead = latestRuns(o.checkRuns)
  const checksFailed = [
    ...onHead
      .filter((c) => c.status === "completed" && c.conclusion !== null && FAILED_CONCLUSIONS.has(c.conclusion))
      .map((c) => c.name),
    ...o.statuses.filter((s) => s.state === "failure" || s.state === "error").map((s) => s.context)
  ]
  const checksPending = [
    ...onHead.filter((c) => c.status !== "completed").map((c) => c.name),
    ...o.statuses.filter((s) => s.state === "pending").map((s) => s.context)
  ]
  return {
    headSha: o.pull.headSha,
    reviewDecision,
    changesRequestedReview: requesting.length > 0 ? Math.max(...requesting.map((r) => r.id)) : null,
    checksPassed: checksFailed.length === 0 && checksPending.length === 0,
    checksFailed: [...new Set(checksFailed)],
    checksPending: [...new Set(checksPending)],
    mergeable: o.pull.mergeable,
    mergeState: o.pull.mergeableState
  }
}

/** Who wrote a review: a named review bot, another bot, or a human (the original's classes). */
export const reviewSource = (login: string | null): string => {
  const l = (login ?? "").toLowerCase()
  if (l.includes("coderabbit")) return "coderabbit"
  if (l.includes("devin")) return "devin"
  if (l.includes("gemini") || l.includes("google")) return "gemini"
  if (l.includes("github-actions") || l.includes("dependabot") || l.endsWith("[bot]")) return "bot"
  return "human"
}

/** Severity by the original's rules: tags, a review requesting changes, or a bot naming a bug. */
export const reviewSeverity = (
  body: string,
  reviewState: string | undefined,
  source: string
): "blocking" | "advisory" => {
  if (/\[(blocking|critical|major)\]/i.test(body)) return "blocking"
  if (/\[(minor|nit|nitpick|suggestion)\]/i.test(body)) return "advisory"
  if (reviewState === "CHANGES_REQUESTED") return "blocking"
  if (source !== "human" && /\b(bug|error|crash|security|vulnerability)\b/i.test(body)) return "blocking"
  return "advisory"
}

const MAX_FINDING_CHARS = 2000

/** The findings an observation carries: review bodies, review comments (with file and line), failed checks. */
export const findingsOf = (o: PullObservation, createdAt: string): ReadonlyArray<Finding> => {
  const out: Array<NewFinding> = []
  for (const r of o.reviews) {
    const body = r.body.trim()
    if (body === "") continue
    const source = reviewSource(r.user)
    out.push({
      source: `github-review:${source}`,
      description: body.slice(0, MAX_FINDING_CHARS),
      severity: reviewSeverity(body, r.state, source),
      confidence: source === "human" ? 0.9 : 0.6
    })
  }
  for (const c of o.reviewComments) {
    const body = c.body.trim()
    if (body === "") continue
    const source = reviewSource(c.user)
    out.push({
      source: `github-review:${source}`,
      description: body.slice(0, MAX_FINDING_CHARS),
      severity: reviewSeverity(body, undefined, source),
      confidence: source === "human" ? 0.9 : 0.6,
      filePath: c.path,
      ...(c.line !== null ? { line: c.line } : {})
    })
  }
  const signal = signalOf(o)
  for (const name of signal.checksFailed) {
    const run = o.checkRuns.find((c) => c.name === name)
    out.push({
      source: "ci",
      description: `CI check "${name}" failed${run?.conclusion ? ` (${run.conclusion})` : ""} on ${o.pull.headSha.slice(0, 10)}`,
      severity: "blocking",
      confidence: 1,
      ...(run?.url ? { suggestedAction: `see ${run.url}` } : {})
    })
  }
  return out.map((f) => makeFinding(f, createdAt))
}

/** Names of checks that pass on the head (their earlier CI findings are resolved). */
export const passingChecks = (o: PullObservation): ReadonlyArray<string> => [
  ...latestRuns(o.checkRuns)
    .filter((c) => c.status === "completed" && c.conclusion === "success")
    .map((c) => c.name),
  ...o.statuses.filter((s) => s.state === "success").map((s) => s.context)
]

/** A trigger that fired, with the key that makes its reaction happen once. */
export interface FiredTrigger {
  readonly trigger: ReactionTrigger
  /** The head commit, or the review, the trigger is about. */
  readonly key: string
}

/** Which triggers the signal fires, given the head commit spec-orch last published. */
export const firedTriggers = (
  signal: PullSignal,
  publishedHead: string | null,
  pull: GitHubPull
): ReadonlyArray<FiredTrigger> => {
  if (pull.state !== "open" || pull.merged) return []
  const fired: Array<FiredTrigger> = []
  if (publishedHead !== null && signal.headSha !== publishedHead)
    fired.push({ trigger: "head_changed", key: signal.headSha })
  if (signal.checksFailed.length > 0) fired.push({ trigger: "ci_failed", key: signal.headSha })
  if (signal.changesRequestedReview !== null)
    fired.push({ trigger: "changes_requested", key: `review-${signal.changesRequestedReview}` })
  if (signal.reviewDecision === "APPROVED" && signal.checksPassed && !pull.draft && signal.mergeable !== false)
    fired.push({ trigger: "approved_and_green", key: signal.headSha })
  return fired
}
