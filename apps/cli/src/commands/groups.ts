/**
 * The original spec-orch's evolution groups, over proposals (docs/evolution.md): `prompt` (builder prompt
 * variants), `strategy` (scoper hints), `harness` (compliance rules), `skills`, `policy` (distilled policies). Each lists its kind, runs its
 * evolver, and — where the original applied something — moves a proposal the way `evolution` does, so
 * nothing is used before it is validated and approved.
 */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./groups.run.js")

const id = Argument.String("id").pipe(Argument.withDescription("Proposal id, e.g. prop-1a2b3c4d5e6f"))
const why = Flag.String("why").pipe(Flag.withDescription("Why (recorded in the proposal's history)"), Flag.optional)
const by = Flag.String("by").pipe(Flag.withDescription("Who (default: git config user.name)"), Flag.optional)

export const prompt = Command.make("prompt").pipe(
  Command.withDescription(
    "Builder prompt variants (prompt-variant proposals): list them, or ask the planner's model for new ones"
  ),
  Command.withSubcommands([
    Command.make("status", { json: jsonFlag }, lazy(load, "promptStatus")).pipe(
      Command.withDescription("Prompt variants, their states and which ones runs use")
    ),
    Command.make("evolve", { json: jsonFlag }, lazy(load, "promptEvolve")).pipe(
      Command.withDescription(
        "Ask the planner's model for builder prompt variants from the recent failed runs (same as evolution run --prompt-variants, without the other evolvers)"
      )
    )
  ])
)

export const strategy = Command.make("strategy").pipe(
  Command.withDescription("Scoper hints (scoper-hint proposals) the planner is told"),
  Command.withSubcommands([
    Command.make("status", { json: jsonFlag }, lazy(load, "strategyStatus")).pipe(
      Command.withDescription("Scoper hints, their states and which ones plans use")
    ),
    Command.make("analyze", { json: jsonFlag }, lazy(load, "strategyAnalyze")).pipe(
      Command.withDescription("Propose scoper hints from files that runs of several issues changed outside their scope")
    ),
    Command.make(
      "inject-preview",
      {
        mission: Argument.String("mission").pipe(Argument.withDescription("Mission id")),
        json: jsonFlag
      },
      lazy(load, "strategyPreview")
    ).pipe(
      Command.withDescription(
        "What `spec-orch plan <mission>` would tell the planner model now: hints in use, then memory"
      )
    )
  ])
)

export const harness = Command.make("harness").pipe(
  Command.withDescription("Compliance rules learned from failed runs (compliance-rule proposals)"),
  Command.withSubcommands([
    Command.make(
      "synthesize",
      {
        minRuns: Flag.Int("min-runs").pipe(
          Flag.withDescription("A command must have run in at least this many failed runs"),
          Flag.withDefault(2)
        ),
        minBacktest: Flag.Int("min-backtest").pipe(
          Flag.withDescription("Successful runs each candidate is back-tested against, at least"),
          Flag.withDefault(3)
        ),
        json: jsonFlag
      },
      lazy(load, "harnessSynthesize")
    ).pipe(
      Command.withDescription(
        "Synthesize compliance rules from commands agents ran in failed runs; a rule that fires on any successful run is dropped"
      )
    ),
    Command.make("validate", { json: jsonFlag }, lazy(load, "harnessValidate")).pipe(
      Command.withDescription(
        "Each compliance-rule proposal with its back-test (false-positive rate, 95% interval, sample)"
      )
    ),
    Command.make("apply", { id, why, by, json: jsonFlag }, lazy(load, "harnessApply")).pipe(
      Command.withDescription("Approve a validated compliance rule: the gate judges the next runs by it")
    )
  ])
)

export const skills = Command.make("skills").pipe(
  Command.withDescription("Agent skills mined from repeated tool-call sequences (skill proposals)"),
  Command.withSubcommands([
    Command.make("list", { json: jsonFlag }, lazy(load, "skillsList")).pipe(
      Command.withDescription("Skills, their states and which ones runs offer their agents")
    ),
    Command.make(
      "mine",
      {
        minSupport: Flag.Int("min-support").pipe(
          Flag.withDescription("Succeeded runs a tool-call sequence must repeat in"),
          Flag.withDefault(3)
        ),
        json: jsonFlag
      },
      lazy(load, "skillsMine")
    ).pipe(Command.withDescription("Mine skills from the tool-call sequences of succeeded runs"))
  ])
)

/** `--min` of `policy candidates|distill`. */
const minIssues = Flag.Int("min").pipe(
  Flag.withDescription("Distinct issues with the same labels whose latest run passed, at least"),
  Flag.withDefault(3)
)

export const policy = Command.make("policy").pipe(
  Command.withDescription(
    "Distilled policies (policy proposals): a POSIX sh script that runs as a command agent instead of the builder for issues carrying the policy's labels, once validated and approved by a person"
  ),
  Command.withSubcommands([
    Command.make("list", { json: jsonFlag }, lazy(load, "policyList")).pipe(
      Command.withDescription("Policies, their states and which ones runs use")
    ),
    Command.make(
      "candidates",
      {
        min: minIssues,
        json: jsonFlag
      },
      lazy(load, "policyCandidates")
    ).pipe(
      Command.withDescription(
        "Classes of issue (the same set of labels) that passed often enough to distill a policy from (no model is asked)"
      )
    ),
    Command.make(
      "distill",
      {
        candidate: Argument.String("candidate").pipe(
          Argument.withDescription("The candidate's labels, comma-separated, as `policy candidates` shows them")
        ),
        min: minIssues,
        json: jsonFlag
      },
      lazy(load, "policyDistill")
    ).pipe(
      Command.withDescription(
        "Ask the planner's model once for a POSIX sh script from the candidate's titles and passing diffs; record it as a policy proposal"
      )
    ),
    Command.make(
      "run",
      {
        id,
        issue: Flag.String("issue").pipe(Flag.withDescription("The issue to run the policy for (it must match)")),
        json: jsonFlag
      },
      lazy(() => import("./evolution.replay.run.js"), "policyTrial")
    ).pipe(
      Command.withDescription(
        "Run a policy (in any state) for one matching issue as a replay's candidate arm: its script as the agent in the sandbox, then verification and the gate, in the replay's state directory; validates and approves nothing"
      )
    )
  ])
)
