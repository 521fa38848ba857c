/**
 * What an agent may do in its worktree, derived from `[builder]` by a pure function: Claude Code's
 * permission mode and allowed tools, Codex's sandbox, Droid's autonomy level, how ACP permission
 * requests are answered, and the turn's budgets. Bypass modes are never chosen for a root process
 * unless the agent runs inside spec-orch's OS sandbox (`confined`) or the config says explicitly that
 * the machine is a sandbox (`[builder] env.IS_SANDBOX = "1"`). How each agent's own sandbox composes
 * with spec-orch's is argued in docs/agents.md.
 */
import type { SpecOrchConfig } from "@spec-orch/contract"
import type { Budgets } from "./Budgets.js"

/** How a class of ACP tool calls is answered. */
export type Answer = "allow" | "deny"

/** The permission policy for one agent turn. */
export interface AgentPolicy {
  readonly claude: {
    /** `--permission-mode` (`acceptEdits`, `default`, `plan`, `bypassPermissions`, …). */
    readonly permissionMode: string
    /** `--allowedTools` entries (tools that run without asking, e.g. `Bash`, `Bash(git diff:*)`). */
    readonly allowedTools: ReadonlyArray<string>
  }
  readonly codex: {
    readonly sandbox: "read-only" | "workspace-write" | "danger-full-access"
    /** Codex `approval_policy`; headless runs cannot answer prompts, so this is `never`. */
    readonly approval: "never"
  }
  readonly droid: {
    /** `--auto` level; absent = read-only. Droid trusts the model's own risk rating, so this is not a sandbox. */
    readonly autonomy: "low" | "medium" | "high" | undefined
  }
  /** Answers to ACP `session/request_permission`, by tool kind; anything outside the worktree is always denied. */
  readonly acp: {
    readonly edits: Answer
    readonly commands: Answer
    readonly reads: Answer
    readonly network: Answer
    readonly other: Answer
  }
  readonly budgets: Budgets
  /** The host declared itself a disposable sandbox (`IS_SANDBOX=1`): bypass modes are allowed as root. */
  readonly sandboxed: boolean
  /** The agent runs inside spec-orch's OS sandbox, which confines it to its worktree: that box is the enforcement. */
  readonly confined: boolean
  /** Adjustments made while deriving the policy (e.g. a bypass mode refused as root), for the run log. */
  readonly notes: ReadonlyArray<string>
}

/** Facts about the host the policy depends on. */
export interface PolicyHost {
  /** The spec-orch process runs as root (uid 0). */
  readonly isRoot: boolean
  /** The agent will run inside spec-orch's OS sandbox (default false). */
  readonly confined?: boolean
}

const BYPASS_MODES = new Set(["bypassPermissions", "dangerously-skip-permissions", "yolo"])
const SANDBOXES = ["read-only", "workspace-write", "danger-full-access"] as const
/**
 * Claude Code tools whose bare allow rule (`--allowedTools Write`) lets them write anywhere, not only
 * in the working directory that `acceptEdits` is limited to (verified with Claude Code 2.1.331).
 */
const CLAUDE_EDIT_TOOLS = new Set(["Write", "Edit", "MultiEdit", "NotebookEdit"])

