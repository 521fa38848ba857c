/**
 * The canonical record of one run. One run model serves a single issue and a mission's work packet
 * alike; the stage list below is the whole workflow, in order.
 */
import { Schema } from "effect"
import { GateVerdict } from "./GateVerdict.js"
import { IssueId, RunId, RunKey } from "./Ids.js"
import { ModelCallsSummary } from "./ModelCalls.js"

/** The workflow's stages, in order. */
export const RunStages = [
  "load",
  "spec",
  "workspace",
  "context",
  "agent",
  "commit",
  "verify",
  "preview",
  "review",
  "gate",
  "record",
  "publish"
] as const
export const RunStage = Schema.Literals(RunStages)
export type RunStage = typeof RunStage.Type

/** Where a run is. `blocked` = finished, but the gate says not mergeable. */
export const RunStatus = Schema.Literals([
  "queued",
  "running",
  "succeeded",
  "blocked",
  "failed",
  "cancelled",
  "waiting"
])
export type RunStatus = typeof RunStatus.Type

/** One run. */
export class RunRecord extends Schema.Class<RunRecord>("@spec-orch/contract/RunRecord")({
  runId: RunId,
  runKey: RunKey,
  issueId: IssueId,
  attempt: Schema.Number,
  status: RunStatus,
  stage: RunStage,
  startedAt: Schema.String,
  updatedAt: Schema.String,
  finishedAt: Schema.optionalKey(Schema.String),
  /** One sentence: what happened or what is needed. */
  message: Schema.optionalKey(Schema.String),
  adapter: Schema.optionalKey(Schema.String),
  worktree: Schema.optionalKey(Schema.String),
  branch: Schema.optionalKey(Schema.String),
  headCommit: Schema.optionalKey(Schema.String),
  verdict: Schema.optionalKey(GateVerdict),
  costUsd: Schema.optionalKey(Schema.Number),
  inputTokens: Schema.optionalKey(Schema.Number),
  outputTokens: Schema.optionalKey(Schema.Number),
  /** The run's model calls so far (the LLM reviewer's, …), beside the agent's usage above. */
  modelCalls: Schema.optionalKey(ModelCallsSummary),
  artifactsDir: Schema.optionalKey(Schema.String),
  /** [cluster] The salt in the run's execution id that placed it on a runner with free slots (absent: the run id alone). */
  placement: Schema.optionalKey(Schema.String)
}) {}
