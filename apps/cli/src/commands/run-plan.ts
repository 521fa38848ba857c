/**
 * `spec-orch run-plan <mission>`: run a mission's plan wave by wave, packets of a wave in parallel,
 * each a Run in its own worktree, finished packets merged onto `spec-orch/mission/<mission>`.
 */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./run-plan.run.js")

export const runPlan = Command.make(
  "run-plan",
  {
    mission: Argument.String("mission").pipe(Argument.withDescription("Mission id (see `spec-orch mission list`)")),
    concurrency: Flag.Int("concurrency").pipe(
      Flag.filter(
        (n) => n >= 1,
        (n) => `--concurrency must be 1 or more (got ${n})`
      ),
      Flag.withDescription("Packets that run at once (default 3)"),
      Flag.optional
    ),
    dryRun: Flag.Boolean("dry-run").pipe(
      Flag.withDescription("Print the waves and what would run, resume, retry or be skipped; run nothing"),
      Flag.withDefault(false)
    ),
    stopOnFailure: Flag.Boolean("stop-on-failure").pipe(
      Flag.withDescription("Halt the mission at the first failed packet (default: only its dependants are skipped)"),
      Flag.withDefault(false)
    ),
    agent: Flag.String("agent").pipe(
      Flag.withDescription("Builder adapter for every packet (default: [builder] adapter)"),
      Flag.optional
    ),
    profile: Flag.String("profile").pipe(
      Flag.withDescription("Gate profile for every packet (default: [gate] profile)"),
      Flag.optional
    ),
    autoApprove: Flag.Boolean("auto-approve").pipe(
      Flag.withDescription(
        "Approve a plan a planner model wrote (otherwise refused until `spec-orch plan approve`), recording you as its approver"
      ),
      Flag.withDefault(false)
    ),
    wait: Flag.Boolean("wait").pipe(
      Flag.withDescription("Wait for another spec-orch process using this project to finish instead of refusing"),
      Flag.withDefault(false)
    ),
    json: jsonFlag
  },
  lazy(load, "runPlan")
).pipe(
  Command.withDescription(
    "Run an approved mission's plan (a plan a planner model wrote must itself be approved: `spec-orch plan approve`): waves in order, the packets of a wave in parallel (never two with overlapping files), " +
      "each a full run (worktree, agent, verification, gate). Finished packets are merged onto spec-orch/mission/<mission> in dependency order; " +
      "conflicts are reported, not hidden. A failed packet skips its dependants only. Running it again resumes unfinished packets, retries failed " +
      "ones and skips finished ones. Exit 0 when every packet finished and is on the mission branch."
  ),
  Command.withExamples([
    { command: "spec-orch run-plan 2026-05-oauth --dry-run", description: "See what would run" },
    { command: "spec-orch run-plan 2026-05-oauth --concurrency 4", description: "Run it, four packets at a time" }
  ])
)
