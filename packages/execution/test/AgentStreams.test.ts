import { assert, describe, it } from "@effect/vitest"
import type { AgentEvent } from "@spec-orch/contract"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { AcpUpdates } from "../src/internal/acp-client.js"
import { claudeStream } from "../src/internal/claude-stream.js"
import { codexStream } from "../src/internal/codex-stream.js"
import { commandStream } from "../src/internal/command-stream.js"
import { droidStream } from "../src/internal/droid-stream.js"
import { opencodeStream } from "../src/internal/opencode-stream.js"
import type { ProcessExit, ProtocolFactory } from "../src/internal/protocol.js"

// Streams recorded from the real CLIs (pinned versions) against the scripted model server, in a repo at /tmp/ms/repo.
const REPO = "/tmp/ms/repo"
const stream = (name: string) => readFileSync(join(import.meta.dirname, "fixtures", "streams", name), "utf8")

const run = (factory: ProtocolFactory, text: string, exit: Partial<ProcessExit> = {}) => {
  const protocol = factory(REPO)
  const events: Array<AgentEvent> = []
  for (const line of text.split("\n")) events.push(...protocol.parse(line, 1))
  return { events, verdict: protocol.finish({ code: 0, signal: null, stderrTail: "", ...exit }), tags: events.map((e) => e._tag) }
}

const only = <T extends AgentEvent["_tag"]>(events: ReadonlyArray<AgentEvent>, tag: T) => events.filter((e): e is Extract<AgentEvent, { _tag: T }> => e._tag === tag)

describe("Claude Code stream-json", () => {
  it("maps a successful write → shell → done turn, with the file relative to the worktree", () => {
    const { events, verdict } = run(claudeStream, stream("claude.success.jsonl"))
    assert.deepStrictEqual(verdict, { kind: "completed" })
    assert.deepStrictEqual(only(events, "session").map((e) => e.sessionId), ["efaa6b25-e1ef-487e-9bdf-569d9a7d804e"])
    assert.deepStrictEqual(only(events, "tool_call").map((e) => e.name), ["Write", "Bash"])
    assert.deepStrictEqual(only(events, "file_change"), [{ _tag: "file_change", at: 1, path: "hello.txt", kind: "add" }])
    assert.deepStrictEqual(only(events, "command").map((e) => [e.command, e.exitCode, e.output]), [["cat hello.txt", 0, "hi"]])
    const end = only(events, "turn_end")[0]!
    assert.deepStrictEqual([end.reason, end.ok, end.text], ["completed", true, "DONE"])
    const total = only(events, "usage").find((u) => u.cumulative)!
    assert.deepStrictEqual([total.inputTokens, total.outputTokens, total.costUsd], [300, 60, 0.0024000000000000002])
  })

  it("fails on an API error even though the result says subtype success, with the agent's own words", () => {
    const { events, verdict } = run(claudeStream, stream("claude.http400.jsonl"), { code: 1 })
    assert.deepStrictEqual(verdict, { kind: "failed", message: "API Error: 400 Bad request (model server)" })
    const end = only(events, "turn_end")[0]!
    assert.deepStrictEqual([end.reason, end.ok], ["api_error", false])
    assert.isFalse(only(events, "message").some((m) => m.text.includes("API Error")), "the synthetic error message is an error, not assistant text")
    assert.include(only(events, "error").map((e) => e.message), "API Error: 400 Bad request (model server)")
  })

  it("reports permission denials and plans, and fails when no result line arrives", () => {
    const lines = [
      JSON.stringify({ type: "assistant", message: { id: "m1", model: "x", content: [{ type: "tool_use", id: "t1", name: "TodoWrite", input: { todos: [{ content: "write it", status: "in_progress" }] } }] } }),
      JSON.stringify({ type: "result", subtype: "success", is_error: false, terminal_reason: "completed", result: "ok", permission_denials: [{ tool_name: "Write", tool_use_id: "t2" }], usage: {} })
    ].join("\n")
    const { events, verdict } = run(claudeStream, lines)
    assert.deepStrictEqual(verdict, { kind: "completed" })
    assert.deepStrictEqual(only(events, "plan")[0]!.entries, [{ text: "write it", status: "in_progress" }])
    assert.deepStrictEqual(only(events, "error").map((e) => e.message), ["Claude Code denied Write by its permission mode"])

    const cut = run(claudeStream, lines.split("\n")[0]!, { code: 137, signal: null, stderrTail: "Killed\n" })
    assert.deepStrictEqual(cut.verdict, { kind: "failed", message: "Claude Code ended without a result line; it exited with code 137: Killed" })
  })
})

