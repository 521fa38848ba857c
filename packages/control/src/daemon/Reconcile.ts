/**
 * Reconciliation: the runs in flight against the tracker on every tick (an issue moved away or gone is
 * cancelled, a silent run is cancelled as stalled), and the runs a previous daemon process left behind at
 * start-up (resumed, recorded, or cancelled). Rule: when the tracker does not answer, nothing is cancelled.
 */
import { type Issue, Project, RunRecord } from "@spec-orch/contract"
import { Clock, Effect } from "effect"
import { ProcessToken } from "../run/EngineLock.js"
import { RunStore } from "../run/RunStore.js"
import { DaemonStore } from "./DaemonStore.js"
import {
  describeState,
  FINISHED_RUN_STATUSES,
  goneReason,
  isActive,
  refusedReason,
  stallReason
} from "./DaemonRules.js"
import type { DaemonState } from "./DaemonState.js"
import type { DaemonTracker } from "./DaemonTracker.js"
import type { RunOutcomes } from "./RunOutcomes.js"
import type { RunSupervisor } from "./RunSupervisor.js"

const nowIso = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

/** Builds the daemon's reconciliation over the project's services. */
export const makeReconcile = (
  state: DaemonState,
  tracker: DaemonTracker,
  outcomes: RunOutcomes,
  supervisor: RunSupervisor
) =>
  Effect.gen(function* () {
    const project = yield* Project
    const runStore = yield* RunStore
    const store = yield* DaemonStore
    const me = yield* ProcessToken
    const cfg = project.config
    const { rules } = tracker
    const stallMs = (cfg.builder.timeout_seconds + cfg.builder.stall_timeout_seconds) * 1000

    /** Cancels the runs in flight whose issue moved away or is gone, and those silent for too long; their issue ids. */
    const reconcileInFlight = (polled: ReadonlyMap<string, Issue>) =>
      Effect.gen(function* () {
        const cancelled: Array<string> = []
        const now = yield* Clock.currentTimeMillis
        for (const entry of yield* state.entries) {
          if (entry.cancel !== undefined) continue
          const view = yield* tracker.current(entry.issueId, polled)
          if (view.kind === "gone" || (view.kind === "issue" && !isActive(rules, view.issue))) {
            const reason = view.kind === "gone" ? goneReason(entry.issueId) : describeState(rules, view.issue)
            if (yield* supervisor.cancelWith(entry.issueId, "tracker", reason)) cancelled.push(entry.issueId)
            continue
          }
          // Stall: no event for longer than the agent may legitimately be silent.
          const last =
            entry.runId === undefined ? undefined : (yield* runStore.events(entry.runId, entry.lastSeq)).at(-1)
          const lastEventMs = last === undefined ? entry.lastEventMs : Math.max(entry.lastEventMs, Date.parse(last.at))
          if (last !== undefined) yield* state.patch(entry.issueId, (e) => ({ ...e, lastSeq: last.seq, lastEventMs }))
          if (now - lastEventMs > stallMs) {
            const reason = stallReason(now - lastEventMs, stallMs)
            if (yield* supervisor.cancelWith(entry.issueId, "stalled", reason)) cancelled.push(entry.issueId)
          }
        }
        return cancelled
      })

    /** Resumes (or cancels, if the tracker moved them) runs a previous daemon process left in flight; the issues resumed. */
    const reclaim = Effect.gen(function* () {
      const resumed: Array<string> = []
      for (const row of yield* store.issues(["running"])) {
        if (yield* state.has(row.issueId)) continue
        if (!(yield* supervisor.claim(row.issueId))) {
          yield* Effect.logInfo(`${row.issueId}: another daemon holds its claim; leaving it`)
          continue
        }
        const view = yield* tracker.current(row.issueId)
        if (view.kind === "unknown") {
          yield* store.release(row.issueId, me.token)
          continue
        }
        const latest =
          row.runKey !== null ? yield* runStore.latestForKey(row.runKey) : yield* runStore.latest(row.issueId)
        const verdict = view.kind === "issue" ? yield* tracker.admit(view.issue) : undefined
        if (view.kind === "issue" && verdict !== undefined && !verdict.admitted)
          yield* tracker.refuse(view.issue, verdict)
        if (view.kind === "gone" || !isActive(rules, view.issue) || verdict?.admitted === false) {
          const reason =
            view.kind === "gone"
              ? goneReason(row.issueId)
              : verdict?.admitted === false
                ? refusedReason(verdict.who)
                : describeState(rules, view.issue)
          if (latest !== undefined && !FINISHED_RUN_STATUSES.has(latest.status)) {
            yield* supervisor.interruptWorkflow(latest.runId)
            yield* runStore.update(
              latest.runId,
              (r) => new RunRecord({ ...r, status: "cancelled", message: `cancelled by the daemon: ${reason}` })
            )
          }
          yield* store.upsert(row.issueId, { status: "cancelled", finishedAt: yield* nowIso, lastError: reason })
          yield* store.release(row.issueId, me.token)
          yield* Effect.logInfo(`${row.issueId}: not resumed (${reason})`)
          continue
        }
        if (latest !== undefined && FINISHED_RUN_STATUSES.has(latest.status)) {
          // The run finished but its outcome was never recorded (the daemon stopped in between).
          yield* outcomes.finishRun(view.issue, { record: latest, resumed: false })
          yield* store.release(row.issueId, me.token)
          continue
        }
        yield* supervisor.runIssue(view.issue, { resume: latest !== undefined })
        resumed.push(row.issueId)
      }
      return resumed
    }).pipe(Effect.withSpan("Daemon.reclaim"))

    return { reconcileInFlight, reclaim }
  })

/** The daemon's reconciliation. */
export type Reconcile = Effect.Success<ReturnType<typeof makeReconcile>>
