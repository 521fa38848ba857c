/**
 * @spec-orch/execution: Doing: git worktrees, agent adapters producing one normalized AgentEvent stream, process supervision, the OS sandbox and the verification runner.
 */
export {
  AgentConfigInvalid,
  AgentError,
  AgentNotStarted,
  ArtifactsUnwritable,
  ExecutableNotFound,
  UnknownAdapter
} from "./AgentError.js"
export {
  type AgentCheck,
  type AgentRequest,
  Agents,
  type Endpoint,
  endpointFromEnv,
  KNOWN_ADAPTERS,
  modelCredentials,
  turnReachesNetwork
} from "./Agents.js"
export { type DependencyFinding, dependencyFindings } from "./Dependencies.js"
export { ExecutionPlane } from "./ExecutionPlane.js"
export { type GitCall, gitEnvironment, type GitResult, INERT_CONFIG, makeGitRunner } from "./Git.js"
export {
  type BoxLayout,
  type Boxed,
  type BoxSpec,
  bwrapArgs,
  DEFAULT_HIDDEN,
  type HiddenPath,
  hostAllowed,
  type Mount,
  type NetworkLayout,
  type NetworkPolicy,
  type NetworkRefusal,
  Sandbox,
  type SandboxMode,
  type SandboxOptions,
  type SandboxProbe,
  SandboxUnavailable,
  worktreeMounts
} from "./Sandbox.js"
export { DEFAULT_TIMEOUT_SECONDS, resolveSteps, Verifier, type VerifyInput, verifyOptionsFrom } from "./Verifier.js"
export {
  BaseNotFound,
  BindingUnreadable,
  Detached,
  GitFailed,
  InvalidWorkspaceRoot,
  NotAGitRepo,
  NotAWorktree,
  PathOccupied,
  WorkspaceError,
  WorkspaceUnknown,
  WorktreeMissing,
  WouldLoseWork,
  WrongBranch
} from "./WorkspaceErrors.js"
export {
  type BeforeRemove,
  branchFor,
  type CleanReport,
  Provisioned,
  type RemoveReport,
  UnpushedCommit,
  WorkspaceBinding,
  WorkspaceState,
  WorkspaceStatus
} from "./WorkspaceModel.js"
export { dependencyDirectories, Workspaces, type WorkspacesOptions } from "./Workspaces.js"
