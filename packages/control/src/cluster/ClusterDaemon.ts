/**
 * `spec-orch daemon start` as a runner of a cluster (`[cluster] storage = "postgres"`, docs/cluster.md).
 *
 * Every runner joins the cluster's sharding (ClusterRunner) and serves the Run workflow: a run executes on
 * the runner that owns its shard, fenced there (RunFence). The
 * daemon itself (tracker polling, triage, claims, dispatch, retries, feedback) runs once for the whole
 * cluster, as an effect/cluster singleton: when its runner leaves or dies, another runner starts it and
 * it reclaims the runs in flight from the shared state database, which every runner opens on the
 * cluster's Postgres.
 */
import { PgClient } from "@effect/sql-pg"
import type { Project, SpecOrchConfig } from "@spec-orch/contract"
import { Duration, Effect, Layer, Option, Queue, Schedule } from "effect"
import { Singleton } from "effect/cluster"
import { Daemon } from "../daemon/Daemon.js"
import {
  type ClusterRunnerOptions,
  type ClusterTransport,
  clusterRunnerLayer,
  SHARDS_PER_GROUP
} from "./ClusterRunner.js"
import { HostSlots } from "./HostSlots.js"
import { ClusterRunFenceLayer } from "./RunFence.js"
import { RunHosts } from "./RunHosts.js"
import { RunPlacement } from "./RunPlacement.js"

/** How often each runner publishes the shards it holds, for the daemon's choice of runner (RunPlacement). */
const PUBLISH_SECONDS = 2

/** The runner's options from `[cluster]` and the URL. */
export const clusterRunnerOptions = (cluster: SpecOrchConfig["cluster"], url: string): ClusterRunnerOptions => ({
  url,
  runnerAddress: cluster.runner_address ?? "",
  shardGroups: cluster.shard_groups,
  shardLockExpiration: Duration.seconds(cluster.shard_lock_expiry_seconds),
  shardLockRefreshInterval: Duration.seconds(Math.max(1, Math.floor(cluster.shard_lock_expiry_seconds / 4)))
})

/**
 * The workflow engine of one runner (ClusterRunner) with the run fence over it and this host's agent
 * slots. Needs the state
 * database's SqlClient (run hosts are recorded there).
 */
export const clusterEngineLayer = <E>(config: SpecOrchConfig, url: string, transport: ClusterTransport<E>) => {
  const options = clusterRunnerOptions(config.cluster, url)
  const placement = RunPlacement.layer({
    runner: options.runnerAddress,
    shardGroups: options.shardGroups,
    shardsPerGroup: SHARDS_PER_GROUP,
    publishEvery: Duration.seconds(PUBLISH_SECONDS),
    liveFor: Duration.seconds(config.cluster.shard_lock_expiry_seconds)
  })
  return ClusterRunFenceLayer({
    runner: options.runnerAddress,
    refreshInterval: options.shardLockRefreshInterval,
    lockExpiry: options.shardLockExpiration
  }).pipe(
    Layer.provide(RunHosts.layer),
    Layer.merge(placement),
    Layer.provideMerge(clusterRunnerLayer(options, transport)),
    Layer.provideMerge(HostSlots.layerFrom(config))
  )
}

/** The daemon's name as a cluster singleton. */
export const DAEMON_SINGLETON = "spec-orch-daemon"

/** The Postgres channel on which any runner tells the daemon singleton to poll now (a webhook delivery). */
export const POKE_CHANNEL = "spec_orch_daemon_poke"

/**
 * Tells the cluster's daemon to poll now, wherever its singleton runs: a webhook delivery accepted by any
 * runner. Without the cluster's Postgres client (one host) it does nothing; a failure is a warning (the
 * next poll still finds the issue).
 */
export const pokeClusterDaemon: Effect.Effect<void> = Effect.serviceOption(PgClient.PgClient).pipe(
  Effect.flatMap(
    Option.match({
      onNone: () => Effect.void,
      onSome: (pg) =>
        pg
          .notify(POKE_CHANNEL, "")
          .pipe(Effect.catchCause((c) => Effect.logWarning("could not tell the cluster's daemon to poll now", c)))
    })
  )
)

/** While the singleton runs on this runner: every notification on POKE_CHANNEL makes the daemon poll. */
const pokedByTheCluster = (poke: Effect.Effect<void>) =>
  Effect.serviceOption(PgClient.PgClient).pipe(
    Effect.flatMap(
      Option.match({
        onNone: () => Effect.void,
        onSome: (pg) =>
          Effect.scoped(
            Effect.flatMap(pg.listen(POKE_CHANNEL), (queue) =>
              Queue.take(queue).pipe(Effect.andThen(poke), Effect.forever)
            )
          ).pipe(
            Effect.tapCause((c) =>
              Effect.logWarning("listening for the cluster's webhook deliveries failed; listening again", c)
            ),
            Effect.retry(Schedule.spaced(Duration.seconds(5)))
          )
      })
    )
  )

/**
 * The daemon's loop, run by exactly one runner of the cluster at a time (`Layer.launch` it with the
 * runner); it also polls when any runner accepts a webhook delivery (`pokeClusterDaemon`). Each start
 * records its runner's daemon as the leader: "one at a time" holds only while no runner stands still past
 * its shard locks, and the claims fence the one that did (`Daemon.runAsLeader`).
 */
export const ClusterDaemonLoop = Singleton.make(
  DAEMON_SINGLETON,
  Daemon.use((d) => Effect.andThen(Effect.forkScoped(pokedByTheCluster(d.poke)), d.runAsLeader))
)

/**
 * The project as the cluster's daemon sees it: `[daemon] max_concurrent` becomes the cap across the
 * cluster, `[cluster] max_concurrent_total` (default `[daemon] max_concurrent`).
 */
export const clusterDaemonProject = (project: Project["Service"]): Project["Service"] => ({
  ...project,
  config: {
    ...project.config,
    daemon: {
      ...project.config.daemon,
      max_concurrent: project.config.cluster.max_concurrent_total ?? project.config.daemon.max_concurrent
    }
  }
})
