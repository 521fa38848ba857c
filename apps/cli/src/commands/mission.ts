/** `spec-orch mission create|list|show|approve|status`: missions under docs/specs/<id>/. */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./mission.run.js")
const missionArg = Argument.String("mission").pipe(
  Argument.withDescription("Mission id (see `spec-orch mission list`)")
)

const create = Command.make(
  "create",
  {
    title: Argument.String("title").pipe(Argument.withDescription('Mission title, e.g. "Add OAuth login"')),
    id: Flag.String("id").pipe(Flag.withDescription("Mission id (default: YYYY-MM-<slug of title>)"), Flag.optional),
    json: jsonFlag
  },
  lazy(load, "create")
).pipe(Command.withDescription("Create a mission: docs/specs/<id>/spec.md (a skeleton to edit) and mission.json"))

const list = Command.make("list", { json: jsonFlag }, lazy(load, "list")).pipe(
  Command.withDescription("List missions with their status and whether the spec changed since approval"),
  Command.withAlias("ls")
)

const show = Command.make("show", { mission: missionArg, json: jsonFlag }, lazy(load, "show")).pipe(
  Command.withDescription("Show a mission's status and its spec")
)

const approve = Command.make(
  "approve",
  {
    mission: missionArg,
    by: Flag.String("approved-by").pipe(Flag.withDescription("Who approves (default: git user.name)"), Flag.optional),
    json: jsonFlag
  },
  lazy(load, "approve")
).pipe(Command.withDescription("Approve a mission: freeze its spec.md (who, when, content hash)"))

const status = Command.make(
  "status",
  { mission: missionArg, json: jsonFlag },
  lazy(() => import("./run-plan.run.js"), "missionStatus", { reads: true })
).pipe(
  Command.withDescription(
    "Show where a mission's plan stands: each packet's state (not-started, running, interrupted, succeeded, blocked, failed, skipped because a dependency failed), " +
      "its run, and its integration onto spec-orch/mission/<mission> (conflicts named)"
  )
)

const logs = Command.make(
  "logs",
  {
    mission: missionArg,
    follow: Flag.Boolean("follow").pipe(
      Flag.withAlias("f"),
      Flag.withDescription("Keep printing new events until the mission's runs have finished (Ctrl-C stops)"),
      Flag.withDefault(false)
    ),
    json: jsonFlag
  },
  lazy(() => import("./mission-logs.run.js"), "missionLogs", { reads: true })
).pipe(
  Command.withDescription(
    "The event logs of a mission's packet runs, interleaved in time, each line prefixed with its packet id"
  )
)

export const mission = Command.make("mission").pipe(
  Command.withDescription("Missions: specs larger than one issue, planned into waves of work packets"),
  Command.withSubcommands([create, list, show, approve, status, logs])
)
