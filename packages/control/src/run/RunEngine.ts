/**
 * The durable workflow engine for one process: the engine lock, then `effect/cluster`'s
 * SingleRunner over a SqlClient (the state database's, or a journal of its own), with the Run
 * workflow registered. Only the layer wiring would change to run on Postgres with several runners.
 */
import { SqliteClient } from "@spec-orch/sqlite"
import { Effect, FileSystem, Layer, Path } from "effect"
import { ClusterWorkflowEngine, SingleRunner } from "effect/cluster"
import { Digest } from "effect/crypto"
import { acquireEngineLock, engineLockName } from "./EngineLock.js"

/**
 * Holds the lock of one workflow journal for the layer's lifetime (see EngineLock): the state
 * database's own without `key`, else the journal `key` names (see `JournalLayer`).
 */
export const EngineLockLayer = (
  command: string,
  options: { readonly wait?: boolean; readonly key?: string; readonly what?: string } = {}
) =>
  Layer.effectDiscard(
    acquireEngineLock(command, {
      ...(options.wait !== undefined ? { wait: options.wait } : {}),
      lock: engineLockName(options.key, options.what)
    })
  )

/** A journal key as a file name: letters, digits, `.`, `_` and `-`; anything else becomes `_`. */
export const journalFileName = (key: string): string => `${key.replace(/[^A-Za-z0-9._-]/g, "_")}.db`

/**
 * The SqlClient of one workflow journal, `<state dir>/engines/<key>.db`. A terminal's `run` of one
 * issue, a mission's `run-plan` and the daemon each keep their own, so they run side by side and
 * each resumes only its own unfinished runs after a crash; the run store stays shared.
 */
export const JournalLayer = (stateDir: string, key: string) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const dir = path.join(stateDir, "engines")
      yield* fs.makeDirectory(dir, { recursive: true }).pipe(Effect.orDie)
      return SqliteClient.layer({ filename: path.join(dir, journalFileName(key)) })
    })
  )

/**
 * The workflow engine over the ambient SqlClient (needs the engine lock layer below it). Messages
 * and replies (the journal) live in the state database; runner registration and shard locks stay in
 * memory, because the engine lock already guarantees a single runner per database — the SQL shard
 * locks would only add start-up latency. 16 shards: one runner does not need more. A 1 s termination
 * timeout makes Ctrl-C end a running stage (and its agent) promptly instead of after 15 s.
 */
export const WorkflowEngineLayer = ClusterWorkflowEngine.layer.pipe(
  Layer.provideMerge(
    SingleRunner.layer({
      runnerStorage: "memory",
      shardingConfig: { shardsPerGroup: 16, entityTerminationTimeout: "1 second" }
    })
  ),
  Layer.provide(Digest.layerWebCrypto)
)
