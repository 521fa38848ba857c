import { assert, describe, it } from "@effect/vitest"
import { PassThrough } from "node:stream"
import { describeRunEvent, progressDisplay } from "../src/Progress.js"

const event = (kind: string, data: unknown, seq = 1) => ({
  runId: "R-1-r1",
  seq,
  at: new Date().toISOString(),
  kind,
  data
})

describe("progress", () => {
  it("shows ✗ with why on a stage that finished with bad news, ✓ otherwise", () => {
    assert.strictEqual(
      describeRunEvent(
        event("stage", {
          stage: "agent",
          state: "finished",
          ms: 1200,
          ok: false,
          summary: "command failed: agent.sh: not found"
        })
      ),
      "✗ agent (1.2s): command failed: agent.sh: not found"
    )
    assert.strictEqual(
      describeRunEvent(
        event("stage", {
          stage: "verify",
          state: "finished",
          ms: 300,
          ok: false,
          summary: "1 of 2 step(s) did not pass: test failed"
        })
      ),
      "✗ verify (0.3s): 1 of 2 step(s) did not pass: test failed"
    )
    assert.strictEqual(
      describeRunEvent(event("stage", { stage: "commit", state: "finished", ms: 50 })),
      "✓ commit (0.1s)"
    )
    assert.strictEqual(
      describeRunEvent(event("stage", { stage: "agent", state: "finished", ms: 50, ok: true, summary: "completed" })),
      "✓ agent (0.1s)"
    )
  })

  it("shows – with why on a stage that ran nothing, never ✓", () => {
    const skipped = {
      stage: "verify",
      state: "finished",
      ms: 0,
      ok: true,
      skipped: true,
      summary: "not run: the agent failed and changed nothing, so there is nothing to verify"
    }
    assert.strictEqual(
      describeRunEvent(event("stage", skipped)),
      "– verify (0.0s): not run: the agent failed and changed nothing, so there is nothing to verify"
    )
  })

  it("prints plain lines without a terminal, with no colour or cursor codes", () => {
    const out = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough
    let text = ""
    out.on("data", (d: Buffer) => (text += d.toString()))
    const display = progressDisplay("R-1", out)
    display.onEvent(event("stage", { stage: "verify", state: "started" }))
    display.onEvent(event("step", { name: "test", outcome: "failed", exitCode: 1, durationMs: 20 }, 2))
    display.onEvent(
      event(
        "stage",
        { stage: "verify", state: "finished", ms: 25, ok: false, summary: "1 of 1 step(s) did not pass: test failed" },
        3
      )
    )
    display.stop()
    assert.deepStrictEqual(text.trimEnd().split("\n"), [
      "  verify test: failed (exit 1) 0.0s",
      "✗ verify (0.0s): 1 of 1 step(s) did not pass: test failed"
    ])
    assert.notMatch(text, /\x1b/)
  })
})
