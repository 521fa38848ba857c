/**
 * The `command` adapter's output: any program can be the agent. Each stdout line that is a JSON
 * object with a known `type` becomes an AgentEvent; every other non-empty line is assistant text.
 * The exit code decides: 0 is completed. The protocol (documented in docs/agents.md):
 *
 *   {"type":"message","text":"…","role":"assistant"}
 *   {"type":"file_change","path":"src/a.ts","kind":"add"|"update"|"delete"}
 *   {"type":"file_change","path":"src/a.ts","ok":false,"error":"permission denied","denied":true}
 *   {"type":"command","command":"npm test","exit_code":0,"output":"…"}
 *   {"type":"tool_call","id":"t1","name":"write","input":{…}}
 *   {"type":"tool_result","id":"t1","ok":false,"error":"…","denied":false,"kind":"file_change","paths":["a.ts"],"output":"…"}
 *   {"type":"error","message":"…"}
 *   {"type":"result","ok":true,"text":"…","usage":{"input_tokens":1,"output_tokens":2,"cost_usd":0.01}}
 *
 * A `file_change` with `"ok": false` reports a change the program tried and could not make: it is a
 * failed tool call, not a changed file.
 */
import type { AgentEvent, ToolKind } from "@spec-orch/contract"
import { jsonLine, type LineProtocol, relativeTo, tailMessage } from "./protocol.js"

const KINDS: ReadonlyArray<ToolKind> = ["file_change", "command", "other"]
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined)

/** A parser for one command turn. */
export const commandStream = (cwd: string): LineProtocol => {
  let lastError: string | undefined

  const parse = (line: string, at: number): ReadonlyArray<AgentEvent> => {
    const o = jsonLine(line)
    if (o !== undefined) {
      switch (o.type) {
        case "message":
          return [
            {
              _tag: "message",
              at,
              role: o.role === "user" || o.role === "system" ? o.role : "assistant",
              text: String(o.text ?? o.content ?? "")
            }
          ]
        case "file_change": {
          if (typeof o.path !== "string") return []
          const path = relativeTo(cwd, o.path)
          if (o.ok === false) {
            const error = str(o.error) ?? str(o.message) ?? "the file change failed"
            return [
              {
                _tag: "tool_result",
                at,
                id: str(o.id) ?? "",
                ok: false,
                output: error,
                name: str(o.name) ?? "file_change",
                kind: "file_change",
                error,
                paths: [path],
                ...(o.denied === true ? { denied: true } : {})
              }
            ]
          }
          return [{ _tag: "file_change", at, path, kind: o.kind === "add" || o.kind === "delete" ? o.kind : "update" }]
        }
        case "command": {
          const exitCode = o.exit_code ?? o.exitCode
          return [
            {
              _tag: "command",
              at,
              command: String(o.command ?? ""),
              ...(typeof exitCode === "number" ? { exitCode } : {}),
              ...(typeof o.output === "string" ? { output: o.output } : {})
            }
          ]
        }
        case "tool_call":
          return [
            { _tag: "tool_call", at, id: String(o.id ?? ""), name: String(o.name ?? "tool"), input: o.input ?? {} }
          ]
        case "tool_result": {
          const ok = o.ok !== false && o.is_error !== true
          const output = typeof o.output === "string" ? o.output : ""
          const paths = Array.isArray(o.paths)
            ? o.paths.filter((p: unknown): p is string => typeof p === "string").map((p: string) => relativeTo(cwd, p))
            : undefined
          return [
            {
              _tag: "tool_result",
              at,
              id: String(o.id ?? ""),
              ok,
              output,
              ...(str(o.name) !== undefined ? { name: o.name } : {}),
              ...(KINDS.includes(o.kind) ? { kind: o.kind } : {}),
              ...(!ok && o.denied === true ? { denied: true } : {}),
              ...(!ok && str(o.error) !== undefined ? { error: o.error } : {}),
              ...(paths !== undefined && paths.length > 0 ? { paths } : {})
            }
          ]
        }
        case "error":
          lastError = String(o.message ?? o.text ?? "error")
          return [{ _tag: "error", at, message: lastError }]
        case "result": {
          const out: Array<AgentEvent> = []
          const u = o.usage
          if (u && typeof u === "object") {
            out.push({
              _tag: "usage",
              at,
              cumulative: true,
              inputTokens: Number(u.input_tokens ?? u.inputTokens ?? 0),
              outputTokens: Number(u.output_tokens ?? u.outputTokens ?? 0),
              ...(typeof (u.cost_usd ?? u.costUsd) === "number" ? { costUsd: u.cost_usd ?? u.costUsd } : {})
            })
          }
          const text = o.text ?? o.result
          out.push({
            _tag: "turn_end",
            at,
            reason: "result",
            ok: o.ok !== false && o.success !== false && o.is_error !== true,
            ...(typeof text === "string" ? { text } : {})
          })
          return out
        }
      }
    }
    const text = line.trimEnd()
    return text.trim() === "" ? [] : [{ _tag: "message", at, role: "assistant", text }]
  }

  return {
    parse,
    finish: (exit) =>
      exit.code === 0
        ? { kind: "completed" }
        : { kind: "failed", message: lastError ?? tailMessage(exit, "the command") }
  }
}
