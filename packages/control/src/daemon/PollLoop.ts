/**
 * The daemon's polling loop: reclaim what a previous process left, then a cycle (tick; workspace cleanup and a
 * feedback round when they are due) repeated by a `Schedule` that waits a poll interval, or less when poked.
 * Stopping interrupts the runs in flight and leaves them resumable. Rule: one failing cycle never stops the
 * loop; it is logged and counted in the heartbeat.
 */
import { Project, renderError, RunRecord } from "@spec-orch/contract"
import type { Redactor } from "@spec-orch/harness"
import { Cause, Clock, Effect, type FileSystem, Fiber, type Path, Queue, Ref, Schedule } from "effect"
import { ProcessToken } from "../run/EngineLock.js"
import { RunStore } from "../run/RunStore.js"
import type { DaemonError } from "./DaemonError.js"
import { STOPPED_RUN_MESSAGE } from "./DaemonRules.js"
import type { DaemonState } from "./DaemonState.js"
import { DaemonStore } from "./DaemonStore.js"
import type { DaemonTracker } from "./DaemonTracker.js"
import { writeHeartbeat } from "./Heartbeat.js"

const nowIso = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

/** What the loop drives: the daemon's steps as its service exposes them. */
export interface LoopSteps {
  readonly reclaim: Effect.Effect<ReadonlyArray<string>>
  readonly tick: Effect.Effect<unknown, DaemonError>
  readonly feedback: Effect.Effect<unknown, DaemonError>
  readonly cleanup: Effect.Effect<unknown, DaemonError>
}

/** Logs a failed step and goes on; an interruption is passed on, so stopping still stops. */
const survive = (what: string) => (cause: Cause.Cause<DaemonError>) =>
  Cause.hasInterruptsOnly(cause) ? Effect.interrupt : Effect.logError(`${what} failed: ${Cause.pretty(cause)}`)

