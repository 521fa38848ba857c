import { assert, describe, it } from "@effect/vitest"
import { IssueNotFound, Unexpected } from "@spec-orch/contract"
import { Schema } from "effect"
import { StageFailed, StageStopped } from "../src/run/StageFailed.js"

/** The JSON codec the workflow journal keeps an activity's error with. */
const journal = Schema.toCodecJson(StageFailed)
const write = (failure: StageFailed) =>
  JSON.parse(JSON.stringify(Schema.encodeUnknownSync(journal)(failure))) as unknown
const read = (row: unknown) => Schema.decodeUnknownSync(journal)(row)

describe("StageFailed", () => {
  it("keeps a plane's tagged error as data in the journal and reads it back as that error", () => {
    const failure = StageFailed.of("load", new IssueNotFound({ id: "SPC-9", source: "fixtures" }))
    const row = write(failure) as { reason: { _tag: string; id: string } }
    assert.strictEqual(row.reason._tag, "IssueNotFound")
    assert.strictEqual(row.reason.id, "SPC-9")
    const back = read(row)
    assert.instanceOf(back.reason, IssueNotFound)
    assert.strictEqual(back.message, "load stage failed: issue SPC-9 not found in fixtures")
  })

  it("reads a row journaled before reasons were typed (a plain string) as Unexpected", () => {
    const back = read({ _tag: "StageFailed", stage: "agent", reason: "the agent exited 1" })
    assert.instanceOf(back.reason, Unexpected)
    assert.strictEqual(back.reason._tag, "Unexpected")
    assert.strictEqual(back.message, "agent stage failed: the agent exited 1")
  })

  it("wraps what no plane names (a thrown Error, a platform error) in Unexpected with its message, and journals it as an object", () => {
    const failure = StageFailed.of("publish", new Error("ENOENT: explain.md"))
    assert.strictEqual(failure.reason._tag, "Unexpected")
    assert.deepStrictEqual(write(failure), {
      _tag: "StageFailed",
      stage: "publish",
      reason: { _tag: "Unexpected", message: "ENOENT: explain.md" }
    })
    assert.strictEqual(read(write(failure)).message, "publish stage failed: ENOENT: explain.md")
  })

  it("journals a stage's own check as StageStopped", () => {
    const back = read(write(StageFailed.stopped("context", "the prompt is over budget")))
    assert.instanceOf(back.reason, StageStopped)
    assert.strictEqual(back.message, "context stage failed: the prompt is over budget")
  })

  it("redacts secrets inside the error's data, not only its message", () => {
    const secret = "ghp_0123456789abcdef"
    const failure = StageFailed.of(
      "load",
      new IssueNotFound({ id: "SPC-1", source: "github", hint: `token ${secret} lacks repo scope` })
    )
    const redacted = StageFailed.redacted(
      failure,
      (value) => JSON.parse(JSON.stringify(value).replaceAll(secret, "[redacted]")),
      (text) => text.replaceAll(secret, "[redacted]")
    )
    assert.instanceOf(redacted.reason, IssueNotFound)
    assert.strictEqual((redacted.reason as IssueNotFound).hint, "token [redacted] lacks repo scope")
    assert.notInclude(JSON.stringify(write(redacted)), secret)
  })
})
