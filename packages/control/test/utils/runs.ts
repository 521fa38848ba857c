/** Run records for run store tests (SQLite and PostgreSQL alike). */
import { makeIssueId, makeRunId, makeRunKey, RunRecord } from "@spec-orch/contract"
import { Clock, Deferred, Effect } from "effect"

/** Attempt `attempt` of issue T-1, started a second per attempt after 10:00. */
export const record = (attempt: number, status: RunRecord["status"] = "running") =>
  new RunRecord({
    runId: makeRunId(`T-1-r${attempt}`),
    runKey: makeRunKey("T-1"),
    issueId: makeIssueId("T-1"),
    attempt,
    status,
    stage: "load",
    startedAt: `2026-11-25T10:00:0${attempt}.000Z`,
    updatedAt: `2026-11-25T10:00:0${attempt}.000Z`
  })

/**
 * A clock for a follower under test: its first wait for more events completes `waiting` and lasts
 * until `resume` is completed, so a test can write the next event exactly while the follower waits,
 * with no sleep on the wall clock.
 */
export const waitingClock = Effect.gen(function* () {
  const base = yield* Clock.Clock
  const waiting = yield* Deferred.make<void>()
  const resume = yield* Deferred.make<void>()
  const clock: Clock.Clock = {
    currentTimeMillisUnsafe: () => base.currentTimeMillisUnsafe(),
    currentTimeMillis: base.currentTimeMillis,
    currentTimeNanosUnsafe: () => base.currentTimeNanosUnsafe(),
    currentTimeNanos: base.currentTimeNanos,
    monotonicTimeNanosUnsafe: () => base.monotonicTimeNanosUnsafe(),
    monotonicTimeNanos: base.monotonicTimeNanos,
    sleep: () => Effect.andThen(Deferred.succeed(waiting, undefined), Deferred.await(resume))
  }
  return { clock, waiting: Deferred.await(waiting), resume: Deferred.succeed(resume, undefined) }
})
