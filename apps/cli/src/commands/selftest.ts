/** `spec-orch selftest`: the quick start's run, end to end, in a temporary directory. */
import { Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

export const selftest = Command.make(
  "selftest",
  {
    keep: Flag.Boolean("keep").pipe(
      Flag.withDescription("Keep the temporary project (it is kept anyway when the run fails)"),
      Flag.withDefault(false)
    ),
    json: jsonFlag
  },
  lazy(() => import("./selftest.run.js"), "selftest")
).pipe(
  Command.withDescription(
    "Run the quick start's issue end to end in a temporary git repository — worktree, agent, commit, verification, gate, " +
      "evidence, in the OS sandbox where it can start — with this very binary. Offline, no API key. Exit 0 when it ends MERGEABLE."
  )
)
