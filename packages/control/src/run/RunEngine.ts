/**
 * The durable workflow engine for one process: the engine lock, then `effect/cluster`'s
 * SingleRunner over the state database's SqlClient, with the Run workflow registered. Only the
 * layer wiring would change to run on Postgres with several runners.
 */
import { Layer } from "effect"
import { ClusterWorkflowEngine, SingleRunner } from "effect/cluster"
import { Digest } from "effect/crypto"
import { acquireEngineLock } from "./EngineLock.js"

/** Holds the engine lock for the layer's lifetime (see EngineLock). */
export const EngineLockLayer = (command: string, options: { readonly wait?: boolean } = {}) => Layer.effectDiscard(acquireEngineLock(command, options))

/**
 * The workflow engine over the ambient SqlClient (needs the engine lock layer below it). Messages
 * and replies (the journal) live in the state database; runner registration and shard locks stay in
 * memory, because the engine lock already guarantees a single runner per database — the SQL shard
 * locks would only add start-up latency. 16 shards: one runner does not need more. A 1 s termination
 * timeout makes Ctrl-C end a running stage (and its agent) promptly instead of after 15 s.
 */
export const WorkflowEngineLayer = ClusterWorkflowEngine.layer.pipe(
  Layer.provideMerge(SingleRunner.layer({ runnerStorage: "memory", shardingConfig: { shardsPerGroup: 16, entityTerminationTimeout: "1 second" } })),
  Layer.provide(Digest.layerWebCrypto)
)