describe("Codex exec --json", () => {
  it("maps file changes and commands, and turn.completed is success", () => {
    const { events, verdict, tags } = run(codexStream, stream("codex.success.jsonl"))
    assert.deepStrictEqual(verdict, { kind: "completed" })
    assert.deepStrictEqual(tags, ["session", "tool_call", "tool_result", "file_change", "tool_call", "tool_result", "command", "message", "usage", "turn_end"])
    assert.deepStrictEqual(only(events, "file_change").map((e) => [e.path, e.kind]), [["hello.txt", "add"]])
    assert.deepStrictEqual(only(events, "command").map((e) => [e.command, e.exitCode]), [["/bin/bash -lc 'cat hello.txt'", 0]])
    assert.strictEqual(only(events, "message")[0]!.text, "DONE")
  })

  it("turn.failed is failure, with the provider's sentence dug out of the raw body", () => {
    const { verdict } = run(codexStream, stream("codex.http400.jsonl"), { code: 1 })
    assert.deepStrictEqual(verdict, { kind: "failed", message: "Bad request (model server)" })
  })
})

describe("opencode run --format json", () => {
  it("succeeds on a last step_finish with reason stop, summing usage per step", () => {
    const { events, verdict } = run(opencodeStream, stream("opencode.success.jsonl"))
    assert.deepStrictEqual(verdict, { kind: "completed" })
    assert.deepStrictEqual(only(events, "file_change").map((e) => [e.path, e.kind]), [["hello.txt", "add"]])
    assert.deepStrictEqual(only(events, "command").map((e) => [e.command, e.exitCode]), [["cat hello.txt", 0]])
    assert.strictEqual(only(events, "usage").reduce((n, u) => n + u.inputTokens, 0), 300)
  })

  it("fails with the API error's message", () => {
    const { verdict } = run(opencodeStream, stream("opencode.http400.jsonl"), { code: 1 })
    assert.deepStrictEqual(verdict, { kind: "failed", message: "Bad request (model server)" })
  })

  it("fails when the last step did not stop", () => {
    const line = JSON.stringify({ type: "step_finish", sessionID: "s", part: { reason: "tool-calls", tokens: { input: 1, output: 1 } } })
    assert.deepStrictEqual(run(opencodeStream, line).verdict, { kind: "failed", message: "opencode ended without finishing its last step (last step reason: tool-calls)" })
  })
})

describe("Droid exec stream-json", () => {
  it("maps Create and Execute and succeeds on completion", () => {
    const { events, verdict } = run(droidStream, stream("droid.success.jsonl"))
    assert.deepStrictEqual(verdict, { kind: "completed" })
    assert.deepStrictEqual(only(events, "file_change").map((e) => [e.path, e.kind]), [["hello.txt", "add"]])
    assert.deepStrictEqual(only(events, "command").map((e) => [e.command, e.exitCode, e.output]), [["cat hello.txt", 0, "hi"]])
    assert.strictEqual(only(events, "turn_end")[0]!.text, "DONE")
  })

  it("reports the first error's words, not the generic 'Exec failed' that follows", () => {
    const { events, verdict } = run(droidStream, stream("droid.http400.jsonl"), { code: 1 })
    assert.deepStrictEqual(verdict, { kind: "failed", message: "400 Bad request (model server)" })
    assert.deepStrictEqual(only(events, "error").map((e) => e.message), ["400 Bad request (model server)"])
  })
})

describe("command adapter output", () => {
  it("maps typed JSON lines, keeps other lines as messages, and judges by exit code", () => {
    const text = [
      "plain progress line",
      JSON.stringify({ type: "file_change", path: `${REPO}/src/a.ts`, kind: "add" }),
      JSON.stringify({ type: "command", command: "npm test", exit_code: 1, output: "1 failed" }),
      JSON.stringify({ type: "error", message: "tests fail" }),
      JSON.stringify({ type: "result", ok: false, text: "gave up", usage: { input_tokens: 5, output_tokens: 2 } }),
      JSON.stringify({ type: "unknown", x: 1 })
    ].join("\n")
    const { events, tags } = run(commandStream, text)
    assert.deepStrictEqual(tags, ["message", "file_change", "command", "error", "usage", "turn_end", "message"])
    assert.deepStrictEqual(only(events, "file_change")[0], { _tag: "file_change", at: 1, path: "src/a.ts", kind: "add" })
    assert.deepStrictEqual(run(commandStream, text, { code: 0 }).verdict, { kind: "completed" })
    assert.deepStrictEqual(run(commandStream, text, { code: 2 }).verdict, { kind: "failed", message: "tests fail" })
    assert.deepStrictEqual(run(commandStream, "", { code: 2, stderrTail: "boom\n" }).verdict, { kind: "failed", message: "the command exited with code 2: boom" })
  })
})

