/**
 * One feedback round over the pull requests the daemon published: reviews, review comments and failed checks
 * become findings on the ledger, and the configured reactions (comment, re-verify on a new head, re-queue,
 * auto-merge) run once per trigger. Rule: a reaction is marked done only when it succeeded; a failed one is
 * traced, logged and tried again next round.
 */
import { Project, renderError } from "@spec-orch/contract"
import { EvidenceLedger } from "@spec-orch/evidence"
import { Workspaces } from "@spec-orch/execution"
import { Clock, Effect, FileSystem, Option, Path } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { Publisher, targetOf } from "../publish/Publisher.js"
import { RunStore } from "../run/RunStore.js"
import { GitHub } from "../trackers/GitHub.js"
import { runGit } from "../trackers/internal/git.js"
import { daemonError, type DaemonError } from "./DaemonError.js"
import type { DaemonState } from "./DaemonState.js"
import { type DaemonIssue, DaemonStore } from "./DaemonStore.js"
import type { DaemonTracker } from "./DaemonTracker.js"
import { findingsOf, firedTriggers, observePull, passingChecks, signalOf } from "./Feedback.js"
import { DEFAULT_TEMPLATES, loadReactions, type ReactionRule, renderTemplate } from "./Reactions.js"
import type { RunSupervisor } from "./RunSupervisor.js"

/** What one feedback round did. */
export interface FeedbackReport {
  /** Issues whose pull request was read. */
  readonly checked: ReadonlyArray<string>
  /** Findings recorded on the ledger (new or already known). */
  readonly findings: number
  /** Reactions carried out: `<issue> <rule> <action>`. */
  readonly reactions: ReadonlyArray<string>
}

const nowIso = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

