/** `spec-orch init`: detect the project and write a commented spec-orch.toml with its own commands. */
import { Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

export const init = Command.make(
  "init",
  {
    force: Flag.Boolean("force").pipe(
      Flag.withAlias("f"),
      Flag.withDescription("Overwrite an existing spec-orch.toml"),
      Flag.withDefault(false)
    ),
    dryRun: Flag.Boolean("dry-run").pipe(
      Flag.withDescription("Print the config instead of writing it"),
      Flag.withDefault(false)
    ),
    json: jsonFlag
  },
  lazy(() => import("./init.run.js"), "init")
).pipe(
  Command.withDescription(
    "Detect the project (Node/TypeScript, Python, Rust, Go, Java, .NET) and write a commented spec-orch.toml"
  )
)
