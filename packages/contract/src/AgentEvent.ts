/**
 * The normalized agent event stream. Every adapter (Claude Code, Codex, opencode, Droid, ACP,
 * command) maps its own protocol into these, so compliance, budgets, logs and the gate read one
 * shape. The raw lines are kept separately, verbatim.
 */
import { Schema } from "effect"
import { Confinement } from "./Verification.js"

const base = {
  /** Milliseconds since the epoch when spec-orch saw the event. */
  at: Schema.Number
}

/** Assistant (or user) text. */
export const MessageEvent = Schema.TaggedStruct("message", {
  ...base,
  role: Schema.Literals(["assistant", "user", "system"]),
  text: Schema.String
})
/** Model reasoning text, when the agent exposes it. */
export const ReasoningEvent = Schema.TaggedStruct("reasoning", { ...base, text: Schema.String })
/** The agent asked for a tool. */
export const ToolCallEvent = Schema.TaggedStruct("tool_call", {
  ...base,
  id: Schema.String,
  name: Schema.String,
  input: Schema.Unknown
})
/** What a tool call does, as far as a failure summary cares: change files, run a command, or anything else. */
export const ToolKind = Schema.Literals(["file_change", "command", "other"])
export type ToolKind = typeof ToolKind.Type

/**
 * A tool finished. `ok: false` is the protocol's own verdict (an error result, a failed status). The
 * optional fields describe a failure: `denied` when a permission mode, the agent's sandbox or
 * spec-orch's policy refused the call rather than it failing while it ran; `error` the reason when
 * the protocol gives one apart from the output; `kind` and `paths` what the call meant to do (paths
 * relative to the worktree when inside it); `name` when no `tool_call` with this id came before.
 */
export const ToolResultEvent = Schema.TaggedStruct("tool_result", {
  ...base,
  id: Schema.String,
  ok: Schema.Boolean,
  output: Schema.String,
  name: Schema.optionalKey(Schema.String),
  kind: Schema.optionalKey(ToolKind),
  denied: Schema.optionalKey(Schema.Boolean),
  error: Schema.optionalKey(Schema.String),
  paths: Schema.optionalKey(Schema.Array(Schema.String))
})
/** A shell command ran (or started, when `exitCode` is absent). */
export const CommandEvent = Schema.TaggedStruct("command", {
  ...base,
  command: Schema.String,
  exitCode: Schema.optionalKey(Schema.Number),
  output: Schema.optionalKey(Schema.String)
})
/** A file was created, changed or deleted. Paths are relative to the worktree when possible. */
export const FileChangeEvent = Schema.TaggedStruct("file_change", {
  ...base,
  path: Schema.String,
  kind: Schema.Literals(["add", "update", "delete"])
})
/** The agent's own plan / todo list. */
export const PlanEvent = Schema.TaggedStruct("plan", {
  ...base,
  entries: Schema.Array(Schema.Struct({ text: Schema.String, status: Schema.String }))
})
/** Token usage and cost reported by the agent (cumulative for the turn when the protocol says so). */
export const UsageEvent = Schema.TaggedStruct("usage", {
  ...base,
  inputTokens: Schema.Number,
  outputTokens: Schema.Number,
  cacheReadTokens: Schema.optionalKey(Schema.Number),
  costUsd: Schema.optionalKey(Schema.Number),
  cumulative: Schema.Boolean
})
/** The turn ended; `reason` is the protocol's own terminal reason. */
export const TurnEndEvent = Schema.TaggedStruct("turn_end", {
  ...base,
  reason: Schema.String,
  ok: Schema.Boolean,
  text: Schema.optionalKey(Schema.String)
})
/** An error the agent reported. */
export const ErrorEvent = Schema.TaggedStruct("error", { ...base, message: Schema.String })
/** Session metadata (session id, model) once known. */
export const SessionEvent = Schema.TaggedStruct("session", {
  ...base,
  sessionId: Schema.String,
  model: Schema.optionalKey(Schema.String)
})

