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
import { Tally } from "../src/internal/tally.js"

// Streams recorded from the real CLIs (pinned versions) against the scripted model server, in a repo at /tmp/ms/repo.
const REPO = "/tmp/ms/repo"
const stream = (name: string) => readFileSync(join(import.meta.dirname, "fixtures", "streams", name), "utf8")

const run = (factory: ProtocolFactory, text: string, exit: Partial<ProcessExit> = {}) => {
  const protocol = factory(REPO)
  const events: Array<AgentEvent> = []
  for (const line of text.split("\n")) events.push(...protocol.parse(line, 1))
  return {
    events,
    verdict: protocol.finish({ code: 0, signal: null, stderrTail: "", ...exit }),
    tags: events.map((e) => e._tag)
  }
}

const only = <T extends AgentEvent["_tag"]>(events: ReadonlyArray<AgentEvent>, tag: T) =>
  events.filter((e): e is Extract<AgentEvent, { _tag: T }> => e._tag === tag)

/** What the outcome would say about failed tool calls for these events. */
const failures = (events: ReadonlyArray<AgentEvent>) => {
  const tally = new Tally()
  for (const e of events) tally.add(e)
  return { ...tally.outcomeFields(), files: tally.files }
}

/** Events from a recorded stderr log, for protocols that read it. */
const stderrEvents = (factory: ProtocolFactory, name: string) => {
  const protocol = factory(REPO)
  return stream(name)
    .split("\n")
    .flatMap((line) => protocol.parseStderr?.(line, 1) ?? [])
}

describe("Claude Code stream-json", () => {
  it("maps a successful write → shell → done turn, with the file relative to the worktree", () => {
    const { events, verdict } = run(claudeStream, stream("claude.success.jsonl"))
    assert.deepStrictEqual(verdict, { kind: "completed" })
    assert.deepStrictEqual(
      only(events, "session").map((e) => e.sessionId),
      ["efaa6b25-e1ef-487e-9bdf-569d9a7d804e"]
    )
    assert.deepStrictEqual(
      only(events, "tool_call").map((e) => e.name),
      ["Write", "Bash"]
    )
    assert.deepStrictEqual(only(events, "file_change"), [
      { _tag: "file_change", at: 1, path: "hello.txt", kind: "add" }
    ])
    assert.deepStrictEqual(
      only(events, "command").map((e) => [e.command, e.exitCode, e.output]),
      [["cat hello.txt", 0, "hi"]]
    )
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
    assert.isFalse(
      only(events, "message").some((m) => m.text.includes("API Error")),
      "the synthetic error message is an error, not assistant text"
    )
    assert.include(
      only(events, "error").map((e) => e.message),
      "API Error: 400 Bad request (model server)"
    )
  })

  it("a Write its permission mode denied is a refused file change, reported once, with Claude's words", () => {
    const { events, verdict } = run(claudeStream, stream("claude.denied.jsonl"))
    assert.deepStrictEqual(verdict, { kind: "completed" })
    assert.deepStrictEqual(only(events, "file_change"), [])
    const denied = only(events, "tool_result").filter((e) => e.denied === true)
    assert.deepStrictEqual(
      denied.map((e) => [e.id, e.kind, e.paths]),
      [["toolu_mx982t9v1", "file_change", ["hello.txt"]]],
      "the result's permission_denials repeat it; it is not reported twice"
    )
    const f = failures(events)
    assert.strictEqual(f.failedToolCallCount, 2)
    assert.deepStrictEqual(f.failedToolCalls, [
      {
        name: "Write",
        kind: "file_change",
        reason:
          "permission denied: Claude requested permissions to write to /tmp/ms/repo/hello.txt, but you haven't granted it yet.",
        denied: true,
        target: "hello.txt"
      },
      {
        name: "Bash",
        kind: "command",
        reason: "Exit code 1: cat: hello.txt: No such file or directory",
        target: "cat hello.txt"
      }
    ])
  })

  it("a write outside the worktree is denied under acceptEdits, with the decision's reason", () => {
    const { events } = run(claudeStream, stream("claude.outside.jsonl"))
    assert.deepStrictEqual(failures(events).failedToolCalls?.[0], {
      name: "Write",
      kind: "file_change",
      reason: "permission denied: Path is outside allowed working directories",
      denied: true,
      target: "/tmp/ms/outside.txt"
    })
  })

  it("a command that exits non-zero is a failed command, not a refusal", () => {
    const { events } = run(claudeStream, stream("claude.command-failed.jsonl"))
    assert.deepStrictEqual(failures(events), {
      failedToolCalls: [
        {
          name: "Bash",
          kind: "command",
          reason: "Exit code 1: cat: missing.txt: No such file or directory",
          target: "cat missing.txt"
        }
      ],
      failedToolCallCount: 1,
      files: []
    })
  })

  it("reports denials listed only in the result line, and plans, and fails when no result line arrives", () => {
    const lines = [
      JSON.stringify({
        type: "assistant",
        message: {
          id: "m1",
          model: "x",
          content: [
            {
              type: "tool_use",
              id: "t1",
              name: "TodoWrite",
              input: { todos: [{ content: "write it", status: "in_progress" }] }
            }
          ]
        }
      }),
      JSON.stringify({
        type: "result",
        subtype: "success",
        is_error: false,
        terminal_reason: "completed",
        result: "ok",
        permission_denials: [{ tool_name: "Write", tool_use_id: "t2", tool_input: { file_path: `${REPO}/a.txt` } }],
        usage: {}
      })
    ].join("\n")
    const { events, verdict } = run(claudeStream, lines)
    assert.deepStrictEqual(verdict, { kind: "completed" })
    assert.deepStrictEqual(only(events, "plan")[0]!.entries, [{ text: "write it", status: "in_progress" }])
    assert.deepStrictEqual(failures(events).failedToolCalls, [
      {
        name: "Write",
        kind: "file_change",
        reason: "permission denied: Claude Code's permission mode refused it",
        denied: true,
        target: "a.txt"
      }
    ])

    const cut = run(claudeStream, lines.split("\n")[0]!, { code: 137, signal: null, stderrTail: "Killed\n" })
    assert.deepStrictEqual(cut.verdict, {
      kind: "failed",
      message: "Claude Code ended without a result line; it exited with code 137: Killed"
    })
  })
})

