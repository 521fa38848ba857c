/** `spec-orch agents check`: preflight for the configured agent adapters. */
import { Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const check = Command.make(
  "check",
  {
    agent: Flag.String("agent").pipe(
      Flag.withDescription(
        "Check this adapter (claude_code, codex, opencode, droid, acp, acpx_<agent>, command) instead of [builder] adapter"
      ),
      Flag.optional
    ),
    modelServer: Flag.String("model-server").pipe(
      Flag.withDescription(
        "Run the trivial turn against this model endpoint (a gateway or a local model server; default $SPEC_ORCH_AGENT_ENDPOINT)"
      ),
      Flag.optional
    ),
    json: jsonFlag
  },
  lazy(() => import("./agents.run.js"), "check")
).pipe(
  Command.withDescription(
    "Prove the agent can work: find its executable and version, then run one trivial turn in a scratch git repository " +
      "(needs a model: its provider's API key, or --model-server). Exit 1 when an agent is missing or its turn fails."
  )
)

export const agents = Command.make("agents").pipe(
  Command.withDescription(
    "The coding agents spec-orch runs (Claude Code, Codex, opencode, Droid, ACP agents, or your own command)"
  ),
  Command.withSubcommands([check])
)
