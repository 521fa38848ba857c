/**
 * An Agent Client Protocol client for one turn (SDK 2.x: `client()` + `connectWith()`): initialize,
 * session/new, session/prompt; every session/update mapped to AgentEvents; permission requests
 * answered by the harness policy; fs/read_text_file and fs/write_text_file served only inside the
 * worktree; cancellation with session/cancel. A `tool_call_update` with `status: "failed"` is a failed
 * tool call; it is marked refused when this client rejected its permission request or refused the
 * file access it asked for, or when the agent says the permission was refused.
 */
import type * as Acp from "@agentclientprotocol/sdk"
import type { AgentEvent, ToolKind } from "@spec-orch/contract"
import { type AgentPolicy, answerPermission } from "@spec-orch/harness"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import { Readable, Writable } from "node:stream"
import { confine } from "./confine.js"
import { relativeTo, textOf } from "./protocol.js"
import type { ClientSink, ProtocolClient } from "./supervise.js"

/** Thrown to the agent as a JSON-RPC error when it asks for a path outside its worktree. */
class OutsideWorktree extends Error {
  readonly code = -32602
}

const contentText = (content: unknown): string => {
  if (Array.isArray(content)) {
    return content
      .map((c: any) =>
        c?.type === "content"
          ? contentText(c.content)
          : c?.type === "diff"
            ? `diff ${c.path}`
            : c?.type === "terminal"
              ? `terminal ${c.terminalId}`
              : textOf([c])
      )
      .join("\n")
  }
  if (content && typeof content === "object") {
    const c = content as any
    if (c.type === "text") return String(c.text ?? "")
    if (c.type === "resource_link") return String(c.uri ?? "")
    if (c.type === "resource") return String(c.resource?.text ?? c.resource?.uri ?? "")
    return ""
  }
  return typeof content === "string" ? content : ""
}

const pathsOf = (toolCall: any): Array<string> => {
  const out: Array<string> = []
  for (const l of Array.isArray(toolCall?.locations) ? toolCall.locations : [])
    if (typeof l?.path === "string") out.push(l.path)
  const raw = toolCall?.rawInput
  if (raw && typeof raw === "object") {
    for (const k of ["file_path", "filePath", "path", "notebook_path"]) if (typeof raw[k] === "string") out.push(raw[k])
  }
  return out
}

/** Options for one ACP turn. */
export interface AcpTurn {
  readonly cwd: string
  readonly prompt: string
  readonly policy: AgentPolicy
  /** ACP session mode to select when the agent offers it (e.g. `acceptEdits`). */
  readonly mode?: string | undefined
}

const EDIT_KINDS = new Set(["edit", "delete", "move"])
const toolKind = (kind: string | undefined): ToolKind =>
  kind !== undefined && EDIT_KINDS.has(kind) ? "file_change" : kind === "execute" ? "command" : "other"
/** How agents word a refused permission (claude-code-acp: "User refused permission to run tool"). */
const REFUSED = /refused permission|rejected permission|permission (was )?(denied|refused|rejected)/i

/** Maps ACP session updates to AgentEvents, joining streamed chunks into whole messages. */
export class AcpUpdates {
  private text = ""
  private thought = ""
  private readonly tools = new Map<
    string,
    { title: string; kind: string | undefined; input: any; emitted: boolean; done: boolean }
  >()
  /** Paths the client itself wrote through fs/write_text_file (already reported as file changes). */
  readonly written = new Set<string>()
  /** Tool calls whose permission request this client rejected, with why. */
  private readonly rejected = new Map<string, string>()
  /** Paths this client refused to read or write (fs/*), with why; a failed call naming one was refused. */
  private readonly refusedPaths = new Map<string, string>()

  constructor(private readonly cwd: string) {}

  /** Records that the client answered a permission request for `toolCallId` with a rejection. */
  reject(toolCallId: string, reason: string): void {
    this.rejected.set(toolCallId, reason)
  }

  /** Records that the client refused an fs request for `path`. */
  refusePath(path: string, reason: string): void {
    this.refusedPaths.set(path, reason)
  }

