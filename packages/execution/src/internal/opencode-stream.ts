/**
 * opencode `run --format json` lines to AgentEvents. There is no final result line: the turn
 * succeeded when the last `step_finish` says `reason: "stop"` and no `error` line came.
 */
import type { AgentEvent } from "@spec-orch/contract"
import { jsonLine, type LineProtocol, planEntries, relativeTo, tailMessage } from "./protocol.js"

const EDIT_TOOLS = new Set(["write", "edit", "patch", "multiedit"])

/** A parser for one opencode turn. */
export const opencodeStream = (cwd: string): LineProtocol => {
  let session: string | undefined
  let lastFinish: string | undefined
  let error: string | undefined

  const parse = (line: string, at: number): ReadonlyArray<AgentEvent> => {
    const o = jsonLine(line)
    if (o === undefined) return []
    const out: Array<AgentEvent> = []
    if (session === undefined && typeof o.sessionID === "string") {
      session = o.sessionID
      out.push({ _tag: "session", at, sessionId: o.sessionID })
    }
    const part = o.part ?? {}
    switch (o.type) {
      case "text":
        if (typeof part.text === "string" && part.text !== "") out.push({ _tag: "message", at, role: "assistant", text: part.text })
        break
      case "reasoning":
        if (typeof part.text === "string" && part.text !== "") out.push({ _tag: "reasoning", at, text: part.text })
        break
      case "tool_use": {
        const state = part.state ?? {}
        const id = String(part.callID ?? part.id ?? "")
        const tool = String(part.tool ?? "tool")
        const input = state.input ?? {}
        const ok = state.status === "completed"
        const output = String(state.output ?? state.error ?? "")
        out.push({ _tag: "tool_call", at, id, name: tool, input }, { _tag: "tool_result", at, id, ok, output })
        if (tool === "bash" && typeof input.command === "string") {
          const exit = state.metadata?.exit ?? state.metadata?.exit_code
          out.push({ _tag: "command", at, command: input.command, output, ...(typeof exit === "number" ? { exitCode: exit } : {}) })
        } else if (EDIT_TOOLS.has(tool) && ok) {
          const path = input.filePath ?? input.file_path ?? input.path ?? state.metadata?.filepath
          if (typeof path === "string") out.push({ _tag: "file_change", at, path: relativeTo(cwd, path), kind: tool === "write" && state.metadata?.exists === false ? "add" : "update" })
        } else if (tool === "todowrite") {
          const entries = planEntries(input.todos)
          if (entries) out.push({ _tag: "plan", at, entries })
        }
        break
      }
      case "step_finish": {
        lastFinish = String(part.reason ?? "")
        const t = part.tokens ?? {}
        out.push({
          _tag: "usage", at, cumulative: false,
          inputTokens: (t.input ?? 0) + (t.cache?.write ?? 0),
          outputTokens: (t.output ?? 0) + (t.reasoning ?? 0),
          ...(typeof t.cache?.read === "number" ? { cacheReadTokens: t.cache.read } : {}),
          ...(typeof part.cost === "number" ? { costUsd: part.cost } : {})
        })
        if (lastFinish === "stop") out.push({ _tag: "turn_end", at, reason: "stop", ok: true })
        break
      }
      case "error": {
        const e = o.error ?? {}
        error = String(e.data?.message ?? e.message ?? e.name ?? "opencode reported an error")
        out.push({ _tag: "error", at, message: error }, { _tag: "turn_end", at, reason: String(e.name ?? "error"), ok: false, text: error })
        break
      }
    }
    return out
  }

  return {
    parse,
    finish: (exit) => {
      if (error !== undefined) return { kind: "failed", message: error }
      if (lastFinish === "stop" && (exit.code === 0 || exit.code === null)) return { kind: "completed" }
      if (exit.code !== 0) return { kind: "failed", message: tailMessage(exit, "opencode") }
      return { kind: "failed", message: `opencode ended without finishing its last step (last step reason: ${lastFinish ?? "none"})` }
    }
  }
}
