/** `spec-orch evolution status|proposals|show|run|validate|approve|reject|rollback`: learned proposals and their promotion (docs/evolution.md). */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./evolution.run.js")

const id = Argument.String("id").pipe(Argument.withDescription("Proposal id, e.g. prop-1a2b3c4d5e6f"))
const why = Flag.String("why").pipe(Flag.withDescription("Why (recorded in the proposal's history)"), Flag.optional)
const by = Flag.String("by").pipe(Flag.withDescription("Who (default: git config user.name)"), Flag.optional)

const status = Command.make("status", { json: jsonFlag }, lazy(load, "status")).pipe(
  Command.withDescription("Proposals per state, and which ones runs use now")
)
const proposals = Command.make(
  "proposals",
  {
    state: Flag.String("state").pipe(
      Flag.withDescription(
        "Only proposals in this state (proposed, validated, approved, active, promoted, rejected, retired, rolled-back)"
      ),
      Flag.optional
    ),
    json: jsonFlag
  },
  lazy(load, "proposals")
).pipe(Command.withDescription("List proposals, newest first"))
const show = Command.make("show", { id, json: jsonFlag }, lazy(load, "show")).pipe(
  Command.withDescription("Show one proposal and every move it made (who, why, when)")
)
const run = Command.make(
  "run",
  {
    minRuns: Flag.Int("min-runs").pipe(
      Flag.withDescription(
        "A failure (a failing step, a command in failed runs) must recur in at least this many runs"
      ),
      Flag.withDefault(2)
    ),
    minBacktest: Flag.Int("min-backtest").pipe(
      Flag.withDescription("Successful runs a candidate compliance rule is back-tested against, at least"),
      Flag.withDefault(3)
    ),
    minSupport: Flag.Int("min-support").pipe(
      Flag.withDescription("Succeeded runs a tool-call sequence must repeat in to become a skill"),
      Flag.withDefault(3)
    ),
    promptVariants: Flag.Boolean("prompt-variants").pipe(
      Flag.withDescription(
        "Also ask the planner's model for builder prompt variants from the recent failed runs (one model call; needs a planner model)"
      ),
      Flag.withDefault(false)
    ),
    json: jsonFlag
  },
  lazy(load, "run")
).pipe(
  Command.withDescription(
    "Run the evolvers now: learnings from verification steps that keep failing, compliance rules from failed runs (back-tested on successful ones), skills from repeated tool-call sequences, scoper hints from files changed outside their scope; with --prompt-variants, builder prompt variants from the planner's model"
  )
)
const validate = Command.make(
  "validate",
  {
    id,
    candidate: Flag.String("candidate").pipe(
      Flag.withDescription("Successes/trials with the proposal applied, e.g. 9/10"),
      Flag.optional
    ),
    baseline: Flag.String("baseline").pipe(
      Flag.withDescription("Successes/trials without it, e.g. 2/10"),
      Flag.optional
    ),
    replay: Flag.Boolean("replay").pipe(
      Flag.withDescription(
        "Measure the counts by re-running held-out past issues twice each, without and with the proposal (2 runs per issue, kept apart from your runs)"
      ),
      Flag.withDefault(false)
    ),
    issues: Flag.String("issues").pipe(
      Flag.withDescription("[--replay] The issues to replay, comma-separated (default: the most recent held-out ones)"),
      Flag.optional
    ),
    heldOut: Flag.Int("held-out").pipe(
      Flag.withDescription("[--replay] How many of the most recent issues with finished runs to replay"),
      Flag.withDefault(10)
    ),
    concurrency: Flag.Int("concurrency").pipe(
      Flag.filter(
        (n) => n >= 1,
        (n) => `--concurrency must be 1 or more (got ${n})`
      ),
      Flag.withDescription("[--replay] Replay runs at once (default 1; each is an agent turn)"),
      Flag.withDefault(1)
    ),
    metric: Flag.String("metric").pipe(
      Flag.withDescription("What a success is (fixed before the trials)"),
      Flag.withDefault("gate passed")
    ),
    minSample: Flag.Int("min-sample").pipe(
      Flag.withDescription("Trials each arm needs at least"),
      Flag.withDefault(10)
    ),
    by,
    json: jsonFlag
  },
  lazy(load, "validate")
).pipe(
  Command.withDescription(
    "Apply the promotion rule (one-sided test at p < 0.05, minimum sample per arm) to counts you give or, with --replay, to a replay of held-out past issues; the proposal becomes validated only if it passes"
  )
)
const approve = Command.make("approve", { id, why, by, json: jsonFlag }, lazy(load, "approve")).pipe(
  Command.withDescription("Approve a validated proposal: the next runs are offered it")
)
const reject = Command.make("reject", { id, why, by, json: jsonFlag }, lazy(load, "reject")).pipe(
  Command.withDescription("Reject a proposal")
)
const rollback = Command.make("rollback", { id, why, by, json: jsonFlag }, lazy(load, "rollback")).pipe(
  Command.withDescription("Stop using a proposal: the next run is without it")
)

export const evolution = Command.make("evolution").pipe(
  Command.withDescription(
    "Learned proposals, used only once validated and approved: status, proposals, show, run, validate, approve, reject, rollback"
  ),
  Command.withSubcommands([status, proposals, show, run, validate, approve, reject, rollback])
)