/** One normalized agent event. */
export const AgentEvent = Schema.Union([
  MessageEvent,
  ReasoningEvent,
  ToolCallEvent,
  ToolResultEvent,
  CommandEvent,
  FileChangeEvent,
  PlanEvent,
  UsageEvent,
  TurnEndEvent,
  ErrorEvent,
  SessionEvent
])
export type AgentEvent = typeof AgentEvent.Type

/** Totals over a turn. */
export class AgentUsage extends Schema.Class<AgentUsage>("@spec-orch/contract/AgentUsage")({
  inputTokens: Schema.Number,
  outputTokens: Schema.Number,
  costUsd: Schema.optionalKey(Schema.Number)
}) {}

/** One tool call that failed or was refused during a turn, for the outcome's summary. */
export const FailedToolCall = Schema.Struct({
  /** The agent's tool name (`Write`, `apply_patch`, `bash`, …). */
  name: Schema.String,
  kind: ToolKind,
  /** The protocol's reason, on one line and bounded (`permission denied`, `exit code 1: …`). */
  reason: Schema.String,
  /** Refused (permission mode, sandbox, policy) rather than failed while running. */
  denied: Schema.optionalKey(Schema.Boolean),
  /** What it acted on: the paths it meant to change, or the command. */
  target: Schema.optionalKey(Schema.String)
})
export type FailedToolCall = typeof FailedToolCall.Type

/** How many failed tool calls an outcome lists at most (`failedToolCallCount` has the total). */
export const MAX_FAILED_TOOL_CALLS = 20

/** How many tool names an outcome's `toolCalls.sequence` keeps at most. */
export const MAX_TOOL_SEQUENCE = 100

/** Tool-call telemetry of one turn. */
export const ToolCallTelemetry = Schema.Struct({
  total: Schema.Number,
  byName: Schema.Record(Schema.String, Schema.Number),
  sequence: Schema.Array(Schema.String)
})
export type ToolCallTelemetry = typeof ToolCallTelemetry.Type

/** How an agent turn ended. Only `completed` counts as the builder succeeding. */
export const AgentOutcomeKind = Schema.Literals([
  "completed",
  "failed",
  "timed_out",
  "stalled",
  "budget_exceeded",
  "cancelled",
  "skipped"
])
export type AgentOutcomeKind = typeof AgentOutcomeKind.Type

/** The typed result of one agent turn. */
export class AgentOutcome extends Schema.Class<AgentOutcome>("@spec-orch/contract/AgentOutcome")({
  kind: AgentOutcomeKind,
  adapter: Schema.String,
  /** The agent's own words for a failure, or why we stopped it. */
  message: Schema.optionalKey(Schema.String),
  finalText: Schema.optionalKey(Schema.String),
  sessionId: Schema.optionalKey(Schema.String),
  exitCode: Schema.optionalKey(Schema.NullOr(Schema.Number)),
  usage: AgentUsage,
  durationMs: Schema.Number,
  eventCount: Schema.Number,
  filesChanged: Schema.Array(Schema.String),
  commandsRun: Schema.Number,
  /** Output beyond the caps (`[limits]`): lines cut short and bytes not kept in the artifacts. */
  outputTruncated: Schema.optionalKey(
    Schema.Struct({ lines: Schema.Number, lineBytesDropped: Schema.Number, artifactBytesDropped: Schema.Number })
  ),
  /** The first failed or refused tool calls of the turn (at most `MAX_FAILED_TOOL_CALLS`); absent when none failed. */
  failedToolCalls: Schema.optionalKey(Schema.Array(FailedToolCall)),
  /** How many tool calls failed in all (the list above may be cut short); absent when none failed. */
  failedToolCallCount: Schema.optionalKey(Schema.Number),
  /** How the turn was confined by the OS sandbox (absent in outcomes recorded before it existed). */
  sandbox: Schema.optionalKey(Confinement),
  /** The tool calls of the turn, from its normalized events: how many, per tool name, and their names in order (the first `MAX_TOOL_SEQUENCE`); absent when it made none. */
  toolCalls: Schema.optionalKey(ToolCallTelemetry)
}) {}
