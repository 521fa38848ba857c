/**
 * The normalized agent event stream. Every adapter (Claude Code, Codex, opencode, Droid, ACP,
 * command) maps its own protocol into these, so compliance, budgets, logs and the gate read one
 * shape. The raw lines are kept separately, verbatim.
 */
import { Schema } from "effect"

const base = {
  /** Milliseconds since the epoch when spec-orch saw the event. */
  at: Schema.Number
}

/** Assistant (or user) text. */
export const MessageEvent = Schema.TaggedStruct("message", { ...base, role: Schema.Literals(["assistant", "user", "system"]), text: Schema.String })
/** Model reasoning text, when the agent exposes it. */
export const ReasoningEvent = Schema.TaggedStruct("reasoning", { ...base, text: Schema.String })
/** The agent asked for a tool. */
export const ToolCallEvent = Schema.TaggedStruct("tool_call", { ...base, id: Schema.String, name: Schema.String, input: Schema.Unknown })
/** A tool finished. */
export const ToolResultEvent = Schema.TaggedStruct("tool_result", { ...base, id: Schema.String, ok: Schema.Boolean, output: Schema.String })
/** A shell command ran (or started, when `exitCode` is absent). */
export const CommandEvent = Schema.TaggedStruct("command", { ...base, command: Schema.String, exitCode: Schema.optionalKey(Schema.Number), output: Schema.optionalKey(Schema.String) })
/** A file was created, changed or deleted. Paths are relative to the worktree when possible. */
export const FileChangeEvent = Schema.TaggedStruct("file_change", { ...base, path: Schema.String, kind: Schema.Literals(["add", "update", "delete"]) })
/** The agent's own plan / todo list. */
export const PlanEvent = Schema.TaggedStruct("plan", { ...base, entries: Schema.Array(Schema.Struct({ text: Schema.String, status: Schema.String })) })
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
export const TurnEndEvent = Schema.TaggedStruct("turn_end", { ...base, reason: Schema.String, ok: Schema.Boolean, text: Schema.optionalKey(Schema.String) })
/** An error the agent reported. */
export const ErrorEvent = Schema.TaggedStruct("error", { ...base, message: Schema.String })
/** Session metadata (session id, model) once known. */
export const SessionEvent = Schema.TaggedStruct("session", { ...base, sessionId: Schema.String, model: Schema.optionalKey(Schema.String) })

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

/** How an agent turn ended. Only `completed` counts as the builder succeeding. */
export const AgentOutcomeKind = Schema.Literals(["completed", "failed", "timed_out", "stalled", "budget_exceeded", "cancelled", "skipped"])
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
  outputTruncated: Schema.optionalKey(Schema.Struct({ lines: Schema.Number, lineBytesDropped: Schema.Number, artifactBytesDropped: Schema.Number }))
}) {}
