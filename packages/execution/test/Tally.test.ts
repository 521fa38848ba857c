import { assert, describe, it } from "@effect/vitest"
import { type AgentEvent, MAX_FAILED_TOOL_CALLS } from "@spec-orch/contract"
import { Tally } from "../src/internal/tally.js"

const tally = (events: ReadonlyArray<AgentEvent>) => {
  const t = new Tally()
  for (const e of events) t.add(e)
  return t
}

describe("Tally", () => {
  it("counts tool calls by name and keeps their order; a call announced twice, or named only by its result, counts once", () => {
    const t = tally([
      { _tag: "tool_call", at: 1, id: "c1", name: "Read", input: { file_path: "a.ts" } },
      { _tag: "tool_call", at: 2, id: "c1", name: "Read", input: { file_path: "a.ts" } },
      { _tag: "tool_result", at: 3, id: "c1", ok: true, output: "x" },
      { _tag: "tool_call", at: 4, id: "c2", name: "Bash", input: { command: "npm test" } },
      { _tag: "tool_result", at: 5, id: "c3", ok: false, output: "denied", name: "Write", denied: true },
      { _tag: "tool_call", at: 6, id: "c4", name: "Read", input: {} }
    ])
    assert.deepStrictEqual(t.toolCallFields(), {
      toolCalls: { total: 4, byName: { Read: 2, Bash: 1, Write: 1 }, sequence: ["Read", "Bash", "Write", "Read"] }
    })
    assert.deepStrictEqual(
      tally([{ _tag: "message", at: 1, role: "assistant", text: "hi" }]).toolCallFields(),
      {},
      "no tool call: no telemetry"
    )
  })

  it("keeps the outcome's totals: session, last text, commands, files once each, event count", () => {
    const t = tally([
      { _tag: "session", at: 1, sessionId: "s1" },
      { _tag: "session", at: 2, sessionId: "s2" },
      { _tag: "message", at: 3, role: "assistant", text: "working" },
      { _tag: "file_change", at: 4, path: "a.ts", kind: "add" },
      { _tag: "file_change", at: 5, path: "a.ts", kind: "update" },
      { _tag: "command", at: 6, command: "npm test", exitCode: 0 },
      { _tag: "message", at: 7, role: "user", text: "ignored" },
      { _tag: "turn_end", at: 8, reason: "done", ok: true, text: "DONE" }
    ])
    assert.deepStrictEqual(
      [t.count, t.sessionId, t.lastText, t.endText, t.commands, t.files],
      [8, "s1", "working", "DONE", 1, ["a.ts"]]
    )
    assert.deepStrictEqual(t.outcomeFields(), {}, "no failed tool call: the outcome has no failure fields")
  })

  it("summarizes a failed call with its name and target from the call, and the reason from the result", () => {
    const t = tally([
      { _tag: "tool_call", at: 1, id: "c1", name: "Bash", input: { command: "npm   test\n--silent" } },
      {
        _tag: "tool_result",
        at: 2,
        id: "c1",
        ok: false,
        output: "\n```\nError: Exit code 1\n3 tests failed\nmore\n```"
      },
      { _tag: "tool_call", at: 3, id: "c2", name: "Write", input: { file_path: "/abs/x.ts" } },
      { _tag: "tool_result", at: 4, id: "c2", ok: true, output: "ok" }
    ])
    assert.deepStrictEqual(t.outcomeFields(), {
      failedToolCalls: [
        { name: "Bash", kind: "other", reason: "Exit code 1: 3 tests failed", target: "npm test --silent" }
      ],
      failedToolCallCount: 1
    })
  })

  it("prefers the protocol's own fields: name, kind, paths, error, denied", () => {
    const t = tally([
      {
        _tag: "tool_call",
        at: 1,
        id: "p",
        name: "apply_patch",
        input: { changes: [{ path: "/wt/a.ts" }, { path: "/wt/b.ts" }, { path: "/wt/c.ts" }, { path: "/wt/d.ts" }] }
      },
      {
        _tag: "tool_result",
        at: 2,
        id: "p",
        ok: false,
        output: "add a.ts",
        kind: "file_change",
        paths: ["a.ts", "b.ts", "c.ts", "d.ts"],
        error: "sandbox refused the write",
        denied: true
      },
      { _tag: "tool_result", at: 3, id: "", ok: false, output: "", name: "exec_command", kind: "command", denied: true }
    ])
    assert.deepStrictEqual(t.failedToolCalls(), [
      {
        name: "apply_patch",
        kind: "file_change",
        reason: "sandbox refused the write",
        denied: true,
        target: "a.ts, b.ts, c.ts and 1 more"
      },
      { name: "exec_command", kind: "command", reason: "permission denied", denied: true }
    ])
  })

  it("counts a call reported twice once, completing the first record with the refusal", () => {
    const t = tally([
      { _tag: "tool_call", at: 1, id: "w", name: "Write", input: { file_path: "/wt/a.ts" } },
      { _tag: "tool_result", at: 2, id: "w", ok: false, output: "something went wrong" },
      {
        _tag: "tool_result",
        at: 3,
        id: "w",
        ok: false,
        output: "",
        kind: "file_change",
        denied: true,
        error: "permission denied: outside the working directory",
        paths: ["a.ts"]
      }
    ])
    assert.deepStrictEqual(t.outcomeFields(), {
      failedToolCalls: [
        {
          name: "Write",
          kind: "file_change",
          reason: "permission denied: outside the working directory",
          denied: true,
          target: "a.ts"
        }
      ],
      failedToolCallCount: 1
    })
  })

  it("lists at most MAX_FAILED_TOOL_CALLS and counts them all; reasons and targets stay one bounded line", () => {
    const events: Array<AgentEvent> = []
    for (let i = 0; i < MAX_FAILED_TOOL_CALLS + 5; i++) {
      events.push({ _tag: "tool_call", at: i, id: `c${i}`, name: "Bash", input: { command: `run ${"x".repeat(500)}` } })
      events.push({ _tag: "tool_result", at: i, id: `c${i}`, ok: false, output: `failure ${i} ${"y".repeat(1000)}` })
    }
    const fields = tally(events).outcomeFields()
    assert.strictEqual(fields.failedToolCallCount, MAX_FAILED_TOOL_CALLS + 5)
    assert.strictEqual(fields.failedToolCalls?.length, MAX_FAILED_TOOL_CALLS)
    assert.match(fields.failedToolCalls![0]!.reason, /^failure 0 y+…$/)
    assert.isAtMost(fields.failedToolCalls![0]!.reason.length, 200)
    assert.isAtMost(fields.failedToolCalls![0]!.target!.length, 160)
    assert.notInclude(fields.failedToolCalls![19]!.reason, "\n")
  })
})
