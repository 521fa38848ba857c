/**
 * The daemon: polls the configured tracker (and wakes on webhooks) within the request budget,
 * picks issues in `[daemon] consume_state` that the intake allow-list admits (a refused issue is
 * neither claimed nor commented on), triages them, claims them with a lease and runs each as
 * the durable Run workflow, at most `[daemon] max_concurrent` at a time. Tracker state is
 * reconciled before every dispatch and on every tick (an issue moved away is cancelled); silent
 * runs are cancelled as stalled; failures retry with exponential backoff and then dead-letter.
 * Stopping interrupts the runs in flight; the next daemon reclaims and resumes them. One rule: only
 * this service changes `so_daemon_*` rows for issues it has in flight.
 */
import { type Issue, IssueSource, Project, RunRecord } from "@spec-orch/contract"
import { EvidenceLedger } from "@spec-orch/evidence"
import { Workspaces } from "@spec-orch/execution"
import { type ModelCall, ModelUsage, totalsOf, type UsageTotals } from "@spec-orch/harness"
import { Cause, Clock, Context, Deferred, Effect, Exit, Fiber, FileSystem, Layer, Option, Path, Queue, Schema, Scope } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { LanguageModel } from "effect/ai"
import { WorkflowEngine } from "effect/workflow"
import { Publisher, targetOf } from "../publish/Publisher.js"
import { PublishResult } from "../publish/RunPublisher.js"
import { EngineBusy, ProcessToken } from "../run/EngineLock.js"
import { ownerAlive, type RunResult, Runs } from "../run/Runs.js"
import { RunStore } from "../run/RunStore.js"
import { MODEL_CALL_EVENT, Run } from "../run/RunWorkflow.js"
import { GitHub } from "../trackers/GitHub.js"
import { runGit } from "../trackers/internal/git.js"
import { type DaemonIssue, DaemonStore } from "./DaemonStore.js"
import { findingsOf, firedTriggers, observePull, passingChecks, signalOf } from "./Feedback.js"
import { type HeartbeatRun, writeHeartbeat } from "./Heartbeat.js"
import { admitIssue, intakeRules, type IntakeVerdict } from "./Intake.js"
import { DEFAULT_TEMPLATES, loadReactions, type ReactionRule, renderTemplate } from "./Reactions.js"
import { CLARIFICATION_LABEL, clarificationComment, clarificationKey, type Readiness, triage } from "./Triage.js"

/** Who the daemon approves specs as (recorded on the spec and in the evidence). */
export const DAEMON_APPROVER = "spec-orch daemon"

/** The label a dead-lettered issue gets. */
export const DEAD_LETTER_LABEL = "dead-letter"

/** Gate conditions an agent can fix by trying again; a run blocked only by others waits for a person. */
export const RETRYABLE_CONDITIONS: ReadonlyArray<string> = ["builder", "verification", "compliance", "within_boundaries"]

/** Seconds until retry `n` (1-based): `base * 2^(n-1)`. */
export const retryDelaySeconds = (baseSeconds: number, n: number): number => baseSeconds * 2 ** Math.max(0, n - 1)

/** How long an answer about GitHub team membership is reused before GitHub is asked again. */
export const TEAM_MEMBERSHIP_TTL_SECONDS = 600

/** The comment key of a dead-letter notice. */
export const deadLetterKey = (issueId: string): string => `dead-letter:${issueId}`

/** The daemon's meta key holding the sums of every readiness (triage) model call: `UsageTotals` as JSON (`usd` absent = no prices). */
export const TRIAGE_USAGE_KEY = "triage_model_calls"

/** Adds `more` to the totals stored as JSON in `before` (unreadable or absent = none yet). */
const triageTotals = (before: string | undefined, more: UsageTotals): UsageTotals => {
  let prev: Partial<UsageTotals> = {}
  try {
    prev = before !== undefined ? JSON.parse(before) : {}
  } catch {
    prev = {}
  }
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

/** What one tick did. */
export interface TickReport {
  /** Issues the poll returned (consume and in-progress states). */
  readonly polled: number
  readonly dispatched: ReadonlyArray<string>
  readonly clarifying: ReadonlyArray<string>
  /** Issues the intake allow-list did not admit this tick (not claimed, not commented on). */
  readonly refused: ReadonlyArray<string>
  readonly cancelled: ReadonlyArray<string>
  readonly inFlight: number
}

/** What one feedback round did. */
export interface FeedbackReport {
  /** Issues whose pull request was read. */
  readonly checked: ReadonlyArray<string>
  /** Findings recorded on the ledger (new or already known). */
  readonly findings: number
  /** Reactions carried out: `<issue> <rule> <action>`. */
  readonly reactions: ReadonlyArray<string>
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
const hasLabel = (issue: Issue, label: string) => issue.labels.some((l) => lower(l) === lower(label))

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
  if (rules.source === "github") return state === "open" && (lower(rules.consumeState) === "open" || hasLabel(issue, rules.consumeState))
  return true
}

/** Whether a run of this issue should go on (still waiting, or in the state the daemon moved it to). */
export const isActive = (rules: DaemonRules, issue: Issue): boolean =>
  inConsumeState(rules, issue) || (rules.source === "linear" && lower(issue.origin.state ?? "") === lower(rules.inProgressState))

/** Whether the label filters let an issue through. */
export const labelsAllow = (rules: DaemonRules, issue: Issue): boolean =>
  rules.requireLabels.every((l) => hasLabel(issue, l)) && !rules.excludeLabels.some((l) => hasLabel(issue, l))

/** The tracker query for a poll: issues waiting, plus those the daemon moved to its in-progress state. */
export const pollQuery = (rules: DaemonRules) =>
  rules.source === "linear"
    ? { states: [rules.consumeState, rules.inProgressState], labels: rules.requireLabels, excludeLabels: rules.excludeLabels }
    : rules.source === "github"
    ? { states: ["open"], labels: [...rules.requireLabels, ...(lower(rules.consumeState) === "open" ? [] : [rules.consumeState])], excludeLabels: rules.excludeLabels }
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
      return fixable.length > 0 ? { kind: "retry", message: `gate failed: ${fixable.join(", ")} (${message})` } : { kind: "done", message }
    }
    default:
      // A failure while publishing keeps the agent's work: the next attempt re-verifies and re-publishes it.
      return { kind: "retry", message, ...(record.status === "failed" && record.stage === "publish" ? { reuseAgentOf: record.runId } : {}) }
  }
}

