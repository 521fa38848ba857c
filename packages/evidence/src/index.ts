/**
 * @spec-orch/evidence: judging. Gate policies and profiles, conditions, the pure `evaluate`
 * function, findings, deviations, reviews, human acceptance, reports and the evidence ledger.
 *
 * Embeddable: depends on effect, zod, yaml and @spec-orch/contract only.
 */
export {
  acceptanceChecklist,
  type AcceptanceChecklist,
  humanReview,
  makeAcceptance,
  withEvidence
} from "./Acceptance.js"
export {
  BUILTIN_CONDITIONS,
  type Condition,
  type ConditionContext,
  ConditionRegistry,
  DEFAULT_CONTEXT,
  failed,
  type Judgement,
  notJudgeable,
  oneLine,
  passed
} from "./Conditions.js"
export {
  DEFAULT_BLOCK_ON,
  detectDeviations,
  DEVIATION_SEVERITIES,
  deviationBlocks,
  type DeviationSeverity,
  isIncidental,
  matchesAny,
  matchesEntry,
  normalizePath,
  placeFile,
  SCOPE_DETECTOR
} from "./Deviations.js"
export { decodeEvidence, evidenceJson, parseEvidence } from "./EvidenceFile.js"
export { EvidenceLedger, type LedgerRecord, type TimeRange } from "./EvidenceLedger.js"
export { EvidencePlane } from "./EvidencePlane.js"
export { findingId, makeFinding, mergeFindings, type NewFinding, resolveFinding } from "./Findings.js"
export {
  evaluate,
  evaluatePlan,
  Gate,
  type GatePlan,
  type PlannedCondition,
  resolveProfile,
  verdictHeadline
} from "./Gate.js"
export { FindingNotFound, LedgerError, NoEvidence, NothingToAccept, UnknownProfile } from "./GateError.js"
export { GatePolicies, type PolicyUnavailable } from "./GatePolicies.js"
export {
  BUILTIN_PROFILES,
  defaultGatePolicy,
  ENFORCED_CONDITIONS,
  type GatePolicy,
  GatePolicyFile,
  loadGatePolicy,
  type PolicyCondition,
  type PolicyProfile,
  policyJson,
  type ProfileReference,
  profileReferenceProblems
} from "./GatePolicy.js"
export {
  comparesKeys,
  DEFAULT_PROTECTED,
  DEFAULT_PROTECTED_KEYS,
  DEFAULT_PROTECTED_PATHS,
  DEFAULT_PROTECTED_TESTS,
  namedByTargets,
  type ProtectedChange,
  protectedChanges,
  type ProtectedKeys,
  type ProtectedPaths
} from "./ProtectedPaths.js"
export {
  markdownForTerminal,
  mdFence,
  mdText,
  REPORT_SCHEMA_VERSION,
  ReportJson,
  type ReportOptions,
  renderExplain,
  reportJson
} from "./Reports.js"
export {
  type DiffPart,
  type DiffPlan,
  fenceUntrusted,
  planDiff,
  ReviewAnswer,
  type ReviewOutcome,
  Reviewer,
  type ReviewerOptions,
  type ReviewRequest,
  reviewPrompt,
  reviewPrompts,
  splitDiff
} from "./Reviewer.js"
