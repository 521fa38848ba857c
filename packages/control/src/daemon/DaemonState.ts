/**
 * What the daemon keeps in memory while it runs, each piece in a `Ref`: the runs in flight, the counters
 * the heartbeat shows, the pokes that wake the loop, cached intake answers. Rule: an entry is replaced,
 * never mutated; whoever changes the runs in flight goes through `add`, `patch` and `remove`, so `drain` sees it.
 */
import { Deferred, Effect, type Fiber, Queue, Ref } from "effect"
import type { Runs } from "../run/Runs.js"
import type { HeartbeatRun } from "./Heartbeat.js"

/** The Run workflow as the daemon starts it: its result and the ways it can fail. */
type RunStart = ReturnType<Runs["Service"]["start"]>

/** The ways the Run workflow the daemon starts can fail. */
export type RunStartError = Effect.Error<RunStart>

/** Why the daemon cancels a run: the tracker moved the issue away, or the run went silent. */
export interface Cancel {
  readonly kind: "tracker" | "stalled"
  readonly reason: string
}

/** A run the daemon started (or resumes) and has not finished recording. */
export interface InFlight {
  readonly issueId: string
  readonly runId: string | undefined
  readonly runKey: string
  readonly since: string
  /** The last run event seen, and when (ms): how a stall is noticed. */
  readonly lastSeq: number
  readonly lastEventMs: number
  readonly fiber: Fiber.Fiber<Effect.Success<RunStart>, RunStartError> | undefined
  readonly cancel: Cancel | undefined
}

/** The counters the heartbeat reports. */
export interface Counters {
  readonly processed: number
  readonly consecutiveErrors: number
  readonly lastError: string | null
  readonly startedAt: string
}

/** Why the loop was woken before its poll interval ended. */
export type Poke = "webhook" | "run"

/** A cached answer about GitHub team membership, and when (ms) it was given. */
export interface TeamAnswer {
  readonly member: boolean
  readonly atMs: number
}

/** Builds the daemon's in-memory state: nothing in flight, nothing counted, no poke pending. */
export const makeDaemonState = Effect.gen(function* () {
  const inflight = yield* Ref.make<ReadonlyMap<string, InFlight>>(new Map())
  // Completed whenever the last run in flight leaves; replaced when a run starts after that.
  const idle = yield* Ref.make(yield* Deferred.make<void>())
  const pokes = yield* Queue.sliding<Poke>(1)
  const counters = yield* Ref.make<Counters>({ processed: 0, consecutiveErrors: 0, lastError: null, startedAt: "" })
  const stopping = yield* Ref.make(false)
  const feedbackRequested = yield* Ref.make(false)
  const warnedAnyone = yield* Ref.make(false)
  const teamAnswers = yield* Ref.make<ReadonlyMap<string, TeamAnswer>>(new Map())

  const entries = Effect.map(Ref.get(inflight), (m) => [...m.values()])
  const size = Effect.map(Ref.get(inflight), (m) => m.size)

  return {
    counters,
    stopping,
    feedbackRequested,
    warnedAnyone,
    teamAnswers,
    pokes,
    /** The run in flight for an issue, if any. */
    entry: (issueId: string) => Effect.map(Ref.get(inflight), (m) => m.get(issueId)),
    entries,
    size,
    has: (issueId: string) => Effect.map(Ref.get(inflight), (m) => m.has(issueId)),
    /** Adds a run in flight; `drain` waits for it from now on. */
    add: (entry: InFlight) =>
      Effect.gen(function* () {
        yield* Ref.update(inflight, (m) => new Map(m).set(entry.issueId, entry))
        if (yield* Deferred.isDone(yield* Ref.get(idle))) yield* Ref.set(idle, yield* Deferred.make<void>())
      }),
    /** Replaces the run in flight of an issue with `f` of it (nothing when none is). */
    patch: (issueId: string, f: (entry: InFlight) => InFlight) =>
      Ref.update(inflight, (m) => {
        const entry = m.get(issueId)
        return entry === undefined ? m : new Map(m).set(issueId, f(entry))
      }),
    /** Marks an issue's run in flight as being cancelled; the entry, or `undefined` when none is in flight or it is already being cancelled. */
    markCancelled: (issueId: string, cancel: Cancel) =>
      Ref.modify(inflight, (m): readonly [InFlight | undefined, ReadonlyMap<string, InFlight>] => {
        const entry = m.get(issueId)
        if (entry === undefined || entry.cancel !== undefined) return [undefined, m]
        return [entry, new Map(m).set(issueId, { ...entry, cancel })]
      }),
    /** Removes a run in flight; when it was the last, `drain` returns. */
    remove: (issueId: string) =>
      Effect.gen(function* () {
        const left = yield* Ref.updateAndGet(inflight, (m) => {
          const next = new Map(m)
          next.delete(issueId)
          return next
        })
        if (left.size === 0) yield* Deferred.succeed(yield* Ref.get(idle), undefined)
      }),
    /** Waits until no run is in flight. */
    drain: Effect.gen(function* () {
      if ((yield* size) === 0) return
      yield* Deferred.await(yield* Ref.get(idle))
    }),
    /** A delivery from a tracker: poll now, and read pull requests too. */
    poke: Ref.set(feedbackRequested, true).pipe(Effect.andThen(Queue.offer(pokes, "webhook")), Effect.asVoid),
    /** A run finished: a slot is free, poll now. */
    wake: Queue.offer(pokes, "run").pipe(Effect.asVoid),
    /** The runs in flight as the heartbeat lists them. */
    heartbeatRuns: Effect.map(
      entries,
      (all): ReadonlyArray<HeartbeatRun> =>
        all.map((f) => ({ issueId: f.issueId, runId: f.runId ?? null, since: f.since }))
    )
  }
})

/** The daemon's in-memory state. */
export type DaemonState = Effect.Success<typeof makeDaemonState>
