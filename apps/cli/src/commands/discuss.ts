/**
 * `spec-orch discuss [<issue>] [--mission <id>] [--thread <id>] [--message <text>]`: a session with the
 * planner model that asks clarifying questions and records decisions in a thread
 * (`<state dir>/threads/<id>.jsonl`); `@freeze` (or `discuss freeze <thread>`) writes the spec from the
 * decisions and approves it. `discuss list` lists the threads. effect/cli dispatches on the first word, so
 * an issue literally named "list" or "freeze" needs `--thread`.
 */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./discuss.run.js")

const list = Command.make("list", { json: jsonFlag }, lazy(load, "list")).pipe(
  Command.withDescription("List the discussion threads: target, turns, decisions, and whether they were frozen")
)

const freeze = Command.make(
  "freeze",
  {
    thread: Argument.String("thread").pipe(Argument.withDescription("Thread id (see `spec-orch discuss list`)")),
    by: Flag.String("approved-by").pipe(Flag.withDescription("Who approves (default: git user.name)"), Flag.optional),
    json: jsonFlag
  },
  lazy(load, "freeze")
).pipe(
  Command.withDescription(
    "Write the thread's issue or mission spec from its decisions and approve it; prints the spec hash (no model call)"
  )
)

export const discuss = Command.make(
  "discuss",
  {
    issue: Argument.String("issue").pipe(
      Argument.withDescription("Issue id to discuss (or --mission)"),
      Argument.optional
    ),
    mission: Flag.String("mission").pipe(
      Flag.withDescription("Mission id to discuss (created when it does not exist)"),
      Flag.optional
    ),
    thread: Flag.String("thread").pipe(
      Flag.withDescription("Thread id: continues it when it exists (default: the issue or mission id)"),
      Flag.optional
    ),
    message: Flag.String("message").pipe(
      Flag.withAlias("m"),
      Flag.withDescription(
        "Send one message and print the answer, without a prompt (for scripts; `@freeze` in it freezes the spec)"
      ),
      Flag.optional
    ),
    by: Flag.String("approved-by").pipe(
      Flag.withDescription("Who approves on @freeze (default: git user.name)"),
      Flag.optional
    ),
    json: jsonFlag
  },
  lazy(load, "discuss")
).pipe(
  Command.withDescription(
    "Discuss an issue or mission with the planner model: it asks clarifying questions and records decisions in a resumable thread; " +
      "@freeze writes the spec from the decisions and approves it"
  ),
  Command.withSubcommands([list, freeze])
)
