/**
 * The daemon's rules as plain functions: which issues count (states, labels, the poll query), what a finished
 * run means (disposition), when to retry, and the texts it writes. Rule: nothing here reads a clock, a store
 * or a tracker; the daemon's services pass in what the rules look at.
 */
import type { Issue, Project, RunRecord } from "@spec-orch/contract"
import type { UsageTotals } from "@spec-orch/harness"
import { Option, Schema } from "effect"
import type { DaemonIssue } from "./DaemonStore.js"
import { CLARIFICATION_LABEL } from "./Triage.js"

/** Who the daemon approves specs as (recorded on the spec and in the evidence). */
export const DAEMON_APPROVER = "spec-orch daemon"

/** The label a dead-lettered issue gets. */
export const DEAD_LETTER_LABEL = "dead-letter"

/** Gate conditions an agent can fix by trying again; a run blocked only by others waits for a person. */
export const RETRYABLE_CONDITIONS: ReadonlyArray<string> = [
  "builder",
  "verification",
  "compliance",
  "within_boundaries"
]

/** Seconds until retry `n` (1-based): `base * 2^(n-1)`. */
export const retryDelaySeconds = (baseSeconds: number, n: number): number => baseSeconds * 2 ** Math.max(0, n - 1)

/** How long an answer about GitHub team membership is reused before GitHub is asked again. */
export const TEAM_MEMBERSHIP_TTL_SECONDS = 600

/** The comment key of a dead-letter notice. */
export const deadLetterKey = (issueId: string): string => `dead-letter:${issueId}`

/** The daemon's meta key holding the sums of every readiness (triage) model call: `UsageTotals` as JSON (`usd` absent = no prices). */
export const TRIAGE_USAGE_KEY = "triage_model_calls"

/** Reads stored totals: any JSON object (its number fields are used), or none. */
const storedTotals = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Record(Schema.String, Schema.Unknown)))

/** Adds `more` to the totals stored as JSON in `before` (unreadable or absent = none yet). */
export const triageTotals = (before: string | undefined, more: UsageTotals): UsageTotals => {
  const prev: Partial<Record<keyof UsageTotals, unknown>> =
    before === undefined ? {} : Option.getOrElse(storedTotals(before), () => ({}))
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0)
  const usd = prev.usd === undefined && more.usd === undefined ? undefined : n(prev.usd) + n(more.usd)
  return {
    calls: n(prev.calls) + more.calls,
    failed: n(prev.failed) + more.failed,
    inputTokens: n(prev.inputTokens) + more.inputTokens,
    outputTokens: n(prev.outputTokens) + more.outputTokens,
    usd
  }
}

/** How the daemon reads the tracker: which states count, which labels filter. */
export interface DaemonRules {
  readonly source: "linear" | "github" | "fixture"
  readonly consumeState: string
  readonly inProgressState: string
  readonly requireLabels: ReadonlyArray<string>
  readonly excludeLabels: ReadonlyArray<string>
  readonly hotfixLabels: ReadonlyArray<string>
}

const lower = (s: string) => s.trim().toLowerCase()

/** Whether an issue carries a label (case and surrounding space ignored). */
export const hasLabel = (issue: Issue, label: string) => issue.labels.some((l) => lower(l) === lower(label))

/** The daemon's rules from the project's config. */
export const daemonRules = (config: Project["Service"]["config"]): DaemonRules => {
  const source = lower(config.issue.source)
  return {
    source: source === "linear" ? "linear" : source === "github" ? "github" : "fixture",
    consumeState: config.daemon.consume_state,
    inProgressState: config.linear.in_progress_state,
    requireLabels: config.daemon.require_labels,
    excludeLabels: config.daemon.exclude_labels,
    hotfixLabels: config.daemon.hotfix_labels
  }
}

/** Whether an issue is waiting to be picked up (Linear: in the consume state; GitHub: open with the consume-state label, or any open issue when it is "open"). */
export const inConsumeState = (rules: DaemonRules, issue: Issue): boolean => {
  const state = lower(issue.origin.state ?? "")
  if (rules.source === "linear") return state === lower(rules.consumeState)
  if (rules.source === "github")
    return state === "open" && (lower(rules.consumeState) === "open" || hasLabel(issue, rules.consumeState))
  return true
}

/** Whether a run of this issue should go on (still waiting, or in the state the daemon moved it to). */
export const isActive = (rules: DaemonRules, issue: Issue): boolean =>
  inConsumeState(rules, issue) ||
  (rules.source === "linear" && lower(issue.origin.state ?? "") === lower(rules.inProgressState))

/** Whether the label filters let an issue through. */
export const labelsAllow = (rules: DaemonRules, issue: Issue): boolean =>
  rules.requireLabels.every((l) => hasLabel(issue, l)) && !rules.excludeLabels.some((l) => hasLabel(issue, l))

/** The tracker query for a poll: issues waiting, plus those the daemon moved to its in-progress state. */
export const pollQuery = (rules: DaemonRules) =>
  rules.source === "linear"
    ? {
        states: [rules.consumeState, rules.inProgressState],
        labels: rules.requireLabels,
        excludeLabels: rules.excludeLabels
      }
    : rules.source === "github"
      ? {
          states: ["open"],
          labels: [...rules.requireLabels, ...(lower(rules.consumeState) === "open" ? [] : [rules.consumeState])],
          excludeLabels: rules.excludeLabels
        }
      : { labels: rules.requireLabels, excludeLabels: rules.excludeLabels }

/** What the daemon does after a run: the run's verdict decides. */
export type RunDisposition =
  | { readonly kind: "done"; readonly message: string }
  | { readonly kind: "retry"; readonly message: string; readonly reuseAgentOf?: string | undefined }
  | { readonly kind: "clarify"; readonly message: string }

