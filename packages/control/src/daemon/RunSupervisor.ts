/**
 * Running one issue: claiming it, starting (or resuming) its durable Run workflow in the daemon's scope, and
 * a supervisor fiber that records the outcome when the run ends, is cancelled or fails. Rule: every run in
 * flight is in `DaemonState` from before it starts until its outcome is recorded, and its claim is released then.
 */
import { type Issue, Project, renderError, RunRecord } from "@spec-orch/contract"
import { Workspaces } from "@spec-orch/execution"
import type { ModelCall } from "@spec-orch/harness"
import { Cause, Clock, Effect, Exit, Fiber, Option, Ref, Scope } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { WorkflowEngine } from "effect/workflow"
import { EngineBusy, ProcessToken } from "../run/EngineLock.js"
import { ownerAlive, Runs } from "../run/Runs.js"
import { RunStore } from "../run/RunStore.js"
import { MODEL_CALL_EVENT, Run, runExecutionId } from "../run/RunWorkflow.js"
import { runGit } from "../trackers/internal/git.js"
import { RunPlacement } from "../cluster/RunPlacement.js"
import { DaemonStore } from "./DaemonStore.js"
import { DAEMON_APPROVER } from "./DaemonRules.js"
import type { DaemonState, InFlight, RunStartError } from "./DaemonState.js"
import { RunFinished } from "./EvolutionTrigger.js"
import type { RunOutcomes } from "./RunOutcomes.js"

const nowIso = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

/** How an issue is run: resumed or a new attempt, reusing an earlier agent's work, re-verifying a new head. */
export interface RunOptions {
  readonly resume: boolean
  readonly reuseAgentOf?: string | null | undefined
  readonly reentry?: "reverify" | undefined
  /** The readiness model's calls that led to this run: kept in its store like the run's own, so its cost shows. */
  readonly triageCalls?: ReadonlyArray<ModelCall> | undefined
}

