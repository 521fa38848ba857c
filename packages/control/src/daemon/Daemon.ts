/**
 * The daemon: polls the configured tracker (and wakes on webhooks) within the request budget,
 * picks issues in `[daemon] consume_state` that the intake allow-list admits (a refused issue is
 * neither claimed nor commented on), triages them, claims them with a lease and runs each as
 * the durable Run workflow, at most `[daemon] max_concurrent` at a time. Tracker state is
 * reconciled before every dispatch and on every tick (an issue moved away is cancelled); silent
 * runs are cancelled as stalled; failures retry with exponential backoff and then dead-letter.
 * Stopping interrupts the runs in flight; the next daemon reclaims and resumes them. One rule: only
 * this service changes `so_daemon_*` rows for issues it has in flight.
 *
 * This file is the service and its wiring; the parts live beside it: rules (`DaemonRules`), state
 * (`DaemonState`), tracker access (`DaemonTracker`), runs (`RunSupervisor`, `RunOutcomes`), reconciliation
 * (`Reconcile`), intake and dispatch (`Dispatch`), feedback (`FeedbackRound`) and the loop (`PollLoop`).
 */
import type { IssueSource, Project } from "@spec-orch/contract"
import { Workspaces } from "@spec-orch/execution"
import type { Redactor } from "@spec-orch/harness"
import { Context, Effect, type FileSystem, Layer, type Path } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import type { WorkflowEngine } from "effect/workflow"
import type { Publisher } from "../publish/Publisher.js"
import { ProcessToken } from "../run/EngineLock.js"
import type { Runs } from "../run/Runs.js"
import type { RunStore } from "../run/RunStore.js"
import type { GitHub } from "../trackers/GitHub.js"
import { daemonError, type DaemonError } from "./DaemonError.js"
import { makeDaemonState } from "./DaemonState.js"
import { DaemonStore } from "./DaemonStore.js"
import { makeDaemonTracker } from "./DaemonTracker.js"
import { makeDispatch, type TickReport } from "./Dispatch.js"
import { type FeedbackReport, makeFeedbackRound } from "./FeedbackRound.js"
import type { HeartbeatRun } from "./Heartbeat.js"
import { makePollLoop } from "./PollLoop.js"
import { makeReconcile } from "./Reconcile.js"
import { makeRunOutcomes } from "./RunOutcomes.js"
import { makeRunSupervisor } from "./RunSupervisor.js"

/** The daemon's operations; `run` is the loop `spec-orch daemon start` launches. */
export class Daemon extends Context.Service<
  Daemon,
  {
    /** Resumes (or cancels, if the tracker moved them) runs a previous daemon process left in flight. */
    readonly reclaim: Effect.Effect<ReadonlyArray<string>>
    /** One cycle: reconcile runs in flight, poll, triage, claim and dispatch. Fails when the tracker cannot be read. */
    readonly tick: Effect.Effect<TickReport, DaemonError>
    /**
     * One feedback round over the published pull requests: reviews, review comments and failed checks become
     * findings; reactions (comments, re-verify on a new head, re-queue, auto-merge) run once per trigger.
     * Fails when GitHub or the evidence ledger cannot be read.
     */
    readonly feedback: Effect.Effect<FeedbackReport, DaemonError>
    /** Removes the worktrees of finished issues (dead-lettered, cancelled, merged); uncommitted or unpushed work is kept. */
    readonly cleanup: Effect.Effect<
      { readonly removed: ReadonlyArray<string>; readonly kept: ReadonlyArray<string> },
      DaemonError
    >
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
    /**
     * Records this daemon as the one daemon of the state database, then runs: a cluster's daemon singleton
     * wherever it starts. It takes over the claims of the daemons before it at once (their host may be another
     * machine, dead or only standing still), and a daemon that is no longer the leader can claim nothing, so
     * it neither dispatches nor records an outcome (DaemonStore's `claim`).
     */
    readonly runAsLeader: Effect.Effect<never>
  }
>()("@spec-orch/control/Daemon") {
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
    | Redactor
  > = Layer.effect(
    Daemon,
    Effect.gen(function* () {
      const workspaces = yield* Workspaces
      const state = yield* makeDaemonState
      const tracker = yield* makeDaemonTracker(state)
      const outcomes = yield* makeRunOutcomes(tracker)
      const supervisor = yield* makeRunSupervisor(state, outcomes)
      const reconcile = yield* makeReconcile(state, tracker, outcomes, supervisor)
      const { tick } = yield* makeDispatch(state, tracker, supervisor, reconcile)
      const { feedback } = yield* makeFeedbackRound(state, tracker, supervisor)

      const cleanup = Effect.gen(function* () {
        const report = yield* workspaces.clean().pipe(Effect.mapError(daemonError("cleanup")))
        for (const r of report.removed) yield* Effect.logInfo(`cleanup: ${r.runKey}: ${r.note}`)
        for (const k of report.kept) yield* Effect.logInfo(`cleanup: kept ${k.runKey}: ${k.reason}`)
        return { removed: report.removed.map((r) => r.runKey), kept: report.kept.map((k) => k.runKey) }
      }).pipe(Effect.withSpan("Daemon.cleanup"))

      const { run } = yield* makePollLoop(state, tracker, { reclaim: reconcile.reclaim, tick, feedback, cleanup })
      const store = yield* DaemonStore
      const me = yield* ProcessToken
      const runAsLeader = Effect.andThen(
        Effect.andThen(store.lead(me.token), Effect.logInfo(`this daemon (${me.token}) leads the cluster's claims`)),
        run
      )

      return Daemon.of({
        reclaim: reconcile.reclaim,
        tick,
        feedback,
        cleanup,
        poke: state.poke,
        drain: state.drain,
        cancel: (issueId, reason) => supervisor.cancelWith(issueId, "tracker", reason),
        inFlight: state.heartbeatRuns,
        run,
        runAsLeader
      })
    })
  )
}

/** The daemon's background loop as a layer (`Layer.launch` it); the only place the daemon starts itself. */
export const DaemonLoop: Layer.Layer<never, never, Daemon> = Layer.effectDiscard(
  Effect.forkScoped(Daemon.use((d) => d.run))
)
