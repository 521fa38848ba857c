/**
 * Why an agent turn could not be started. A turn that ran and failed is not an error: it is an
 * `AgentOutcome` with kind `failed`, `timed_out`, … These errors mean there was nothing to run.
 */
import { Schema } from "effect"

/** The adapter name is not one spec-orch knows. */
export class UnknownAdapter extends Schema.TaggedError<UnknownAdapter>()("UnknownAdapter", {
  known: Schema.Array(Schema.String),
  suggestion: Schema.optionalKey(Schema.String)
}) {
  override get message() {
    return `is not a known agent adapter${this.suggestion !== undefined ? ` (did you mean "${this.suggestion}"?)` : ""}; set [builder] adapter to one of ${this.known.join(", ")}`
  }
}

/** The agent's program is not installed where we looked. */
export class ExecutableNotFound extends Schema.TaggedError<ExecutableNotFound>()("ExecutableNotFound", {
  name: Schema.String,
  searched: Schema.Array(Schema.String)
}) {
  override get message() {
    const where =
      this.searched.length > 4
        ? `${this.searched.slice(0, 4).join(", ")} and ${this.searched.length - 4} more`
        : this.searched.join(", ")
    return `needs "${this.name}", which was not found (looked in ${where || "nowhere"}); install it (node scripts/install-agents.mjs installs the pinned agent CLIs) or set [builder] executable to its path`
  }
}

/** `[builder]` does not say enough to run this adapter. */
export class AgentConfigInvalid extends Schema.TaggedError<AgentConfigInvalid>()("AgentConfigInvalid", {
  problem: Schema.String
}) {
  override get message() {
    return this.problem
  }
}

/** The operating system refused to start the program. */
export class AgentNotStarted extends Schema.TaggedError<AgentNotStarted>()("AgentNotStarted", {
  executable: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `could not start ${this.executable}: ${this.detail}`
  }
}

/** The run directory for the agent's artifacts cannot be written. */
export class ArtifactsUnwritable extends Schema.TaggedError<ArtifactsUnwritable>()("ArtifactsUnwritable", {
  runDir: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `cannot write the run's artifacts in ${this.runDir}: ${this.detail}`
  }
}

/** An agent turn could not be started; `reason` says why. */
export class AgentError extends Schema.TaggedError<AgentError>()("AgentError", {
  adapter: Schema.String,
  reason: Schema.Union([UnknownAdapter, ExecutableNotFound, AgentConfigInvalid, AgentNotStarted, ArtifactsUnwritable])
}) {
  override get message() {
    return `agent adapter "${this.adapter}" ${this.reason._tag === "UnknownAdapter" || this.reason._tag === "ExecutableNotFound" ? "" : "cannot run: "}${this.reason.message}`
  }
}
