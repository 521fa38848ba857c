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
 * Without this service (one host, `storage = "sqlite"`) the workflow guards a run by its owner token
 * instead (RunWorkflow.ts).
 */
import { Context, Duration, Effect, Layer, Option, Schema } from "effect"
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
  }
>()("@spec-orch/control/RunFence") {}

/** A run stopped by its fence: this runner no longer owns it (a defect the workflow layer turns into parking). */
export class RunFenced extends Schema.TaggedError<RunFenced>()("RunFenced", { runId: Schema.String }) {
  override get message(): string {
    return `run ${this.runId} stopped: this runner no longer owns its shard`
  }
}

/** How often the stall watch looks at the clock. */
const BEAT_MS = 200

/**
 * The fence of one cluster runner over its sharding, recording run hosts in `RunHosts`.
 */
export const ClusterRunFenceLayer = (options: {
  readonly runner: string
  /** The runner's `shardLockRefreshInterval` (effect/cluster's default when absent). */
  readonly refreshInterval?: Duration.Input | undefined
}): Layer.Layer<RunFence, never, Sharding.Sharding | RunHosts> =>
  Layer.effect(
    RunFence,
    Effect.gen(function* () {
      const sharding = yield* Sharding.Sharding
      const hosts = yield* RunHosts
      const refreshMs = Duration.toMillis(
        Duration.fromInputUnsafe(options.refreshInterval ?? ShardingConfig.defaults.shardLockRefreshInterval)
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
        owns
      })
    })
  )

/** The fence, when this process is a cluster runner. */
export const currentFence = Effect.serviceOption(RunFence).pipe(Effect.map(Option.getOrUndefined))
