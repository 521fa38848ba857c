/**
 * Factory Droid `exec -o stream-json` lines to AgentEvents. `completion` is success; an `error` line
 * is failure (Droid follows the real error with a generic `{"source":"cli","message":"Exec failed"}`,
 * so the first error's words are the ones reported). A `tool_result` with `isError` is a failed tool
 * call, its reason in `error.message`; "insufficient permission to proceed" marks one its `--auto`
 * level refused (Droid then ends the run with an error).
 */
import type { AgentEvent, ToolKind } from "@spec-orch/contract"
import { jsonLine, type LineProtocol, planEntries, relativeTo, tailMessage, type Verdict } from "./protocol.js"

const EDIT_TOOLS = new Set(["Create", "Edit", "MultiEdit", "ApplyPatch", "write_file", "edit_file", "create_file"])
const SHELL_TOOLS = new Set(["Execute", "bash", "shell", "terminal"])

/** Droid's refusal when a call needs more autonomy than `--auto` grants: "insufficient permission to proceed. Re-run with --auto medium…". */
const DENIED = /insufficient permission|permission denied|not allowed/i

const kindOf = (name: string): ToolKind =>
  EDIT_TOOLS.has(name) ? "file_change" : SHELL_TOOLS.has(name) ? "command" : "other"

/** Droid's error text without its repeated `Error: ` prefixes and trailing process footer. */
const errorText = (message: string) =>
  message
    .replace(/^(Error:\s*)+/, "")
    .replace(/\n*\[Process exited with code -?\d+\]\s*$/, "")
    .trim()

/** A parser for one Droid turn. */
export const droidStream = (cwd: string): LineProtocol => {
  const calls = new Map<string, { name: string; input: any }>()
  let verdict: Verdict | undefined
  let firstError: string | undefined

  const parse = (line: string, at: number): ReadonlyArray<AgentEvent> => {
    const o = jsonLine(line)
    if (o === undefined) return []
    switch (o.type) {
      case "system":
        return o.subtype === "init" && typeof o.session_id === "string"
          ? [
              {
                _tag: "session",
                at,
                sessionId: o.session_id,
                ...(typeof o.model === "string" ? { model: o.model } : {})
              }
            ]
          : []
      case "message":
        return typeof o.text === "string" && (o.role === "assistant" || o.role === "user")
          ? [{ _tag: "message", at, role: o.role, text: o.text }]
          : []
      case "tool_call": {
        const id = String(o.id ?? "")
        const name = String(o.toolName ?? o.toolId ?? "tool")
        calls.set(id, { name, input: o.parameters })
        const out: Array<AgentEvent> = [{ _tag: "tool_call", at, id, name, input: o.parameters ?? {} }]
        if (name === "TodoWrite") {
          const entries = planEntries(o.parameters?.todos)
          if (entries) out.push({ _tag: "plan", at, entries })
        }
        return out
      }
      case "tool_result": {
        const id = String(o.id ?? "")
        const ok = o.isError !== true
        const output = typeof o.value === "string" ? o.value : String(o.error?.message ?? JSON.stringify(o.value ?? ""))
        const call = calls.get(id)
        const out: Array<AgentEvent> = []
        if (ok) out.push({ _tag: "tool_result", at, id, ok, output })
        else {
          const name = call?.name ?? String(o.toolId ?? "tool")
          const error = errorText(String(o.error?.message ?? output))
          const path = call?.input?.file_path ?? call?.input?.filePath ?? call?.input?.path
          out.push({
            _tag: "tool_result",
            at,
            id,
            ok,
            output,
            kind: kindOf(name),
            error,
            ...(DENIED.test(error) ? { denied: true } : {}),
            ...(EDIT_TOOLS.has(name) && typeof path === "string" ? { paths: [relativeTo(cwd, path)] } : {})
          })
        }
        if (call && SHELL_TOOLS.has(call.name) && typeof call.input?.command === "string") {
          const code = /\[Process exited with code (-?\d+)\]/.exec(output)?.[1]
          out.push({
            _tag: "command",
            at,
            command: call.input.command,
            output: output.replace(/\n*\[Process exited with code -?\d+\]\s*$/, ""),
            ...(code !== undefined ? { exitCode: Number(code) } : {})
          })
        } else if (call && EDIT_TOOLS.has(call.name) && ok) {
          const path = call.input?.file_path ?? call.input?.filePath ?? call.input?.path
          if (typeof path === "string")
            out.push({
              _tag: "file_change",
              at,
              path: relativeTo(cwd, path),
              kind: call.name === "Create" || call.name === "create_file" ? "add" : "update"
            })
        }
        return out
      }
      case "completion": {
        const u = o.usage ?? {}
        verdict ??= { kind: "completed" }
        return [
          {
            _tag: "usage",
            at,
            cumulative: true,
            inputTokens: (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0),
            outputTokens: u.output_tokens ?? 0,
            ...(typeof u.cache_read_input_tokens === "number" ? { cacheReadTokens: u.cache_read_input_tokens } : {})
          },
          {
            _tag: "turn_end",
            at,
            reason: "completion",
            ok: true,
            ...(typeof o.finalText === "string" ? { text: o.finalText } : {})
          }
        ]
      }
      case "error": {
        const message = String(o.message ?? "Droid reported an error")
        const generic = o.source === "cli" && message === "Exec failed" && firstError !== undefined
        firstError ??= message
        verdict = { kind: "failed", message: firstError }
        return generic
          ? []
          : [
              { _tag: "error", at, message },
              { _tag: "turn_end", at, reason: String(o.source ?? "error"), ok: false, text: message }
            ]
      }
      default:
        return []
    }
  }

  return {
    parse,
    finish: (exit) =>
      verdict ?? { kind: "failed", message: tailMessage(exit, "Droid ended without a completion line; it") }
  }
}
