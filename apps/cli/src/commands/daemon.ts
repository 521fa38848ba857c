/** `spec-orch daemon start|stop|status|health|dlq|dlq-retry|install`: the unattended tracker loop and its state. */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./daemon.run.js")

const start = Command.make(
  "start",
  {
    once: Flag.Boolean("once").pipe(
      Flag.withDescription("Resume what a previous daemon left, poll once, wait for the runs it started, then exit"),
      Flag.withDefault(false)
    ),
    source: Flag.String("source").pipe(
      Flag.withDescription("Issue source: linear, github or fixture (default: [issue] source)"),
      Flag.optional
    ),
    webhookHost: Flag.String("webhook-host").pipe(
      Flag.withDescription(
        "Address the webhook listener binds to when [daemon] webhook_port is set (default 127.0.0.1)"
      ),
      Flag.withDefault("127.0.0.1")
    ),
    wait: Flag.Boolean("wait").pipe(
      Flag.withDescription("Wait for another spec-orch process using this project to finish instead of refusing"),
      Flag.withDefault(false)
    )
  },
  lazy(load, "start")
).pipe(
  Command.withDescription(
    "Run the daemon in the foreground: poll the tracker every [daemon] poll_interval_seconds (and on signed webhooks), triage issues in " +
      "[daemon] consume_state, run up to [daemon] max_concurrent at a time, publish pull requests, retry failures with backoff and dead-letter " +
      "what keeps failing. SIGTERM or Ctrl-C stops it; runs in flight resume when it starts again."
  ),
  Command.withExamples([
    { command: "spec-orch daemon start", description: "Work the Linear team's Ready issues until stopped" },
    { command: "spec-orch daemon start --once", description: "One poll, wait for its runs, exit (cron, CI, tests)" }
  ])
)

const status = Command.make("status", { json: jsonFlag }, lazy(load, "status", { reads: true })).pipe(
  Command.withDescription(
    "Show the daemon: heartbeat, runs in flight, issues waiting for a retry or for clarification, claims and dead letters"
  )
)

const health = Command.make("health", { json: jsonFlag }, lazy(load, "health", { reads: true })).pipe(
  Command.withDescription(
    "Check the heartbeat: exit 0 when the daemon is running and healthy, 1 when it is stopped, gone, stale or degraded"
  )
)

const dlq = Command.make("dlq", { json: jsonFlag }, lazy(load, "dlq", { reads: true })).pipe(
  Command.withDescription("List dead-lettered issues: how often they failed and the last failure")
)

const dlqRetry = Command.make(
  "dlq-retry",
  {
    issue: Argument.String("issue").pipe(Argument.withDescription("A dead-lettered issue, e.g. SON-12")),
    json: jsonFlag
  },
  lazy(load, "dlqRetry")
).pipe(
  Command.withDescription(
    "Release a dead-lettered issue: forget its failures, remove the dead-letter label and (Linear) move it back to [daemon] consume_state, so the daemon tries again"
  )
)

const loadOps = () => import("./daemon.ops.run.js")

const install = Command.make(
  "install",
  {
    print: Flag.Boolean("print").pipe(
      Flag.withDescription("Print the unit instead of writing it"),
      Flag.withDefault(false)
    ),
    json: jsonFlag
  },
  lazy(loadOps, "install")
).pipe(
  Command.withDescription(
    "Write a systemd user unit that runs this project's daemon ($XDG_CONFIG_HOME/systemd/user/spec-orch-<project>.service), and say how to enable it"
  )
)

const stop = Command.make(
  "stop",
  {
    timeout: Flag.Int("timeout").pipe(
      Flag.withDescription("Seconds to wait for the daemon to finish its shutdown"),
      Flag.withDefault(60)
    ),
    json: jsonFlag
  },
  lazy(loadOps, "stop")
).pipe(
  Command.withDescription(
    "Stop the project's running daemon: SIGTERM to the pid in its heartbeat, then wait for it to exit (exit 0 stopped or none running, 1 still running)"
  )
)

export const daemon = Command.make("daemon").pipe(
  Command.withDescription(
    "The unattended loop: Linear or GitHub issues in, pull requests with the gate as a commit status out"
  ),
  Command.withSubcommands([start, stop, status, health, dlq, dlqRetry, install])
)
