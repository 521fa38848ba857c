/**
 * The shape every agent stream parser has: one stdout line in, normalized `AgentEvent`s out, and a
 * verdict from the protocol's own end signals once the process is gone. Shared helpers for paths and
 * text live here too.
 */
import type { AgentEvent } from "@spec-orch/contract"
import { isAbsolute, relative, sep } from "node:path"

/** How the turn ended according to the agent (the supervisor decides timeouts, stalls and budgets). */
export interface Verdict {
  readonly kind: "completed" | "failed"
  /** The agent's own words for a failure. */
  readonly message?: string
}

/** The process's end, as seen by the supervisor. */
export interface ProcessExit {
  readonly code: number | null
  readonly signal: string | null
  /** The last lines the agent wrote on stderr. */
  readonly stderrTail: string
}

/** A parser for one agent's line-delimited output. Stateful: one per turn. */
export interface LineProtocol {
  /** Events carried by one stdout line (none for lines the protocol does not map). */
  readonly parse: (line: string, at: number) => ReadonlyArray<AgentEvent>
  /** The verdict once the process exited. */
  readonly finish: (exit: ProcessExit) => Verdict
  /**
   * Events carried by one stderr line, for agents that report some failures only there (Codex logs a
   * patch its policy rejected on stderr, never in its JSON stream). Absent = stderr is only logged.
   */
  readonly parseStderr?: (line: string, at: number) => ReadonlyArray<AgentEvent>
}

/** Makes a parser for a turn running in `cwd` (paths in events are made relative to it). */
export type ProtocolFactory = (cwd: string) => LineProtocol

/** Parses a JSON object line, or `undefined` for anything else. */
export const jsonLine = (line: string): Record<string, any> | undefined => {
  const t = line.trim()
  if (t.length < 2 || t.charCodeAt(0) !== 123 /* { */) return undefined
  try {
    const v = JSON.parse(t)
    return typeof v === "object" && v !== null && !Array.isArray(v) ? v : undefined
  } catch {
    return undefined
  }
}

/** `path` relative to `cwd` when it lies inside it; otherwise unchanged. */
export const relativeTo = (cwd: string, path: string): string => {
  if (!isAbsolute(path)) return path
  const r = relative(cwd, path)
  return r === "" || r.startsWith(`..${sep}`) || r === ".." || isAbsolute(r) ? path : r
}

/** Text of a content value: a string, or an array of `{ type: "text", text }` blocks. */
export const textOf = (content: unknown): string => {
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return content === undefined || content === null ? "" : JSON.stringify(content)
  return content.map((b: any) => (typeof b === "string" ? b : typeof b?.text === "string" ? b.text : "")).join("")
}

/** The last few stderr lines, for a failure message when the protocol gave none. */
export const tailMessage = (exit: ProcessExit, what: string): string => {
  const status = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`
  const tail = exit.stderrTail.trim().split("\n").slice(-5).join("\n").slice(-800)
  return tail === "" ? `${what} ${status}` : `${what} ${status}: ${tail}`
}

/** Plan entries from a todo-list tool input (`todos: [{ content, status }]`). */
export const planEntries = (todos: unknown): Array<{ text: string; status: string }> | undefined =>
  Array.isArray(todos)
    ? todos.map((t: any) => ({
        text: String(t?.content ?? t?.text ?? t?.title ?? ""),
        status: String(t?.status ?? (t?.completed === true ? "completed" : "pending"))
      }))
    : undefined
