/**
 * Whether a project has runs to read, and reading them only then. Light on purpose: `status` on a project
 * that never ran imports this module, not StatePlane.ts, so it loads neither the run store nor SQLite.
 */
import { Project } from "@spec-orch/contract"
import { Effect, FileSystem, Layer, Path } from "effect"
import { withProject } from "./ProjectScope.js"

/**
 * Whether the project has run state to read: on a cluster always (the shared Postgres), else when
 * `<state_dir>/state.db` exists.
 */
export const hasRunState = Effect.gen(function* () {
  const project = yield* Project
  if (project.config.cluster.storage === "postgres") return true
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  return yield* fs.exists(path.join(project.stateDir, "state.db")).pipe(Effect.orElseSucceed(() => true))
})

/**
 * For a command that only reads runs: runs the effect `load` gives with the project from the root flags,
 * the run store over the state database and this process's token; or `none`, with the project only, when
 * the project has no state database yet. Reading creates nothing (no state directory, no database), and a
 * project that never ran loads neither `load`'s module nor the state database's.
 */
export const withRunStore = <A, E, R, E2, R2>(
  load: () => Promise<Effect.Effect<A, E, R>>,
  none: Effect.Effect<A, E2, R2>
) =>
  withProject(Layer.empty)(
    Effect.gen(function* () {
      if (!(yield* hasRunState)) return yield* none
      const [effect, { RunStoreLive }] = yield* Effect.promise(() => Promise.all([load(), import("./StatePlane.js")]))
      return yield* Effect.provide(effect, RunStoreLive)
    })
  )