describe("Codex exec --json", () => {
  it("maps file changes and commands, and turn.completed is success", () => {
    const { events, verdict, tags } = run(codexStream, stream("codex.success.jsonl"))
    assert.deepStrictEqual(verdict, { kind: "completed" })
    assert.deepStrictEqual(tags, [
      "session",
      "tool_call",
      "tool_result",
      "file_change",
      "tool_call",
      "tool_result",
      "command",
      "message",
      "usage",
      "turn_end"
    ])
    assert.deepStrictEqual(
      only(events, "file_change").map((e) => [e.path, e.kind]),
      [["hello.txt", "add"]]
    )
    assert.deepStrictEqual(
      only(events, "command").map((e) => [e.command, e.exitCode]),
      [["/bin/bash -lc 'cat hello.txt'", 0]]
    )
    assert.strictEqual(only(events, "message")[0]!.text, "DONE")
  })

  it("turn.failed is failure, with the provider's sentence dug out of the raw body", () => {
    const { verdict } = run(codexStream, stream("codex.http400.jsonl"), { code: 1 })
    assert.deepStrictEqual(verdict, { kind: "failed", message: "Bad request (model server)" })
  })

  it("a file change that failed (its own sandbox could not start) is a failed file change, not a changed file", () => {
    const { events, verdict } = run(codexStream, stream("codex.sandbox-unavailable.jsonl"))
    assert.deepStrictEqual(verdict, { kind: "completed" }, "Codex itself still calls the turn completed")
    assert.deepStrictEqual(only(events, "file_change"), [])
    assert.deepStrictEqual(failures(events), {
      failedToolCalls: [
        {
          name: "apply_patch",
          kind: "file_change",
          reason: "Codex could not apply the patch (status failed; its reason is in agent.stderr.log)",
          target: "hello.txt"
        },
        {
          name: "command_execution",
          kind: "command",
          reason: "exit code 1: bwrap: execvp codex-linux-sandbox: No such file or directory",
          target: "/bin/bash -lc 'cat hello.txt'"
        }
      ],
      failedToolCallCount: 2,
      files: []
    })
    // Its stderr says why: the helper links were refused under the temp dir. That is an error, not a second failure.
    const fromStderr = stderrEvents(codexStream, "codex.sandbox-unavailable.stderr.log")
    assert.deepStrictEqual(
      fromStderr.map((e) => e._tag),
      ["error"]
    )
    assert.include((fromStderr[0] as any).message, "Codex could not set up its sandbox helper")
    assert.include((fromStderr[0] as any).message, "Refusing to create helper binaries under temporary dir")
  })

  it("a patch its policy rejected reaches only stderr, and is read from there as a refused file change", () => {
    const { events } = run(codexStream, stream("codex.outside.jsonl"))
    assert.deepStrictEqual(
      only(events, "tool_call").map((e) => e.name),
      ["command_execution"],
      "the JSON stream never mentions the patch"
    )
    const all = [...events, ...stderrEvents(codexStream, "codex.outside.stderr.log")]
    assert.deepStrictEqual(failures(all).failedToolCalls, [
      {
        name: "command_execution",
        kind: "command",
        reason: "exit code 1: cat: hello.txt: No such file or directory",
        target: "/bin/bash -lc 'cat hello.txt'"
      },
      {
        name: "apply_patch",
        kind: "file_change",
        reason: "patch rejected: writing outside of the project; rejected by user approval settings",
        denied: true
      }
    ])
  })

  it("a declined command is refused", () => {
    const line = JSON.stringify({
      type: "item.completed",
      item: {
        id: "i1",
        type: "command_execution",
        command: "rm -rf /",
        aggregated_output: "",
        exit_code: null,
        status: "declined"
      }
    })
    assert.deepStrictEqual(failures(run(codexStream, line).events).failedToolCalls, [
      { name: "tool", kind: "command", reason: "declined by Codex's approval policy", denied: true }
    ])
  })
})

