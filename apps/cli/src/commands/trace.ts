/** `spec-orch trace show`: a run's span tree from its trace.jsonl, without any collector. */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const show = Command.make(
  "show",
  {
    run: Argument.String("run-id").pipe(
      Argument.withDescription("Run id, e.g. HELLO-1-r1 (`spec-orch status` lists them)")
    ),
    all: Flag.Boolean("all").pipe(
      Flag.withDescription("Also show the database and workflow-engine spans hidden by default"),
      Flag.withDefault(false)
    ),
    json: jsonFlag
  },
  lazy(() => import("./trace.run.js"), "show")
).pipe(
  Command.withDescription(
    "Show a run's trace: its stages, agent turns, verification steps, model and tracker calls as a tree with durations; failed spans are marked ✗"
  ),
  Command.withExamples([
    { command: "spec-orch trace show HELLO-1-r1", description: "The span tree of the quick start's run" }
  ])
)

export const trace = Command.make("trace").pipe(
  Command.withDescription("Inspect the traces spec-orch records for every run (docs/traces.md)"),
  Command.withSubcommands([show])
)