/** Classifies a finished run: mergeable or waiting for a person → done; agent-fixable failures → retry. */
export const disposition = (record: RunRecord): RunDisposition => {
  const message = record.message ?? record.status
  switch (record.status) {
    case "succeeded":
      return { kind: "done", message }
    case "waiting":
      return { kind: "clarify", message }
    case "blocked": {
      const fixable = (record.verdict?.failed ?? []).filter((c) => RETRYABLE_CONDITIONS.includes(c))
      return fixable.length > 0
        ? { kind: "retry", message: `gate failed: ${fixable.join(", ")} (${message})` }
        : { kind: "done", message }
    }
    default:
      // A failure while publishing keeps the agent's work: the next attempt re-verifies and re-publishes it.
      return {
        kind: "retry",
        message,
        ...(record.status === "failed" && record.stage === "publish" ? { reuseAgentOf: record.runId } : {})
      }
  }
}

/** Whether an issue jumps the queue and skips triage (it carries a `[daemon] hotfix_labels` label). */
export const isHotfix = (rules: DaemonRules, issue: Issue): boolean =>
  rules.hotfixLabels.some((l) => hasLabel(issue, l))

/** How an eligible issue is dispatched: triaged first or not, resumed, or a new attempt reusing an earlier agent's work. */
export interface Eligibility {
  readonly triage: boolean
  readonly resume: boolean
  readonly reuse: string | null
}

/**
 * Whether an issue may be dispatched now (`now` in ms), and how; `undefined` when it may not (in flight already,
 * filtered out by labels, waiting for a retry time or a person, dead-lettered).
 */
export const eligibility = (
  rules: DaemonRules,
  issue: Issue,
  row: DaemonIssue | undefined,
  now: number,
  inFlight: boolean
): Eligibility | undefined => {
  if (inFlight || !labelsAllow(rules, issue)) return undefined
  const status = row?.status ?? "new"
  switch (status) {
    case "new":
    case "cancelled":
      return inConsumeState(rules, issue) ? { triage: true, resume: false, reuse: null } : undefined
    case "clarifying":
      // The label is gone (a person removed it, or it never was excluded): they want it built.
      return inConsumeState(rules, issue) && !hasLabel(issue, CLARIFICATION_LABEL)
        ? { triage: false, resume: false, reuse: null }
        : undefined
    case "retry":
      return isActive(rules, issue) && (row?.retryAt ?? 0) <= now
        ? { triage: false, resume: false, reuse: row?.reuseAgentOf ?? null }
        : undefined
    case "running":
      return isActive(rules, issue) ? { triage: false, resume: true, reuse: null } : undefined
    case "done":
      // A Linear issue a person moved back to the consume state after the daemon finished it.
      return rules.source === "linear" &&
        inConsumeState(rules, issue) &&
        (issue.origin.updatedAt ?? "") > (row?.trackerUpdatedAt ?? "")
        ? { triage: true, resume: false, reuse: null }
        : undefined
    case "dead":
      return undefined
  }
}

/** Run statuses with a verdict: the run is over, only its outcome may still need recording. */
export const FINISHED_RUN_STATUSES: ReadonlySet<string> = new Set(["succeeded", "blocked", "failed", "waiting"])

/** Why a run of an issue may not go on: the issue's state no longer lets the daemon work on it. */
export const describeState = (rules: DaemonRules, issue: Issue): string =>
  rules.source === "github"
    ? `${issue.id} is now ${issue.origin.state ?? "unknown"}${hasLabel(issue, rules.consumeState) ? "" : ` without the "${rules.consumeState}" label`} (runs need an open issue labelled "${rules.consumeState}")`
    : `${issue.id} is now "${issue.origin.state ?? "unknown"}" (runs need "${rules.consumeState}" or "${rules.inProgressState}")`

/** Why a run stops when its issue no longer exists in the tracker. */
export const goneReason = (issueId: string): string => `${issueId} no longer exists in the tracker`

/** Why a run stops when intake refuses its issue now. */
export const refusedReason = (who: string): string => `refused at intake: ${who} may not put work in front of an agent`

/** Why a silent run is cancelled: `silentMs` without an event, more than the `stallMs` an agent may be silent. */
export const stallReason = (silentMs: number, stallMs: number): string =>
  `stalled: no event for ${Math.round(silentMs / 1000)} s (more than [builder] timeout_seconds + stall_timeout_seconds = ${stallMs / 1000} s)`

/** The tracker comment that tells people the daemon gave up on an issue, and how to release it. */
export const deadLetterComment = (issueId: string, failures: number, message: string, runId: string | undefined) =>
  [
    `**spec-orch gave up on ${issueId}** after ${failures} failed attempt(s).`,
    "",
    `Last failure${runId !== undefined ? ` (run \`${runId}\`)` : ""}: ${message}`,
    "",
    `Fix what blocks it, then release it with \`spec-orch daemon dlq-retry ${issueId}\`.`
  ].join("\n")

/** The warning logged once when the intake allow-list is off. */
export const allowAnyoneWarning = (sourceName: string): string =>
  `[daemon] allow_anyone = true: the intake allow-list is OFF. Anyone who can file or label an issue in ${sourceName} can make an agent run on this machine with its tools; set allow_anyone = false and use the [github] / [linear] allowed_* keys instead`

/** The message a run cancelled because the daemon stopped carries: it is resumed, not lost. */
export const STOPPED_RUN_MESSAGE =
  "cancelled: the daemon stopped; the next `spec-orch daemon start` resumes it at the stage it stopped in"