/** Derives the policy from `[builder]`. Pure: the host facts are passed in. */
export const policyFromBuilder = (builder: SpecOrchConfig["builder"], host: PolicyHost): AgentPolicy => {
  const notes: Array<string> = []
  const sandboxed = builder.env.IS_SANDBOX === "1"
  const confined = host.confined === true
  const bypassAllowed = !host.isRoot || sandboxed || confined

  let permissionMode = builder.permission_mode
  if (BYPASS_MODES.has(permissionMode)) {
    if (bypassAllowed) permissionMode = "bypassPermissions"
    else {
      notes.push(
        `[builder] permission_mode = "${builder.permission_mode}" is refused when running as root; using "acceptEdits" with the allowed tools (set [builder] env.IS_SANDBOX = "1" on a disposable machine to allow it)`
      )
      permissionMode = "acceptEdits"
    }
  }

  let sandbox: AgentPolicy["codex"]["sandbox"] = (SANDBOXES as ReadonlyArray<string>).includes(builder.sandbox)
    ? (builder.sandbox as AgentPolicy["codex"]["sandbox"])
    : "workspace-write"
  if (!(SANDBOXES as ReadonlyArray<string>).includes(builder.sandbox)) {
    notes.push(
      `[builder] sandbox = "${builder.sandbox}" is not a Codex sandbox (${SANDBOXES.join(", ")}); using "workspace-write"`
    )
  }
  if (sandbox === "danger-full-access" && !bypassAllowed) {
    notes.push(`[builder] sandbox = "danger-full-access" is refused when running as root; using "workspace-write"`)
    sandbox = "workspace-write"
  }
  // Inside spec-orch's box, Codex's own bubblewrap sandbox would have to nest in ours; the box already
  // keeps writes in the worktree, so Codex runs unsandboxed there. read-only stays what it says.
  if (confined && sandbox === "workspace-write") sandbox = "danger-full-access"

  // Outside the box Claude Code's permission check is the only guard on its edit tools: acceptEdits
  // accepts edits in the worktree, and a bare allow rule for an edit tool would lift that limit.
  const allowedTools =
    permissionMode === "acceptEdits" && !confined
      ? builder.allowed_tools.filter((t) => !CLAUDE_EDIT_TOOLS.has(t.trim()))
      : builder.allowed_tools

  const permissions = builder.permissions
  const acp: AgentPolicy["acp"] =
    permissions === "deny-all" || permissions === "read-only" || permissions === "approve-reads"
      ? {
          edits: "deny",
          commands: "deny",
          reads: permissions === "deny-all" ? "deny" : "allow",
          network: "deny",
          other: "deny"
        }
      : { edits: "allow", commands: "allow", reads: "allow", network: "deny", other: "allow" }
  if (!["full-auto", "approve-all", "deny-all", "read-only", "approve-reads"].includes(permissions)) {
    notes.push(
      `[builder] permissions = "${permissions}" is not known (full-auto, approve-reads, deny-all); treating it as full-auto inside the worktree`
    )
  }

  return {
    claude: { permissionMode, allowedTools },
    codex: { sandbox, approval: "never" },
    droid: { autonomy: builder.autonomy },
    acp,
    budgets: {
      ...(builder.max_cost_usd !== undefined ? { maxUsd: builder.max_cost_usd } : {}),
      ...(builder.max_tokens !== undefined ? { maxTokens: builder.max_tokens } : {})
    },
    sandboxed,
    confined,
    notes
  }
}

/** One ACP permission request, reduced to what the policy judges. */
export interface PermissionAsk {
  /** The ACP tool kind (`read`, `edit`, `delete`, `move`, `search`, `execute`, `think`, `fetch`, `switch_mode`, `other`). */
  readonly kind: string | undefined
  /** Whether every path the tool call names resolves inside the worktree (true when it names none). */
  readonly insideWorktree: boolean
}

/** The answer to one ACP permission request, with the reason recorded in the run's events. */
export const answerPermission = (
  policy: AgentPolicy,
  ask: PermissionAsk
): { readonly answer: Answer; readonly reason: string } => {
  if (!ask.insideWorktree) return { answer: "deny", reason: "the tool call names a path outside the worktree" }
  switch (ask.kind) {
    case "edit":
    case "delete":
    case "move":
      return { answer: policy.acp.edits, reason: `edits inside the worktree: ${policy.acp.edits}` }
    case "execute":
      return { answer: policy.acp.commands, reason: `commands: ${policy.acp.commands}` }
    case "read":
    case "search":
    case "think":
      return { answer: policy.acp.reads, reason: `reads inside the worktree: ${policy.acp.reads}` }
    case "fetch":
      return { answer: policy.acp.network, reason: `network access: ${policy.acp.network}` }
    default:
      return { answer: policy.acp.other, reason: `other tools: ${policy.acp.other}` }
  }
}
