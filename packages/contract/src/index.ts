/**
 * @spec-orch/contract: the shared vocabulary of spec-orch. Domain schemas and ids, the files people
 * write and their loaders, and the IssueSource interface. Depends on effect, zod and parsers only.
 */
export { HumanAcceptance } from "./Acceptance.js"
export {
  AgentEvent,
  AgentOutcome,
  AgentOutcomeKind,
  AgentUsage,
  CommandEvent,
  ErrorEvent,
  FailedToolCall,
  FileChangeEvent,
  MAX_FAILED_TOOL_CALLS,
  MAX_TOOL_SEQUENCE,
  MessageEvent,
  PlanEvent,
  ReasoningEvent,
  SessionEvent,
  ToolCallEvent,
  ToolKind,
  ToolResultEvent,
  TurnEndEvent,
  UsageEvent,
  ToolCallTelemetry
} from "./AgentEvent.js"
export {
  BUILDER_ADAPTERS,
  CommandSpec,
  ConfigFile,
  type ConfiguredStep,
  configuredSteps,
  DEFAULT_ALLOWED_ASSOCIATIONS,
  GITHUB_AUTHOR_ASSOCIATIONS,
  HOST_PATTERN,
  NOTIFY_EVENTS,
  NOTIFY_KINDS,
  SANDBOX_MODES,
  type SpecOrchConfig,
  verificationEnv
} from "./ConfigFile.js"
export { ContractPlane } from "./ContractPlane.js"
export { Deviation } from "./Deviation.js"
export { renderError, Unexpected } from "./ErrorText.js"
export {
  BudgetEvidence,
  ComplianceReport,
  ComplianceViolation,
  EvidenceBundle,
  Footprint,
  PreviewEvidence,
  SecretFinding,
  SpecEvidence
} from "./Evidence.js"
export { changedKeys, FileChange, fileChangeStatus, FileChangeStatus } from "./FileChange.js"
export { didYouMean, FileMissing, FileProblem, formatProblem, InvalidFile } from "./FileProblem.js"
export { atomicWriter, sha256 } from "./Files.js"
export { Finding, findingBlocks, findingFingerprint } from "./Finding.js"
export { ConditionResult, ConditionStatus, GateVerdict } from "./GateVerdict.js"
export {
  IssueId,
  makeIssueId,
  makeMissionId,
  makePacketId,
  makeRunId,
  makeRunKey,
  MissionId,
  PacketId,
  RunId,
  RunKey,
  slugify
} from "./Ids.js"
export { earsKind } from "./imports/Ears.js"
export { importEars } from "./imports/Ears.js"
export { importGherkin } from "./imports/Gherkin.js"
export type { ImportedCriterion, ImportedSpec, SourceFile, TaskGroup } from "./imports/Imported.js"
export { importOpenSpec } from "./imports/OpenSpec.js"
export { importSpecKit } from "./imports/SpecKit.js"
export {
  AcceptanceCriterion,
  Issue,
  IssueAuthor,
  IssueOrigin,
  MissionRef,
  RunClass,
  VerificationCommand,
  VerificationStep
} from "./Issue.js"
export { IssueFixture, issueFromFixture, type ParsedIssue, parseIssueJson, parseIssueMarkdown } from "./IssueFile.js"
export {
  type IssueListing,
  IssueNotFound,
  type IssueQuery,
  IssueSource,
  type IssueSourceError,
  IssueSourceUnavailable
} from "./IssueSource.js"
export { type Locator, positionOf, type Position, tomlLocator, yamlLocator } from "./Locations.js"
export { canTransitionMission, Mission, MissionStatus } from "./Mission.js"
export {
  MissionExists,
  MissionFile,
  missionFileText,
  Missions,
  type MissionsError,
  missionSpecSkeleton,
  MissionTransitionRefused,
  type MissionView
} from "./Missions.js"
export {
  type CallRequest,
  type CallUsage,
  describeModelAnswered,
  type ModelAnswered,
  modelAnsweredOf,
  modelCallsOfFailure
} from "./ModelAttribution.js"
export {
  describeModelCalls,
  formatModelCost,
  type ModelCallFacts,
  ModelCallsSummary,
  ModelRoleUsage,
  summarizeModelCalls
} from "./ModelCalls.js"
export { Plan, PlannerRequest, PlannerUsage, PlanStatus, Wave, WorkPacket } from "./Plan.js"
export {
  type ParsedPlan,
  parsePlanJson,
  PlanFile,
  planFromFile,
  planToFile,
  planToJson,
  WaveFile,
  WorkPacketFile
} from "./PlanFile.js"
export { defaultConfig, type LoadedConfig, parseConfig, Project, projectDirectory } from "./Project.js"
export {
  type Detection,
  type DetectionInput,
  detectProject,
  PYTHON_CONFIG_FILES,
  renderInitialConfig
} from "./ProjectDetection.js"
export { ReviewPartialView, ReviewVerdict, ReviewVerdictKind } from "./Review.js"
export { RunRecord, RunStage, RunStages, RunStatus } from "./RunRecord.js"
export {
  Decision,
  Question,
  QuestionCategory,
  SpecApproval,
  SpecSnapshot,
  specState,
  unresolvedBlocking
} from "./Spec.js"
export {
  criteriaChanges,
  describeCriteriaChanges,
  renderImportedSpec,
  SPEC_FORMATS,
  type SpecFormat,
  type SpecImportError,
  type SpecImportInput,
  type SpecImportOutcome,
  SpecImportRefused,
  SpecImports,
  SpecSourceUnusable,
  withoutSourceNote
} from "./SpecImport.js"
export { QuestionNotFound, specContent, Specs } from "./Specs.js"
export { RiskLevel, TaskContract } from "./TaskContract.js"
export {
  assessRisk,
  generateTaskContract,
  loadTaskContract,
  type RiskAssessment,
  type RiskReason,
  taskContractToYaml,
  TaskContractYaml
} from "./TaskContractFile.js"
export { describeValue, type Validated, validateWith, valueAt } from "./Validation.js"
export { Confinement, stepFailed, StepOutcome, StepResult, VerificationReport } from "./Verification.js"
