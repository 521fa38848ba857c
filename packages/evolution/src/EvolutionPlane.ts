/**
 * The evolution plane as one layer over a project and its state database: what the builder is offered
 * (the proposals in use, then what memory learned) and the memory writer. Apps and embedders provide
 * it; nothing inside the plane does. Memory is used only when `[memory] enabled` (the default).
 */
import { Project } from "@spec-orch/contract"
import type { EvidenceLedger } from "@spec-orch/evidence"
import { Learnings, type Redactor } from "@spec-orch/harness"
import { Effect, Layer } from "effect"
import type { SqlClient } from "effect/sql"
import { Memory } from "./Memory.js"
import { MemoryLearnings } from "./MemoryLearnings.js"
import { ProposalLearnings } from "./ProposalLearnings.js"
import { Proposals } from "./Proposals.js"
import { RunMemory } from "./RunMemory.js"

/** `on` over `Memory` in the `SqlClient`'s database when `[memory] enabled`, else `off`. */
const whenMemory = <A, R>(
  on: Layer.Layer<A, never, R>,
  off: Layer.Layer<A>
): Layer.Layer<A, never, Project | SqlClient.SqlClient | Redactor | Exclude<R, Memory>> =>
  Layer.unwrap(
    Effect.map(Effect.service(Project), (project) =>
      project.config.memory.enabled ? on.pipe(Layer.provide(Memory.layer)) : off
    )
  )

/**
 * `Learnings` (the proposals in use for the issue, then what memory learned, when it is on) and
 * `RunMemory` (records finished runs, judgements and findings when memory is on, else nothing), over the
 * project, the `SqlClient` of its state database, the harness's `Redactor` and the evidence ledger.
 */
export const EvolutionPlane: Layer.Layer<
  Learnings | RunMemory,
  never,
  Project | SqlClient.SqlClient | Redactor | EvidenceLedger
> = Layer.mergeAll(
  ProposalLearnings.pipe(
    Layer.provide(whenMemory(MemoryLearnings, Learnings.layerNone)),
    Layer.provide(Proposals.layer)
  ),
  whenMemory(RunMemory.layer, RunMemory.layerNone)
)