/** Builds the daemon's feedback round over the project's services. */
export const makeFeedbackRound = (state: DaemonState, tracker: DaemonTracker, supervisor: RunSupervisor) =>
  Effect.gen(function* () {
    const project = yield* Project
    const runStore = yield* RunStore
    const publisher = yield* Publisher
    const workspaces = yield* Workspaces
    const store = yield* DaemonStore
    const github = yield* GitHub
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    const ledger = yield* Effect.serviceOption(EvidenceLedger)
    const services = yield* Effect.context<Project | FileSystem.FileSystem | Path.Path>()
    const cfg = project.config
    const { rules } = tracker
    const maxConcurrent = cfg.daemon.max_concurrent
    const git = (cwd: string, args: ReadonlyArray<string>) =>
      runGit(cwd, args).pipe(Effect.provideService(ChildProcessSpawner.ChildProcessSpawner, spawner))

    const traceFile = path.join(project.stateDir, "daemon", "reactions_trace.jsonl")
    const trace = (entry: Record<string, unknown>) =>
      Effect.gen(function* () {
        yield* fs.makeDirectory(path.dirname(traceFile), { recursive: true })
        yield* fs.writeFileString(traceFile, `${JSON.stringify({ ts: yield* nowIso, ...entry })}\n`, { flag: "a" })
      }).pipe(Effect.ignore)

    /** Brings the run's worktree to the pull request's head (fast-forward only); why it could not, or `undefined`. */
    const fastForward = (runId: string, sha: string) =>
      Effect.gen(function* () {
        const record = yield* runStore.get(runId)
        if (record?.worktree === undefined || record.branch === undefined)
          return `run ${runId} has no worktree to re-verify in`
        if (!(yield* fs.exists(record.worktree).pipe(Effect.orElseSucceed(() => false))))
          return `the worktree ${record.worktree} is gone`
        const remote = cfg.github.remote
        const fetched = yield* git(record.worktree, [
          "fetch",
          "--quiet",
          remote,
          `+refs/heads/${record.branch}:refs/remotes/${remote}/${record.branch}`
        ])
        if (fetched.exitCode !== 0) return `git fetch ${remote} ${record.branch} failed: ${fetched.stderr.trim()}`
        const merged = yield* git(record.worktree, ["merge", "--ff-only", "--quiet", sha])
        if (merged.exitCode !== 0)
          return `the worktree cannot fast-forward to ${sha.slice(0, 10)}: ${merged.stderr.trim()}`
        return undefined
      })

    /** Carries out one reaction; what it did, as the trace and the log say it. */
    const react = Effect.fnUntraced(function* (
      row: DaemonIssue,
      rule: ReactionRule,
      key: string,
      values: Parameters<typeof renderTemplate>[1],
      number: number,
      headSha: string
    ) {
      const issue = yield* tracker.source.get(row.issueId)
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
          yield* tracker.moveTo(issue, cfg.linear.done_state)
          yield* workspaces.markFinished(row.runKey ?? row.issueId).pipe(Effect.ignore)
          return m.outcome
        }
        case "requeue_ready": {
          yield* store.upsert(row.issueId, {
            status: "new",
            retryCount: 0,
            retryAt: null,
            reuseAgentOf: null,
            lastError: `re-queued by reaction ${rule.name}`
          })
          yield* tracker.moveTo(issue, rules.consumeState)
          return `re-queued in ${rules.consumeState}`
        }
        case "reverify": {
          if (row.lastRunId === null) return "no earlier run to re-verify"
          const blocked = yield* fastForward(row.lastRunId, headSha)
          if (blocked !== undefined) return `not re-verified: ${blocked}`
          yield* supervisor.runIssue(issue, { resume: false, reuseAgentOf: row.lastRunId, reentry: "reverify" })
          return `re-verifying ${headSha.slice(0, 10)}`
        }
      }
    })

    const round = Effect.gen(function* () {
      const gh = yield* github.availability
      if (!gh.available) return { checked: [], findings: 0, reactions: [] } satisfies FeedbackReport
      const { rules: reactions } = yield* loadReactions().pipe(Effect.provide(services))
      const checked: Array<string> = []
      const done: Array<string> = []
      let findings = 0
      for (const row of yield* store.issues(["done"])) {
        if (row.prNumber === null || (yield* state.has(row.issueId))) continue
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
          const found = findingsOf(o, yield* nowIso)
          if (found.length > 0) yield* ledger.value.addFindings(row.issueId, found, row.lastRunId ?? undefined)
          findings += found.length
          const passing = passingChecks(o)
          for (const f of yield* ledger.value.findings(row.issueId, { unresolvedOnly: true })) {
            const name = passing.find((n) => f.source === "ci" && f.description.startsWith(`CI check "${n}" failed`))
            if (name !== undefined)
              yield* ledger.value
                .resolveFinding(row.issueId, f.id, `ci: ${name} passed on ${o.pull.headSha.slice(0, 10)}`)
                .pipe(Effect.ignore)
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
            if (rule.action === "reverify" && (yield* state.size) >= maxConcurrent) continue // no slot yet; next round
            const outcome = yield* react(row, rule, fired.key, values, number, signal.headSha).pipe(Effect.result)
            const ok = outcome._tag === "Success"
            const detail = ok ? outcome.success : renderError(outcome.failure)
            yield* trace({
              issue_id: row.issueId,
              pr_number: number,
              rule: rule.name,
              trigger: fired.trigger,
              action: rule.action,
              key: fired.key,
              ok,
              detail
            })
            if (!ok) {
              yield* Effect.logWarning(
                `${row.issueId}: reaction ${rule.name} (${rule.action}) failed: ${detail}; it is tried again next round`
              )
              continue
            }
            yield* store.mark(mark)
            done.push(`${row.issueId} ${rule.name} ${rule.action}`)
            yield* Effect.logInfo(`${row.issueId}: ${fired.trigger} on #${number} → ${rule.action}: ${detail}`)
          }
        }
      }
      return { checked, findings, reactions: done } satisfies FeedbackReport
    })

    const feedback: Effect.Effect<FeedbackReport, DaemonError> = round.pipe(
      Effect.mapError(daemonError("feedback")),
      Effect.withSpan("Daemon.feedback")
    )
    return { feedback }
  })