describe("ACP session updates", () => {
  it("maps a recorded claude-code-acp turn (Write through mcp__acp__Write, then a terminal command)", () => {
    const u = new AcpUpdates("/tmp/smoke/repo-0WV2Fn")
    const events = stream("acp-claude-code.success.jsonl").split("\n").filter((l) => l !== "").flatMap((l) => {
      const m = JSON.parse(l)
      return m.method === "session/update" ? u.map(m.params.update, 1) : []
    })
    events.push(...u.flush(1))
    assert.deepStrictEqual(only(events, "tool_call").map((e) => e.name), ["Write /tmp/smoke/repo-0WV2Fn/hello.txt", "`cat hello.txt`"])
    assert.deepStrictEqual(only(events, "tool_result").map((e) => e.ok), [true, true])
    assert.deepStrictEqual(only(events, "file_change").map((e) => [e.path, e.kind]), [["hello.txt", "update"]])
    assert.deepStrictEqual(only(events, "command").map((e) => [e.command, e.output]), [["cat hello.txt", "hi"]])
    assert.deepStrictEqual(only(events, "message").map((e) => e.text), ["DONE"])
  })

  it("joins streamed chunks into whole messages and maps tool calls, plans and usage", () => {
    const u = new AcpUpdates(REPO)
    const events = [
      { sessionUpdate: "agent_thought_chunk", content: { type: "text", text: "thinking " } },
      { sessionUpdate: "agent_thought_chunk", content: { type: "text", text: "hard" } },
      { sessionUpdate: "agent_message_chunk", content: { type: "text", text: "I will " } },
      { sessionUpdate: "agent_message_chunk", content: { type: "text", text: "write it" } },
      { sessionUpdate: "tool_call", toolCallId: "t1", title: "Write", kind: "edit", status: "pending", rawInput: {} },
      { sessionUpdate: "tool_call_update", toolCallId: "t1", title: `Write ${REPO}/hello.txt`, rawInput: { file_path: `${REPO}/hello.txt` }, locations: [{ path: `${REPO}/hello.txt` }] },
      { sessionUpdate: "tool_call_update", toolCallId: "t1", status: "completed", rawOutput: "ok" },
      { sessionUpdate: "tool_call", toolCallId: "t2", title: "`cat hello.txt`", kind: "execute", status: "pending", rawInput: { command: "cat hello.txt" } },
      { sessionUpdate: "tool_call_update", toolCallId: "t2", status: "failed", content: [{ type: "content", content: { type: "text", text: "no such file" } }] },
      { sessionUpdate: "plan", entries: [{ content: "step", priority: "high", status: "pending" }] },
      { sessionUpdate: "usage_update", used: 50, size: 1000, cost: { amount: 0.5, currency: "USD" } },
      { sessionUpdate: "available_commands_update", availableCommands: [] }
    ].flatMap((update) => u.map(update, 1))
    assert.deepStrictEqual(events.map((e) => e._tag), ["reasoning", "message", "tool_call", "tool_result", "file_change", "tool_call", "tool_result", "command", "plan", "usage"])
    assert.strictEqual((events[0] as any).text, "thinking hard")
    assert.strictEqual((events[1] as any).text, "I will write it")
    assert.deepStrictEqual((events[2] as any).input, { file_path: `${REPO}/hello.txt` })
    assert.deepStrictEqual(events[4], { _tag: "file_change", at: 1, path: "hello.txt", kind: "update" })
    assert.deepStrictEqual([(events[6] as any).ok, (events[6] as any).output], [false, "no such file"])
    assert.deepStrictEqual(events[9], { _tag: "usage", at: 1, cumulative: true, inputTokens: 50, outputTokens: 0, costUsd: 0.5 })
    assert.strictEqual(u.kindOf("t1"), "edit")
  })
})
