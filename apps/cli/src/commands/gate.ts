/** `spec-orch gate evaluate|show-policy|list-conditions|profiles`: judge evidence with the gate policy. */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./gate.run.js")
const loadPolicy = () => import("./gate.policy.run.js")

/** `--policy`: a policy file instead of the configured one. */
export const policyFlag = Flag.String("policy").pipe(
  Flag.withAlias("p"),
  Flag.withDescription(
    "Gate policy file, relative to --cwd (default: [gate] policy in spec-orch.toml, gate.policy.yaml, else the built-in policy)"
  ),
  Flag.optional
)
/** `--profile`: a profile of the policy. */
export const profileFlag = Flag.String("profile").pipe(
  Flag.withDescription("Profile of the policy to apply, e.g. daemon, ci, strict, hotfix (default: [gate] profile)"),
  Flag.optional
)

const evaluate = Command.make(
  "evaluate",
  {
    issue: Argument.String("issue").pipe(Argument.withDescription("Issue id, e.g. SPC-1")),
    policy: policyFlag,
    profile: profileFlag,
    evidence: Flag.String("evidence").pipe(
      Flag.withDescription(
        "Judge this JSON evidence bundle (schemaVersion 1) instead of the issue's latest recorded run; needs no state"
      ),
      Flag.optional
    ),
    json: jsonFlag
  },
  lazy(load, "evaluate", { reads: true })
).pipe(
  Command.withDescription(
    "Judge an issue's evidence with the gate policy: each condition, why, and what would unblock it (exit 0 mergeable, 1 blocked)"
  )
)

const showPolicy = Command.make(
  "show-policy",
  { policy: policyFlag, profile: profileFlag, json: jsonFlag },
  lazy(loadPolicy, "showPolicy")
).pipe(
  Command.withDescription(
    "Show the gate policy: which conditions are required, advisory or disabled under a profile, and when auto-merge applies"
  )
)

const listConditions = Command.make(
  "list-conditions",
  { policy: policyFlag, json: jsonFlag },
  lazy(loadPolicy, "listConditions")
).pipe(Command.withDescription("List every condition a policy may name, and whether this policy uses it"))

const profiles = Command.make("profiles", { policy: policyFlag, json: jsonFlag }, lazy(loadPolicy, "profiles")).pipe(
  Command.withDescription("List the policy's profiles: what each enables, disables and whether it auto-merges")
)

export const gate = Command.make("gate").pipe(
  Command.withDescription('The gate: judge evidence against gate.policy.yaml ("merge is not done; gate is done")'),
  Command.withSubcommands([evaluate, showPolicy, listConditions, profiles])
)
