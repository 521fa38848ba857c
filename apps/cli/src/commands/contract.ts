/** `spec-orch contract generate|validate|assess-risk`: task contracts (scope, files, acceptance, verification, risk) for issues. */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./contract.run.js")
const issueArg = Argument.String("issue").pipe(Argument.withDescription("Issue id, e.g. SPC-1"))

const generate = Command.make(
  "generate",
  {
    issue: issueArg,
    output: Flag.String("output").pipe(
      Flag.withAlias("o"),
      Flag.withDescription(
        "Where to write the contract, relative to --cwd (default: <state dir>/contracts/<ISSUE>.yaml; - prints it)"
      ),
      Flag.optional
    ),
    json: jsonFlag
  },
  lazy(load, "generate")
).pipe(
  Command.withDescription(
    "Write a task contract for an issue: scope, files, completion criteria, verification commands, boundaries and risk (the original's YAML keys)"
  )
)

const validate = Command.make(
  "validate",
  {
    file: Argument.String("file").pipe(Argument.withDescription("Task contract YAML file, relative to --cwd")),
    json: jsonFlag
  },
  lazy(load, "validate")
).pipe(
  Command.withDescription("Check a task contract file: every problem with its line and key (exit 0 valid, 1 invalid)")
)

const assessRisk = Command.make("assess-risk", { issue: issueArg, json: jsonFlag }, lazy(load, "assessRisk")).pipe(
  Command.withDescription(
    "Assess an issue's risk (low, medium, high, critical) from its scope size, the paths it touches (migrations, auth, CI, secrets, dependencies) and its text; every reason listed"
  )
)

export const contract = Command.make("contract").pipe(
  Command.withDescription("Task contracts: what one run is allowed and expected to do"),
  Command.withSubcommands([generate, validate, assessRisk])
)
