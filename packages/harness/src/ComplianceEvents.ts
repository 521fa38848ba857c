/**
 * Reading an event log for `compliance evaluate`: one JSON object a line, either spec-orch's
 * normalized agent events (a run's `events.jsonl`, objects with `_tag`) or the original spec-orch's
 * builder events (`{"kind": "command_start", "text": …}`), mapped onto the same shape. A line that is
 * neither is a problem naming the file, the line and what is wrong with it.
 */
import { AgentEvent, FileProblem } from "@spec-orch/contract"
import { Option, Schema } from "effect"

const decodeEvent = Schema.decodeUnknownOption(AgentEvent)

/** The original's builder event kinds and what each becomes. */
const ORIGINAL_KINDS = [
  "command_start",
  "command_end",
  "message",
  "file_change",
  "reasoning",
  "plan",
  "turn_end",
  "error"
] as const

const str = (v: unknown): string => (typeof v === "string" ? v : v === undefined || v === null ? "" : JSON.stringify(v))
const atOf = (o: Record<string, unknown>): number => {
  if (typeof o.at === "number") return o.at
  if (typeof o.timestamp === "number") return o.timestamp
  if (typeof o.timestamp === "string") {
    const t = Date.parse(o.timestamp)
    if (!Number.isNaN(t)) return t
  }
  return 0
}

/** Maps one of the original's builder events onto an agent event. */
const fromOriginal = (o: Record<string, unknown>): AgentEvent | undefined => {
  const at = atOf(o)
  const text = str(o.text)
  switch (o.kind) {
    case "command_start":
    case "command_end":
      return {
        _tag: "command",
        at,
        command: text,
        ...(typeof o.exit_code === "number" ? { exitCode: o.exit_code } : {})
      }
    case "message":
      return { _tag: "message", at, role: "assistant", text }
    case "reasoning":
      return { _tag: "reasoning", at, text }
    case "file_change":
      return { _tag: "file_change", at, path: str(o.file_path ?? o.text), kind: "update" }
    case "plan":
      return { _tag: "plan", at, entries: text === "" ? [] : [{ text, status: "pending" }] }
    case "turn_end":
      return { _tag: "turn_end", at, reason: "completed", ok: true, text }
    case "error":
      return { _tag: "error", at, message: text }
    default:
      return undefined
  }
}

/** The events of a log, the lines skipped (spec-orch's own cap markers), and the problems found. */
export interface ParsedEventLog {
  readonly events: ReadonlyArray<AgentEvent>
  readonly problems: ReadonlyArray<FileProblem>
  /** Lines spec-orch wrote itself (a cap marker): not events, not problems. */
  readonly notes: ReadonlyArray<string>
}

/** Parses an event log's text (pure); `file` names it in problems. At most 20 problems are listed. */
export const parseEventLog = (text: string, file: string): ParsedEventLog => {
  const events: Array<AgentEvent> = []
  const problems: Array<FileProblem> = []
  const notes: Array<string> = []
  const problem = (line: number, message: string, hint?: string) => {
    if (problems.length < 20)
      problems.push(
        new FileProblem({ file, line, key: "", severity: "error", message, ...(hint !== undefined ? { hint } : {}) })
      )
  }
  const lines = text.split("\n")
  lines.forEach((raw, i) => {
    const line = raw.trim()
    if (line === "") return
    if (line.startsWith("[spec-orch:")) {
      notes.push(line)
      return
    }
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      problem(
        i + 1,
        "not a JSON object",
        "an event log has one JSON object a line (a run's events.jsonl, or the original's builder events)"
      )
      return
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      problem(i + 1, "not a JSON object", "an event log has one JSON object a line")
      return
    }
    const o = value as Record<string, unknown>
    if ("_tag" in o) {
      const decoded = decodeEvent(o)
      if (Option.isSome(decoded)) events.push(decoded.value)
      else
        problem(
          i + 1,
          `not an agent event (_tag "${str(o._tag)}")`,
          "events.jsonl lines are written by spec-orch; was the line edited?"
        )
      return
    }
    if ("kind" in o) {
      const mapped = fromOriginal(o)
      if (mapped !== undefined) events.push(mapped)
      else problem(i + 1, `unknown event kind "${str(o.kind)}"`, `kinds: ${ORIGINAL_KINDS.join(", ")}`)
      return
    }
    problem(
      i + 1,
      'an object with neither "_tag" nor "kind"',
      'an event log has spec-orch\'s agent events ("_tag") or the original\'s builder events ("kind")'
    )
  })
  return { events, problems, notes }
}
