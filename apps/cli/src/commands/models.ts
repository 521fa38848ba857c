/** `spec-orch models check`: probe each configured LLM model with a trivial structured-output call. */
import { Command } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const check = Command.make(
  "check",
  { json: jsonFlag },
  lazy(() => import("./models.run.js"), "check")
).pipe(
  Command.withDescription(
    "Probe every model spec-orch.toml configures ([models.*] and the inline models of [planner], [reviewer], [supervisor], " +
      "[acceptance_evaluator]) with one trivial structured-output call. One line per model: ok or failed, latency, and why " +
      "(the env var when a key is missing). Exit 1 when any configured model fails."
  )
)

export const models = Command.make("models").pipe(
  Command.withDescription(
    "The LLM models behind planning, review and supervision: model chains with fallback, keys from the environment"
  ),
  Command.withSubcommands([check])
)
