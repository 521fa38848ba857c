/** `spec-orch promote <mission> [--tracker github|linear] [--dry-run] [--json]`: a mission's approved plan becomes tracker issues (docs/missions.md). */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

export const promote = Command.make(
  "promote",
  {
    mission: Argument.String("mission").pipe(Argument.withDescription("Mission id (see `spec-orch mission list`)")),
    tracker: Flag.Literals("tracker", ["github", "linear"]).pipe(
      Flag.withDescription(
        'Tracker to create the issues in (default: linear when `[issue] source = "linear"`, else github)'
      ),
      Flag.optional
    ),
    dryRun: Flag.Boolean("dry-run").pipe(
      Flag.withDescription("Say what would be created without creating or writing anything"),
      Flag.withDefault(false)
    ),
    json: jsonFlag
  },
  lazy(() => import("./promote.run.js"), "promote")
).pipe(
  Command.withDescription(
    "Create one tracker issue per packet of a mission's approved plan, under a mission issue listing them, with each packet's dependencies; " +
      "the mapping is kept in docs/specs/<mission>/promotion.json and running it again creates nothing new"
  )
)
