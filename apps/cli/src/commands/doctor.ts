/** `spec-orch doctor`: checks everything a run needs on this machine, each problem with its fix. */
import { Command } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

export const doctor = Command.make(
  "doctor",
  { json: jsonFlag },
  lazy(() => import("./doctor.run.js"), "doctor", { reads: true })
).pipe(
  Command.withDescription(
    "Check git and the repository, the OS sandbox (bubblewrap, socat), the agent and its credentials, the LLM roles' keys, " +
      "the tracker token, the state database and the disk for worktrees. One line each, with how to fix what is wrong. " +
      "Exit 1 when anything would stop a run."
  )
)
