/**
 * The contract plane as one layer over a loaded project: spec snapshots and mission files. Apps and
 * embedders provide it; nothing inside the plane does. Issues are not included: where they come from
 * is `[issue] source` (files here, a tracker in the control plane), so the caller adds an `IssueSource`
 * (`IssueSource.layerFixtures`, or `IssueSource.layerMemory(issues)` for tests and embedders).
 */
import { type FileSystem, Layer, type Path } from "effect"
import { Missions } from "./Missions.js"
import type { Project } from "./Project.js"
import { Specs } from "./Specs.js"

/** `Specs` and `Missions` over the project and its file system. */
export const ContractPlane: Layer.Layer<Specs | Missions, never, Project | FileSystem.FileSystem | Path.Path> =
  Layer.mergeAll(Specs.layer, Missions.layer)
