/** The task plane as one layer: the planner over the plan store. Apps provide it; nothing inside the plane does. */
import type { Missions, Project } from "@spec-orch/contract"
import { type FileSystem, Layer, type Path } from "effect"
import { Planner } from "./Planner.js"
import { Plans } from "./Plans.js"

/** `Planner` and `Plans`; needs the contract plane's `Missions` and `Project`, and a file system. */
export const TaskPlane: Layer.Layer<Planner | Plans, never, Missions | Project | FileSystem.FileSystem | Path.Path> =
  Planner.layer.pipe(Layer.provideMerge(Plans.layer))
