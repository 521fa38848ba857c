/**
 * The `command` adapter's output: any program can be the agent. Lines that are JSON objects with a
 * `type` of message, file_change, command, error or result become AgentEvents; every other non-empty
 * line is a message. The exit code decides: 0 is completed.
 */
import type { AgentEvent } from "@spec-orch/contract"
import { jsonLine, type LineProtocol, relativeTo, tailMessage } from "./protocol.js"

/** A parser for one command turn. */
export const commandStream = (cwd: string): LineProtocol => {
  let lastError: string | undefined

  const parse = (line: string, at: number): ReadonlyArray<AgentEvent> => {
    const o = jsonLine(line)
    if (o !== undefined) {
      switch (o.type) {
        case "message":
          return [{ _tag: "message", at, role: o.role === "user" || o.role === "system" ? o.role : "assistant", text: String(o.text ?? o.content ?? "") }]
        case "file_change":
          return typeof o.path === "string"
            ? [{ _tag: "file_change", at, path: relativeTo(cwd, o.path), kind: o.kind === "add" || o.kind === "delete" ? o.kind : "update" }]
            : []
        case "command": {
          const exitCode = o.exit_code ?? o.exitCode
          return [{ _tag: "command", at, command: String(o.command ?? ""), ...(typeof exitCode === "number" ? { exitCode } : {}), ...(typeof o.output === "string" ? { output: o.output } : {}) }]
        }
        case "error":
          lastError = String(o.message ?? o.text ?? "error")
          return [{ _tag: "error", at, message: lastError }]
        case "result": {
          const out: Array<AgentEvent> = []
          const u = o.usage
          if (u && typeof u === "object") {
            out.push({ _tag: "usage", at, cumulative: true, inputTokens: Number(u.input_tokens ?? u.inputTokens ?? 0), outputTokens: Number(u.output_tokens ?? u.outputTokens ?? 0), ...(typeof (u.cost_usd ?? u.costUsd) === "number" ? { costUsd: u.cost_usd ?? u.costUsd } : {}) })
          }
          const text = o.text ?? o.result
          out.push({ _tag: "turn_end", at, reason: "result", ok: o.ok !== false && o.success !== false && o.is_error !== true, ...(typeof text === "string" ? { text } : {}) })
          return out
        }
      }
    }
    const text = line.trimEnd()
    return text.trim() === "" ? [] : [{ _tag: "message", at, role: "assistant", text }]
  }

  return {
    parse,
    finish: (exit) => (exit.code === 0 ? { kind: "completed" } : { kind: "failed", message: lastError ?? tailMessage(exit, "the command") })
  }
}
