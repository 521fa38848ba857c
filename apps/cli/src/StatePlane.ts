/**
 * The state database, and the run store alone for `status`, which only reads runs (RunState.ts). Kept apart
 * from Planes.ts for the same reason as ContractPlane.ts: the bundle evaluates a module's imports when
 * it loads, and Planes.ts imports every plane.
 */
import { Project } from "@spec-orch/contract"
import { ProcessToken } from "@spec-orch/control/EngineLock"
import { RunStore } from "@spec-orch/control/RunStore"
import type { ClusterStateDb } from "@spec-orch/control/ClusterState"
import { SqliteClient } from "@spec-orch/sqlite"
import { Effect, FileSystem, Layer, Path } from "effect"
import type { SqlClient } from "effect/sql"
import { ReadsOnly } from "./Lazy.js"
import { hasRunState } from "./RunState.js"

/**
 * The state database `<state_dir>/state.db` (SQLite, WAL); the state directory is created first. With
 * `[cluster] storage = "postgres"` (docs/cluster.md) it is the cluster's Postgres, shared by every host;
 * only then is the Postgres client (@effect/sql-pg) loaded, so a SQLite project's `status` never evaluates it.
 * Either database failing to open fails the layer with its own error (`SqliteOpenError`, or the cluster's),
 * which the command prints with its fix.
 */
export const StateDb = Layer.unwrap(
  Effect.gen(function* (): Effect.fn.Return<
    Layer.Layer<SqlClient.SqlClient, SqliteClient.SqliteOpenError | Layer.Error<ReturnType<typeof ClusterStateDb>>>,
    never,
    Project | FileSystem.FileSystem | Path.Path
  > {
    const project = yield* Project
    if (project.config.cluster.storage === "postgres") {
      const { ClusterStateDb } = yield* Effect.promise(() => import("@spec-orch/control/ClusterState"))
      return ClusterStateDb(project.config.cluster)
    }
    // A command that only reads, on a project that never ran: an empty database in memory, nothing written.
    if ((yield* ReadsOnly) && !(yield* hasRunState)) return SqliteClient.layer({ filename: ":memory:" })
    const path = yield* Path.Path
    const fs = yield* FileSystem.FileSystem
    yield* fs.makeDirectory(project.stateDir, { recursive: true }).pipe(Effect.orDie)
    // The state directory ignores itself: nothing spec-orch keeps there shows up in `git status` or a commit.
    const ignore = path.join(project.stateDir, ".gitignore")
    if (!(yield* fs.exists(ignore).pipe(Effect.orElseSucceed(() => true)))) {
      yield* fs.writeFileString(ignore, "# spec-orch's state: never committed\n*\n").pipe(Effect.ignore)
    }
    return SqliteClient.layer({ filename: path.join(project.stateDir, "state.db") })
  })
)

/** The run store over the state database, with this process's token (RunState.ts loads it when there are runs to read). */
export const RunStoreLive = Layer.mergeAll(RunStore.layer, ProcessToken.layer).pipe(Layer.provideMerge(StateDb))
