/** `spec-orch pipeline <mission> [--json]`: where a mission stands in each phase, read-only. */
import { Argument, Command } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

export const pipeline = Command.make(
  "pipeline",
  {
    mission: Argument.String("mission").pipe(Argument.withDescription("Mission id (see `spec-orch mission list`)")),
    json: jsonFlag
  },
  lazy(() => import("./pipeline.run.js"), "pipeline")
).pipe(
  Command.withDescription(
    "Show a mission's progress through its phases without changing anything: spec, plan, plan approval, promotion to a tracker, and each wave with its packets' states"
  )
)
