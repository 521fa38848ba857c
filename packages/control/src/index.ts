/**
 * @spec-orch/control: Operating: the durable Run workflow, run store, scheduler and daemon, trackers and SCM publishing, the live event feed.
 */
export {
  bindProblem,
  type ClusterCheck,
  checkRunnerAddress,
  clusterChecks,
  pgProblem,
  RunnerAddressUnusable,
  splitAddress
} from "./cluster/ClusterCheck.js"
export {
  clusterRunnerLayer,
  type ClusterRunnerOptions,
  type ClusterTransport,
  runnerShardingConfig
} from "./cluster/ClusterRunner.js"
export { ControlPlane, ControlPlaneInMemory, PublishingPlane } from "./ControlPlane.js"
export {
  ClusterDaemonLoop,
  clusterDaemonProject,
  clusterEngineLayer,
  clusterRunnerOptions,
  DAEMON_SINGLETON,
  POKE_CHANNEL,
  pokeClusterDaemon
} from "./cluster/ClusterDaemon.js"
export {
  ClusterPostgresUnreachable,
  ClusterStateDb,
  ClusterUrlMissing,
  clusterUrl,
  pgServerOf
} from "./cluster/ClusterState.js"
export { ClusterRunFenceLayer, RunFence, RunFenced } from "./cluster/RunFence.js"
export { type RunHost, RunHosts, runHostsOf } from "./cluster/RunHosts.js"
export { leastLoaded, RunPlacement, type RunnerShards, runShard } from "./cluster/RunPlacement.js"
export { HostSlots } from "./cluster/HostSlots.js"
export { ClusterSetupLock } from "./cluster/SetupLock.js"
export { Daemon, DaemonLoop } from "./daemon/Daemon.js"
export { DaemonError, DaemonFailure, DaemonStep } from "./daemon/DaemonError.js"
export {
  DAEMON_APPROVER,
  daemonRules,
  type DaemonRules,
  DEAD_LETTER_LABEL,
  deadLetterKey,
  disposition,
  inConsumeState,
  isActive,
  labelsAllow,
  pollQuery,
  RETRYABLE_CONDITIONS,
  retryDelaySeconds,
  type RunDisposition,
  TEAM_MEMBERSHIP_TTL_SECONDS,
  TRIAGE_USAGE_KEY
} from "./daemon/DaemonRules.js"
export {
  type Claim,
  type DaemonIssue,
  type DaemonIssuePatch,
  type DaemonIssueStatus,
  DaemonStore,
  type DeadLetter,
  migrateDaemonStore,
  type Refusal
} from "./daemon/DaemonStore.js"
export type { TickReport } from "./daemon/Dispatch.js"
export { EVOLUTION_COUNT_KEY, evolveAfterRuns, RunFinished } from "./daemon/EvolutionTrigger.js"
export {
  findingsOf,
  type FiredTrigger,
  firedTriggers,
  observePull,
  passingChecks,
  type PullObservation,
  type PullSignal,
  reviewSeverity,
  reviewSource,
  signalOf
} from "./daemon/Feedback.js"
export type { FeedbackReport } from "./daemon/FeedbackRound.js"
export {
  type Health,
  Heartbeat,
  heartbeatFile,
  HeartbeatRun,
  judgeHealth,
  readHeartbeat,
  staleAfterSeconds,
  writeHeartbeat
} from "./daemon/Heartbeat.js"
export {
  admitIssue,
  describeAuthor,
  intakeRules,
  type IntakeRules,
  type IntakeVerdict,
  intakeWarning,
  judgeIntake,
  teamsToAsk
} from "./daemon/Intake.js"
export {
  DEFAULT_REACTIONS,
  DEFAULT_TEMPLATES,
  loadReactions,
  parseReactions,
  REACTION_ACTIONS,
  REACTION_TRIGGERS,
  type ReactionAction,
  reactionFiles,
  type ReactionRule,
  ReactionsFile,
  type ReactionTrigger,
  renderTemplate,
  TEMPLATE_KEYS
} from "./daemon/Reactions.js"
export {
  CLARIFICATION_LABEL,
  clarificationComment,
  clarificationKey,
  DEFAULT_TRIAGE_TIMEOUT_SECONDS,
  type Readiness,
  readinessRules,
  triage,
  TRIAGE_LIMITS,
  TriageAnswer,
  triagePrompt
} from "./daemon/Triage.js"
export {
  DEFAULT_WEBHOOK_SECRET_ENV,
  type Delivery,
  githubSignatureValid,
  judgeDelivery,
  LINEAR_REPLAY_WINDOW_MS,
  linearSignatureValid,
  signBody,
  webhookSecret,
  WebhookSecretMissing,
  webhookServer
} from "./daemon/Webhooks.js"
export {
  type AttentionItem,
  attentionOf,
  bucketOf,
  type ConditionView,
  type DaemonView,
  Dashboard,
  type DashboardEvent,
  type EvolutionView,
  type IssueView,
  type MetricsPoint,
  metricsSeries,
  type MetricsView,
  type MissionDetailView,
  type MissionSummaryView,
  type RetryView,
  type RunDetailView,
  runView,
  type RunView,
  type StageView,
  type StateView,
  type StatsGroup,
  statsGroups,
  type StatsView,
  timelineOf,
  type TokensView
} from "./dashboard/Dashboard.js"
export {
  ActionRefused,
  DashboardApi,
  IssueNotFound,
  MissionInvalid,
  MissionNotFound,
  ProposalDecisionInput,
  ReviewVerdictInput,
  RunNotFound
} from "./dashboard/DashboardApi.js"
export {
  type ActionFailure,
  DashboardActions,
  type DashboardOptions,
  DashboardRoutes
} from "./dashboard/DashboardServer.js"
export { type DoctorCheck, doctorChecks } from "./health/Doctor.js"
export {
  type Integrated,
  type IntegrateInput,
  type MissionBranch,
  MissionBranchFailed,
  MissionIntegration
} from "./mission/MissionIntegration.js"
export {
  checkMission,
  DEFAULT_MISSION_CONCURRENCY,
  MissionCannotRun,
  type MissionEvent,
  MissionRunner,
  type MissionRunOptions,
  type MissionRunResult
} from "./mission/MissionRunner.js"
export {
  derivePacketStatus,
  describeStopper,
  type MissionCost,
  missionCost,
  missionStatus,
  type MissionStatusView,
  type PacketFacts,
  type PacketNext,
  type PacketState,
  type PacketStatus,
  skipReason,
  type WaveStatus
} from "./mission/MissionStatus.js"
export {
  IntegrationOutcome,
  migrateMissionStore,
  MissionRunOutcome,
  MissionRunRecord,
  MissionStore,
  PacketIntegration
} from "./mission/MissionStore.js"
export {
  footprintOfPacket,
  type LoadedPacket,
  loadPacket,
  missionBranchOf,
  missionNotReady,
  packetIssue,
  packetKey,
  PacketNotFound,
  PacketRef
} from "./mission/PacketIssue.js"
export {
  deadLetterNotice,
  genericBody,
  missionFinishedNotice,
  type Notice,
  type NoticeDelivery,
  NOTIFY_RETRIES,
  Notifier,
  type NotifyEvent,
  noticesOfRun,
  notifyIfConfigured,
  notifyRun,
  slackBody
} from "./notify/Notifier.js"
export {
  commentMarker,
  GATE_CONTEXT,
  type GateStatusState,
  type IssueTarget,
  LinearStateUnknown,
  type MergeResult,
  Publisher,
  PublishError,
  type PullRequestResult,
  type PullRequestSpec,
  PushFailed,
  PushRejected,
  type PushResult,
  runKeyMarker,
  stableUuid,
  targetOf,
  type WriteOutcome
} from "./publish/Publisher.js"
export {
  closesLine,
  COMMENT_EXPLAIN_CHARS,
  gateStatusDescription,
  gateStatusState,
  isLocalRemote,
  PR_EXPLAIN_CHARS,
  publishedNote,
  type PublishInput,
  PublishResult,
  PublishWhen,
  pullRequestBody,
  pullRequestTitle,
  pushRefusal,
  RunPublisher,
  runSummaryKey,
  summaryComment
} from "./publish/RunPublisher.js"
export { type ActiveProposal, activeProposals } from "./run/Attribution.js"
export {
  acquireEngineLock,
  EngineBusy,
  engineLockName,
  type LockName,
  ownerAlive,
  ProcessToken,
  runLockName
} from "./run/EngineLock.js"
export { EngineLockLayer, journalFileName, JournalLayer, WorkflowEngineLayer } from "./run/RunEngine.js"
export { type RunResult, Runs, SpecNotReady, type StartOptions } from "./run/Runs.js"
export { migrateRunStore, type RunEvent, RunStore } from "./run/RunStore.js"
export {
  MODEL_CALL_EVENT,
  ReplayArm,
  replayOverride,
  Run,
  RunOutcome,
  RunPayload,
  RunWorkflowLayer,
  StageFailed,
  StageFailure,
  StageStopped
} from "./run/RunWorkflow.js"
export {
  GitHub,
  GITHUB_TOKEN_FALLBACKS,
  type GitHubCheckRun,
  type GitHubComment,
  type GitHubIssue,
  type GitHubPull,
  type GitHubReview,
  type GitHubReviewComment,
  type GitHubStatus,
  type RepoRef
} from "./trackers/GitHub.js"
export { type DescribedWork, parseIssueDescription } from "./trackers/IssueDescription.js"
export {
  Linear,
  LINEAR_DOCUMENTS,
  LINEAR_TOKEN_FALLBACKS,
  type LinearComment,
  type LinearIssue,
  linearIssueFilter,
  type LinearIssueFilter,
  type LinearLabel,
  type LinearState,
  type LinearTeam
} from "./trackers/Linear.js"
export { linearSync, type LinearSyncOutcome, type LinearSyncStep } from "./trackers/LinearSync.js"
export {
  defuse,
  markerOf,
  missionBody,
  packetBody,
  promote,
  type PromotedIssue,
  PromoteError,
  promoteMarker,
  type PromoteOutcome,
  type PromoteStep,
  promoteToGitHub,
  type PromotionRecord,
  readPromotion
} from "./trackers/Promote.js"
export {
  type BudgetState,
  type RateInfo,
  RequestBudget,
  RequestBudgetExceeded,
  type RequestBudgetOptions
} from "./trackers/RequestBudget.js"
export {
  TrackerAnswerInvalid,
  TrackerAuthFailed,
  type TrackerAvailability,
  TrackerError,
  TrackerFailure,
  TrackerForbidden,
  TrackerMisconfigured,
  TrackerName,
  TrackerNotFound,
  TrackerRateLimited,
  TrackerRejected,
  TrackerTokenMissing,
  TrackerUnreachable
} from "./trackers/TrackerError.js"
export {
  DEFAULT_LIST_LIMIT,
  GitHubIssueSource,
  issueFromGitHub,
  issueFromLinear,
  LinearIssueSource,
  TrackerIssueSource
} from "./trackers/TrackerIssueSource.js"
export { TrackerLayer } from "./trackers/TrackerLayer.js"
