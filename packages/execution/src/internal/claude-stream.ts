/**
 * Claude Code `--output-format stream-json --verbose` lines to AgentEvents. Success is judged by the
 * `result` line's `is_error` and `terminal_reason`, never by `subtype` (API errors arrive as
 * `subtype: "success"` with `is_error: true`). A tool call its permission mode refused is announced by
 * a `system/permission_denied` line (with the reason), then comes back as an error `tool_result`
 * whose `tool_result_meta` says `user-rejected`, and is listed again in `result.permission_denials`:
 * all three mark one failed, denied `tool_result`.
 */
import type { AgentEvent, ToolKind } from "@spec-orch/contract"
import { jsonLine, type LineProtocol, planEntries, relativeTo, tailMessage, textOf, type Verdict } from "./protocol.js"

const EDIT_TOOLS = new Set(["Write", "Edit", "MultiEdit", "NotebookEdit"])
const SHELL_TOOLS = new Set(["Bash", "BashOutput"])
const FAILED_REASONS = new Set([
  "api_error",
  "error",
  "error_during_execution",
  "max_turns",
  "error_max_turns",
  "aborted",
  "prompt_too_long",
  "budget_exceeded"
])

const kindOf = (name: string): ToolKind =>
  EDIT_TOOLS.has(name) ? "file_change" : SHELL_TOOLS.has(name) ? "command" : "other"

/** Whether `tool_result_meta` says the permission system refused this call. */
const rejectedByMeta = (meta: unknown, id: string): boolean =>
  Array.isArray(meta) &&
  meta.some(
    (m: any) =>
      m?.id === id && (m?.non_execution_kind === "user-rejected" || m?.permission_decision?.decision === "reject")
  )

