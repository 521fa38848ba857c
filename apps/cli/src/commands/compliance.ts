/** `spec-orch compliance evaluate|list-contracts`: judge an agent's events against the compliance contracts. */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./compliance.run.js")

/** `--contracts`: a contracts file instead of the configured one. */
const contractsFlag = Flag.String("contracts").pipe(
  Flag.withAlias("c"),
  Flag.withDescription(
    "Compliance contracts file, relative to --cwd (default: [gate] compliance in spec-orch.toml, compliance.contracts.yaml, else the built-in contracts)"
  ),
  Flag.optional
)

const evaluate = Command.make(
  "evaluate",
  {
    events: Argument.String("events").pipe(
      Argument.withDescription(
        "Event log: a run's events.jsonl (or its run directory), or the original spec-orch's builder events, one JSON object a line"
      )
    ),
    contracts: contractsFlag,
    json: jsonFlag
  },
  lazy(load, "evaluate")
).pipe(
  Command.withDescription(
    "Judge an agent's events against the compliance contracts (exit 0 compliant, 1 an error-severity violation, 2 a missing or invalid file)"
  )
)

const listContracts = Command.make(
  "list-contracts",
  { contracts: contractsFlag, json: jsonFlag },
  lazy(load, "listContracts")
).pipe(
  Command.withDescription(
    "List the compliance contracts in force: id, severity, what each checks and where they come from"
  )
)

export const compliance = Command.make("compliance").pipe(
  Command.withDescription(
    "Compliance contracts over agent behaviour (compliance.contracts.yaml, the original's format)"
  ),
  Command.withSubcommands([evaluate, listContracts])
)
