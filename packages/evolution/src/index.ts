/**
 * @spec-orch/evolution: Learning: memory, evidence analytics, retrospectives and proposals promoted only through explicit, reversible approval; implements Learnings.
 */
export {
  Analytics,
  compareRates,
  type Comparison,
  type Degradation,
  degradationOf,
  fisherExact,
  InvalidSelector,
  InvalidWindow,
  type Outcome,
  type OutcomeCounts,
  outcomeOf,
  parseSelector,
  PASS_RATE_RULE,
  type ProportionTest,
  type Rate,
  type RunFacts,
  RunHistory,
  RunHistoryError,
  type StageTime,
  summarize,
  type Summary,
  TEST_RULE,
  twoProportionZ,
  wilson
} from "./Analytics.js"
export { EvolutionPlane } from "./EvolutionPlane.js"
export {
  type EmbedResult,
  type EntityRef,
  type EntityType,
  EntityTypes,
  InvalidMemoryEntry,
  Memory,
  type MemoryEntry,
  MemoryError,
  type MemoryInput,
  type MemoryLayer,
  MemoryLayers,
  MemoryNotFound,
  migrateMemory,
  parseEntityRef,
  type Provenance,
  type Recalled,
  type RecallQuery,
  type Retriever,
  type SearchResult,
  type VectorRecall
} from "./Memory.js"
export { memoryStatus, type MemoryStatus, noteInput, reindexMemory } from "./MemoryAdmin.js"
export {
  type CompactedScope,
  type CompactionModel,
  type CompactionResult,
  compactMemory,
  parseAge,
  summaryOf
} from "./MemoryCompaction.js"
export {
  AUDIENCE_KINDS,
  LEARNING_KINDS,
  LEARNING_MIN_SIMILARITY,
  learningOf,
  MAX_LEARNING_CHARS,
  MAX_LEARNINGS,
  MemoryLearnings,
  missionScopesOf,
  scopesOf,
  teaches
} from "./MemoryLearnings.js"
export { type MissionRetroInput, type MissionRetroPacket, renderMissionRetrospective } from "./MissionRetrospective.js"
export { type ArmCounts, decidePromotion, type PromotionDecision, type PromotionPlan } from "./PromotionRule.js"
export {
  appliesTo,
  appliesToMission,
  MAX_PROPOSAL_LEARNINGS,
  proposalLearning,
  proposalLearningId,
  ProposalLearnings,
  reachesIssue
} from "./ProposalLearnings.js"
export {
  type Actor,
  contentHash,
  HUMAN_APPROVAL_KINDS,
  HumanApprovalRequired,
  IllegalTransition,
  IN_USE_STATES,
  inCanary,
  InvalidProposal,
  migrateProposals,
  type Proposal,
  ProposalError,
  type ProposalInput,
  type ProposalKind,
  ProposalKinds,
  ProposalNotFound,
  type ProposalQuery,
  Proposals,
  type ProposalSources,
  type ProposalState,
  ProposalStates,
  type ProposalTransition,
  type TransitionRequest,
  TRANSITIONS
} from "./Proposals.js"
export {
  type FailurePattern,
  failurePatterns,
  projectProfile,
  type ProjectProfile,
  type ReadModels,
  readModels,
  readModelsOf,
  type SuccessRecipe,
  successRecipes,
  type TrendPoint,
  trends
} from "./ReadModels.js"
export {
  type ArmOutcome,
  armOutcome,
  DEFAULT_HELD_OUT,
  type HeldOut,
  heldOutCandidates,
  REPLAY_METRIC,
  replayCounts,
  type ReplayOutcome,
  replayRunKey,
  selectHeldOut,
  sourceIssues
} from "./Replay.js"
export { renderRetrospective, type RetroInput, type RetroRun } from "./Retrospective.js"
export { evidenceEntries, type OpenFailures, runEntries, RunMemory } from "./RunMemory.js"
export { proposeFromFailures, VERIFICATION_EVOLVER, verificationLearnings } from "./VerificationEvolver.js"
export {
  backtestSummary,
  COMPLIANCE_EVOLVER,
  COMPLIANCE_EVOLVER_DEFAULTS,
  type ComplianceCandidate,
  type ComplianceEvolution,
  type ComplianceEvolverOptions,
  commandSignatures,
  complianceRuleContent,
  type ProposedComplianceRule,
  proposeComplianceRules,
  signaturePattern,
  synthesizeComplianceRules
} from "./ComplianceEvolver.js"
export {
  distillPolicy,
  findPolicyCandidates,
  ledgerIssues,
  parsePolicyAnswer,
  POLICY_DEFAULTS,
  POLICY_DISTILLER,
  type PolicyCandidate,
  policyCandidates,
  PolicyDistillError,
  type PolicyDistillation,
  type PolicyIssue,
  type PolicyOptions
} from "./PolicyDistiller.js"
export { ProposalRules } from "./ProposalRules.js"
export { finishedRuns, MAX_EVIDENCE_RUNS, type RunEvidence } from "./RunEvidence.js"
export {
  type FailedRun,
  failureDigest,
  PROMPT_VARIANT_DEFAULTS,
  PROMPT_VARIANT_EVOLVER,
  PromptVariantAnswer,
  type PromptVariantEvolution,
  type PromptVariantOptions,
  proposePromptVariants,
  usableInstruction
} from "./PromptVariantEvolver.js"
export {
  type ProposedScoperHint,
  proposeScoperHints,
  SCOPER_HINT_DEFAULTS,
  SCOPER_HINT_EVOLVER,
  type ScoperHintCandidate,
  scoperHintCandidates,
  type ScoperHintOptions,
  scoperHintText
} from "./ScoperHintEvolver.js"
export {
  type MinedSkill,
  mineSkills,
  type ProposedSkill,
  proposeSkills,
  SKILLS_MINER,
  SKILLS_MINER_DEFAULTS,
  type SkillsMinerOptions,
  skillContent,
  skillName,
  supportSummary
} from "./SkillsMiner.js"
