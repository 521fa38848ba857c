/**
 * The control plane as one layer over a project and a `SqlClient`: the run and mission stores, this
 * process's token, mission integration, `[notify]` webhooks and host-side publishing over the shared
 * tracker clients. Apps and embedders provide it; nothing inside the plane does. The Run workflow
 * and its engine are not included: they need a journal, which the caller names (`RunEngine.ts`).
 */
import { SqliteClient } from "@spec-orch/sqlite"
import { Layer } from "effect"
import { MissionIntegration } from "./mission/MissionIntegration.js"
import { MissionStore } from "./mission/MissionStore.js"
import { Notifier } from "./notify/Notifier.js"
import { Publisher } from "./publish/Publisher.js"
import { RunPublisher } from "./publish/RunPublisher.js"
import { ProcessToken } from "./run/EngineLock.js"
import { RunStore } from "./run/RunStore.js"
import { TrackerLayer } from "./trackers/TrackerLayer.js"

/** Host-side publishing (push, pull request, commit status, tracker comments) over the tracker clients, which it also exposes. */
export const PublishingPlane = RunPublisher.layer.pipe(
  Layer.provideMerge(Publisher.layer),
  Layer.provideMerge(TrackerLayer)
)

/**
 * `RunStore`, `ProcessToken`, `MissionStore`, `MissionIntegration`, `Notifier` and publishing over the
 * project, the provided `SqlClient` (the state database: SQLite or PostgreSQL) and the harness's
 * `Redactor`, with which every store redacts what it keeps.
 */
export const ControlPlane = Layer.mergeAll(
  RunStore.layer,
  ProcessToken.layer,
  MissionStore.layer,
  MissionIntegration.layer,
  Notifier.layer,
  PublishingPlane
)

/**
 * `ControlPlane` over a private in-memory SQLite database, which it also exposes: runs, events and
 * missions are kept as the state database keeps them, nothing is written to disk, and all of it is
 * gone when the layer's scope closes. For tests and embedders that record runs without a state file.
 */
export const ControlPlaneInMemory = ControlPlane.pipe(Layer.provideMerge(SqliteClient.layer({ filename: ":memory:" })))
