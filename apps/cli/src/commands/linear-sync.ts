/** `spec-orch linear-sync <mission>`: reconcile a promoted mission's packet states with Linear. */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

export const linearSync = Command.make(
  "linear-sync",
  {
    mission: Argument.String("mission").pipe(
      Argument.withDescription("Mission id, promoted to Linear with `spec-orch promote <mission> --tracker linear`")
    ),
    dryRun: Flag.Boolean("dry-run").pipe(
      Flag.withDescription("Show what would change in Linear without changing it"),
      Flag.withDefault(false)
    ),
    json: jsonFlag
  },
  lazy(() => import("./linear-sync.run.js"), "linearSync")
).pipe(
  Command.withDescription(
    "Reconcile a promoted mission with Linear: succeeded packets' issues move to the team's completed state, issues canceled in Linear show their packet as canceled (idempotent)"
  )
)
