/**
 * The running totals of one agent turn, updated event by event, that become its `AgentOutcome`: the
 * session, the last text, commands run, files changed, spend, and a bounded summary of the tool calls
 * that failed or were refused. Pure (no I/O), so the supervisor only feeds it events.
 */
import {
  type AgentEvent,
  type FailedToolCall,
  MAX_FAILED_TOOL_CALLS,
  MAX_TOOL_SEQUENCE,
  type ToolCallTelemetry,
  type ToolKind
} from "@spec-orch/contract"
import { SpendMeter } from "@spec-orch/harness"

const MAX_REASON = 200
const MAX_TARGET = 160

/** One line, at most `max` characters. */
const clip = (text: string, max: number): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

/** The first two non-empty lines of a tool's output (code fences and `Error:` prefixes dropped). */
const gist = (text: string): string | undefined => {
  const lines = text
    .slice(0, 2000)
    .split("\n")
    .map((l) =>
      l
        .replace(/^`{3}\w*$/, "")
        .replace(/^(Error:\s*)+/i, "")
        .trim()
    )
    .filter((l) => l !== "")
  return lines.length === 0 ? undefined : lines.slice(0, 2).join(": ")
}

const clipped = (text: string | undefined) => (text === undefined ? undefined : clip(text, MAX_TARGET))

const listed = (xs: ReadonlyArray<string>, max = 3) =>
  xs.length <= max ? xs.join(", ") : `${xs.slice(0, max).join(", ")} and ${xs.length - max} more`

/** What a tool call acted on, from its input: the command, or the path(s). */
const targetOf = (input: unknown): string | undefined => {
  if (input === null || typeof input !== "object") return undefined
  const i = input as Record<string, unknown>
  const command = i.command ?? i.cmd
  if (typeof command === "string") return command
  if (Array.isArray(command)) return command.map(String).join(" ")
  for (const k of ["file_path", "filePath", "path", "notebook_path"])
    if (typeof i[k] === "string") return i[k] as string
  const changes = i.changes
  if (Array.isArray(changes)) {
    const paths = changes.map((c: any) => c?.path).filter((p): p is string => typeof p === "string")
    if (paths.length > 0) return listed(paths)
  }
  return undefined
}

interface Failure {
  name: string
  kind: ToolKind
  reason: string
  denied: boolean
  target: string | undefined
}

/** Totals the outcome needs, updated event by event. */
export class Tally {
  count = 0
  sessionId: string | undefined
  lastText: string | undefined
  endText: string | undefined
  commands = 0
  readonly files: Array<string> = []
  readonly meter = new SpendMeter()
  /** Tool calls seen so far: their name and what they act on (not their whole input). */
  private readonly calls = new Map<string, { readonly name: string; readonly target: string | undefined }>()
  /** Every failed call by id (`undefined` once past the listed ones), so a failure reported twice counts once. */
  private readonly failedIds = new Map<string, Failure | undefined>()
  private readonly failures: Array<Failure> = []
  private failedCount = 0
  /** Tool calls by name, and their names in order (bounded). */
  private readonly toolNames = new Map<string, number>()
  private readonly sequence: Array<string> = []
  private toolTotal = 0

  add(e: AgentEvent) {
    this.count++
    this.meter.add(e)
    switch (e._tag) {
      case "session":
        this.sessionId ??= e.sessionId
        break
      case "message":
        if (e.role === "assistant") this.lastText = e.text
        break
      case "turn_end":
        if (e.ok && e.text !== undefined) this.endText = e.text
        break
      case "command":
        this.commands++
        break
      case "file_change":
        if (!this.files.includes(e.path)) this.files.push(e.path)
        break
      case "tool_call":
        // A call announced again under the same id (a protocol's update) counts once.
        if (e.id === "" || !this.calls.has(e.id)) this.countTool(e.name)
        this.calls.set(e.id, { name: e.name, target: clipped(targetOf(e.input)) })
        break
      case "tool_result":
        // A result whose call was never announced names its tool itself: it is a call too.
        if (e.name !== undefined && (e.id === "" || !this.calls.has(e.id))) {
          this.countTool(e.name)
          if (e.id !== "") this.calls.set(e.id, { name: e.name, target: undefined })
        }
        if (!e.ok) this.failed(e)
        break
    }
  }

  private countTool(name: string) {
    this.toolTotal++
    this.toolNames.set(name, (this.toolNames.get(name) ?? 0) + 1)
    if (this.sequence.length < MAX_TOOL_SEQUENCE) this.sequence.push(name)
  }

  private failed(e: Extract<AgentEvent, { _tag: "tool_result" }>) {
    const call = this.calls.get(e.id)
    const denied = e.denied === true
    const reason = clip(e.error ?? gist(e.output) ?? (denied ? "permission denied" : "failed"), MAX_REASON)
    const target = e.paths !== undefined && e.paths.length > 0 ? listed(e.paths) : call?.target
    // The same call reported again (a denial first announced, then its result): complete the first record.
    if (e.id !== "" && this.failedIds.has(e.id)) {
      const known = this.failedIds.get(e.id)
      if (known !== undefined) {
        if (denied && !known.denied) {
          known.denied = true
          known.reason = reason
        }
        if (known.kind === "other" && e.kind !== undefined) known.kind = e.kind
        // The protocol's own paths (worktree-relative) say it better than the call's input.
        if (e.paths !== undefined && e.paths.length > 0) known.target = clipped(target)
        else known.target ??= clipped(target)
      }
      return
    }
    this.failedCount++
    const failure: Failure | undefined =
      this.failures.length < MAX_FAILED_TOOL_CALLS
        ? { name: e.name ?? call?.name ?? "tool", kind: e.kind ?? "other", reason, denied, target: clipped(target) }
        : undefined
    if (failure !== undefined) this.failures.push(failure)
    if (e.id !== "") this.failedIds.set(e.id, failure)
  }

  /** The failed tool calls, oldest first (at most `MAX_FAILED_TOOL_CALLS`). */
  failedToolCalls(): ReadonlyArray<FailedToolCall> {
    return this.failures.map((f) => ({
      name: f.name,
      kind: f.kind,
      reason: f.reason,
      ...(f.denied ? { denied: true } : {}),
      ...(f.target !== undefined ? { target: f.target } : {})
    }))
  }

  /** The outcome's tool-call telemetry: absent when the turn made no tool call. */
  toolCallFields(): { readonly toolCalls?: ToolCallTelemetry } {
    return this.toolTotal === 0
      ? {}
      : {
          toolCalls: { total: this.toolTotal, byName: Object.fromEntries(this.toolNames), sequence: [...this.sequence] }
        }
  }

  /** The outcome's failure fields: both absent when no tool call failed. */
  outcomeFields(): { readonly failedToolCalls?: ReadonlyArray<FailedToolCall>; readonly failedToolCallCount?: number } {
    return this.failedCount === 0
      ? {}
      : { failedToolCalls: this.failedToolCalls(), failedToolCallCount: this.failedCount }
  }
}
