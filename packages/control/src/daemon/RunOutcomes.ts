/**
 * What the daemon records after a run: a retry with backoff or a dead letter for a failed attempt, a request
 * for clarification, or `done` with the pull request it published. Rule: the run's record decides
 * (`disposition`); the daemon's row and the tracker follow it, never the other way round.
 */
import { type Issue, Project, type RunRecord } from "@spec-orch/contract"
import { Workspaces } from "@spec-orch/execution"
import { Clock, Effect, FileSystem, Option, Path, Schema } from "effect"
import { deadLetterNotice, notifyIfConfigured, notifyRun } from "../notify/Notifier.js"
import { PUBLISH_RESULT_EVENT, PublishResult } from "../publish/RunPublisher.js"
import { RunStore } from "../run/RunStore.js"
import type { RunResult } from "../run/Runs.js"
import { DaemonStore } from "./DaemonStore.js"
import { DEAD_LETTER_LABEL, deadLetterComment, deadLetterKey, disposition, retryDelaySeconds } from "./DaemonRules.js"
import type { DaemonTracker } from "./DaemonTracker.js"
import { CLARIFICATION_LABEL, clarificationComment, clarificationKey } from "./Triage.js"

const nowIso = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

/**
 * What a run published, if it published: `publish.json` in its artifacts, else the result it kept in the
 * run store (a run that ran on another host of a cluster keeps its artifacts there).
 */
export const publishOf = (
  record: RunRecord
): Effect.Effect<PublishResult | undefined, never, FileSystem.FileSystem | Path.Path | RunStore> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    if (record.artifactsDir !== undefined) {
      const file = yield* fs
        .readFileString(path.join(record.artifactsDir, "publish.json"))
        .pipe(Effect.flatMap(Schema.decodeUnknownEffect(Schema.fromJsonString(PublishResult))), Effect.option)
      if (Option.isSome(file)) return file.value
    }
    const kept = (yield* RunStore.use((s) => s.events(record.runId)))
      .filter((e) => e.kind === PUBLISH_RESULT_EVENT)
      .at(-1)
    if (kept === undefined) return undefined
    return yield* Schema.decodeUnknownEffect(PublishResult)(kept.data).pipe(
      Effect.option,
      Effect.map(Option.getOrUndefined)
    )
  }).pipe(Effect.catchCause(() => Effect.succeed(undefined)))

/** Builds the daemon's outcome recording over the project's services. */
export const makeRunOutcomes = (tracker: DaemonTracker) =>
  Effect.gen(function* () {
    const project = yield* Project
    const store = yield* DaemonStore
    const workspaces = yield* Workspaces
    const runStore = yield* RunStore
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const cfg = project.config
    const { rules, commentOn, labelOn } = tracker

    const readPublish = (record: RunRecord) =>
      publishOf(record).pipe(
        Effect.provideService(FileSystem.FileSystem, fs),
        Effect.provideService(Path.Path, path),
        Effect.provideService(RunStore, runStore)
      )

    /** A failed attempt: a retry after the backoff, or a dead letter once `[daemon] max_retries` are used up. */
    const fail = Effect.fnUntraced(function* (
      issue: Issue,
      message: string,
      runId: string | undefined,
      reuseAgentOf?: string | undefined
    ) {
      const row = yield* store.issue(issue.id)
      const failures = (row?.retryCount ?? 0) + 1
      if (failures > cfg.daemon.max_retries) {
        yield* store.deadLetter({
          issueId: issue.id,
          reason: message,
          attempts: failures,
          lastRunId: runId ?? row?.lastRunId ?? null
        })
        yield* store.upsert(issue.id, { retryCount: failures })
        yield* notifyIfConfigured(deadLetterNotice(issue.id, failures, message, runId ?? row?.lastRunId))
        yield* Effect.logWarning(`${issue.id}: dead-lettered after ${failures} failed attempt(s): ${message}`)
        yield* commentOn(issue, deadLetterKey(issue.id), deadLetterComment(issue.id, failures, message, runId))
        yield* labelOn(issue, { add: [DEAD_LETTER_LABEL] })
        yield* workspaces.markFinished(row?.runKey ?? issue.id).pipe(Effect.ignore)
        return
      }
      const delay = retryDelaySeconds(cfg.daemon.retry_base_delay_seconds, failures)
      const at = (yield* Clock.currentTimeMillis) + delay * 1000
      yield* store.upsert(issue.id, {
        status: "retry",
        retryCount: failures,
        retryAt: at,
        lastError: message,
        reuseAgentOf: reuseAgentOf ?? null
      })
      yield* Effect.logInfo(
        `${issue.id}: attempt failed (${message}); retry ${failures}/${cfg.daemon.max_retries} in ${delay} s`
      )
    })

    /** Records a finished run's outcome for its issue (a re-verification that fails is not retried: the PR shows it). */
    const finishRun = Effect.fnUntraced(function* (issue: Issue, result: RunResult, reentry?: "reverify" | undefined) {
      const record = result.record
      const d = disposition(record)
      yield* store.upsert(issue.id, { lastRunId: record.runId, runKey: record.runKey })
      yield* notifyRun(record)
      // A re-verification of someone else's commit that fails is theirs to fix: the PR shows it.
      if (d.kind === "retry" && reentry !== "reverify")
        return yield* fail(issue, d.message, record.runId, d.reuseAgentOf)
      if (d.kind === "clarify") {
        yield* store.upsert(issue.id, { status: "clarifying", lastError: d.message, retryAt: null })
        yield* commentOn(
          issue,
          clarificationKey(issue.id),
          clarificationComment(
            issue,
            { ready: false, missing: [], questions: [d.message], decidedBy: "rules" },
            rules.consumeState
          )
        )
        yield* labelOn(issue, { add: [CLARIFICATION_LABEL] })
        return
      }
      const published = yield* readPublish(record)
      const fresh = yield* tracker.source.get(issue.id).pipe(Effect.option)
      yield* store.upsert(issue.id, {
        status: "done",
        retryCount: 0,
        retryAt: null,
        reuseAgentOf: null,
        lastError: null,
        finishedAt: yield* nowIso,
        prNumber: published?.pullRequest?.number ?? null,
        prHead: published?.push?.sha ?? null,
        trackerUpdatedAt: Option.match(fresh, {
          onNone: () => issue.origin.updatedAt ?? null,
          onSome: (i) => i.origin.updatedAt ?? null
        })
      })
      const merged = published?.merge !== undefined && published.merge.outcome !== "refused"
      if (published?.pullRequest === undefined || merged)
        yield* workspaces.markFinished(record.runKey).pipe(Effect.ignore)
      yield* Effect.logInfo(`${issue.id}: ${d.message}`)
    })

    return { fail, finishRun }
  })

/** The daemon's outcome recording. */
export type RunOutcomes = Effect.Success<ReturnType<typeof makeRunOutcomes>>
