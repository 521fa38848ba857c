/**
 * @spec-orch/execution: Doing: git worktrees, agent adapters producing one normalized AgentEvent stream, process supervision, the OS sandbox and the verification runner.
 */
export { AgentConfigInvalid, AgentError, AgentNotStarted, ArtifactsUnwritable, ExecutableNotFound, UnknownAdapter } from "./AgentError.js"
export { type AgentCheck, type AgentRequest, Agents, type Endpoint, endpointFromEnv, KNOWN_ADAPTERS, modelCredentials, turnReachesNetwork } from "./Agents.js"
export { type DependencyFinding, dependencyFindings } from "./Dependencies.js"
export { type GitCall, gitEnvironment, type GitResult, INERT_CONFIG, makeGitRunner } from "./Git.js"
export {
  type BoxLayout, type Boxed, type BoxSpec, bwrapArgs, DEFAULT_HIDDEN, type HiddenPath, hostAllowed, type Mount, type NetworkLayout, type NetworkPolicy,
  type NetworkRefusal, Sandbox, type SandboxMode, type SandboxOptions, type SandboxProbe, SandboxUnavailable, worktreeMounts
} from "./Sandbox.js"
export { DEFAULT_TIMEOUT_SECONDS, resolveSteps, Verifier, type VerifyInput, verifyOptionsFrom } from "./Verifier.js"
export {
  BaseNotFound, type BeforeRemove, BindingUnreadable, branchFor, type CleanReport, dependencyDirectories, Detached, GitFailed, InvalidWorkspaceRoot, NotAGitRepo, NotAWorktree, PathOccupied,
  Provisioned, type RemoveReport, UnpushedCommit, WorkspaceBinding, WorkspaceError, Workspaces, type WorkspacesOptions, WorkspaceState, WorkspaceStatus, WorkspaceUnknown, WorktreeMissing,
  WouldLoseWork, WrongBranch
} from "./Workspaces.js"
