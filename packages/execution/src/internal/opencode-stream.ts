/**
 * opencode `run --format json` lines to AgentEvents. There is no final result line: the turn
 * succeeded when the last `step_finish` says `reason: "stop"` and no `error` line came. A tool part
 * with `state.status: "error"`, or a `bash` part whose exit code is not 0, is a failed tool call.
 * "The user rejected permission…" (an "ask", which `run` auto-rejects, after which opencode ends the
 * session without a final step) and "…a rule which prevents you…" (a "deny") mean its permission
 * config refused the call.
 */
import type { AgentEvent, ToolKind } from "@spec-orch/contract"
import { jsonLine, type LineProtocol, planEntries, relativeTo, tailMessage } from "./protocol.js"

const EDIT_TOOLS = new Set(["write", "edit", "patch", "multiedit", "apply_patch"])
/** "The user rejected permission…" (an "ask" that `run` auto-rejected), "…specified a rule which prevents you…" (a "deny" rule). */
const REJECTED = /rejected permission|rule which prevents you|permission (was )?(denied|rejected)/i

const kindOf = (tool: string): ToolKind =>
  EDIT_TOOLS.has(tool) ? "file_change" : tool === "bash" ? "command" : "other"

/** A parser for one opencode turn. */
export const opencodeStream = (cwd: string): LineProtocol => {
  let session: string | undefined
  let lastFinish: string | undefined
  let error: string | undefined
  /** The last tool call opencode's permission config refused, for the verdict when it then stopped. */
  let refused: string | undefined

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
        if (typeof part.text === "string" && part.text !== "")
          out.push({ _tag: "message", at, role: "assistant", text: part.text })
        break
      case "reasoning":
        if (typeof part.text === "string" && part.text !== "") out.push({ _tag: "reasoning", at, text: part.text })
        break
      case "tool_use": {
        const state = part.state ?? {}
        const id = String(part.callID ?? part.id ?? "")
        const tool = String(part.tool ?? "tool")
        const input = state.input ?? {}
        const exitCode = state.metadata?.exit ?? state.metadata?.exit_code
        // A shell command that exits non-zero is a failed call in every adapter; opencode only says so in metadata.
        const failedCommand =
          state.status === "completed" && tool === "bash" && typeof exitCode === "number" && exitCode !== 0
        const ok = state.status === "completed" && !failedCommand
        const output = String(state.output ?? state.error ?? "")
        if (ok) out.push({ _tag: "tool_call", at, id, name: tool, input }, { _tag: "tool_result", at, id, ok, output })
        else {
          const first = output.split("\n").find((l) => l.trim() !== "")
          const reason = failedCommand
            ? `exit code ${exitCode}${first !== undefined ? `: ${first.trim()}` : ""}`
            : String(state.error ?? state.output ?? "failed")
          const denied = REJECTED.test(reason)
          const path = input.filePath ?? input.file_path ?? input.path
          const kind = kindOf(tool)
          if (denied)
            refused = `${tool}${typeof path === "string" ? ` ${path}` : typeof input.command === "string" ? ` ${input.command}` : ""}`
          out.push(
            { _tag: "tool_call", at, id, name: tool, input },
            {
              // Only the first sentence: a "deny" rule's message goes on to list every rule as JSON.
              _tag: "tool_result",
              at,
              id,
              ok,
              output,
              kind,
              error: denied ? `permission denied: ${reason.split(/(?<=\.)\s/)[0]}` : reason,
              ...(denied ? { denied: true } : {}),
              ...(kind === "file_change" && typeof path === "string" ? { paths: [relativeTo(cwd, path)] } : {})
            }
          )
        }
        if (tool === "bash" && typeof input.command === "string") {
          out.push({
            _tag: "command",
            at,
            command: input.command,
            output,
            ...(typeof exitCode === "number" ? { exitCode } : {})
          })
        } else if (EDIT_TOOLS.has(tool) && ok) {
          const path = input.filePath ?? input.file_path ?? input.path ?? state.metadata?.filepath
          if (typeof path === "string")
            out.push({
              _tag: "file_change",
              at,
              path: relativeTo(cwd, path),
              kind: tool === "write" && state.metadata?.exists === false ? "add" : "update"
            })
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
          _tag: "usage",
          at,
          cumulative: false,
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
        out.push(
          { _tag: "error", at, message: error },
          { _tag: "turn_end", at, reason: String(e.name ?? "error"), ok: false, text: error }
        )
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
      if (refused !== undefined)
        return { kind: "failed", message: `opencode stopped after its permission config refused ${refused}` }
      return {
        kind: "failed",
        message: `opencode ended without finishing its last step (last step reason: ${lastFinish ?? "none"})`
      }
    }
  }
}
