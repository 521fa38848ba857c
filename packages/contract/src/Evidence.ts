/**
 * The evidence bundle: everything the gate judges for one run, as plain data. The run workflow
 * assembles it; `@spec-orch/evidence` judges it; third-party pipelines can build one from JSON.
 * A field that is absent means "no evidence", which the gate reports as not judgeable, never as
 * a pass or a failure.
 */
import { Schema } from "effect"
import { HumanAcceptance } from "./Acceptance.js"
import { AgentOutcome } from "./AgentEvent.js"
import { Deviation } from "./Deviation.js"
import { FileChange } from "./FileChange.js"
import { Finding } from "./Finding.js"
import { ModelCallsSummary } from "./ModelCalls.js"
import { ReviewVerdict } from "./Review.js"
import { StepResult, VerificationReport } from "./Verification.js"

/** The state of the issue's spec at gate time. */
export class SpecEvidence extends Schema.Class<SpecEvidence>("@spec-orch/contract/SpecEvidence")({
  exists: Schema.Boolean,
  state: Schema.Literals(["approved", "unapproved", "changed-since-approval"]),
  contentHash: Schema.optionalKey(Schema.String),
  unresolvedBlockingQuestions: Schema.Number
}) {}

/** One compliance contract violation found in the agent's events. */
export class ComplianceViolation extends Schema.Class<ComplianceViolation>("@spec-orch/contract/ComplianceViolation")({
  contractId: Schema.String,
  severity: Schema.Literals(["warning", "error"]),
  kind: Schema.String,
  match: Schema.String,
  excerpt: Schema.String
}) {}

/** The compliance report over one agent turn. `compliant` = no error-severity violation. */
export class ComplianceReport extends Schema.Class<ComplianceReport>("@spec-orch/contract/ComplianceReport")({
  compliant: Schema.Boolean,
  errorCount: Schema.Number,
  warningCount: Schema.Number,
  contracts: Schema.Array(Schema.String),
  violations: Schema.Array(ComplianceViolation)
}) {}

/** Spend against limits. A limit that is absent is not checked. */
export class BudgetEvidence extends Schema.Class<BudgetEvidence>("@spec-orch/contract/BudgetEvidence")({
  spentUsd: Schema.optionalKey(Schema.Number),
  limitUsd: Schema.optionalKey(Schema.Number),
  tokens: Schema.optionalKey(Schema.Number),
  limitTokens: Schema.optionalKey(Schema.Number),
  seconds: Schema.optionalKey(Schema.Number),
  limitSeconds: Schema.optionalKey(Schema.Number)
}) {}

/** The declared footprint of the change (issue files, or a packet's files in scope). */
export class Footprint extends Schema.Class<Footprint>("@spec-orch/contract/Footprint")({
  /** Paths, directory prefixes (`src/api/`) or globs (`src/**\/*.ts`); empty = no declared footprint. */
  allowed: Schema.Array(Schema.String),
  forbidden: Schema.Array(Schema.String)
}) {}

/**
 * A secret the scan found on a line the run's diff adds. Names the place and the rule, never the
 * secret itself, so it can be shown, stored and published.
 */
export class SecretFinding extends Schema.Class<SecretFinding>("@spec-orch/contract/SecretFinding")({
  /** The file, relative to the repository root, as the diff names it. */
  file: Schema.String,
  /** The line in the new version of the file (1-based). */
  line: Schema.Number,
  /** The rule that matched, e.g. `@secretlint/secretlint-rule-github` or `spec-orch/env-value`. */
  rule: Schema.String,
  /** What was found, with the secret masked (e.g. `found GitHub Token`). */
  message: Schema.String
}) {}

/**
 * The preview check. `required` = a preview must pass for this change; `step` is the `[preview]`
 * command's result when one ran (its outcome decides `passed`), `url` where the preview lives.
 */
export const PreviewEvidence = Schema.Struct({
  required: Schema.Boolean,
  passed: Schema.optionalKey(Schema.Boolean),
  step: Schema.optionalKey(StepResult),
  url: Schema.optionalKey(Schema.String)
})
export type PreviewEvidence = typeof PreviewEvidence.Type

/** Everything the gate judges for one run. */
export class EvidenceBundle extends Schema.Class<EvidenceBundle>("@spec-orch/contract/EvidenceBundle")({
  schemaVersion: Schema.Literal(1),
  issueId: Schema.String,
  runId: Schema.optionalKey(Schema.String),
  spec: Schema.optionalKey(SpecEvidence),
  builder: Schema.optionalKey(AgentOutcome),
  verification: Schema.optionalKey(VerificationReport),
  review: Schema.optionalKey(ReviewVerdict),
  findings: Schema.optionalKey(Schema.Array(Finding)),
  deviations: Schema.optionalKey(Schema.Array(Deviation)),
  /** Files changed by the run, relative to the repository root, vs the run's base commit. */
  changedFiles: Schema.optionalKey(Schema.Array(Schema.String)),
  /** The same files with git's status (added, modified, deleted) and, for compared manifests, the keys that changed. */
  fileChanges: Schema.optionalKey(Schema.Array(FileChange)),
  /**
   * spec-orch's own configuration files as this run's configuration names them (spec-orch.toml, the
   * gate policy, the compliance contracts), repository-relative: a change to them is always protected.
   */
  configFiles: Schema.optionalKey(Schema.Array(Schema.String)),
  footprint: Schema.optionalKey(Footprint),
  /** sha256 of the run's diff against its base; acceptance and review are pinned to it. */
  diffHash: Schema.optionalKey(Schema.String),
  acceptance: Schema.optionalKey(HumanAcceptance),
  compliance: Schema.optionalKey(ComplianceReport),
  budget: Schema.optionalKey(BudgetEvidence),
  preview: Schema.optionalKey(PreviewEvidence),
  /** Secrets found on the lines the diff adds; absent = no scan ran, empty = scanned and nothing found. */
  secrets: Schema.optionalKey(Schema.Array(SecretFinding)),
  /** The run's model calls (the LLM reviewer's, …): per role, requests, tokens, cost and latency. */
  modelCalls: Schema.optionalKey(ModelCallsSummary),
  /** Evidence for conditions an embedder registers, keyed by condition name; built-in conditions never read it. */
  extensions: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown))
}) {}
