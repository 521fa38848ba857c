/**
 * @spec-orch/harness: What makes models and agents reliable: model registry and chains, context assembly, compliance contracts, permission policy, budgets, skills and the Learnings interface.
 */
export {
  type AgentPolicy,
  type Answer,
  answerPermission,
  type PermissionAsk,
  policyFromBuilder,
  type PolicyHost
} from "./AgentPolicy.js"
export { type Budgets, isUnlimited, overBudget, type Spend, SpendMeter } from "./Budgets.js"
export {
  type Attribution,
  attributionOf,
  callsOfFailure,
  type CallUsage,
  describeAttribution
} from "./ChainAttribution.js"
export {
  compilePattern,
  Compliance,
  type ComplianceContract,
  complianceScanner,
  defaultComplianceContracts,
  evaluateCompliance,
  loadComplianceContracts
} from "./Compliance.js"
export { type ParsedEventLog, parseEventLog } from "./ComplianceEvents.js"
export {
  type LearnedComplianceRule,
  type LearnedForIssue,
  type LearnedPolicy,
  LearnedRules,
  type LearnedSkill,
  normalizeLabels,
  parseLearnedComplianceRule,
  parseLearnedPolicy,
  parseLearnedSkill,
  POLICY_SCRIPT_MAX_BYTES,
  policyContent,
  policyScriptProblem,
  policySecretProblem,
  policyMatches,
  SKILL_DIRS,
  SKILL_NAME
} from "./LearnedRules.js"
export {
  assembleContext,
  ContextAssembler,
  type ContextEnvelope,
  type ContextFeedback,
  type ContextInput,
  type ContextSection,
  DEFAULT_MAX_PROMPT_TOKENS,
  DEFAULT_MAX_SECTION_TOKENS,
  estimateTokens,
  fenceUntrusted
} from "./ContextAssembler.js"
export { environmentProvider, hostEnvironment } from "./Environment.js"
export { HarnessPlane } from "./HarnessPlane.js"
export {
  type EmbeddingSetup,
  Embeddings,
  embeddingsUrl,
  openAiEmbeddingModel,
  resolveEmbedding
} from "./Embeddings.js"
export {
  type Learning,
  type LearningAudience,
  Learnings,
  LearningsOverride,
  type LearningsOverrideShape,
  LEARNING_TOKENS,
  type MissionScope,
  withinTokens
} from "./Learnings.js"
export {
  type ChainOptions,
  DEFAULT_PROGRESS_EVERY_MS,
  DEFAULT_RETRY,
  DEFAULT_ROLE_TIMEOUT_MS,
  ModelChain,
  type RetryPolicy
} from "./ModelChain.js"
export {
  type ApiType,
  apiTypeOf,
  type ChainPlan,
  configuredProfiles,
  DEFAULT_FIRST_BYTE_MS,
  DEFAULT_TIMEOUT_MS,
  describeProfile,
  ENV_API_TYPE_VAR,
  ENV_MODEL_VAR,
  type EnvLookup,
  envNamesOf,
  type KeySource,
  LLM_ROLES,
  type LlmRole,
  type ModelProfile,
  resolveChain,
  resolveModelRef,
  resolveRole,
  ROLE_DEFAULT_MAX_TOKENS,
  type RoleSource,
  usableMembers
} from "./ModelRegistry.js"
export { type ModelCheck, Models, type ModelsOptions, type RoleModels } from "./Models.js"
export {
  ApiTypeUnknown,
  ChainUnknown,
  describeMissing,
  ModelsError,
  ModelUnknown,
  RoleNotConfigured,
  RoleUnusable
} from "./ModelsError.js"
export { costOf, ModelCall, ModelUsage, totalsOf, type UsageTotals } from "./ModelUsage.js"
export {
  type CallContext,
  partsToStream,
  PROVIDER_MODULE,
  providerFor,
  type ProviderGenerate,
  Providers,
  salvageJson,
  scrubKey
} from "./Providers.js"
export { configuredSecretNames, Redactor, secretValues } from "./Redaction.js"
export { schemaProblems } from "./SchemaProblems.js"
export {
  environmentRedactor,
  isSecretName,
  makeRedactor,
  MIN_SECRET_LENGTH,
  type RedactorShape,
  type SecretValue,
  TOKEN_SHAPES,
  type TokenShape
} from "./SecretRedaction.js"
export { addedLines, type AddedLines, ENV_VALUE_RULE, SecretScan, SecretScanFailed } from "./SecretScan.js"
