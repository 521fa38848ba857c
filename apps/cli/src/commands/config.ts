/** `spec-orch config check`: validate spec-orch.toml and every file it points at. */
import { Command } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const check = Command.make(
  "check",
  { json: jsonFlag },
  lazy(() => import("./config.run.js"), "check")
).pipe(
  Command.withDescription(
    "Validate spec-orch.toml, issue fixtures and mission files; name every problem with file, line and key (exit 1 on errors)"
  )
)

export const config = Command.make("config").pipe(
  Command.withDescription("Inspect and validate configuration"),
  Command.withSubcommands([check])
)