interface InFlight {
  readonly issueId: string
  runId: string | undefined
  runKey: string
  readonly since: string
  lastSeq: number
  lastEventMs: number
  fiber: Fiber.Fiber<unknown, unknown> | undefined
  cancel: { readonly kind: "tracker" | "stalled"; readonly reason: string } | undefined
}

/** The daemon's operations; `run` is the loop `spec-orch daemon start` launches. */
export class Daemon extends Context.Service<Daemon, {
  /** Resumes (or cancels, if the tracker moved them) runs a previous daemon process left in flight. */
  readonly reclaim: Effect.Effect<ReadonlyArray<string>>
  /** One cycle: reconcile runs in flight, poll, triage, claim and dispatch. Fails when the tracker cannot be read. */
  readonly tick: Effect.Effect<TickReport, unknown>
  /**
   * One feedback round over the published pull requests: reviews, review comments and failed checks become
   * findings; reactions (comments, re-verify on a new head, re-queue, auto-merge) run once per trigger.
   */
  readonly feedback: Effect.Effect<FeedbackReport, unknown>
  /** Removes the worktrees of finished issues (dead-lettered, cancelled, merged); uncommitted or unpushed work is kept. */
  readonly cleanup: Effect.Effect<{ readonly removed: ReadonlyArray<string>; readonly kept: ReadonlyArray<string> }, unknown>
  /** Requests a tick as soon as possible (webhook deliveries, finished runs). */
  readonly poke: Effect.Effect<void>
  /** Waits until no run is in flight. */
  readonly drain: Effect.Effect<void>
  /** Cancels an issue's run in flight; false when none is. */
  readonly cancel: (issueId: string, reason: string) => Effect.Effect<boolean>
  /** The runs in flight. */
  readonly inFlight: Effect.Effect<ReadonlyArray<HeartbeatRun>>
  /** Reclaims, then ticks every poll interval (or when poked) until interrupted; one failing tick never stops it. */
  readonly run: Effect.Effect<never>
}>()("@spec-orch/control/Daemon") {
  /** The daemon over the planes' services; runs live in the layer's scope and are interrupted when it closes. */
  static readonly layer: Layer.Layer<
    Daemon,
    never,
    | Project
    | IssueSource
    | Runs
    | RunStore
    | ProcessToken
    | WorkflowEngine.WorkflowEngine
    | Publisher
    | Workspaces
    | DaemonStore
    | FileSystem.FileSystem
    | Path.Path
    | GitHub
    | ChildProcessSpawner.ChildProcessSpawner
  > = Layer.effect(
    Daemon,
    Effect.gen(function*() {
      const project = yield* Project
      const source = yield* IssueSource
      const runs = yield* Runs
      const runStore = yield* RunStore
      const me = yield* ProcessToken
      const engine = yield* WorkflowEngine.WorkflowEngine
      const publisher = yield* Publisher
      const workspaces = yield* Workspaces
      const store = yield* DaemonStore
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const model = yield* Effect.serviceOption(LanguageModel.LanguageModel)
      const ledger = yield* Effect.serviceOption(EvidenceLedger)
      const github = yield* GitHub
      const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
      const git = (cwd: string, args: ReadonlyArray<string>) => runGit(cwd, args).pipe(Effect.provideService(ChildProcessSpawner.ChildProcessSpawner, spawner))
      const scope = yield* Scope.Scope
      const services = yield* Effect.context<Project | FileSystem.FileSystem | Path.Path>()

      const cfg = project.config
      const rules = daemonRules(cfg)
      const intake = intakeRules(cfg)
      const leaseMs = cfg.daemon.lease_seconds * 1000
      const pollSeconds = cfg.daemon.poll_interval_seconds ?? cfg.linear.poll_interval_seconds
      const stallMs = (cfg.builder.timeout_seconds + cfg.builder.stall_timeout_seconds) * 1000
      const maxConcurrent = cfg.daemon.max_concurrent
      // Pull requests are read less often than the tracker is polled (five requests each), or on a webhook.
      const feedbackEveryMs = Math.max(3 * pollSeconds, 30) * 1000
      const cleanupEveryMs = Math.max(10 * pollSeconds, 600) * 1000

      const inflight = new Map<string, InFlight>()
      const pokes = yield* Queue.sliding<"webhook" | "run">(1)
      let idle = yield* Deferred.make<void>()
      const counters = { processed: 0, consecutiveErrors: 0, lastError: null as string | null, startedAt: "" }
      let stopping = false
      let feedbackRequested = false

      const nowMs = Clock.currentTimeMillis
      const nowIso = Effect.map(nowMs, (ms) => new Date(ms).toISOString())
      const warn = (what: string) => (e: unknown) => Effect.logWarning(`${what}: ${e instanceof Error || (typeof e === "object" && e !== null && "message" in e) ? (e as { message: string }).message : String(e)}`)

      const heartbeatRuns = Effect.sync(() => [...inflight.values()].map((f) => ({ issueId: f.issueId, runId: f.runId ?? null, since: f.since })))
      const heartbeat = (status: "starting" | "healthy" | "degraded" | "stopped") =>
        Effect.gen(function*() {
          const dead = yield* store.deadLetters
          yield* writeHeartbeat({
            status,
            pid: me.pid,
            host: me.host,
            at: yield* nowIso,
            startedAt: counters.startedAt,
            pollIntervalSeconds: pollSeconds,
            processed: counters.processed,
            inFlight: yield* heartbeatRuns,
            deadLetter: dead.length,
            refused: (yield* store.refusals).length,
            consecutiveErrors: counters.consecutiveErrors,
            lastError: counters.lastError
          }).pipe(Effect.provide(services))
        }).pipe(Effect.catchCause((c) => Effect.logWarning(`could not write the heartbeat: ${Cause.pretty(c)}`)))

      /** A delivery from a tracker: poll now, and read pull requests too. */
      const poke = Effect.sync(() => {
        feedbackRequested = true
      }).pipe(Effect.andThen(Queue.offer(pokes, "webhook")), Effect.asVoid)
      /** A run finished: a slot is free, poll now. */
      const wake = Queue.offer(pokes, "run").pipe(Effect.asVoid)

      const settleIdle = Effect.suspend(() => (inflight.size === 0 ? Deferred.succeed(idle, undefined) : Effect.void))

      // ── tracker writes that must not stop the bookkeeping ────────────────────────────────────
      const commentOn = (issue: Issue, key: string, body: string) => {
        const target = targetOf(issue)
        return target === undefined ? Effect.void : publisher.comment({ target, key, body }).pipe(Effect.asVoid, Effect.catch(warn(`comment on ${issue.id}`)))
      }
      const labelOn = (issue: Issue, change: { add?: ReadonlyArray<string>; remove?: ReadonlyArray<string> }) => {
        const target = targetOf(issue)
        return target === undefined ? Effect.void : publisher.label({ target, ...change }).pipe(Effect.catch(warn(`label ${issue.id}`)))
      }
      const moveTo = (issue: Issue, state: string) => {
        const target = targetOf(issue)
        return target?.tracker !== "linear" ? Effect.void : publisher.moveLinearIssue({ id: target.id, state }).pipe(Effect.asVoid, Effect.catch(warn(`move ${issue.id} to ${state}`)))
      }

      const readPublish = (record: RunRecord) =>
        record.artifactsDir === undefined
          ? Effect.succeed(undefined)
          : fs.readFileString(path.join(record.artifactsDir, "publish.json")).pipe(
            Effect.flatMap(Schema.decodeUnknownEffect(Schema.fromJsonString(PublishResult))),
            Effect.option,
            Effect.map(Option.getOrUndefined)
          )

      // ── intake: who may put work in front of an agent ────────────────────────────────────────
      const teamAnswers = new Map<string, { readonly member: boolean; readonly atMs: number }>()
      const isTeamMember = (org: string, slug: string, login: string) =>
        Effect.gen(function*() {
          const key = `${org}/${slug}/${login}`.toLowerCase()
          const now = yield* nowMs
          const known = teamAnswers.get(key)
          if (known !== undefined && now - known.atMs < TEAM_MEMBERSHIP_TTL_SECONDS * 1000) return known.member
          const member = yield* github.isTeamMember(org, slug, login)
          teamAnswers.set(key, { member, atMs: now })
          return member
        })
      const admit = (issue: Issue) => admitIssue(intake, issue, isTeamMember)
      /** Records a refusal; it is logged once per issue (again only when who or why changed), without the issue's text. */
      const refuse = (issue: Issue, verdict: Extract<IntakeVerdict, { admitted: false }>) =>
        Effect.gen(function*() {
          const news = yield* store.refuse({ issueId: issue.id, who: verdict.who, reason: verdict.reason })
          if (news) yield* Effect.logWarning(`${issue.id}: not dispatched: ${verdict.who} may not put work in front of an agent: ${verdict.reason}`)
        })
      /** Forgets an earlier refusal of an issue that is admitted now. */
      const admitted = (issue: Issue, verdict: Extract<IntakeVerdict, { admitted: true }>) =>
        Effect.gen(function*() {
          if (yield* store.forgetRefusal(issue.id)) yield* Effect.logInfo(`${issue.id}: admitted now (${verdict.by})`)
        })

      // ── outcomes ─────────────────────────────────────────────────────────────────────────────
      const fail = Effect.fnUntraced(function*(issue: Issue, message: string, runId: string | undefined, reuseAgentOf?: string | undefined) {
        const row = yield* store.issue(issue.id)
        const failures = (row?.retryCount ?? 0) + 1
        if (failures > cfg.daemon.max_retries) {
          yield* store.deadLetter({ issueId: issue.id, reason: message, attempts: failures, lastRunId: runId ?? row?.lastRunId ?? null })
          yield* store.upsert(issue.id, { retryCount: failures })
          yield* Effect.logWarning(`${issue.id}: dead-lettered after ${failures} failed attempt(s): ${message}`)
          yield* commentOn(issue, deadLetterKey(issue.id), [
            `**spec-orch gave up on ${issue.id}** after ${failures} failed attempt(s).`,
            "",
            `Last failure${runId !== undefined ? ` (run \`${runId}\`)` : ""}: ${message}`,
            "",
            `Fix what blocks it, then release it with \`spec-orch daemon dlq-retry ${issue.id}\`.`
          ].join("\n"))
          yield* labelOn(issue, { add: [DEAD_LETTER_LABEL] })
          yield* workspaces.markFinished(row?.runKey ?? issue.id).pipe(Effect.ignore)
          return
        }
        const delay = retryDelaySeconds(cfg.daemon.retry_base_delay_seconds, failures)
        const at = (yield* nowMs) + delay * 1000
        yield* store.upsert(issue.id, { status: "retry", retryCount: failures, retryAt: at, lastError: message, reuseAgentOf: reuseAgentOf ?? null })
        yield* Effect.logInfo(`${issue.id}: attempt failed (${message}); retry ${failures}/${cfg.daemon.max_retries} in ${delay} s`)
      })

      const finishRun = Effect.fnUntraced(function*(issue: Issue, result: RunResult, reentry?: "reverify" | undefined) {
        const record = result.record
        const d = disposition(record)
        yield* store.upsert(issue.id, { lastRunId: record.runId, runKey: record.runKey })
        // A re-verification of someone else's commit that fails is theirs to fix: the PR shows it.
        if (d.kind === "retry" && reentry !== "reverify") return yield* fail(issue, d.message, record.runId, d.reuseAgentOf)
        if (d.kind === "clarify") {
          yield* store.upsert(issue.id, { status: "clarifying", lastError: d.message, retryAt: null })
          yield* commentOn(issue, clarificationKey(issue.id), clarificationComment(issue, { ready: false, missing: [], questions: [d.message], decidedBy: "rules" }, rules.consumeState))
          yield* labelOn(issue, { add: [CLARIFICATION_LABEL] })
          return
        }
        const published = yield* readPublish(record)
        const fresh = yield* source.get(issue.id).pipe(Effect.option)
        yield* store.upsert(issue.id, {
          status: "done",
          retryCount: 0,
          retryAt: null,
          reuseAgentOf: null,
          lastError: null,
          finishedAt: yield* nowIso,
          prNumber: published?.pullRequest?.number ?? null,
          prHead: published?.push?.sha ?? null,
          trackerUpdatedAt: Option.match(fresh, { onNone: () => issue.origin.updatedAt ?? null, onSome: (i) => i.origin.updatedAt ?? null })
        })
        const merged = published?.merge !== undefined && published.merge.outcome !== "refused"
        if (published?.pullRequest === undefined || merged) yield* workspaces.markFinished(record.runKey).pipe(Effect.ignore)
        yield* Effect.logInfo(`${issue.id}: ${d.message}`)
      })

      // ── running one issue ────────────────────────────────────────────────────────────────────
      /** Every readiness call the daemon made, summed in its store (`triage_model_calls`), whether or not a run followed. */
      const recordTriageUsage = (calls: ReadonlyArray<ModelCall>) =>
        Effect.gen(function*() {
          if (calls.length === 0) return
          const before = yield* store.getMeta(TRIAGE_USAGE_KEY)
          const sum = triageTotals(before, totalsOf(calls))
          yield* store.setMeta(TRIAGE_USAGE_KEY, JSON.stringify(sum))
        })

      const runIssue = (
        issue: Issue,
        options: {
          readonly resume: boolean
          readonly reuseAgentOf?: string | null | undefined
          readonly reentry?: "reverify" | undefined
          /** The readiness model's calls that led to this run: kept in its store like the run's own, so its cost shows. */
          readonly triageCalls?: ReadonlyArray<ModelCall> | undefined
        }
      ) =>
        Effect.gen(function*() {
          const since = yield* nowIso
          const entry: InFlight = { issueId: issue.id, runId: undefined, runKey: issue.id, since, lastSeq: 0, lastEventMs: yield* nowMs, fiber: undefined, cancel: undefined }
          inflight.set(issue.id, entry)
          if (idle !== undefined && (yield* Deferred.isDone(idle))) idle = yield* Deferred.make<void>()
          yield* store.upsert(issue.id, { status: "running", retryAt: null })
          if (options.resume) {
            const latest = yield* runStore.latest(issue.id)
            if (latest !== undefined) yield* takeOver(latest.runId)
          } else {
            yield* restoreRunBranch(issue.id)
          }
          const start = runs.start({
            issueId: issue.id,
            autoApprovedBy: DAEMON_APPROVER,
            profile: cfg.daemon.gate_profile,
            publish: cfg.daemon.publish,
            newAttempt: !options.resume,
            ...(options.reuseAgentOf ? { reuseAgentOf: options.reuseAgentOf } : {}),
            onStart: (record) =>
              Effect.gen(function*() {
                entry.runId = record.runId
                entry.runKey = record.runKey
                if (options.triageCalls !== undefined && options.triageCalls.length > 0) {
                  yield* runStore.appendAll(record.runId, options.triageCalls.map((data) => ({ kind: MODEL_CALL_EVENT, data })))
                }
                yield* store.upsert(issue.id, { status: "running", lastRunId: record.runId, runKey: record.runKey })
                yield* store.claim(issue.id, me.token, leaseMs, record.runId)
                yield* Effect.logInfo(`${issue.id}: ${options.resume ? "resuming" : "started"} run ${record.runId} (attempt ${record.attempt})`)
              })
          })
          const inner = yield* Effect.forkIn(start, scope)
          entry.fiber = inner
          const supervise = Effect.gen(function*() {
            const exit = yield* Fiber.await(inner)
            const cancel = entry.cancel
            if (Exit.isSuccess(exit)) {
              yield* finishRun(issue, exit.value, options.reentry)
            } else if (Cause.hasInterruptsOnly(exit.cause)) {
              if (cancel === undefined) return // stopping: the run stays `running` and claimed, and the next daemon resumes it
              if (entry.runId !== undefined) {
                yield* runStore.update(entry.runId, (r) => ({ ...r, status: "cancelled", message: `cancelled by the daemon: ${cancel.reason}` }) as RunRecord)
              }
              if (cancel.kind === "stalled") {
                yield* fail(issue, cancel.reason, entry.runId)
              } else {
                yield* store.upsert(issue.id, { status: "cancelled", finishedAt: yield* nowIso, lastError: cancel.reason })
                yield* workspaces.markFinished(entry.runKey).pipe(Effect.ignore)
                yield* Effect.logInfo(`${issue.id}: cancelled (${cancel.reason})`)
              }
            } else {
              const error = Cause.squash(exit.cause)
              const text = typeof error === "object" && error !== null && "message" in error ? String((error as { message: unknown }).message) : String(error)
              if (error instanceof EngineBusy) {
                // A person runs this issue from a terminal: not a failed attempt; look again after a poll interval.
                yield* store.upsert(issue.id, { status: "retry", retryAt: (yield* nowMs) + pollSeconds * 1000, lastError: text })
                yield* Effect.logInfo(`${issue.id}: ${text}; trying again in ${pollSeconds} s`)
              } else {
                yield* fail(issue, text, entry.runId)
              }
            }
            counters.processed += 1
            yield* store.release(issue.id, me.token)
          }).pipe(
            Effect.catchCause((c) => Effect.logError(`${issue.id}: recording the run's outcome failed: ${Cause.pretty(c)}`)),
            Effect.ensuring(Effect.sync(() => inflight.delete(issue.id)).pipe(Effect.andThen(settleIdle), Effect.andThen(wake)))
          )
          yield* Effect.forkIn(supervise, scope)
        })

      /**
       * A new attempt continues the published branch: when cleanup removed the local run branch (everything on it
       * was pushed), it is restored from the remote, so the attempt builds on it and its push fast-forwards.
       */
      const restoreRunBranch = (runKey: string) =>
        Effect.gen(function*() {
          const branch = `spec-orch/${runKey}`
          const remote = cfg.github.remote
          if ((yield* store.issue(runKey))?.lastRunId == null) return // never ran: nothing was published
          if ((yield* git(project.root, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`])).exitCode === 0) return
          const fetched = yield* git(project.root, ["fetch", "--quiet", remote, `+refs/heads/${branch}:refs/remotes/${remote}/${branch}`])
          if (fetched.exitCode !== 0) return // not published (or no remote): the attempt starts from the base
          const made = yield* git(project.root, ["branch", branch, `refs/remotes/${remote}/${branch}`])
          if (made.exitCode === 0) yield* Effect.logInfo(`${runKey}: restored ${branch} from ${remote} for the new attempt`)
        })

      /** The engine's execution id of a run (a digest of the workflow name and the run id). */
      const executionIdOf = (runId: string) => Run.executionId({ runId, runKey: runId, issueId: runId, attempt: 0 })

      const interruptWorkflow = (runId: string) =>
        executionIdOf(runId).pipe(
          Effect.flatMap((id) => engine.interruptUnsafe(Run, id)),
          Effect.catchCause((c) => Effect.logWarning(`could not interrupt run ${runId}: ${Cause.pretty(c)}`))
        )

      /**
       * Takes over an unfinished run: owner first, then wake it. The engine replays a run it finds at start-up
       * and suspends it while another process owns it; waking it after the owner changed lets it go on.
       */
      const takeOver = (runId: string) =>
        Effect.gen(function*() {
          yield* runStore.setOwner(runId, me.token)
          yield* executionIdOf(runId).pipe(Effect.flatMap((id) => engine.resume(Run, id)))
        }).pipe(Effect.catchCause((c) => Effect.logWarning(`could not wake run ${runId}: ${Cause.pretty(c)}`)))

      const cancelWith = (issueId: string, kind: "tracker" | "stalled", reason: string) =>
        Effect.gen(function*() {
          const entry = inflight.get(issueId)
          if (entry === undefined || entry.cancel !== undefined) return false
          entry.cancel = { kind, reason }
          yield* Effect.logInfo(`${issueId}: cancelling run ${entry.runId ?? "(starting)"}: ${reason}`)
          if (entry.runId !== undefined) yield* interruptWorkflow(entry.runId)
          if (entry.fiber !== undefined) yield* Fiber.interrupt(entry.fiber)
          return true
        })

      /** Claims an issue; a claim left by a process of this host that is gone is taken over at once. */
      const claim = (issueId: string) =>
        Effect.gen(function*() {
          if (yield* store.claim(issueId, me.token, leaseMs)) return true
          const held = (yield* store.claims).find((c) => c.issueId === issueId)
          if (held === undefined || ownerAlive(held.owner, me.host)) return false
          yield* store.release(issueId, held.owner)
          return yield* store.claim(issueId, me.token, leaseMs)
        })

      // ── reconciliation ───────────────────────────────────────────────────────────────────────
      const describeState = (issue: Issue) =>
        rules.source === "github"
          ? `${issue.id} is now ${issue.origin.state ?? "unknown"}${hasLabel(issue, rules.consumeState) ? "" : ` without the "${rules.consumeState}" label`} (runs need an open issue labelled "${rules.consumeState}")`
          : `${issue.id} is now "${issue.origin.state ?? "unknown"}" (runs need "${rules.consumeState}" or "${rules.inProgressState}")`

      /** The tracker's current view of an issue: the issue, `gone` when it no longer exists, or `unknown` when the tracker did not answer. */
      const current = (issueId: string, polled: ReadonlyMap<string, Issue>) =>
        Effect.gen(function*() {
          const seen = polled.get(issueId)
          if (seen !== undefined) return { kind: "issue" as const, issue: seen }
          const got = yield* source.get(issueId).pipe(Effect.result)
          if (got._tag === "Success") return { kind: "issue" as const, issue: got.success }
          if (got.failure._tag === "IssueNotFound") return { kind: "gone" as const }
          yield* Effect.logWarning(`${issueId}: cannot check its tracker state: ${got.failure.message}`)
          return { kind: "unknown" as const }
        })

      const reconcileInFlight = (polled: ReadonlyMap<string, Issue>) =>
        Effect.gen(function*() {
          const cancelled: Array<string> = []
          const now = yield* nowMs
          for (const entry of [...inflight.values()]) {
            if (entry.cancel !== undefined) continue
            const state = yield* current(entry.issueId, polled)
            if (state.kind === "gone" || (state.kind === "issue" && !isActive(rules, state.issue))) {
              const reason = state.kind === "gone" ? `${entry.issueId} no longer exists in the tracker` : describeState(state.issue)
              if (yield* cancelWith(entry.issueId, "tracker", reason)) cancelled.push(entry.issueId)
              continue
            }
            // Stall: no event for longer than the agent may legitimately be silent.
            if (entry.runId !== undefined) {
              const events = yield* runStore.events(entry.runId, entry.lastSeq)
              const last = events[events.length - 1]
              if (last !== undefined) {
                entry.lastSeq = last.seq
                entry.lastEventMs = Math.max(entry.lastEventMs, Date.parse(last.at))
              }
            }
            if (now - entry.lastEventMs > stallMs) {
              const reason = `stalled: no event for ${Math.round((now - entry.lastEventMs) / 1000)} s (more than [builder] timeout_seconds + stall_timeout_seconds = ${stallMs / 1000} s)`
              if (yield* cancelWith(entry.issueId, "stalled", reason)) cancelled.push(entry.issueId)
            }
          }
          return cancelled
        })

      // ── picking issues ───────────────────────────────────────────────────────────────────────
      const isHotfix = (issue: Issue) => rules.hotfixLabels.some((l) => hasLabel(issue, l))

      /** Whether an issue may be dispatched now, and how (new attempt, resume, re-verify, skip triage). */
      const eligibility = (issue: Issue, row: DaemonIssue | undefined, now: number) => {
        if (inflight.has(issue.id) || !labelsAllow(rules, issue)) return undefined
        const status = row?.status ?? "new"
        switch (status) {
          case "new":
          case "cancelled":
            return inConsumeState(rules, issue) ? { triage: true, resume: false, reuse: null } : undefined
          case "clarifying":
            // The label is gone (a person removed it, or it never was excluded): they want it built.
            return inConsumeState(rules, issue) && !hasLabel(issue, CLARIFICATION_LABEL) ? { triage: false, resume: false, reuse: null } : undefined
          case "retry":
            return isActive(rules, issue) && (row?.retryAt ?? 0) <= now ? { triage: false, resume: false, reuse: row?.reuseAgentOf ?? null } : undefined
          case "running":
            return isActive(rules, issue) ? { triage: false, resume: true, reuse: null } : undefined
          case "done":
            // A Linear issue a person moved back to the consume state after the daemon finished it.
            return rules.source === "linear" && inConsumeState(rules, issue) && (issue.origin.updatedAt ?? "") > (row?.trackerUpdatedAt ?? "")
              ? { triage: true, resume: false, reuse: null }
              : undefined
          case "dead":
            return undefined
        }
      }

      const askForClarification = (issue: Issue, readiness: Readiness) =>
        Effect.gen(function*() {
          yield* commentOn(issue, clarificationKey(issue.id), clarificationComment(issue, readiness, rules.consumeState))
          yield* labelOn(issue, { add: [CLARIFICATION_LABEL] })
          yield* store.upsert(issue.id, { status: "clarifying", lastError: `not ready: ${readiness.questions.join(" ")}` })
          yield* Effect.logInfo(`${issue.id}: not ready (${readiness.decidedBy}); asked for clarification`)
        })

      let warnedAnyone = false
      const tick = Effect.gen(function*() {
        if (intake.allowAnyone && !warnedAnyone) {
          warnedAnyone = true
          yield* Effect.logWarning(
            `[daemon] allow_anyone = true: the intake allow-list is OFF. Anyone who can file or label an issue in ${source.name} can make an agent run on this machine with its tools; set allow_anyone = false and use the [github] / [linear] allowed_* keys instead`
          )
        }
        yield* store.renewClaims(me.token, leaseMs)
        const listing = yield* source.list(pollQuery(rules))
        const polled = new Map(listing.issues.map((i) => [i.id, i]))
        yield* store.setMeta("last_poll", yield* nowIso)
        const cancelled = yield* reconcileInFlight(polled)

        const dispatched: Array<string> = []
        const clarifying: Array<string> = []
        const refused: Array<string> = []
        const ordered = [...listing.issues].sort((a, b) => Number(isHotfix(b)) - Number(isHotfix(a)))
        // One query for the daemon's view of every polled issue (a tick may look at thousands).
        const known = new Map((yield* store.issues()).map((r) => [r.issueId, r]))
        for (const issue of ordered) {
          if (stopping || inflight.size >= maxConcurrent || dispatched.length >= cfg.daemon.drain_batch_size) break
          const row = known.get(issue.id)
          const how = eligibility(issue, row, yield* nowMs)
          if (how === undefined) continue
          // Intake first: a refused issue is not claimed, triaged or commented on.
          const verdict = yield* admit(issue)
          if (!verdict.admitted) {
            yield* refuse(issue, verdict)
            refused.push(issue.id)
            continue
          }
          yield* admitted(issue, verdict)
          if (!(yield* claim(issue.id))) continue
          const triageCalls: Array<ModelCall> = []
          if (how.triage && !isHotfix(issue)) {
            const readiness = yield* triage(issue).pipe(
              Option.isSome(model) ? Effect.provideService(LanguageModel.LanguageModel, model.value) : (e) => e,
              Effect.provide(ModelUsage.layerCallback((call) => Effect.sync(() => void triageCalls.push({ ...call, role: "triage" }))))
            )
            yield* recordTriageUsage(triageCalls)
            if (!readiness.ready) {
              yield* askForClarification(issue, readiness)
              yield* store.release(issue.id, me.token)
              clarifying.push(issue.id)
              continue
            }
          }
          // Reconcile right before dispatch: the poll may be a few seconds old by now. A fresh start needs the
          // consume state; a retry or a resume also goes on in the state the daemon moved the issue to.
          const fresh = yield* current(issue.id, new Map())
          const startsFresh = row?.status !== "retry" && row?.status !== "running"
          if (fresh.kind !== "issue" || !(startsFresh ? inConsumeState(rules, fresh.issue) : isActive(rules, fresh.issue))) {
            yield* store.release(issue.id, me.token)
            continue
          }
          const freshVerdict = yield* admit(fresh.issue)
          if (!freshVerdict.admitted) {
            yield* store.release(issue.id, me.token)
            yield* refuse(fresh.issue, freshVerdict)
            refused.push(issue.id)
            continue
          }
          if (row?.status === "clarifying") yield* labelOn(fresh.issue, { remove: [CLARIFICATION_LABEL] })
          if (inConsumeState(rules, fresh.issue)) yield* moveTo(fresh.issue, rules.inProgressState)
          yield* runIssue(fresh.issue, { resume: how.resume, reuseAgentOf: how.reuse, triageCalls })
          dispatched.push(issue.id)
        }
        // A refused issue that is no longer waiting (closed, moved, unlabelled) leaves the list `daemon status` shows.
        const waiting = new Set<string>(polled.keys())
        for (const r of yield* store.refusals) if (!waiting.has(r.issueId)) yield* store.forgetRefusal(r.issueId)
        return { polled: listing.issues.length, dispatched, clarifying, refused, cancelled, inFlight: inflight.size } satisfies TickReport
      }).pipe(Effect.withSpan("Daemon.tick"))

      // ── resuming what a previous process left ────────────────────────────────────────────────
      const FINAL = new Set(["succeeded", "blocked", "failed", "waiting"])
      const reclaim = Effect.gen(function*() {
        const resumed: Array<string> = []
        for (const row of yield* store.issues(["running"])) {
          if (inflight.has(row.issueId)) continue
          if (!(yield* claim(row.issueId))) {
            yield* Effect.logInfo(`${row.issueId}: another daemon holds its claim; leaving it`)
            continue
          }
          const state = yield* current(row.issueId, new Map())
          if (state.kind === "unknown") {
            yield* store.release(row.issueId, me.token)
            continue
          }
          const latest = row.runKey !== null ? yield* runStore.latestForKey(row.runKey) : yield* runStore.latest(row.issueId)
          const verdict = state.kind === "issue" ? yield* admit(state.issue) : undefined
          if (state.kind === "issue" && verdict !== undefined && !verdict.admitted) yield* refuse(state.issue, verdict)
          if (state.kind === "gone" || !isActive(rules, state.issue) || verdict?.admitted === false) {
            const reason = state.kind === "gone"
              ? `${row.issueId} no longer exists in the tracker`
              : verdict?.admitted === false
              ? `refused at intake: ${verdict.who} may not put work in front of an agent`
              : describeState(state.issue)
            if (latest !== undefined && !FINAL.has(latest.status)) {
              yield* interruptWorkflow(latest.runId)
              yield* runStore.update(latest.runId, (r) => ({ ...r, status: "cancelled", message: `cancelled by the daemon: ${reason}` }) as RunRecord)
            }
            yield* store.upsert(row.issueId, { status: "cancelled", finishedAt: yield* nowIso, lastError: reason })
            yield* store.release(row.issueId, me.token)
            yield* Effect.logInfo(`${row.issueId}: not resumed (${reason})`)
            continue
          }
          if (latest !== undefined && FINAL.has(latest.status)) {
            // The run finished but its outcome was never recorded (the daemon stopped in between).
            yield* finishRun(state.issue, { record: latest, resumed: false })
            yield* store.release(row.issueId, me.token)
            continue
          }
          yield* runIssue(state.issue, { resume: latest !== undefined })
          resumed.push(row.issueId)
        }
        return resumed
      }).pipe(Effect.withSpan("Daemon.reclaim"))

      // ── feedback from published pull requests ───────────────────────────────────────────────
      const traceFile = path.join(project.stateDir, "daemon", "reactions_trace.jsonl")
      const trace = (entry: Record<string, unknown>) =>
        Effect.gen(function*() {
          yield* fs.makeDirectory(path.dirname(traceFile), { recursive: true })
          yield* fs.writeFileString(traceFile, JSON.stringify({ ts: yield* nowIso, ...entry }) + "\n", { flag: "a" })
        }).pipe(Effect.ignore)

      /** Brings the run's worktree to the pull request's head (fast-forward only). */
      const fastForward = (runId: string, sha: string) =>
        Effect.gen(function*() {
          const record = yield* runStore.get(runId)
          if (record?.worktree === undefined || record.branch === undefined) return `run ${runId} has no worktree to re-verify in`
          if (!(yield* fs.exists(record.worktree).pipe(Effect.orElseSucceed(() => false)))) return `the worktree ${record.worktree} is gone`
          const remote = cfg.github.remote
          const fetched = yield* git(record.worktree, ["fetch", "--quiet", remote, `+refs/heads/${record.branch}:refs/remotes/${remote}/${record.branch}`])
          if (fetched.exitCode !== 0) return `git fetch ${remote} ${record.branch} failed: ${fetched.stderr.trim()}`
          const merged = yield* git(record.worktree, ["merge", "--ff-only", "--quiet", sha])
          if (merged.exitCode !== 0) return `the worktree cannot fast-forward to ${sha.slice(0, 10)}: ${merged.stderr.trim()}`
          return undefined
        })

      const react = Effect.fnUntraced(function*(row: DaemonIssue, rule: ReactionRule, key: string, values: Parameters<typeof renderTemplate>[1], number: number, headSha: string) {
        const issue = yield* source.get(row.issueId)
        switch (rule.action) {
          case "noop":
            return "nothing to do"
          case "comment_ci_failed":
          case "comment_changes_requested": {
            const body = renderTemplate(rule.commentTemplate ?? DEFAULT_TEMPLATES[rule.action], values)
            const target = targetOf(issue)
            if (target === undefined) return "no tracker issue to comment on"
            yield* publisher.comment({ target, key: `reaction:${rule.name}:${key}`, body })
            return "commented"
          }
          case "auto_merge": {
            const m = yield* publisher.merge({ number, sha: headSha, method: rule.mergeMethod })
            if (m.outcome === "refused") return `merge refused: ${m.detail}`
            yield* store.setMeta(`pr-closed:${row.issueId}:${number}`, "merged")
            yield* moveTo(issue, cfg.linear.done_state)
            yield* workspaces.markFinished(row.runKey ?? row.issueId).pipe(Effect.ignore)
            return m.outcome
          }
          case "requeue_ready": {
            yield* store.upsert(row.issueId, { status: "new", retryCount: 0, retryAt: null, reuseAgentOf: null, lastError: `re-queued by reaction ${rule.name}` })
            yield* moveTo(issue, rules.consumeState)
            return `re-queued in ${rules.consumeState}`
          }
          case "reverify": {
            if (row.lastRunId === null) return "no earlier run to re-verify"
            const blocked = yield* fastForward(row.lastRunId, headSha)
            if (blocked !== undefined) return `not re-verified: ${blocked}`
            yield* runIssue(issue, { resume: false, reuseAgentOf: row.lastRunId, reentry: "reverify" })
            return `re-verifying ${headSha.slice(0, 10)}`
          }
        }
      })

      const feedback = Effect.gen(function*() {
        const gh = yield* github.availability
        if (!gh.available) return { checked: [], findings: 0, reactions: [] } satisfies FeedbackReport
        const { rules: reactions } = yield* loadReactions().pipe(Effect.provide(services))
        const checked: Array<string> = []
        const done: Array<string> = []
        let findings = 0
        for (const row of yield* store.issues(["done"])) {
          if (row.prNumber === null || inflight.has(row.issueId)) continue
          const number = row.prNumber
          if ((yield* store.getMeta(`pr-closed:${row.issueId}:${number}`)) !== undefined) continue
          const o = yield* observePull(github, number)
          checked.push(row.issueId)
          if (o === undefined || o.pull.state !== "open") {
            yield* store.setMeta(`pr-closed:${row.issueId}:${number}`, o?.pull.merged === true ? "merged" : "closed")
            yield* workspaces.markFinished(row.runKey ?? row.issueId).pipe(Effect.ignore)
            continue
          }
          if (Option.isSome(ledger)) {
            const at = yield* nowIso
            const found = findingsOf(o, at)
            if (found.length > 0) yield* ledger.value.addFindings(row.issueId, found, row.lastRunId ?? undefined)
            findings += found.length
            const passing = passingChecks(o)
            for (const f of yield* ledger.value.findings(row.issueId, { unresolvedOnly: true })) {
              const name = passing.find((n) => f.source === "ci" && f.description.startsWith(`CI check "${n}" failed`))
              if (name !== undefined) yield* ledger.value.resolveFinding(row.issueId, f.id, `ci: ${name} passed on ${o.pull.headSha.slice(0, 10)}`).pipe(Effect.ignore)
            }
          }
          const signal = signalOf(o)
          const values = {
            issue_id: row.issueId,
            pr_number: number,
            sha: signal.headSha,
            consume_state: rules.consumeState,
            review_decision: signal.reviewDecision,
            merge_state: signal.mergeState ?? "unknown",
            checks_passed: signal.checksPassed,
            checks_failed: signal.checksFailed.join(", ") || "none",
            mergeable: signal.mergeable ?? "unknown"
          }
          for (const fired of firedTriggers(signal, row.prHead, o.pull)) {
            for (const rule of reactions.filter((r) => r.enabled && r.trigger === fired.trigger)) {
              const mark = `${row.issueId}:${fired.key}:${rule.name}:${rule.action}`
              if (yield* store.hasMark(mark)) continue
              if (rule.action === "reverify" && inflight.size >= maxConcurrent) continue // no slot yet; next round
              const outcome = yield* react(row, rule, fired.key, values, number, signal.headSha).pipe(Effect.result)
              const ok = outcome._tag === "Success"
              const detail = ok ? outcome.success : outcome.failure instanceof Error || (typeof outcome.failure === "object" && outcome.failure !== null && "message" in outcome.failure) ? String((outcome.failure as { message: unknown }).message) : String(outcome.failure)
              yield* trace({ issue_id: row.issueId, pr_number: number, rule: rule.name, trigger: fired.trigger, action: rule.action, key: fired.key, ok, detail })
              if (!ok) {
                yield* Effect.logWarning(`${row.issueId}: reaction ${rule.name} (${rule.action}) failed: ${detail}; it is tried again next round`)
                continue
              }
              yield* store.mark(mark)
              done.push(`${row.issueId} ${rule.name} ${rule.action}`)
              yield* Effect.logInfo(`${row.issueId}: ${fired.trigger} on #${number} → ${rule.action}: ${detail}`)
            }
          }
        }
        return { checked, findings, reactions: done } satisfies FeedbackReport
      }).pipe(Effect.withSpan("Daemon.feedback"))

      const cleanup = Effect.gen(function*() {
        const report = yield* workspaces.clean()
        for (const r of report.removed) yield* Effect.logInfo(`cleanup: ${r.runKey}: ${r.note}`)
        for (const k of report.kept) yield* Effect.logInfo(`cleanup: kept ${k.runKey}: ${k.reason}`)
        return { removed: report.removed.map((r) => r.runKey), kept: report.kept.map((k) => k.runKey) }
      }).pipe(Effect.withSpan("Daemon.cleanup"))

      const drain = Effect.suspend(() => (inflight.size === 0 ? Effect.void : Deferred.await(idle)))

      const guardedTick = tick.pipe(
        Effect.tap(() =>
          Effect.sync(() => {
            counters.consecutiveErrors = 0
            counters.lastError = null
          })
        ),
        Effect.andThen(heartbeat("healthy")),
        Effect.catchCause((cause) =>
          Effect.gen(function*() {
            if (Cause.hasInterruptsOnly(cause)) return yield* Effect.interrupt
            const error = Cause.squash(cause)
            counters.consecutiveErrors += 1
            counters.lastError = typeof error === "object" && error !== null && "message" in error ? String((error as { message: unknown }).message) : String(error)
            yield* Effect.logError(`daemon tick failed (${counters.consecutiveErrors} in a row): ${counters.lastError}`)
            yield* heartbeat("degraded")
          })
        )
      )

      const run = Effect.gen(function*() {
        counters.startedAt = yield* nowIso
        yield* Effect.addFinalizer(() =>
          Effect.gen(function*() {
            stopping = true
            const leaving = [...inflight.values()]
            yield* Effect.forEach(leaving, (f) => (f.fiber !== undefined ? Fiber.interrupt(f.fiber) : Effect.void), { discard: true })
            // Each run is now `cancelled` (resumable) and its issue stays `running` here; without our claim the
            // next daemon resumes them at once, at the stage they stopped in.
            yield* Effect.forEach(leaving, (f) =>
              f.runId === undefined ? Effect.void : runStore.update(f.runId, (r) =>
                r.status === "cancelled" ? new RunRecord({ ...r, message: "cancelled: the daemon stopped; the next `spec-orch daemon start` resumes it at the stage it stopped in" }) : r
              ), { discard: true })
            yield* Effect.forEach(leaving, (f) => store.release(f.issueId, me.token), { discard: true })
            yield* heartbeat("stopped")
            yield* Effect.logInfo("daemon stopped; runs in flight resume when it starts again")
          })
        )
        yield* heartbeat("starting")
        yield* Effect.logInfo(`daemon started (pid ${me.pid}): ${source.name}, "${rules.consumeState}", up to ${maxConcurrent} at a time, polling every ${pollSeconds} s`)

        const resumed = yield* reclaim.pipe(Effect.catchCause((c) => Effect.as(Effect.logError(`reclaiming runs failed: ${Cause.pretty(c)}`), [] as ReadonlyArray<string>)))
        if (resumed.length > 0) yield* Effect.logInfo(`resumed ${resumed.join(", ")}`)
        let lastFeedback = 0
        let lastCleanup = 0
        for (;;) {
          yield* guardedTick
          const now = yield* nowMs
          if (now - lastCleanup >= cleanupEveryMs) {
            lastCleanup = now
            yield* cleanup.pipe(Effect.catchCause((c) => Cause.hasInterruptsOnly(c) ? Effect.interrupt : Effect.logError(`workspace cleanup failed: ${Cause.pretty(c)}`)))
          }
          if (feedbackRequested || now - lastFeedback >= feedbackEveryMs) {
            lastFeedback = now
            feedbackRequested = false
            yield* feedback.pipe(Effect.catchCause((c) => Cause.hasInterruptsOnly(c) ? Effect.interrupt : Effect.logError(`feedback round failed: ${Cause.pretty(c)}`)))
          }
          yield* Effect.raceFirst(Effect.sleep(`${pollSeconds} seconds`), Queue.take(pokes))
          yield* Queue.clear(pokes)
        }
      }).pipe(Effect.scoped) as Effect.Effect<never>

      return Daemon.of({
        reclaim,
        tick,
        feedback,
        cleanup,
        poke,
        drain,
        cancel: (issueId, reason) => cancelWith(issueId, "tracker", reason),
        inFlight: heartbeatRuns,
        run
      })
    })
  )
}

/** The daemon's background loop as a layer (`Layer.launch` it); the only place the daemon starts itself. */
export const DaemonLoop: Layer.Layer<never, never, Daemon> = Layer.effectDiscard(Effect.forkScoped(Daemon.use((d) => d.run)))