describe("opencode run --format json", () => {
  it("succeeds on a last step_finish with reason stop, summing usage per step", () => {
    const { events, verdict } = run(opencodeStream, stream("opencode.success.jsonl"))
    assert.deepStrictEqual(verdict, { kind: "completed" })
    assert.deepStrictEqual(
      only(events, "file_change").map((e) => [e.path, e.kind]),
      [["hello.txt", "add"]]
    )
    assert.deepStrictEqual(
      only(events, "command").map((e) => [e.command, e.exitCode]),
      [["cat hello.txt", 0]]
    )
    assert.strictEqual(
      only(events, "usage").reduce((n, u) => n + u.inputTokens, 0),
      300
    )
  })

  it("fails with the API error's message", () => {
    const { verdict } = run(opencodeStream, stream("opencode.http400.jsonl"), { code: 1 })
    assert.deepStrictEqual(verdict, { kind: "failed", message: "Bad request (model server)" })
  })

  it("fails when the last step did not stop", () => {
    const line = JSON.stringify({
      type: "step_finish",
      sessionID: "s",
      part: { reason: "tool-calls", tokens: { input: 1, output: 1 } }
    })
    assert.deepStrictEqual(run(opencodeStream, line).verdict, {
      kind: "failed",
      message: "opencode ended without finishing its last step (last step reason: tool-calls)"
    })
  })

  it("a write outside the worktree is refused by its deny rule, in one sentence; the turn goes on", () => {
    const { events, verdict } = run(opencodeStream, stream("opencode.outside.jsonl"))
    assert.deepStrictEqual(verdict, { kind: "completed" })
    assert.deepStrictEqual(failures(events).failedToolCalls, [
      {
        name: "write",
        kind: "file_change",
        reason:
          "permission denied: The user has specified a rule which prevents you from using this specific tool call.",
        denied: true,
        target: "/tmp/ms/outside.txt"
      },
      {
        name: "bash",
        kind: "command",
        reason: "exit code 1: cat: hello.txt: No such file or directory",
        target: "cat hello.txt"
      }
    ])
  })

  it("an auto-rejected ask ends the session early: the verdict names the refused call", () => {
    const line = JSON.stringify({
      type: "tool_use",
      sessionID: "s",
      part: {
        type: "tool",
        tool: "write",
        callID: "c1",
        state: {
          status: "error",
          input: { filePath: "/tmp/ms/outside.txt", content: "hi\n" },
          error: "The user rejected permission to use this specific tool call."
        }
      }
    })
    const finish = JSON.stringify({
      type: "step_finish",
      sessionID: "s",
      part: { reason: "tool-calls", tokens: { input: 1, output: 1 } }
    })
    const { events, verdict } = run(opencodeStream, `${line}\n${finish}`)
    assert.deepStrictEqual(verdict, {
      kind: "failed",
      message: "opencode stopped after its permission config refused write /tmp/ms/outside.txt"
    })
    assert.deepStrictEqual(failures(events).failedToolCalls, [
      {
        name: "write",
        kind: "file_change",
        reason: "permission denied: The user rejected permission to use this specific tool call.",
        denied: true,
        target: "/tmp/ms/outside.txt"
      }
    ])
  })

  it("a bash command that exits non-zero is a failed command (opencode says so only in metadata)", () => {
    const { events } = run(opencodeStream, stream("opencode.command-failed.jsonl"))
    assert.deepStrictEqual(failures(events).failedToolCalls, [
      {
        name: "bash",
        kind: "command",
        reason: "exit code 1: cat: missing.txt: No such file or directory",
        target: "cat missing.txt"
      }
    ])
    assert.deepStrictEqual(
      only(events, "command").map((e) => e.exitCode),
      [1]
    )
  })
})