/** Builds the daemon's loop (`run`) over the project's services. */
export const makePollLoop = (state: DaemonState, tracker: DaemonTracker, steps: LoopSteps) =>
  Effect.gen(function* () {
    const project = yield* Project
    const runStore = yield* RunStore
    const store = yield* DaemonStore
    const me = yield* ProcessToken
    const services = yield* Effect.context<Project | FileSystem.FileSystem | Path.Path | Redactor>()
    const cfg = project.config
    const pollSeconds = cfg.daemon.poll_interval_seconds ?? cfg.linear.poll_interval_seconds
    // Pull requests are read less often than the tracker is polled (five requests each), or on a webhook.
    const feedbackEveryMs = Math.max(3 * pollSeconds, 30) * 1000
    const cleanupEveryMs = Math.max(10 * pollSeconds, 600) * 1000

    const heartbeat = (status: "starting" | "healthy" | "degraded" | "stopped") =>
      Effect.gen(function* () {
        const counters = yield* Ref.get(state.counters)
        yield* writeHeartbeat({
          status,
          pid: me.pid,
          host: me.host,
          at: yield* nowIso,
          startedAt: counters.startedAt,
          pollIntervalSeconds: pollSeconds,
          processed: counters.processed,
          inFlight: yield* state.heartbeatRuns,
          deadLetter: (yield* store.deadLetters).length,
          refused: (yield* store.refusals).length,
          consecutiveErrors: counters.consecutiveErrors,
          lastError: counters.lastError
        }).pipe(Effect.provide(services), Effect.provideService(DaemonStore, store))
      }).pipe(Effect.catchCause((c) => Effect.logWarning(`could not write the heartbeat: ${Cause.pretty(c)}`)))

    /** A tick that cannot fail: a failure is counted, logged and shown as a degraded heartbeat. */
    const guardedTick = steps.tick.pipe(
      Effect.tap(() => Ref.update(state.counters, (c) => ({ ...c, consecutiveErrors: 0, lastError: null }))),
      Effect.andThen(heartbeat("healthy")),
      Effect.catchCause((cause) =>
        Effect.gen(function* () {
          if (Cause.hasInterruptsOnly(cause)) return yield* Effect.interrupt
          const lastError = renderError(Cause.squash(cause))
          const counters = yield* Ref.updateAndGet(state.counters, (c) => ({
            ...c,
            consecutiveErrors: c.consecutiveErrors + 1,
            lastError
          }))
          yield* Effect.logError(`daemon tick failed (${counters.consecutiveErrors} in a row): ${lastError}`)
          yield* heartbeat("degraded")
        })
      )
    )

    /** Interrupts the runs in flight and leaves each resumable by the next daemon. */
    const stop = Effect.gen(function* () {
      yield* Ref.set(state.stopping, true)
      const leaving = yield* state.entries
      yield* Effect.forEach(leaving, (f) => (f.fiber !== undefined ? Fiber.interrupt(f.fiber) : Effect.void), {
        discard: true
      })
      // Each run is now `cancelled` (resumable) and its issue stays `running` here; without our claim the
      // next daemon resumes them at once, at the stage they stopped in.
      yield* Effect.forEach(
        leaving,
        (f) =>
          f.runId === undefined
            ? Effect.void
            : runStore.update(f.runId, (r) =>
                r.status === "cancelled" ? new RunRecord({ ...r, message: STOPPED_RUN_MESSAGE }) : r
              ),
        { discard: true }
      )
      yield* Effect.forEach(leaving, (f) => store.release(f.issueId, me.token), { discard: true })
      yield* heartbeat("stopped")
      yield* Effect.logInfo("daemon stopped; runs in flight resume when it starts again")
    })

    const run = Effect.gen(function* () {
      const startedAt = yield* nowIso
      // The same daemon may run again in one process (a cluster's singleton that moved away and came back):
      // the last stop must not keep this run from dispatching.
      yield* Ref.set(state.stopping, false)
      yield* Ref.update(state.counters, (c) => ({ ...c, startedAt }))
      yield* Effect.addFinalizer(() => stop)
      yield* heartbeat("starting")
      yield* Effect.logInfo(
        `daemon started (pid ${me.pid}): ${tracker.source.name}, "${tracker.rules.consumeState}", up to ${cfg.daemon.max_concurrent} at a time, polling every ${pollSeconds} s`
      )
      const resumed = yield* steps.reclaim.pipe(
        Effect.catchCause((c) =>
          Effect.as(Effect.logError(`reclaiming runs failed: ${Cause.pretty(c)}`), [] as ReadonlyArray<string>)
        )
      )
      if (resumed.length > 0) yield* Effect.logInfo(`resumed ${resumed.join(", ")}`)

      const lastFeedback = yield* Ref.make(0)
      const lastCleanup = yield* Ref.make(0)
      // On a cluster, a daemon that another has replaced as leader (its runner stood still past its shard locks,
      // and the singleton started elsewhere) does nothing in the moment before the cluster stops it: no poll, no
      // cancel, no feedback round. One host records no leader.
      const replaced = Effect.map(store.leader, (leader) => leader !== undefined && leader !== me.token)
      const cycle = Effect.gen(function* () {
        if (yield* replaced)
          return yield* Effect.logWarning(
            "another daemon leads the cluster now: this one does nothing until its runner stops it"
          )
        yield* guardedTick
        const now = yield* Clock.currentTimeMillis
        if (now - (yield* Ref.get(lastCleanup)) >= cleanupEveryMs) {
          yield* Ref.set(lastCleanup, now)
          yield* steps.cleanup.pipe(Effect.catchCause(survive("workspace cleanup")))
        }
        if (
          ((yield* Ref.get(state.feedbackRequested)) || now - (yield* Ref.get(lastFeedback)) >= feedbackEveryMs) &&
          !(yield* replaced)
        ) {
          yield* Ref.set(lastFeedback, now)
          yield* Ref.set(state.feedbackRequested, false)
          yield* steps.feedback.pipe(Effect.catchCause(survive("feedback round")))
        }
      })
      /** The next cycle starts a poll interval after this one ended, or as soon as something pokes the daemon. */
      const nextPoll = Effect.raceFirst(Effect.sleep(`${pollSeconds} seconds`), Queue.take(state.pokes)).pipe(
        Effect.andThen(Queue.clear(state.pokes))
      )
      yield* cycle.pipe(Effect.repeat(Schedule.forever.pipe(Schedule.tap(() => nextPoll))))
      return yield* Effect.never
    }).pipe(Effect.scoped)

    return { run }
  })
