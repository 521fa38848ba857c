/**
 * The execution plane as one layer over a project: worktrees, agents, the verification runner and
 * the sandbox they all run in. Apps and embedders provide it; nothing inside the plane does. The
 * harness's `Redactor` comes from the caller, so one redactor serves every plane.
 */
import type { Project } from "@spec-orch/contract"
import type { Redactor } from "@spec-orch/harness"
import { type FileSystem, Layer, type Path } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import { Agents } from "./Agents.js"
import { Sandbox } from "./Sandbox.js"
import { Verifier } from "./Verifier.js"
import { Workspaces } from "./Workspaces.js"

/**
 * `Workspaces`, `Agents`, `Verifier` and `Sandbox` over the project, the harness's `Redactor` and the
 * platform. `Workspaces` is built over the `Verifier`, so `[workspace] before_remove` runs boxed like a
 * verification step.
 */
export const ExecutionPlane: Layer.Layer<
  Workspaces | Agents | Verifier | Sandbox,
  never,
  Project | Redactor | ChildProcessSpawner.ChildProcessSpawner | FileSystem.FileSystem | Path.Path
> = Layer.mergeAll(Workspaces.layer, Agents.layer).pipe(
  Layer.provideMerge(Verifier.layer),
  Layer.provideMerge(Sandbox.layer)
)
