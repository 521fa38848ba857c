/** `spec-orch verify <issue>`: run the project's verification in the issue's worktree. */
import { Argument, Command } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./verify.run.js")

export const verify = Command.make(
  "verify",
  {
    issue: Argument.String("issue").pipe(Argument.withDescription("Issue id whose worktree to verify, e.g. SPC-1")),
    json: jsonFlag
  },
  lazy(load, "verify")
).pipe(
  Command.withDescription(
    "Run the issue's verification steps (its own, else spec-orch.toml [verification]) in its existing worktree. " +
      "Logs go to .spec-orch/runs/verify-<issue>-<time>/. Exit 1 when a step did not pass or none is configured."
  )
)