/** A parser for one Claude Code turn. */
export const claudeStream = (cwd: string): LineProtocol => {
  const tools = new Map<string, { name: string; input: any }>()
  const usageSeen = new Set<string>()
  /** Why each refused call was refused (`system/permission_denied`), by tool_use_id. */
  const denials = new Map<string, string>()
  /** Refused calls already reported as a denied tool_result. */
  const reportedDenied = new Set<string>()
  let result: Verdict | undefined

  const pathsOf = (name: string, input: any): Array<string> | undefined => {
    if (!EDIT_TOOLS.has(name)) return undefined
    const path = input?.file_path ?? input?.notebook_path
    return typeof path === "string" ? [relativeTo(cwd, path)] : undefined
  }

  const parse = (line: string, at: number): ReadonlyArray<AgentEvent> => {
    const o = jsonLine(line)
    if (o === undefined) return []
    const out: Array<AgentEvent> = []
    switch (o.type) {
      case "system": {
        if (o.subtype === "permission_denied" && typeof o.tool_use_id === "string") {
          // The tool_result that follows carries the failure; keep the reason for it.
          denials.set(o.tool_use_id, String(o.decision_reason ?? o.message ?? "denied by the permission mode"))
        } else if (o.subtype === "init" && typeof o.session_id === "string") {
          out.push({
            _tag: "session",
            at,
            sessionId: o.session_id,
            ...(typeof o.model === "string" ? { model: o.model } : {})
          })
        } else if (o.subtype === "api_retry") {
          out.push({
            _tag: "message",
            at,
            role: "system",
            text: `API retry ${o.attempt ?? "?"}/${o.max_retries ?? "?"} after ${o.error_status ?? o.error ?? "an error"}`
          })
        }
        break
      }
      case "assistant": {
        const m = o.message ?? {}
        const synthetic = m.model === "<synthetic>"
        for (const b of Array.isArray(m.content) ? m.content : []) {
          if (b?.type === "text" && typeof b.text === "string") {
            out.push(
              synthetic
                ? { _tag: "error", at, message: b.text }
                : { _tag: "message", at, role: "assistant", text: b.text }
            )
          } else if (b?.type === "thinking" && typeof b.thinking === "string") {
            out.push({ _tag: "reasoning", at, text: b.thinking })
          } else if (b?.type === "tool_use") {
            const id = String(b.id ?? "")
            tools.set(id, { name: String(b.name), input: b.input })
            out.push({ _tag: "tool_call", at, id, name: String(b.name), input: b.input ?? {} })
            if (b.name === "TodoWrite") {
              const entries = planEntries(b.input?.todos)
              if (entries) out.push({ _tag: "plan", at, entries })
            }
          }
        }
        const u = m.usage
        if (!synthetic && u && typeof m.id === "string" && !usageSeen.has(m.id)) {
          usageSeen.add(m.id)
          out.push({
            _tag: "usage",
            at,
            cumulative: false,
            inputTokens: (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0),
            outputTokens: u.output_tokens ?? 0,
            ...(typeof u.cache_read_input_tokens === "number" ? { cacheReadTokens: u.cache_read_input_tokens } : {})
          })
        }
        break
      }
      case "user": {
        const content = o.message?.content
        if (!Array.isArray(content)) break
        for (const b of content) {
          if (b?.type !== "tool_result") continue
          const id = String(b.tool_use_id ?? "")
          const ok = b.is_error !== true
          const output = textOf(b.content)
          const tool = tools.get(id)
          if (ok) out.push({ _tag: "tool_result", at, id, ok, output })
          else {
            const denied = denials.has(id) || rejectedByMeta(o.tool_result_meta, id)
            if (denied) reportedDenied.add(id)
            const paths = tool !== undefined ? pathsOf(tool.name, tool.input) : undefined
            out.push({
              _tag: "tool_result",
              at,
              id,
              ok,
              output,
              ...(tool !== undefined ? { kind: kindOf(tool.name) } : {}),
              ...(denied ? { denied: true, error: `permission denied: ${denials.get(id) ?? output}` } : {}),
              ...(paths !== undefined ? { paths } : {})
            })
          }
          if (tool === undefined) continue
          if (SHELL_TOOLS.has(tool.name) && typeof tool.input?.command === "string") {
            const code = ok ? 0 : Number(/^Exit code (\d+)/.exec(output)?.[1] ?? NaN)
            out.push({
              _tag: "command",
              at,
              command: tool.input.command,
              output,
              ...(Number.isFinite(code) ? { exitCode: code } : {})
            })
          } else if (EDIT_TOOLS.has(tool.name) && ok) {
            const r = o.tool_use_result
            const path =
              typeof r?.filePath === "string" ? r.filePath : (tool.input?.file_path ?? tool.input?.notebook_path)
            if (typeof path === "string")
              out.push({
                _tag: "file_change",
                at,
                path: relativeTo(cwd, path),
                kind: r?.type === "create" ? "add" : "update"
              })
          }
        }
        break
      }
      case "result": {
        const u = o.usage ?? {}
        out.push({
          _tag: "usage",
          at,
          cumulative: true,
          inputTokens: (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0),
          outputTokens: u.output_tokens ?? 0,
          ...(typeof u.cache_read_input_tokens === "number" ? { cacheReadTokens: u.cache_read_input_tokens } : {}),
          ...(typeof o.total_cost_usd === "number" ? { costUsd: o.total_cost_usd } : {})
        })
        // Denials not seen as a tool_result already (older versions, or a call that never got one).
        for (const d of Array.isArray(o.permission_denials) ? o.permission_denials : []) {
          const id = String(d?.tool_use_id ?? "")
          if (id !== "" && reportedDenied.has(id)) continue
          const name = String(d?.tool_name ?? tools.get(id)?.name ?? "tool")
          const paths = pathsOf(name, d?.tool_input ?? tools.get(id)?.input)
          out.push({
            _tag: "tool_result",
            at,
            id,
            ok: false,
            output: "",
            name,
            kind: kindOf(name),
            denied: true,
            error: `permission denied: ${denials.get(id) ?? "Claude Code's permission mode refused it"}`,
            ...(paths !== undefined ? { paths } : {})
          })
        }
        const reason = typeof o.terminal_reason === "string" ? o.terminal_reason : String(o.subtype ?? "result")
        const ok = o.is_error !== true && !FAILED_REASONS.has(reason)
        const text = typeof o.result === "string" ? o.result : undefined
        if (!ok) out.push({ _tag: "error", at, message: text ?? `Claude Code ended with ${reason}` })
        out.push({ _tag: "turn_end", at, reason, ok, ...(text !== undefined ? { text } : {}) })
        result = ok ? { kind: "completed" } : { kind: "failed", message: text ?? `Claude Code ended with ${reason}` }
        break
      }
    }
    return out
  }

  return {
    parse,
    finish: (exit) =>
      result ?? { kind: "failed", message: tailMessage(exit, "Claude Code ended without a result line; it") }
  }
}
