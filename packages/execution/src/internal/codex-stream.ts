/**
 * Codex `exec --json` lines to AgentEvents. `turn.completed` is success and `turn.failed` failure;
 * top-level `error` lines are notices (retries) unless the turn fails. A `file_change` or
 * `command_execution` item that completes with a status other than `completed` is a failed tool call
 * (`declined` = refused). A patch Codex's own policy rejects (e.g. outside the writable roots) never
 * reaches the JSON stream: it is only logged on stderr as a `codex_core::tools::router` error, which
 * `parseStderr` turns into a refused tool call.
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
        const ok = it.status === "completed" && (exitCode ?? 0) === 0
        const denied = it.status === "declined"
        const first = output.split("\n").find((l) => l.trim() !== "")
        const error = denied
          ? "declined by Codex's approval policy"
          : exitCode !== undefined && exitCode !== 0
            ? `exit code ${exitCode}${first !== undefined ? `: ${first.trim()}` : ""}`
            : undefined
        return [
          {
            _tag: "tool_result",
            at,
            id,
            ok,
            output,
            ...(ok
              ? {}
              : {
                  kind: "command" as const,
                  ...(denied ? { denied: true } : {}),
                  ...(error !== undefined ? { error } : {})
                })
          },
          {
            _tag: "command",
            at,
            command: String(it.command ?? ""),
            output,
            ...(exitCode !== undefined ? { exitCode } : {})
          }
        ]
      }
      case "file_change": {
        const changes: Array<any> = Array.isArray(it.changes) ? it.changes : []
        if (!done) return [{ _tag: "tool_call", at, id, name: "apply_patch", input: { changes } }]
        const ok = it.status === "completed"
        const paths = changes.map((c) => relativeTo(cwd, String(c.path)))
        return [
          {
            _tag: "tool_result",
            at,
            id,
            ok,
            output: changes.map((c) => `${c.kind} ${c.path}`).join("\n"),
            ...(ok
              ? {}
              : {
                  kind: "file_change" as const,
                  paths,
                  ...(it.status === "declined"
                    ? { denied: true, error: "declined by Codex's approval policy" }
                    : {
                        error: `Codex could not apply the patch (status ${String(it.status)}; its reason is in agent.stderr.log)`
                      })
                })
          },
          ...(ok
            ? changes.map(
                (c): AgentEvent => ({
                  _tag: "file_change",
                  at,
                  path: relativeTo(cwd, String(c.path)),
                  kind: c.kind === "delete" ? "delete" : c.kind === "add" ? "add" : "update"
                })
              )
            : [])
        ]
      }
      case "mcp_tool_call":
      case "web_search":
        return done
          ? [
              {
                _tag: "tool_result",
                at,
                id,
                ok: it.status !== "failed",
                output: JSON.stringify(it.result ?? it.error ?? it.query ?? "")
              }
            ]
          : [
              {
                _tag: "tool_call",
                at,
                id,
                name: it.type === "web_search" ? "web_search" : `${it.server}/${it.tool}`,
                input: it.arguments ?? { query: it.query }
              }
            ]
      case "todo_list":
        return [
          {
            _tag: "plan",
            at,
            entries: (Array.isArray(it.items) ? it.items : []).map((t: any) => ({
              text: String(t.text ?? ""),
              status: t.completed ? "completed" : "pending"
            }))
          }
        ]
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
          {
            _tag: "usage",
            at,
            cumulative: true,
            inputTokens: u.input_tokens ?? 0,
            outputTokens: u.output_tokens ?? 0,
            ...(typeof u.cached_input_tokens === "number" ? { cacheReadTokens: u.cached_input_tokens } : {})
          },
          { _tag: "turn_end", at, reason: "turn.completed", ok: true }
        ]
      }
      case "turn.failed": {
        const message = codexMessage(o.error?.message ?? o.error ?? "turn failed")
        verdict = { kind: "failed", message }
        return [
          { _tag: "error", at, message },
          { _tag: "turn_end", at, reason: "turn.failed", ok: false, text: message }
        ]
      }
      case "error": {
        lastError = codexMessage(o.message)
        return [{ _tag: "error", at, message: lastError }]
      }
      default:
        return []
    }
  }

  // `2026-…Z ERROR codex_core::tools::router: error=patch rejected: writing outside of the project; …`
  const parseStderr = (line: string, at: number): ReadonlyArray<AgentEvent> => {
    // Without its helper links Codex cannot start its own sandbox: every sandboxed tool call will fail.
    const aliases = /could not create PATH aliases: (.*)$/.exec(line)
    if (aliases !== null)
      return [
        {
          _tag: "error",
          at,
          message: `Codex could not set up its sandbox helper, so its file changes and commands will fail: ${aliases[1]!.trim()}`
        }
      ]
    const m = /\bERROR codex_core::tools::router: error=(.*)$/.exec(line)
    const message = m?.[1]?.trim()
    if (message === undefined || !/^(patch|exec|command)\b.*\brejected\b|\brejected by\b/i.test(message)) return []
    const patch = /^patch\b/i.test(message)
    return [
      {
        _tag: "tool_result",
        at,
        id: "",
        ok: false,
        output: message,
        name: patch ? "apply_patch" : "exec_command",
        kind: patch ? "file_change" : "command",
        denied: true,
        error: message
      }
    ]
  }

  return {
    parse,
    parseStderr,
    finish: (exit) =>
      verdict ?? { kind: "failed", message: lastError ?? tailMessage(exit, "Codex ended without turn.completed; it") }
  }
}