  /** The ACP tool kind of a call seen so far. */
  kindOf(toolCallId: string): string | undefined {
    return this.tools.get(toolCallId)?.kind
  }

  /** Flushes pending message/thought chunks as events. */
  flush(at: number): Array<AgentEvent> {
    const out: Array<AgentEvent> = []
    if (this.thought !== "") out.push({ _tag: "reasoning", at, text: this.thought })
    if (this.text !== "") out.push({ _tag: "message", at, role: "assistant", text: this.text })
    this.text = ""
    this.thought = ""
    return out
  }

  /** Events for one `session/update`. */
  map(update: any, at: number): Array<AgentEvent> {
    const kind = update?.sessionUpdate
    if (kind === "agent_message_chunk") {
      if (this.thought !== "") {
        const out = this.flush(at)
        this.text += contentText(update.content)
        return out
      }
      this.text += contentText(update.content)
      return []
    }
    if (kind === "agent_thought_chunk") {
      if (this.text !== "") {
        const out = this.flush(at)
        this.thought += contentText(update.content)
        return out
      }
      this.thought += contentText(update.content)
      return []
    }
    const out = this.flush(at)
    switch (kind) {
      case "user_message_chunk": {
        const t = contentText(update.content)
        if (t !== "") out.push({ _tag: "message", at, role: "user", text: t })
        break
      }
      case "tool_call":
      case "tool_call_update": {
        const id = String(update.toolCallId ?? "")
        let entry = this.tools.get(id)
        if (entry === undefined) {
          entry = { title: String(update.title ?? "tool"), kind: update.kind, input: {}, emitted: false, done: false }
          this.tools.set(id, entry)
        }
        if (update.title !== undefined && update.title !== null) entry.title = String(update.title)
        if (update.kind !== undefined && update.kind !== null) entry.kind = update.kind
        if (update.rawInput !== undefined && update.rawInput !== null && Object.keys(update.rawInput).length > 0)
          entry.input = update.rawInput
        const status = update.status
        // Agents announce a call before its input is known; report it once the input (or an outcome) arrives.
        if (
          !entry.emitted &&
          (Object.keys(entry.input ?? {}).length > 0 ||
            status === "in_progress" ||
            status === "completed" ||
            status === "failed")
        ) {
          entry.emitted = true
          out.push({ _tag: "tool_call", at, id, name: entry.title, input: entry.input })
        }
        if ((status === "completed" || status === "failed") && !entry.done) {
          entry.done = true
          const ok = status === "completed"
          const output: string =
            update.rawOutput !== undefined && update.rawOutput !== null
              ? typeof update.rawOutput === "string"
                ? update.rawOutput
                : JSON.stringify(update.rawOutput)
              : contentText(update.content)
          if (ok) out.push({ _tag: "tool_result", at, id, ok, output })
          else {
            const raw = pathsOf({ locations: update.locations, rawInput: entry.input })
            const refusedPath = raw.map((p) => this.refusedPaths.get(p)).find((r) => r !== undefined)
            const why = this.rejected.get(id) ?? refusedPath
            const denied = why !== undefined || REFUSED.test(output)
            const kind = toolKind(entry.kind)
            const paths = [...new Set(raw.map((p) => relativeTo(this.cwd, p)))]
            const first = output
              .split("\n")
              .map((l) => l.replace(/^`{3}\w*$/, "").trim())
              .find((l) => l !== "")
            out.push({
              _tag: "tool_result",
              at,
              id,
              ok,
              output,
              kind,
              ...(denied
                ? { denied: true, error: `permission denied: ${why ?? first ?? "the agent reports it refused"}` }
                : first !== undefined
                  ? { error: first }
                  : {}),
              ...(kind === "file_change" && paths.length > 0 ? { paths } : {})
            })
          }
          if (entry.kind === "execute") {
            const command = entry.input?.command ?? entry.title
            out.push({
              _tag: "command",
              at,
              command: Array.isArray(command) ? command.join(" ") : String(command),
              output
            })
          } else if (ok && (entry.kind === "edit" || entry.kind === "delete" || entry.kind === "move")) {
            const paths = pathsOf({ locations: update.locations, rawInput: entry.input })
            for (const p of new Set(paths.map((p) => relativeTo(this.cwd, p)))) {
              if (!this.written.has(p))
                out.push({ _tag: "file_change", at, path: p, kind: entry.kind === "delete" ? "delete" : "update" })
            }
          }
        }
        break
      }
      case "plan":
        out.push({
          _tag: "plan",
          at,
          entries: (Array.isArray(update.entries) ? update.entries : []).map((e: any) => ({
            text: String(e.content ?? ""),
            status: String(e.status ?? "pending")
          }))
        })
        break
      case "usage_update":
        out.push({
          _tag: "usage",
          at,
          cumulative: true,
          inputTokens: Number(update.used ?? 0),
          outputTokens: 0,
          ...(typeof update.cost?.amount === "number" ? { costUsd: update.cost.amount } : {})
        })
        break
      case "notice":
        out.push({
          _tag: "message",
          at,
          role: "system",
          text: contentText(update.content ?? update.message ?? "") || String(update.message ?? "")
        })
        break
      default:
        break
    }
    return out
  }
}

/** The client for one ACP turn. */
export const acpClient = (turn: AcpTurn): ProtocolClient => {
  let sdk: typeof Acp | undefined
  let ctx: Acp.ClientContext | undefined
  let sessionId: string | undefined
  let finished: Promise<unknown> = Promise.resolve()
  let cancelled = false

  // The SDK builds its schemas when it loads, so it loads with the first ACP turn, not with spec-orch;
  // the agent's output waits in the pipe meanwhile.
  const start: ProtocolClient["start"] = (io, sink: ClientSink) => {
    finished = import("@agentclientprotocol/sdk").then(
      (loaded) => {
        sdk = loaded
        begin(loaded, io, sink)
        return finished
      },
      (error: unknown) =>
        sink.done({
          kind: "failed",
          message: `the ACP client could not load: ${error instanceof Error ? error.message : String(error)}`
        })
    )
  }

  const begin = (acp: typeof Acp, io: Parameters<ProtocolClient["start"]>[0], sink: ClientSink) => {
    const updates = new AcpUpdates(turn.cwd)
    const stream = acp.ndJsonStream(
      Writable.toWeb(io.stdin) as WritableStream<Uint8Array>,
      Readable.toWeb(io.stdout) as unknown as ReadableStream<Uint8Array>
    )
    const emit = (events: ReadonlyArray<AgentEvent>) => {
      if (events.length > 0) sink.events(events)
    }
    const app = acp
      .client({ name: "spec-orch" })
      .onNotification(acp.methods.client.session.update, ({ params }) => emit(updates.map(params.update, Date.now())))
      .onRequest(acp.methods.client.session.requestPermission, ({ params }) => {
        const tc: any = params.toolCall
        const paths = pathsOf(tc)
        const insideWorktree = paths.every((p) => confine(turn.cwd, p).ok)
        const { answer, reason } = answerPermission(turn.policy, {
          kind: tc?.kind ?? updates.kindOf(String(tc?.toolCallId ?? "")),
          insideWorktree
        })
        if (answer !== "allow")
          updates.reject(String(tc?.toolCallId ?? ""), `spec-orch's policy refused it (${reason})`)
        const wanted = answer === "allow" ? ["allow_once", "allow_always"] : ["reject_once", "reject_always"]
        const option = wanted.map((k) => params.options.find((o) => o.kind === k)).find((o) => o !== undefined)
        emit([
          {
            _tag: "message",
            at: Date.now(),
            role: "system",
            text: `permission ${answer === "allow" ? "granted" : "denied"} for ${tc?.title ?? "a tool call"}: ${reason}`
          }
        ])
        return option !== undefined
          ? { outcome: { outcome: "selected" as const, optionId: option.optionId } }
          : { outcome: { outcome: "cancelled" as const } }
      })
      .onRequest(acp.methods.client.fs.readTextFile, ({ params }) => {
        const c = confine(turn.cwd, params.path)
        if (!c.ok) {
          updates.refusePath(params.path, `spec-orch refused to read it: ${c.reason}`)
          emit([{ _tag: "error", at: Date.now(), message: `refused fs/read_text_file: ${c.reason}` }])
          throw new OutsideWorktree(`refused: ${c.reason}`)
        }
        let content = readFileSync(c.path, "utf8")
        if (params.line !== undefined && params.line !== null) {
          const lines = content.split("\n")
          const from = Math.max(0, params.line - 1)
          content = lines
            .slice(from, params.limit !== undefined && params.limit !== null ? from + params.limit : undefined)
            .join("\n")
        }
        return { content }
      })
      .onRequest(acp.methods.client.fs.writeTextFile, ({ params }) => {
        const c = confine(turn.cwd, params.path)
        if (!c.ok) {
          updates.refusePath(params.path, `spec-orch refused to write it: ${c.reason}`)
          emit([{ _tag: "error", at: Date.now(), message: `refused fs/write_text_file: ${c.reason}` }])
          throw new OutsideWorktree(`refused: ${c.reason}`)
        }
        const existed = existsSync(c.path)
        mkdirSync(dirname(c.path), { recursive: true })
        writeFileSync(c.path, params.content)
        updates.written.add(c.relative)
        emit([{ _tag: "file_change", at: Date.now(), path: c.relative, kind: existed ? "update" : "add" }])
        return {}
      })

    finished = app
      .connectWith(stream, async (context) => {
        ctx = context
        await context.request(acp.methods.agent.initialize, {
          protocolVersion: acp.PROTOCOL_VERSION,
          clientCapabilities: { fs: { readTextFile: true, writeTextFile: true }, terminal: false },
          clientInfo: { name: "spec-orch", version: "0.0.0" }
        })
        const session = await context.request(acp.methods.agent.session.new, { cwd: turn.cwd, mcpServers: [] })
        sessionId = session.sessionId
        emit([
          {
            _tag: "session",
            at: Date.now(),
            sessionId: session.sessionId,
            ...(typeof (session as any).models?.currentModelId === "string"
              ? { model: (session as any).models.currentModelId }
              : {})
          }
        ])
        const modes: Array<any> = (session as any).modes?.availableModes ?? []
        if (turn.mode !== undefined && modes.some((m) => m.id === turn.mode)) {
          await context
            .request(acp.methods.agent.session.setMode, { sessionId: session.sessionId, modeId: turn.mode })
            .catch(() => undefined)
        }
        return context.request(acp.methods.agent.session.prompt, {
          sessionId: session.sessionId,
          prompt: [{ type: "text", text: turn.prompt }]
        })
      })
      .then(
        (response) => {
          const at = Date.now()
          const stopReason = String((response as any)?.stopReason ?? "unknown")
          const ok = stopReason === "end_turn"
          emit([...updates.flush(at), { _tag: "turn_end", at, reason: stopReason, ok }])
          sink.done(
            ok
              ? { kind: "completed" }
              : {
                  kind: "failed",
                  message:
                    stopReason === "cancelled" && !cancelled
                      ? "the agent cancelled the turn"
                      : `the agent stopped with ${stopReason}`
                }
          )
        },
        (error: unknown) => {
          const at = Date.now()
          const message =
            error instanceof Error
              ? error.message
              : typeof (error as any)?.message === "string"
                ? (error as any).message
                : String(error)
          emit([
            ...updates.flush(at),
            { _tag: "error", at, message },
            { _tag: "turn_end", at, reason: "error", ok: false, text: message }
          ])
          sink.done({ kind: "failed", message })
        }
      )
  }

  const stop = async () => {
    cancelled = true
    if (sdk !== undefined && ctx !== undefined && sessionId !== undefined) {
      await ctx.notify(sdk.methods.agent.session.cancel, { sessionId }).catch(() => undefined)
      await Promise.race([finished.catch(() => undefined), new Promise((r) => setTimeout(r, 2000))])
    }
  }

  return { start, stop }
}
