import { assert, describe, it } from "@effect/vitest"
import { formatProblem } from "@spec-orch/contract"
import { Result } from "effect"
import { evidenceJson, parseEvidence } from "../src/index.js"
import { goodBundle } from "./utils/evidence.js"

const problems = (text: string) => {
  const r = parseEvidence(text, "evidence.json")
  return Result.isFailure(r) ? r.failure.problems.map(formatProblem) : []
}

describe("parseEvidence", () => {
  it("round-trips a bundle through plain JSON", () => {
    const bundle = goodBundle()
    const text = JSON.stringify(evidenceJson(bundle), null, 2)
    const back = Result.getOrThrow(parseEvidence(text, "evidence.json"))
    assert.deepStrictEqual(JSON.parse(JSON.stringify(back)), JSON.parse(text))
  })

  it("names file, line and key of every problem", () => {
    const text = JSON.stringify({ schemaVersion: 1, issueId: "SPC-7", builder: { kind: "done" }, diffHash: 7 }, null, 2)
    assert.deepStrictEqual(problems(text), [
      'evidence.json:5:5: error: builder.kind: expected "completed" | "failed" | "timed_out" | "stalled" | "budget_exceeded" | "cancelled" | "skipped", found the string "done"',
      "evidence.json:4:3: error: builder.adapter: is required",
      "evidence.json:4:3: error: builder.usage: is required",
      "evidence.json:4:3: error: builder.durationMs: is required",
      "evidence.json:4:3: error: builder.eventCount: is required",
      "evidence.json:4:3: error: builder.filesChanged: is required",
      "evidence.json:4:3: error: builder.commandsRun: is required",
      "evidence.json:7:3: error: diffHash: expected string, found the integer 7"
    ])
  })

  it("rejects other schema versions and malformed JSON with a position", () => {
    assert.deepStrictEqual(problems('{"schemaVersion": 2, "issueId": "X"}'), [
      "evidence.json:1:2: error: schemaVersion: expected 1, found the integer 2"
    ])
    const [p] = problems('{\n  "schemaVersion": 1,\n  "issueId": "X",\n}')
    assert.match(p!, /^evidence\.json:4:1: error: not valid JSON: /)
  })
})
