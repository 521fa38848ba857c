/**
 * The evidence plane as one layer over a project and a `SqlClient`: the project's gate (policy
 * file read on first use), its policies, and the evidence ledger. Apps provide this; nothing inside
 * the plane does. The `Reviewer` is not included: it needs a `LanguageModel` from the app.
 */
import { Project } from "@spec-orch/contract"
import { Effect, Layer } from "effect"
import { EvidenceLedger } from "./EvidenceLedger.js"
import { Gate } from "./Gate.js"
import { GatePolicies } from "./GatePolicies.js"

/**
 * The ledger where the project keeps its state, as messages name it: `<state_dir>/state.db`, or on a
 * cluster (`[cluster] storage = "postgres"`) the cluster's Postgres, by the variable holding its URL.
 */
const ProjectLedger = Layer.unwrap(
  Effect.map(Effect.service(Project), ({ config }) =>
    EvidenceLedger.layer({
      location:
        config.cluster.storage === "postgres"
          ? `the cluster's Postgres ($${config.cluster.url_env})`
          : `${config.workspace.state_dir}/state.db`
    })
  )
)

/** Gate, GatePolicies and EvidenceLedger over the project and the provided `SqlClient`. */
export const EvidencePlane = Layer.mergeAll(Gate.layer, ProjectLedger).pipe(Layer.provideMerge(GatePolicies.layer))
