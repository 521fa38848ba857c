/** `spec-orch run|status|logs|rerun`: run an issue end to end through the durable workflow and watch it. */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./run.run.js")
const issueArg = Argument.String("issue").pipe(Argument.withDescription("Issue id, e.g. HELLO-1"))

export const run = Command.make(
  "run",
  {
    issue: issueArg,
    source: Flag.String("source").pipe(
      Flag.withDescription("Issue source for this run: fixture, linear or github (default: [issue] source)"),
      Flag.optional
    ),
    agent: Flag.String("agent").pipe(
      Flag.withDescription(
        "Builder adapter for this run: claude_code, codex, opencode, droid, acp or command (default: [builder] adapter)"
      ),
      Flag.optional
    ),
    profile: Flag.String("profile").pipe(Flag.withDescription("Gate profile (default: [gate] profile)"), Flag.optional),
    autoApprove: Flag.Boolean("auto-approve").pipe(
      Flag.withDescription("Approve the issue's spec on your behalf (recorded with your name)"),
      Flag.withDefault(false)
    ),
    newAttempt: Flag.Boolean("new-attempt").pipe(
      Flag.withDescription("Start a new attempt even if the last one did not finish (default: resume it)"),
      Flag.withDefault(false)
    ),
    continue: Flag.Boolean("continue").pipe(
      Flag.withDescription(
        "A new attempt continues the previous attempt's branch (default: it starts over from the base; the old commits stay under refs/spec-orch/attempts/)"
      ),
      Flag.withDefault(false)
    ),
    wait: Flag.Boolean("wait").pipe(
      Flag.withDescription("Wait for another spec-orch process using this project to finish instead of refusing"),
      Flag.withDefault(false)
    ),
    publish: Flag.Literals("publish", ["mergeable", "always", "never"]).pipe(
      Flag.withOptionalValue("mergeable"),
      Flag.withDescription(
        'Publish this run (push, pull request, commit status, tracker comment): --publish or --publish=mergeable if the gate passes, --publish=always (blocked runs as drafts), --publish=never (default: [publish] runs, "never")'
      ),
      Flag.optional
    ),
    json: jsonFlag
  },
  lazy(load, "run")
).pipe(
  Command.withDescription(
    "Run an issue end to end: spec check, isolated worktree, the agent, a host-side commit, the project's verification, review and gate. " +
      "Shows live progress and ends with the verdict and where the evidence is. Ctrl-C cancels; running it again resumes where it stopped. " +
      "Exit 0 when the result is mergeable, 1 otherwise."
  ),
  Command.withExamples([
    { command: "spec-orch run HELLO-1 --auto-approve", description: "Run the quick-start issue" },
    {
      command: "spec-orch run SON-42 --source linear --agent claude_code",
      description: "Run a Linear issue with Claude Code"
    },
    {
      command: "spec-orch run SON-42 --publish",
      description: "Push the branch and open a pull request if the gate passes"
    }
  ])
)

export const status = Command.make(
  "status",
  {
    issue: Argument.String("issue").pipe(
      Argument.withDescription("Issue id (default: the latest runs of every issue)"),
      Argument.optional
    ),
    all: Flag.Boolean("all").pipe(
      Flag.withAlias("a"),
      Flag.withDescription("Show every attempt, not only the latest per issue"),
      Flag.withDefault(false)
    ),
    json: jsonFlag
  },
  lazy(() => import("./status.run.js"), "status")
).pipe(Command.withDescription("Show runs: status, stage, verdict, where the worktree and evidence are"))

export const logs = Command.make(
  "logs",
  {
    issue: issueArg,
    follow: Flag.Boolean("follow").pipe(
      Flag.withAlias("f"),
      Flag.withDescription("Keep printing new events until the run finishes"),
      Flag.withDefault(false)
    ),
    raw: Flag.Boolean("raw").pipe(
      Flag.withDescription("Print the agent's raw protocol stream (agent.jsonl) instead"),
      Flag.withDefault(false)
    ),
    json: jsonFlag
  },
  lazy(load, "logs", { reads: true })
).pipe(Command.withDescription("Print a run's event log: stages, agent activity, verification steps, verdict"))

export const rerun = Command.make(
  "rerun",
  {
    issue: issueArg,
    profile: Flag.String("profile").pipe(Flag.withDescription("Gate profile (default: [gate] profile)"), Flag.optional),
    publish: Flag.Literals("publish", ["mergeable", "always", "never"]).pipe(
      Flag.withOptionalValue("mergeable"),
      Flag.withDescription(
        'Publish this run (push, pull request, commit status, tracker comment): --publish or --publish=mergeable if the gate passes, --publish=always (blocked runs as drafts), --publish=never (default: [publish] runs, "never")'
      ),
      Flag.optional
    ),
    json: jsonFlag
  },
  lazy(load, "rerun")
).pipe(
  Command.withDescription("Re-verify and re-gate the issue's last run in its worktree, without running the agent again")
)
