/**
 * `spec-orch plan-to-spec <mission> [--dry-run] [--json]`: the inverse of `plan`; refreshes the mission's
 * spec.md from its plan.json (acceptance criteria the plan adds, and the list of its packets).
 */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

export const planToSpec = Command.make(
  "plan-to-spec",
  {
    mission: Argument.String("mission").pipe(Argument.withDescription("Mission id (see `spec-orch mission list`)")),
    dryRun: Flag.Boolean("dry-run").pipe(
      Flag.withDescription("Print the refreshed spec.md; write nothing"),
      Flag.withDefault(false)
    ),
    json: jsonFlag
  },
  lazy(() => import("./plan-to-spec.run.js"), "planToSpec")
).pipe(
  Command.withDescription(
    "Refresh a mission's spec.md from its plan.json: append the packets' acceptance criteria the spec lacks and (re)write its ## Work Packets list; " +
      "the same plan always gives the same spec, and running it again changes nothing"
  )
)