describe("Droid exec stream-json", () => {
  it("maps Create and Execute and succeeds on completion", () => {
    const { events, verdict } = run(droidStream, stream("droid.success.jsonl"))
    assert.deepStrictEqual(verdict, { kind: "completed" })
    assert.deepStrictEqual(
      only(events, "file_change").map((e) => [e.path, e.kind]),
      [["hello.txt", "add"]]
    )
    assert.deepStrictEqual(
      only(events, "command").map((e) => [e.command, e.exitCode, e.output]),
      [["cat hello.txt", 0, "hi"]]
    )
    assert.strictEqual(only(events, "turn_end")[0]!.text, "DONE")
  })

  it("a tool error is a failed call with Droid's message, without its Error: prefixes", () => {
    const { events, verdict } = run(droidStream, stream("droid.tool-error.jsonl"))
    assert.deepStrictEqual(verdict, { kind: "completed" })
    assert.deepStrictEqual(failures(events).failedToolCalls, [
      {
        name: "Create",
        kind: "file_change",
        reason: `Cannot create file at "/tmp/ms/repo/sub" because a directory already exists there.`,
        target: "sub"
      },
      {
        name: "Execute",
        kind: "command",
        reason: "Command failed (exit code: 1) cat: hello.txt: No such file or directory",
        target: "cat hello.txt"
      }
    ])
  })

  it("a call its --auto level does not allow is refused, and Droid ends the run", () => {
    const { events, verdict } = run(droidStream, stream("droid.denied.jsonl"), { code: 1 })
    assert.strictEqual(verdict.kind, "failed")
    const f = failures(events).failedToolCalls?.[0]
    assert.deepInclude(f, { name: "Execute", kind: "command", denied: true, target: "printf 'hi\\n' > hello.txt" })
    assert.match(f?.reason ?? "", /^Exec ended early: insufficient permission to proceed/)
  })

  it("a file created outside the worktree keeps its absolute path (its autonomy level is no sandbox)", () => {
    const { events } = run(droidStream, stream("droid.outside.jsonl"))
    assert.deepStrictEqual(failures(events).files, ["/tmp/ms/outside.txt"])
  })

  it("reports the first error's words, not the generic 'Exec failed' that follows", () => {
    const { events, verdict } = run(droidStream, stream("droid.http400.jsonl"), { code: 1 })
    assert.deepStrictEqual(verdict, { kind: "failed", message: "400 Bad request (model server)" })
    assert.deepStrictEqual(
      only(events, "error").map((e) => e.message),
      ["400 Bad request (model server)"]
    )
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
    assert.deepStrictEqual(only(events, "file_change")[0], {
      _tag: "file_change",
      at: 1,
      path: "src/a.ts",
      kind: "add"
    })
    assert.deepStrictEqual(run(commandStream, text, { code: 0 }).verdict, { kind: "completed" })
    assert.deepStrictEqual(run(commandStream, text, { code: 2 }).verdict, { kind: "failed", message: "tests fail" })
    assert.deepStrictEqual(run(commandStream, "", { code: 2, stderrTail: "boom\n" }).verdict, {
      kind: "failed",
      message: "the command exited with code 2: boom"
    })
  })

  it("reports failed steps: a file change with ok false, and tool calls with their results", () => {
    const text = [
      JSON.stringify({
        type: "file_change",
        path: `${REPO}/gate.policy.yaml`,
        ok: false,
        error: "read-only file system",
        denied: true
      }),
      JSON.stringify({ type: "tool_call", id: "t1", name: "run_tests", input: { command: "npm test" } }),
      JSON.stringify({ type: "tool_result", id: "t1", ok: false, output: "1 failed\nmore", kind: "command" }),
      JSON.stringify({ type: "tool_result", id: "t2", ok: true, output: "fine", error: "ignored when ok" })
    ].join("\n")
    const { events, tags } = run(commandStream, text)
    assert.deepStrictEqual(tags, ["tool_result", "tool_call", "tool_result", "tool_result"])
    assert.deepStrictEqual(only(events, "file_change"), [], "a failed change is not a changed file")
    assert.deepStrictEqual(events[3], { _tag: "tool_result", at: 1, id: "t2", ok: true, output: "fine" })
    assert.deepStrictEqual(failures(events).failedToolCalls, [
      {
        name: "file_change",
        kind: "file_change",
        reason: "read-only file system",
        denied: true,
        target: "gate.policy.yaml"
      },
      { name: "run_tests", kind: "command", reason: "1 failed: more", target: "npm test" }
    ])
  })
})

