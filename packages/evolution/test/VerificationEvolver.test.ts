import { assert, describe, it } from "@effect/vitest"
import { type MemoryEntry, verificationLearnings } from "../src/index.js"

const entry = (
  issue: string,
  runIds: Array<string>,
  step = "changelog",
  command = "test -s CHANGELOG.md",
  over: Partial<MemoryEntry> = {}
): MemoryEntry => ({
  id: `mem-${issue}-${step}`,
  key: `${issue}:verification:${step}`,
  layer: "episodic",
  kind: "verification-failed",
  scopes: [{ type: "issue", id: issue }],
  tags: [`step:${step}`, "failed"],
  provenance: { runIds, findingIds: [], reviewIds: [], entryIds: [] },
  content: `Verification step ${step} (${command}) failed (exit 1) in runs ${runIds.join(", ")}.`,
  validFrom: "2026-01-01T00:00:00.000Z",
  validTo: null,
  recordedAt: "2026-01-01T00:00:00.000Z",
  supersededBy: null,
  closedReason: null,
  ...over
})

describe("the verification-learning evolver", () => {
  it("a step failing in enough runs becomes one proposal naming the step and its command, not the runs", () => {
    const once = verificationLearnings([entry("A-1", ["A-1-r1"])])
    assert.deepStrictEqual(once, [], "one failed run is not a pattern")
    const [issueOnly] = verificationLearnings([entry("A-1", ["A-1-r1", "A-1-r2"])])
    assert.strictEqual(issueOnly!.scope, "issue:A-1")
    const [both] = verificationLearnings([
      entry("A-1", ["A-1-r1"]),
      entry("A-2", ["A-2-r1"]),
      entry("A-3", ["A-3-r1"], "unit", "npm test", { validTo: "2026-01-02T00:00:00.000Z" })
    ])
    assert.strictEqual(both!.scope, "project")
    assert.deepStrictEqual(both!.sources!.runIds, ["A-1-r1", "A-2-r1"])
    assert.include(both!.content, "changelog runs `test -s CHANGELOG.md`")
    assert.notInclude(both!.content, "A-1-r1", "the same failure recurring again is the same proposal")
    assert.strictEqual(verificationLearnings([entry("A-1", ["A-1-r1", "A-1-r2", "A-1-r3"])], 4).length, 0)
  })
})
