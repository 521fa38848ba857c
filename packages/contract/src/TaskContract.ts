/**
 * The TaskContract: what one run is allowed and expected to do, derived from an issue or a packet
 * before the agent starts. The gate's scope check and the harness's permission policy both read it.
 */
import { Schema } from "effect"
import { AcceptanceCriterion, VerificationStep } from "./Issue.js"
import { IssueId, RunKey } from "./Ids.js"

/** How risky a change looks from its text and footprint. */
export const RiskLevel = Schema.Literals(["low", "medium", "high", "critical"])
export type RiskLevel = typeof RiskLevel.Type

/** The frozen contract for one run. */
export class TaskContract extends Schema.Class<TaskContract>("@spec-orch/contract/TaskContract")({
  runKey: RunKey,
  issueId: IssueId,
  intent: Schema.String,
  /** Paths (prefixes, or globs) the change may touch; empty means "no declared footprint". */
  allowedPaths: Schema.Array(Schema.String),
  forbiddenPaths: Schema.Array(Schema.String),
  acceptanceCriteria: Schema.Array(AcceptanceCriterion),
  verification: Schema.Array(VerificationStep),
  constraints: Schema.Array(Schema.String),
  riskLevel: RiskLevel,
  /** Spending limits for the agent turn; absent means unlimited. */
  budget: Schema.optionalKey(
    Schema.Struct({
      maxUsd: Schema.optionalKey(Schema.Number),
      maxTokens: Schema.optionalKey(Schema.Number),
      maxSeconds: Schema.optionalKey(Schema.Number)
    })
  )
}) {}
