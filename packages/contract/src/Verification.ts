/**
 * Verification results. A step that was not configured is `skipped`, never `failed`; a missing
 * binary, a timeout and a crash are distinct outcomes so the report can say which happened.
 */
import { Schema } from "effect"

/** How one step ended. */
export const StepOutcome = Schema.Literals(["passed", "failed", "skipped", "timed_out", "missing_binary", "crashed"])
export type StepOutcome = typeof StepOutcome.Type

/** One step's result. */
export class StepResult extends Schema.Class<StepResult>("@spec-orch/contract/StepResult")({
  name: Schema.String,
  outcome: StepOutcome,
  /** The argv that ran (after `{python}`-style tokens were expanded), or `["sh","-c",…]`. */
  command: Schema.Array(Schema.String),
  exitCode: Schema.NullOr(Schema.Number),
  durationMs: Schema.Number,
  /** The last lines of combined output, for reports. Full output is in `logPath`. */
  outputTail: Schema.String,
  logPath: Schema.optionalKey(Schema.String),
  /** Why a step was skipped / what went wrong, in one sentence. */
  note: Schema.optionalKey(Schema.String),
  /** Worktree files (repo-relative) the step changed, added or deleted outside ignored paths; absent when it changed none. */
  modified: Schema.optionalKey(Schema.Array(Schema.String))
}) {}

/**
 * How a process ran with respect to the OS sandbox: whether it was confined, one line each on how
 * (or why not), and the network connections the box's proxy refused.
 */
export class Confinement extends Schema.Class<Confinement>("@spec-orch/contract/Confinement")({
  confined: Schema.Boolean,
  notes: Schema.Array(Schema.String),
  /** e.g. "refused network access to evil.example:443: not an allowed host". */
  refused: Schema.Array(Schema.String)
}) {}

/** All steps of one verification. */
export class VerificationReport extends Schema.Class<VerificationReport>("@spec-orch/contract/VerificationReport")({
  steps: Schema.Array(StepResult),
  /** What the reader must know about the environment the steps ran in (e.g. a lockfile the agent changed). */
  notes: Schema.optionalKey(Schema.Array(Schema.String)),
  /** How the steps were confined (absent in reports made before the sandbox existed). */
  sandbox: Schema.optionalKey(Confinement),
  startedAt: Schema.String,
  finishedAt: Schema.String
}) {}

/** A step counts against the gate only when it ran and did not pass. */
export const stepFailed = (s: StepResult): boolean => s.outcome !== "passed" && s.outcome !== "skipped"
