/**
 * Codex `exec --json` lines to AgentEvents. `turn.completed` is success and `turn.failed` failure;
 * top-level `error` lines are notices (retries) unless the turn fails.
 */
import type { AgentEvent } from "@spec-orch/contract"
import { jsonLine, type LineProtocol, relativeTo, tailMessage, type Verdict } from "./protocol.js"

/** Codex puts the raw provider body in error messages; this digs out the human sentence. */
export const codexMessage = (raw: unknown): string => {
  const text = typeof raw === "string" ? raw : JSON.stringify(raw)
  const inner = jsonLine(text)
  const m = inner?.error?.message ?? inner?.message
  return typeof m === "string" ? m : text
}

/** A parser for one Codex turn. */
export const codexStream = (cwd: string): LineProtocol => {
  let verdict: Verdict | undefined
  let lastError: string | undefined

  const item = (o: any, at: number, done: boolean): Array<AgentEvent> => {
    const it = o.item ?? {}
    const id = String(it.id ?? "")
    switch (it.type) {
      case "agent_message":
        return done && typeof it.text === "string" ? [{ _tag: "message", at, role: "assistant", text: it.text }] : []
      case "reasoning":
        return done && typeof it.text === "string" ? [{ _tag: "reasoning", at, text: it.text }] : []
      case "command_execution": {
        if (!done) return [{ _tag: "tool_call", at, id, name: "command_execution", input: { command: it.command } }]
        const exitCode = typeof it.exit_code === "number" ? it.exit_code : undefined
        const output = String(it.aggregated_output ?? "")
        return [
          { _tag: "tool_result", at, id, ok: it.status === "completed" && (exitCode ?? 0) === 0, output },
          { _tag: "command", at, command: String(it.command ?? ""), output, ...(exitCode !== undefined ? { exitCode } : {}) }
        ]
      }
      case "file_change": {
        const changes: Array<any> = Array.isArray(it.changes) ? it.changes : []
        if (!done) return [{ _tag: "tool_call", at, id, name: "file_change", input: { changes } }]
        const ok = it.status === "completed"
        return [
          { _tag: "tool_result", at, id, ok, output: changes.map((c) => `${c.kind} ${c.path}`).join("\n") },
          ...(ok
            ? changes.map((c): AgentEvent => ({ _tag: "file_change", at, path: relativeTo(cwd, String(c.path)), kind: c.kind === "delete" ? "delete" : c.kind === "add" ? "add" : "update" }))
            : [])
        ]
      }
      case "mcp_tool_call":
      case "web_search":
        return done
          ? [{ _tag: "tool_result", at, id, ok: it.status !== "failed", output: JSON.stringify(it.result ?? it.error ?? it.query ?? "") }]
          : [{ _tag: "tool_call", at, id, name: it.type === "web_search" ? "web_search" : `${it.server}/${it.tool}`, input: it.arguments ?? { query: it.query } }]
      case "todo_list":
        return [{ _tag: "plan", at, entries: (Array.isArray(it.items) ? it.items : []).map((t: any) => ({ text: String(t.text ?? ""), status: t.completed ? "completed" : "pending" })) }]
      case "error":
        return done ? [{ _tag: "message", at, role: "system", text: `warning: ${it.message}` }] : []
      default:
        return []
    }
  }

  const parse = (line: string, at: number): ReadonlyArray<AgentEvent> => {
    const o = jsonLine(line)
    if (o === undefined) return []
    switch (o.type) {
      case "thread.started":
        return typeof o.thread_id === "string" ? [{ _tag: "session", at, sessionId: o.thread_id }] : []
      case "item.started":
        return item(o, at, false)
      case "item.updated":
        return o.item?.type === "todo_list" ? item(o, at, true) : []
      case "item.completed":
        return item(o, at, true)
      case "turn.completed": {
        const u = o.usage ?? {}
        verdict = { kind: "completed" }
        return [
          { _tag: "usage", at, cumulative: true, inputTokens: u.input_tokens ?? 0, outputTokens: u.output_tokens ?? 0, ...(typeof u.cached_input_tokens === "number" ? { cacheReadTokens: u.cached_input_tokens } : {}) },
          { _tag: "turn_end", at, reason: "turn.completed", ok: true }
        ]
      }
      case "turn.failed": {
        const message = codexMessage(o.error?.message ?? o.error ?? "turn failed")
        verdict = { kind: "failed", message }
        return [{ _tag: "error", at, message }, { _tag: "turn_end", at, reason: "turn.failed", ok: false, text: message }]
      }
      case "error": {
        lastError = codexMessage(o.message)
        return [{ _tag: "error", at, message: lastError }]
      }
      default:
        return []
    }
  }

  return {
    parse,
    finish: (exit) => verdict ?? { kind: "failed", message: lastError ?? tailMessage(exit, "Codex ended without turn.completed; it") }
  }
}
