/**
 * The tracker clients as one layer: Linear and GitHub sharing one `RequestBudget`. The control
 * plane's layer (`ControlPlane.ts`) includes it once, so every poll and every publish draws on the
 * same budget.
 */
import type { Project } from "@spec-orch/contract"
import { Layer } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import { GitHub } from "./GitHub.js"
import { Linear } from "./Linear.js"
import { RequestBudget } from "./RequestBudget.js"

/** Linear, GitHub and their shared budget, over the project's config. */
export const TrackerLayer: Layer.Layer<
  Linear | GitHub | RequestBudget,
  never,
  Project | ChildProcessSpawner.ChildProcessSpawner
> = Layer.mergeAll(Linear.layer, GitHub.layer).pipe(Layer.provideMerge(RequestBudget.layer))