/** Builds the daemon's run supervision over the project's services; runs live in the layer's scope. */
export const makeRunSupervisor = (state: DaemonState, outcomes: RunOutcomes) =>
  Effect.gen(function* () {
    const project = yield* Project
    const runs = yield* Runs
    const runStore = yield* RunStore
    const me = yield* ProcessToken
    const engine = yield* WorkflowEngine.WorkflowEngine
    const workspaces = yield* Workspaces
    const store = yield* DaemonStore
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    const runFinished = yield* Effect.serviceOption(RunFinished)
    const placement = yield* Effect.serviceOption(RunPlacement)
    const scope = yield* Scope.Scope
    const cfg = project.config
    const leaseMs = cfg.daemon.lease_seconds * 1000
    const pollSeconds = cfg.daemon.poll_interval_seconds ?? cfg.linear.poll_interval_seconds
    const git = (cwd: string, args: ReadonlyArray<string>) =>
      runGit(cwd, args).pipe(Effect.provideService(ChildProcessSpawner.ChildProcessSpawner, spawner))

    /** The engine's execution id of a run (a digest of the workflow's name, the run id and its placement salt). */
    const executionIdOf = (runId: string) =>
      Effect.flatMap(runStore.get(runId), (record) => runExecutionId({ runId, placement: record?.placement }))

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
      Effect.gen(function* () {
        yield* runStore.setOwner(runId, me.token)
        yield* executionIdOf(runId).pipe(Effect.flatMap((id) => engine.resume(Run, id)))
      }).pipe(Effect.catchCause((c) => Effect.logWarning(`could not wake run ${runId}: ${Cause.pretty(c)}`)))

    /**
     * A new attempt continues the published branch: when cleanup removed the local run branch (everything on it
     * was pushed), it is restored from the remote, so the attempt builds on it and its push fast-forwards.
     */
    const restoreRunBranch = (runKey: string) =>
      Effect.gen(function* () {
        const branch = `spec-orch/${runKey}`
        const remote = cfg.github.remote
        if ((yield* store.issue(runKey))?.lastRunId == null) return // never ran: nothing was published
        if ((yield* git(project.root, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`])).exitCode === 0)
          return
        const fetched = yield* git(project.root, [
          "fetch",
          "--quiet",
          remote,
          `+refs/heads/${branch}:refs/remotes/${remote}/${branch}`
        ])
        if (fetched.exitCode !== 0) return // not published (or no remote): the attempt starts from the base
        const made = yield* git(project.root, ["branch", branch, `refs/remotes/${remote}/${branch}`])
        if (made.exitCode === 0)
          yield* Effect.logInfo(`${runKey}: restored ${branch} from ${remote} for the new attempt`)
      })

    /** Cancels an issue's run in flight (its workflow, then its fiber); false when none is, or it is being cancelled. */
    const cancelWith = (issueId: string, kind: "tracker" | "stalled", reason: string) =>
      Effect.gen(function* () {
        const entry = yield* state.markCancelled(issueId, { kind, reason })
        if (entry === undefined) return false
        yield* Effect.logInfo(`${issueId}: cancelling run ${entry.runId ?? "(starting)"}: ${reason}`)
        if (entry.runId !== undefined) yield* interruptWorkflow(entry.runId)
        if (entry.fiber !== undefined) yield* Fiber.interrupt(entry.fiber)
        return true
      })

    /** Claims an issue; a claim left by a process of this host that is gone is taken over at once. */
    const claim = (issueId: string) =>
      Effect.gen(function* () {
        if (yield* store.claim(issueId, me.token, leaseMs)) return true
        const held = (yield* store.claims).find((c) => c.issueId === issueId)
        if (held === undefined || ownerAlive(held.owner, me.host)) return false
        yield* store.release(issueId, held.owner)
        return yield* store.claim(issueId, me.token, leaseMs)
      })

    /** Records how a run that did not succeed ended: cancelled (by the tracker or as stalled), busy elsewhere, or failed. */
    const recordStopped = (issue: Issue, entry: InFlight, cause: Cause.Cause<RunStartError>) =>
      Effect.gen(function* () {
        const cancel = entry.cancel
        if (Cause.hasInterruptsOnly(cause)) {
          if (cancel === undefined) return // stopping: the run stays `running` and claimed, and the next daemon resumes it
          if (entry.runId !== undefined) {
            yield* runStore.update(
              entry.runId,
              (r) => new RunRecord({ ...r, status: "cancelled", message: `cancelled by the daemon: ${cancel.reason}` })
            )
          }
          if (cancel.kind === "stalled") return yield* outcomes.fail(issue, cancel.reason, entry.runId)
          yield* store.upsert(issue.id, { status: "cancelled", finishedAt: yield* nowIso, lastError: cancel.reason })
          yield* workspaces.markFinished(entry.runKey).pipe(Effect.ignore)
          yield* Effect.logInfo(`${issue.id}: cancelled (${cancel.reason})`)
          return
        }
        const error = Cause.squash(cause)
        const text = renderError(error)
        if (error instanceof EngineBusy) {
          // A person runs this issue from a terminal: not a failed attempt; look again after a poll interval.
          yield* store.upsert(issue.id, {
            status: "retry",
            retryAt: (yield* Clock.currentTimeMillis) + pollSeconds * 1000,
            lastError: text
          })
          yield* Effect.logInfo(`${issue.id}: ${text}; trying again in ${pollSeconds} s`)
        } else {
          yield* outcomes.fail(issue, text, entry.runId)
        }
      })

    /** Starts (or resumes) an issue's run in the daemon's scope, with a fiber that records its outcome. */
    const runIssue = (issue: Issue, options: RunOptions) =>
      Effect.gen(function* () {
        yield* state.add({
          issueId: issue.id,
          runId: undefined,
          runKey: issue.id,
          since: yield* nowIso,
          lastSeq: 0,
          lastEventMs: yield* Clock.currentTimeMillis,
          fiber: undefined,
          cancel: undefined
        })
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
          // A cluster's singleton takes over the runs of the one before it (its process may live on, standing still).
          takeLockFrom: store.formerLeader,
          // On a cluster, a new attempt goes to the runner with the most free agent slots.
          ...(Option.isSome(placement)
            ? {
                place: (run: { readonly runId: string }) =>
                  Effect.flatMap(state.entries, (entries) =>
                    placement.value.choose(
                      run.runId,
                      entries.flatMap((e) => (e.runId !== undefined && e.runId !== run.runId ? [e.runId] : []))
                    )
                  )
              }
            : {}),
          ...(options.reuseAgentOf ? { reuseAgentOf: options.reuseAgentOf } : {}),
          onStart: (record) =>
            Effect.gen(function* () {
              yield* state.patch(issue.id, (e) => ({ ...e, runId: record.runId, runKey: record.runKey }))
              if (options.triageCalls !== undefined && options.triageCalls.length > 0) {
                yield* runStore.appendAll(
                  record.runId,
                  options.triageCalls.map((data) => ({ kind: MODEL_CALL_EVENT, data }))
                )
              }
              yield* store.upsert(issue.id, { status: "running", lastRunId: record.runId, runKey: record.runKey })
              yield* store.claim(issue.id, me.token, leaseMs, record.runId)
              yield* Effect.logInfo(
                `${issue.id}: ${options.resume ? "resuming" : "started"} run ${record.runId} (attempt ${record.attempt})`
              )
            })
        })
        const inner = yield* Effect.forkIn(start, scope)
        yield* state.patch(issue.id, (e) => ({ ...e, fiber: inner }))
        const supervise = Effect.gen(function* () {
          const exit = yield* Fiber.await(inner)
          const interrupted = Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
          if (!interrupted && !(yield* store.claim(issue.id, me.token, leaseMs))) {
            // Another daemon took this issue over (a cluster's singleton moved while this one stood still):
            // the outcome is its to record, once.
            return yield* Effect.logWarning(
              `${issue.id}: another daemon took this issue over; leaving the outcome to it`
            )
          }
          if (Exit.isSuccess(exit)) {
            yield* outcomes.finishRun(issue, exit.value, options.reentry)
            // [evolution] counted here, after the run is recorded; the evolvers run in a fiber of their own.
            if (Option.isSome(runFinished)) yield* runFinished.value.finished(exit.value.record.runId)
          } else {
            const entry = yield* state.entry(issue.id)
            // The entry leaves only below, after this; `undefined` cannot happen, but then there is nothing to record.
            if (entry === undefined) return
            yield* recordStopped(issue, entry, exit.cause)
            if (Cause.hasInterruptsOnly(exit.cause) && entry.cancel === undefined) return
          }
          yield* Ref.update(state.counters, (c) => ({ ...c, processed: c.processed + 1 }))
          yield* store.release(issue.id, me.token)
        }).pipe(
          Effect.catchCause((c) =>
            Effect.logError(`${issue.id}: recording the run's outcome failed: ${Cause.pretty(c)}`)
          ),
          Effect.ensuring(state.remove(issue.id).pipe(Effect.andThen(state.wake)))
        )
        yield* Effect.forkIn(supervise, scope)
      })

    return { runIssue, cancelWith, claim, interruptWorkflow, executionIdOf }
  })

/** The daemon's run supervision. */
export type RunSupervisor = Effect.Success<ReturnType<typeof makeRunSupervisor>>
