/**
 * Fencing of a run on a cluster (docs/cluster.md): right before each stage of the Run workflow (so right
 * before an agent turn, and before the publish stage's push, pull request and comment), a runner checks
 * that it still owns the shard of the run's workflow. A runner that does not stops the run where it is,
 * without the side effect: the shard's owner runs it.
 *
 * Why: effect/cluster 4.1.0 does not interrupt the entity work of a runner that stalled past its shard
 * locks' expiry (paused, swapped out, a hung lock refresh). When it wakes up, its in-flight turn runs on
 * to its end while the new owner runs the same stage again. The runner's own view of its shards is
 * refreshed every `shardLockRefreshInterval`; right after a stall that view is stale, so a fence that
 * notices one (the process stood still for longer than a refresh interval) waits for two refreshes of
 * continuous running before it believes the view.
 *
 * Inside a stage the fence acts too (`untilStall`): a runner that notices it stood still long enough to
 * have lost its shard locks (a wall-clock gap between two beats of at least the lock expiry less one
 * refresh interval) interrupts every stage it has in flight at once, which kills their processes (the agent's
 * process group, a verification step's), before it does anything else; then it asks again whether it
 * owns the run. A runner that does not abandons the stage without a reply (the new owner runs it); one
 * that still does runs the stage again, and says so in the run's events. A gap shorter than that (a slow
 * event loop under load) cannot have cost the locks and changes nothing.
 *
 * Without this service (one host, `storage = "sqlite"`) the workflow guards a run by its owner token
 * instead (RunWorkflow.ts).
 */
import { Context, Duration, Effect, type Exit, Fiber, Layer, Option, Schema, type Scope } from "effect"
import { ClusterSchema, EntityId, Sharding, ShardingConfig } from "effect/cluster"
import type { Workflow } from "effect/workflow"
import { RunHosts } from "./RunHosts.js"

export class RunFence extends Context.Service<
  RunFence,
  {
    /** This runner's address (`[cluster] runner_address`). */
    readonly runner: string
    /**
     * Whether this runner owns the shard of the workflow execution `executionId` of `workflow` right now;
     * when it does, records that it runs `runId` (what `daemon status` shows as the run's host).
     */
    readonly owns: (
      workflow: Workflow.Any,
      executionId: string,
      run: { readonly runId: string; readonly issueId: string }
    ) => Effect.Effect<boolean>
    /** The watch for stalls long enough to have lost the shard locks (`untilStall` runs a stage under it). */
    readonly stalls: StallWatch
  }
>()("@spec-orch/control/RunFence") {}

/** A stall long enough to have lost the shard locks: how long the process stood still, and when it noticed. */
export interface Stall {
  readonly ms: number
  readonly seenAt: number
}

/**
 * Wall-clock gaps between beats of one process. A gap of at least `thresholdMs` is a stall: every listener
 * hears of it synchronously, from the beat (or the `check`) that noticed it, before anything else runs.
 */
export interface StallWatch {
  readonly thresholdMs: number
  /** Stalls noticed so far. */
  readonly count: () => number
  /** Looks at the clock now, as a beat does; the latest stall noticed after the first `seen`, if any. */
  readonly check: (seen: number) => Stall | undefined
  /** Calls `listener` on each stall from now on; returns how to stop. */
  readonly onStall: (listener: (stall: Stall) => void) => () => void
}

/** How often the watches look at the clock. */
const BEAT_MS = 200

/**
 * A stall watch beating every `beatMs` for as long as the scope lasts.
 */
export const makeStallWatch = (thresholdMs: number, beatMs = BEAT_MS): Effect.Effect<StallWatch, never, Scope.Scope> =>
  Effect.gen(function* () {
    let lastBeat = Date.now()
    const stalls: Array<Stall> = []
    const listeners = new Set<(stall: Stall) => void>()
    const check = (seen: number) => {
      const now = Date.now()
      const gap = now - lastBeat
      lastBeat = now
      if (gap >= thresholdMs) {
        const stall = { ms: gap, seenAt: now }
        stalls.push(stall)
        for (const listener of [...listeners]) listener(stall)
      }
      return stalls.length > seen ? stalls.at(-1) : undefined
    }
    yield* Effect.sync(() => check(0)).pipe(
      Effect.andThen(Effect.sleep(Duration.millis(beatMs))),
      Effect.forever,
      Effect.forkScoped
    )
    return {
      thresholdMs,
      count: () => stalls.length,
      check,
      onStall: (listener) => {
        listeners.add(listener)
        return () => {
          listeners.delete(listener)
        }
      }
    }
  })

/**
 * The shortest stall that may have cost a runner its shard locks: the lock's session ends once it has been
 * idle for `expiry`, and the runner last used it at most one effective refresh interval (its
 * `shardLockRefreshInterval`, at most a third of the expiry: effect/cluster's rule) before it stood still.
 */
export const stallThresholdMs = (expiry: Duration.Input, refreshInterval: Duration.Input): number => {
  const expiryMs = Duration.toMillis(Duration.fromInputUnsafe(expiry))
  const refreshMs = Math.min(Duration.toMillis(Duration.fromInputUnsafe(refreshInterval)), expiryMs / 3)
  return Math.max(1, Math.floor(expiryMs - refreshMs))
}

