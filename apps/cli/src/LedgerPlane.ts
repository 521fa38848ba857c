/**
 * What `gate evaluate <issue>` needs to judge an issue's latest run from the ledger: the project, the
 * evidence plane over the state database, and the issue source for the title. It does not import
 * Planes.ts, which imports every plane, so the lean bundle (the read commands) stays small; gate.run.ts
 * loads this module when the ledger path runs, as the `--evidence` path never opens the database.
 * Planes.ts takes the evidence plane from here too.
 */
import { EvidencePlane } from "@spec-orch/evidence"
import { Layer } from "effect"
import { ContractPlaneLive } from "./ContractPlane.js"
import { withProject } from "./ProjectScope.js"
import { StateDb } from "./StatePlane.js"

export { EvidenceLedger } from "@spec-orch/evidence"

/** The evidence plane's services: the gate, gate policies and the evidence ledger in the state database. */
export const EvidencePlaneLive = EvidencePlane.pipe(Layer.provide(StateDb))

/** Runs `effect` with the project from the root flags, the evidence plane's services and the issue source, redacting what it prints. */
export const withLedger = withProject(Layer.mergeAll(EvidencePlaneLive, ContractPlaneLive))
