/** `spec-orch watch`: a live terminal view of the project's runs, from the dashboard's read model. */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"

const load = () => import("./watch.run.js")

export const watch = Command.make(
  "watch",
  {
    issue: Argument.String("issue").pipe(
      Argument.withDescription("Watch one issue: its run, stage timeline and the agent's last lines"),
      Argument.optional
    ),
    mission: Flag.String("mission").pipe(
      Flag.withDescription("Watch one mission: its waves, packets and progress"),
      Flag.optional
    ),
    once: Flag.Boolean("once").pipe(Flag.withDescription("Print one snapshot and exit"), Flag.withDefault(false)),
    json: Flag.Boolean("json").pipe(
      Flag.withDescription("Print JSON Lines of changes (with --once: one JSON snapshot)"),
      Flag.withDefault(false)
    )
  },
  lazy(load, "watch")
).pipe(
  Command.withDescription(
    "Watch this project's runs live in the terminal (also runs other terminals or the daemon started): what needs you first, with the exact " +
      "command to unblock it, then running runs (stage, elapsed, current step, cost), then recent verdicts. On a terminal it redraws in place; " +
      "q or Ctrl-C quits; r, a and t review, accept or retry the selected run (↑/↓) after a y/n. Without one it prints a plain line per change. docs/dashboard.md"
  ),
  Command.withExamples([
    { command: "spec-orch watch", description: "Watch every run; q quits" },
    { command: "spec-orch watch SON-42", description: "Watch one issue's run, its stages and the agent's last lines" },
    {
      command: "spec-orch watch --mission billing",
      description: "Watch a mission's waves and packets as run-plan works through them"
    },
    { command: "spec-orch watch --once", description: "Print what needs attention, what runs and what finished, once" }
  ])
)
