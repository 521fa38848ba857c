/**
 * One tick of intake and dispatch: renew claims, poll the tracker, reconcile the runs in flight, then admit,
 * claim, triage and start the eligible issues (hotfixes first) up to `[daemon] max_concurrent`. Rule: a
 * refused issue is neither claimed, triaged nor commented on, and each issue is re-read right before it starts.
 */
import { type Issue, Project } from "@spec-orch/contract"
import { type ModelCall, ModelUsage, totalsOf } from "@spec-orch/harness"
import { Clock, Effect, Option, Ref } from "effect"
import { LanguageModel } from "effect/ai"
import { ProcessToken } from "../run/EngineLock.js"
import { daemonError, type DaemonError } from "./DaemonError.js"
import {
  allowAnyoneWarning,
  eligibility,
  inConsumeState,
  isActive,
  isHotfix,
  pollQuery,
  TRIAGE_USAGE_KEY,
  triageTotals
} from "./DaemonRules.js"
import type { DaemonState } from "./DaemonState.js"
import { DaemonStore } from "./DaemonStore.js"
import type { DaemonTracker } from "./DaemonTracker.js"
import type { Reconcile } from "./Reconcile.js"
import type { RunSupervisor } from "./RunSupervisor.js"
import { CLARIFICATION_LABEL, clarificationComment, clarificationKey, type Readiness, triage } from "./Triage.js"

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

/** Builds the daemon's tick over the project's services. */
export const makeDispatch = (
  state: DaemonState,
  tracker: DaemonTracker,
  supervisor: RunSupervisor,
  reconcile: Reconcile
) =>
  Effect.gen(function* () {
    const project = yield* Project
    const store = yield* DaemonStore
    const me = yield* ProcessToken
    const model = yield* Effect.serviceOption(LanguageModel.LanguageModel)
    const cfg = project.config
    const { rules, source } = tracker
    const leaseMs = cfg.daemon.lease_seconds * 1000
    const maxConcurrent = cfg.daemon.max_concurrent

    /** Every readiness call the daemon made, summed in its store (`triage_model_calls`), whether or not a run followed. */
    const recordTriageUsage = (calls: ReadonlyArray<ModelCall>) =>
      Effect.gen(function* () {
        if (calls.length === 0) return
        const before = yield* store.getMeta(TRIAGE_USAGE_KEY)
        yield* store.setMeta(TRIAGE_USAGE_KEY, JSON.stringify(triageTotals(before, totalsOf(calls))))
      })

    const askForClarification = (issue: Issue, readiness: Readiness) =>
      Effect.gen(function* () {
        yield* tracker.commentOn(
          issue,
          clarificationKey(issue.id),
          clarificationComment(issue, readiness, rules.consumeState)
        )
        yield* tracker.labelOn(issue, { add: [CLARIFICATION_LABEL] })
        yield* store.upsert(issue.id, {
          status: "clarifying",
          lastError: `not ready: ${readiness.questions.join(" ")}`
        })
        yield* Effect.logInfo(`${issue.id}: not ready (${readiness.decidedBy}); asked for clarification`)
      })

    /** The readiness of an issue, with the model's calls it took collected in `calls`. */
    const triaged = (issue: Issue, calls: Array<ModelCall>) =>
      triage(issue).pipe(
        Option.isSome(model) ? Effect.provideService(LanguageModel.LanguageModel, model.value) : (e) => e,
        Effect.provide(
          ModelUsage.layerCallback((call) => Effect.sync(() => void calls.push({ ...call, role: "triage" })))
        )
      )

    const tick: Effect.Effect<TickReport, DaemonError> = Effect.gen(function* () {
      if (tracker.intake.allowAnyone && !(yield* Ref.getAndSet(state.warnedAnyone, true)))
        yield* Effect.logWarning(allowAnyoneWarning(source.name))
      yield* store.renewClaims(me.token, leaseMs)
      const listing = yield* source.list(pollQuery(rules)).pipe(Effect.mapError(daemonError("tick")))
      const polled = new Map(listing.issues.map((i) => [i.id, i]))
      yield* store.setMeta("last_poll", new Date(yield* Clock.currentTimeMillis).toISOString())
      const cancelled = yield* reconcile.reconcileInFlight(polled)

      const dispatched: Array<string> = []
      const clarifying: Array<string> = []
      const refused: Array<string> = []
      const ordered = [...listing.issues].sort((a, b) => Number(isHotfix(rules, b)) - Number(isHotfix(rules, a)))
      // One query for the daemon's view of every polled issue (a tick may look at thousands).
      const known = new Map((yield* store.issues()).map((r) => [r.issueId, r]))
      for (const issue of ordered) {
        if (
          (yield* Ref.get(state.stopping)) ||
          (yield* state.size) >= maxConcurrent ||
          dispatched.length >= cfg.daemon.drain_batch_size
        )
          break
        const row = known.get(issue.id)
        const how = eligibility(rules, issue, row, yield* Clock.currentTimeMillis, yield* state.has(issue.id))
        if (how === undefined) continue
        // Intake first: a refused issue is not claimed, triaged or commented on.
        const verdict = yield* tracker.admit(issue)
        if (!verdict.admitted) {
          yield* tracker.refuse(issue, verdict)
          refused.push(issue.id)
          continue
        }
        yield* tracker.admitted(issue, verdict)
        if (!(yield* supervisor.claim(issue.id))) continue
        const triageCalls: Array<ModelCall> = []
        if (how.triage && !isHotfix(rules, issue)) {
          const readiness = yield* triaged(issue, triageCalls)
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
        const fresh = yield* tracker.current(issue.id)
        const startsFresh = row?.status !== "retry" && row?.status !== "running"
        if (
          fresh.kind !== "issue" ||
          !(startsFresh ? inConsumeState(rules, fresh.issue) : isActive(rules, fresh.issue))
        ) {
          yield* store.release(issue.id, me.token)
          continue
        }
        const freshVerdict = yield* tracker.admit(fresh.issue)
        if (!freshVerdict.admitted) {
          yield* store.release(issue.id, me.token)
          yield* tracker.refuse(fresh.issue, freshVerdict)
          refused.push(issue.id)
          continue
        }
        if (row?.status === "clarifying") yield* tracker.labelOn(fresh.issue, { remove: [CLARIFICATION_LABEL] })
        if (inConsumeState(rules, fresh.issue)) yield* tracker.moveTo(fresh.issue, rules.inProgressState)
        yield* supervisor.runIssue(fresh.issue, { resume: how.resume, reuseAgentOf: how.reuse, triageCalls })
        dispatched.push(issue.id)
      }
      // A refused issue that is no longer waiting (closed, moved, unlabelled) leaves the list `daemon status` shows.
      const waiting = new Set<string>(polled.keys())
      for (const r of yield* store.refusals) if (!waiting.has(r.issueId)) yield* store.forgetRefusal(r.issueId)
      return {
        polled: listing.issues.length,
        dispatched,
        clarifying,
        refused,
        cancelled,
        inFlight: yield* state.size
      } satisfies TickReport
    }).pipe(Effect.withSpan("Daemon.tick"))

    return { tick }
  })