/**
 * Runs `effect` until it ends or `watch` notices a stall, whichever is first. On a stall the effect is
 * interrupted from the beat that noticed it, and this returns once it has stopped (its finalizers ran:
 * a child process's group is killed). A stall noticed only after the effect ended (its last step was
 * already under way when the process stood still) counts too.
 */
export const untilStall = <A, E, R>(
  watch: StallWatch,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<
  | { readonly _tag: "Done"; readonly exit: Exit.Exit<A, E> }
  | { readonly _tag: "Stalled"; readonly stall: Stall; readonly exit: Exit.Exit<A, E> },
  never,
  R
> =>
  Effect.gen(function* () {
    const seen = watch.count()
    let stall: Stall | undefined
    let worker: Fiber.Fiber<A, E> | undefined
    const off = watch.onStall((s) => {
      stall ??= s
      worker?.interruptUnsafe()
    })
    worker = yield* Effect.forkChild(Effect.interruptible(effect), { startImmediately: true })
    if (stall !== undefined) worker.interruptUnsafe()
    const exit = yield* Fiber.await(worker).pipe(Effect.ensuring(Effect.sync(off)))
    stall ??= watch.check(seen)
    return stall === undefined ? { _tag: "Done" as const, exit } : { _tag: "Stalled" as const, stall, exit }
  })

/**
 * Leaves the cluster request this fiber serves (a stage of a run whose shard this runner lost) without a
 * reply: effect/cluster does not answer an abandoned request of a shard it no longer owns, so the owner's
 * answer is the one kept.
 */
export const abandonRequest: Effect.Effect<never> = Effect.interruptible(
  Effect.callback<never>(() => {
    const fiber = Fiber.getCurrent()
    fiber?.interruptUnsafe(fiber.id, ClusterSchema.Abandon.annotation)
  })
)

/** A run stopped by its fence: this runner no longer owns it (a defect the workflow layer turns into parking). */
export class RunFenced extends Schema.TaggedError<RunFenced>()("RunFenced", { runId: Schema.String }) {
  override get message(): string {
    return `run ${this.runId} stopped: this runner no longer owns its shard`
  }
}

/**
 * The fence of one cluster runner over its sharding, recording run hosts in `RunHosts`.
 */
export const ClusterRunFenceLayer = (options: {
  readonly runner: string
  /** The runner's `shardLockRefreshInterval` (effect/cluster's default when absent). */
  readonly refreshInterval?: Duration.Input | undefined
  /** The runner's `shardLockExpiration` (effect/cluster's default when absent). */
  readonly lockExpiry?: Duration.Input | undefined
}): Layer.Layer<RunFence, never, Sharding.Sharding | RunHosts> =>
  Layer.effect(
    RunFence,
    Effect.gen(function* () {
      const sharding = yield* Sharding.Sharding
      const hosts = yield* RunHosts
      const refreshInterval = options.refreshInterval ?? ShardingConfig.defaults.shardLockRefreshInterval
      const refreshMs = Duration.toMillis(Duration.fromInputUnsafe(refreshInterval))
      const stalls = yield* makeStallWatch(
        stallThresholdMs(options.lockExpiry ?? ShardingConfig.defaults.shardLockExpiration, refreshInterval)
      )
      // The stall watch: wall-clock time of the last beat, and until when the shard view is not trusted.
      const watch = { lastBeat: Date.now(), distrustUntil: 0 }
      const beat = Effect.sync(() => {
        const now = Date.now()
        if (now - watch.lastBeat > Math.max(refreshMs, 4 * BEAT_MS)) watch.distrustUntil = now + 2 * refreshMs
        watch.lastBeat = now
      })
      yield* beat.pipe(Effect.andThen(Effect.sleep(Duration.millis(BEAT_MS))), Effect.forever, Effect.forkScoped)
      const recorded = new Map<string, true>()

      const owns = (
        workflow: Workflow.Any,
        executionId: string,
        run: { readonly runId: string; readonly issueId: string }
      ) =>
        Effect.gen(function* () {
          // After a stall, wait until the view has been refreshed twice while running.
          for (;;) {
            const now = Date.now()
            const stalled = now - watch.lastBeat > Math.max(refreshMs, 4 * BEAT_MS)
            if (stalled) watch.distrustUntil = Math.max(watch.distrustUntil, now + 2 * refreshMs)
            if (now >= watch.distrustUntil) break
            yield* Effect.sleep(Duration.millis(Math.min(BEAT_MS, watch.distrustUntil - now)))
          }
          const entityId = EntityId.make(executionId)
          const group = Context.get(workflow.annotations, ClusterSchema.ShardGroup)(entityId)
          const owned = sharding.hasShardId(sharding.getShardId(entityId, group))
          if (owned && !recorded.has(run.runId)) {
            yield* hosts.record({ runId: run.runId, issueId: run.issueId, runner: options.runner })
            recorded.set(run.runId, true)
          }
          if (!owned) recorded.delete(run.runId)
          return owned
        })

      return RunFence.of({
        runner: options.runner,
        owns,
        stalls
      })
    })
  )

/** The fence, when this process is a cluster runner. */
export const currentFence = Effect.serviceOption(RunFence).pipe(Effect.map(Option.getOrUndefined))
