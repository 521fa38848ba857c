/** `spec-orch issue list|show`: read issues from the configured source. */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./issue.run.js")

const source = Flag.String("source").pipe(
  Flag.withDescription("Issue source: fixture, linear or github (default: [issue] source)"),
  Flag.optional
)

const list = Command.make("list", { source, json: jsonFlag }, lazy(load, "list")).pipe(
  Command.withDescription("List the issues of the configured source (fixtures/issues/*.json|md by default)")
)

const show = Command.make(
  "show",
  { id: Argument.String("issue").pipe(Argument.withDescription("Issue id, e.g. SPC-1")), source, json: jsonFlag },
  lazy(load, "show")
).pipe(Command.withDescription("Show one issue: summary, builder prompt, acceptance criteria, verification"))

export const issue = Command.make("issue").pipe(
  Command.withDescription("Read issues from the configured source"),
  Command.withSubcommands([list, show])
)
