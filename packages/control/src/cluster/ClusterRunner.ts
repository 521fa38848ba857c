/**
 * A runner of a spec-orch cluster (`[cluster] storage = "postgres"`, docs/cluster.md): `effect/cluster`
 * sharding with its message and runner storage on Postgres (shard locks are advisory locks), runners
 * talking to each other on `runner_address`, and the workflow engine on top, so every workflow (a run)
 * is an entity owned by one runner at a time. The transport between runners is the caller's (the CLI
 * passes `@effect/platform-node`'s `NodeClusterSocket.layer`; planes do not import platform-node).
 * Not wired into `daemon start` yet.
 */
import { PgClient } from "@effect/sql-pg"
import { type Duration, Layer, Option, Redacted } from "effect"
import {
  ClusterWorkflowEngine,
  type MessageStorage,
  RunnerAddress,
  type Sharding,
  type ShardingConfig
} from "effect/cluster"
import type { SqlClient } from "effect/sql"
import { splitAddress } from "./ClusterCheck.js"

export interface ClusterRunnerOptions {
  /** The Postgres URL (from `[cluster] url_env`). */
  readonly url: string
  /** `host:port` this runner listens on (`[cluster] runner_address`). */
  readonly runnerAddress: string
  /** `[cluster] shard_groups`. */
  readonly shardGroups: ReadonlyArray<string>
  /** How long a dead runner's shard locks last; failover waits about this long. */
  readonly shardLockExpiration?: Duration.Input
  readonly shardLockRefreshInterval?: Duration.Input
}

/** Sharding with SQL storage over a transport between runners, e.g. `(c) => NodeClusterSocket.layer({ storage: "sql", shardingConfig: c })`. */
export type ClusterTransport<E> = (
  shardingConfig: Partial<ShardingConfig.ShardingConfig["Service"]>
) => Layer.Layer<Sharding.Sharding | MessageStorage.MessageStorage, E, SqlClient.SqlClient>

/** Shards per shard group, the same on every runner (effect/cluster's default, set so the environment cannot change it). */
export const SHARDS_PER_GROUP = 300

/** The sharding settings of one runner, from `[cluster]`. */
export const runnerShardingConfig = (
  options: ClusterRunnerOptions
): Partial<ShardingConfig.ShardingConfig["Service"]> => {
  const { host, port } = splitAddress(options.runnerAddress)
  return {
    runnerAddress: Option.some(RunnerAddress.make(host, port)),
    assignedShardGroups: options.shardGroups,
    shardsPerGroup: SHARDS_PER_GROUP,
    availableShardGroups: options.shardGroups,
    ...(options.shardLockExpiration !== undefined ? { shardLockExpiration: options.shardLockExpiration } : {}),
    ...(options.shardLockRefreshInterval !== undefined
      ? { shardLockRefreshInterval: options.shardLockRefreshInterval }
      : {})
  }
}

/** The workflow engine of one cluster runner, with its sharding over Postgres. */
export const clusterRunnerLayer = <E>(options: ClusterRunnerOptions, transport: ClusterTransport<E>) =>
  ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(transport(runnerShardingConfig(options))),
    Layer.provide(PgClient.layer({ url: Redacted.make(options.url) }))
  )