describe("ACP session updates", () => {
  it("maps a recorded claude-code-acp turn (Write through mcp__acp__Write, then a terminal command)", () => {
    const u = new AcpUpdates("/tmp/smoke/repo-0WV2Fn")
    const events = stream("acp-claude-code.success.jsonl")
      .split("\n")
      .filter((l) => l !== "")
      .flatMap((l) => {
        const m = JSON.parse(l)
        return m.method === "session/update" ? u.map(m.params.update, 1) : []
      })
    events.push(...u.flush(1))
    assert.deepStrictEqual(
      only(events, "tool_call").map((e) => e.name),
      ["Write /tmp/smoke/repo-0WV2Fn/hello.txt", "`cat hello.txt`"]
    )
    assert.deepStrictEqual(
      only(events, "tool_result").map((e) => e.ok),
      [true, true]
    )
    assert.deepStrictEqual(
      only(events, "file_change").map((e) => [e.path, e.kind]),
      [["hello.txt", "update"]]
    )
    assert.deepStrictEqual(
      only(events, "command").map((e) => [e.command, e.output]),
      [["cat hello.txt", "hi"]]
    )
    assert.deepStrictEqual(
      only(events, "message").map((e) => e.text),
      ["DONE"]
    )
  })

  it("a permission this client rejected makes the failed call a refused one, with the policy's reason", () => {
    const u = new AcpUpdates(REPO)
    const events = stream("acp-claude-code.denied.jsonl")
      .split("\n")
      .filter((l) => l !== "")
      .flatMap((l) => {
        const m = JSON.parse(l)
        // What acpClient does when the policy answers a permission request with a rejection.
        if (m.method === "session/request_permission")
          u.reject(m.params.toolCall.toolCallId, "spec-orch's policy refused it (edits inside the worktree: deny)")
        return m.method === "session/update" ? u.map(m.params.update, 1) : []
      })
    assert.deepStrictEqual(only(events, "file_change"), [])
    assert.deepStrictEqual(failures(events).failedToolCalls, [
      {
        name: "Write /tmp/ms/repo/hello.txt",
        kind: "file_change",
        reason: "permission denied: spec-orch's policy refused it (edits inside the worktree: deny)",
        denied: true,
        target: "hello.txt"
      }
    ])
  })

  it("the agent's own words mark a refusal too; a refused fs request carries its reason", () => {
    const u = new AcpUpdates(REPO)
    const events = stream("acp-claude-code.outside.jsonl")
      .split("\n")
      .filter((l) => l !== "")
      .flatMap((l) => {
        const m = JSON.parse(l)
        return m.method === "session/update" ? u.map(m.params.update, 1) : []
      })
    assert.deepStrictEqual(failures(events).failedToolCalls, [
      {
        name: "Write /tmp/ms/outside.txt",
        kind: "file_change",
        reason: "permission denied: User refused permission to run tool",
        denied: true,
        target: "/tmp/ms/outside.txt"
      }
    ])

    const v = new AcpUpdates(REPO)
    v.refusePath("/etc/passwd", `spec-orch refused to write it: "/etc/passwd" is outside the worktree ${REPO}`)
    const refused = [
      {
        sessionUpdate: "tool_call",
        toolCallId: "w",
        title: "Write /etc/passwd",
        kind: "edit",
        status: "pending",
        rawInput: { file_path: "/etc/passwd" }
      },
      { sessionUpdate: "tool_call_update", toolCallId: "w", status: "failed", rawOutput: "Internal error" }
    ].flatMap((update) => v.map(update, 1))
    assert.deepStrictEqual(
      failures(refused).failedToolCalls?.[0]?.reason,
      `permission denied: spec-orch refused to write it: "/etc/passwd" is outside the worktree ${REPO}`
    )
  })

  it("joins streamed chunks into whole messages and maps tool calls, plans and usage", () => {
    const u = new AcpUpdates(REPO)
    const events = [
      { sessionUpdate: "agent_thought_chunk", content: { type: "text", text: "thinking " } },
      { sessionUpdate: "agent_thought_chunk", content: { type: "text", text: "hard" } },
      { sessionUpdate: "agent_message_chunk", content: { type: "text", text: "I will " } },
      { sessionUpdate: "agent_message_chunk", content: { type: "text", text: "write it" } },
      { sessionUpdate: "tool_call", toolCallId: "t1", title: "Write", kind: "edit", status: "pending", rawInput: {} },
      {
        sessionUpdate: "tool_call_update",
        toolCallId: "t1",
        title: `Write ${REPO}/hello.txt`,
        rawInput: { file_path: `${REPO}/hello.txt` },
        locations: [{ path: `${REPO}/hello.txt` }]
      },
      { sessionUpdate: "tool_call_update", toolCallId: "t1", status: "completed", rawOutput: "ok" },
      {
        sessionUpdate: "tool_call",
        toolCallId: "t2",
        title: "`cat hello.txt`",
        kind: "execute",
        status: "pending",
        rawInput: { command: "cat hello.txt" }
      },
      {
        sessionUpdate: "tool_call_update",
        toolCallId: "t2",
        status: "failed",
        content: [{ type: "content", content: { type: "text", text: "no such file" } }]
      },
      { sessionUpdate: "plan", entries: [{ content: "step", priority: "high", status: "pending" }] },
      { sessionUpdate: "usage_update", used: 50, size: 1000, cost: { amount: 0.5, currency: "USD" } },
      { sessionUpdate: "available_commands_update", availableCommands: [] }
    ].flatMap((update) => u.map(update, 1))
    assert.deepStrictEqual(
      events.map((e) => e._tag),
      [
        "reasoning",
        "message",
        "tool_call",
        "tool_result",
        "file_change",
        "tool_call",
        "tool_result",
        "command",
        "plan",
        "usage"
      ]
    )
    assert.strictEqual((events[0] as any).text, "thinking hard")
    assert.strictEqual((events[1] as any).text, "I will write it")
    assert.deepStrictEqual((events[2] as any).input, { file_path: `${REPO}/hello.txt` })
    assert.deepStrictEqual(events[4], { _tag: "file_change", at: 1, path: "hello.txt", kind: "update" })
    assert.deepStrictEqual([(events[6] as any).ok, (events[6] as any).output], [false, "no such file"])
    assert.deepStrictEqual(events[9], {
      _tag: "usage",
      at: 1,
      cumulative: true,
      inputTokens: 50,
      outputTokens: 0,
      costUsd: 0.5
    })
    assert.strictEqual(u.kindOf("t1"), "edit")
  })
})
