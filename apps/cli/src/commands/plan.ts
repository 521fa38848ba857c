/**
 * `spec-orch plan <mission> [--offline [--force]] [--json]` writes a mission's plan; `spec-orch plan show
 * <mission> [--json]` prints it as a tree. `plan` has its own handler and the `show` subcommand
 * (effect/cli dispatches on the first word), so a mission literally named "show" cannot be planned.
 */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./plan.run.js")
const missionArg = Argument.String("mission").pipe(
  Argument.withDescription("Mission id (see `spec-orch mission list`)")
)

const approve = Command.make(
  "approve",
  {
    mission: missionArg,
    by: Flag.String("approved-by").pipe(Flag.withDescription("Who approves (default: git user.name)"), Flag.optional),
    json: jsonFlag
  },
  lazy(load, "approve")
).pipe(
  Command.withDescription(
    "Approve a mission's plan for `run-plan`, recording who and when (a plan a planner model wrote must be approved before it runs)"
  )
)

const show = Command.make("show", { mission: missionArg, json: jsonFlag }, lazy(load, "show")).pipe(
  Command.withDescription(
    "Show a mission's plan as a tree (waves, packets, dependencies, footprints) and its problems; exit 1 if it has errors"
  )
)

export const plan = Command.make(
  "plan",
  {
    mission: missionArg,
    offline: Flag.Boolean("offline").pipe(
      Flag.withDescription("Use the offline planner even when a planner model is configured"),
      Flag.withDefault(false)
    ),
    force: Flag.Boolean("force").pipe(
      Flag.withDescription("Replace a plan a planner model wrote with an offline plan (refused otherwise)"),
      Flag.withDefault(false)
    ),
    json: jsonFlag
  },
  lazy(load, "plan")
).pipe(
  Command.withDescription(
    "Plan a mission: decompose docs/specs/<mission>/spec.md into waves of work packets and write plan.json; " +
      "packets whose files overlap never share a wave. Uses the planner model when one is configured, else the offline planner"
  ),
  Command.withSubcommands([show, approve])
)
