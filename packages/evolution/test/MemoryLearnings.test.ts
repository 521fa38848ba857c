import { assert, describe, it } from "@effect/vitest"
import { Issue } from "@spec-orch/contract"
import { ContextAssembler } from "@spec-orch/harness"
import { Effect, Layer, Schema } from "effect"
import { Memory, MemoryLearnings, MAX_LEARNING_CHARS, MAX_LEARNINGS, noteInput, teaches } from "../src/index.js"
import { finish, world } from "./utils/runs.js"

const issue = (id: string, targetFiles: ReadonlyArray<string> = []) =>
  Schema.decodeUnknownSync(Issue)({
    id,
    title: "Parse empty input",
    summary: "parse('') should return an empty list",
    acceptanceCriteria: [],
    constraints: [],
    filesToRead: [],
    targetFiles,
    labels: [],
    origin: { kind: "fixture", ref: `fixtures/issues/${id}.json` }
  })

const layer = () => {
  const base = world()
  return Layer.mergeAll(ContextAssembler.layer.pipe(Layer.provide(MemoryLearnings)), base).pipe(Layer.provideMerge(base))
}

describe("Learnings from memory", () => {
  it.effect("the next builder prompt for the issue holds the earlier failure and finding, fenced as data, with their ids listed", () =>
    Effect.gen(function*() {
      const assembler = yield* ContextAssembler
      const before = yield* assembler.assemble({ issue: issue("SPC-1"), verification: [] })
      assert.deepStrictEqual(before.learnings, [])
      yield* finish(1, ["verification"], 1)
      const env = yield* assembler.assemble({ issue: issue("SPC-1"), verification: [] })
      const section = env.prompt.slice(env.prompt.indexOf("## Learned from earlier runs"))
      assert.match(section, /^## Learned from earlier runs\n\n<untrusted-data source="spec-orch memory of earlier runs">\n/)
      assert.include(section, "AssertionError: expected 2 to be 3")
      assert.include(section, "parse('') throws")
      assert.include(section, "(from run-SPC-1-1)")
      assert.strictEqual(env.learnings.length, 4, "failed condition, failing step, finding, review")
      assert.isTrue(env.learnings.every((id) => id.startsWith("mem-")))
    }).pipe(Effect.provide(layer())))

  it.effect("another issue that names the same file learns the file's finding; an unrelated issue learns nothing; a fixed failure is no longer taught", () =>
    Effect.gen(function*() {
      const assembler = yield* ContextAssembler
      yield* finish(1, ["verification"], 1)
      const other = yield* assembler.assemble({ issue: issue("SPC-9", ["src/parser.ts"]), verification: [] })
      assert.include(other.prompt, "parse('') throws")
      assert.deepStrictEqual((yield* assembler.assemble({ issue: issue("SPC-8", ["src/other.ts"]), verification: [] })).learnings, [])
      yield* finish(2, [], 0)
      const after = yield* assembler.assemble({ issue: issue("SPC-1"), verification: [] })
      assert.notInclude(after.prompt, "expected 2 to be 3")
    }).pipe(Effect.provide(layer())))

  it.effect("a person's note about a file the issue names is taught (memory add); one about another file is not", () =>
    Effect.gen(function*() {
      const assembler = yield* ContextAssembler
      const memory = yield* Memory
      const note = yield* memory.remember(noteInput({ text: "parser tests need --runInBand", scopes: [{ type: "file", id: "src/parser.ts" }], by: "ada" }))
      const env = yield* assembler.assemble({ issue: issue("SPC-5", ["src/parser.ts"]), verification: [] })
      assert.include(env.prompt, "- a person's note: parser tests need --runInBand")
      assert.deepStrictEqual(env.learnings, [note.id])
      assert.deepStrictEqual((yield* assembler.assemble({ issue: issue("SPC-6", ["src/other.ts"]), verification: [] })).learnings, [])
    }).pipe(Effect.provide(layer())))

  it.effect("is bounded: a handful of learnings, each cut short", () =>
    Effect.gen(function*() {
      const memory = yield* Memory
      yield* memory.rememberAll(Array.from({ length: 30 }, (_, i) => ({
        key: `finding:SPC-1:${i}`,
        layer: "episodic" as const,
        kind: "finding",
        scopes: [{ type: "issue" as const, id: "SPC-1" }],
        provenance: { runIds: [`run-${i}`] },
        content: `finding ${i}: ${"x".repeat(2000)}`
      })))
      const env = yield* (yield* ContextAssembler).assemble({ issue: issue("SPC-1"), verification: [] })
      assert.strictEqual(env.learnings.length, MAX_LEARNINGS)
      const lines = env.prompt.split("\n").filter((l) => l.startsWith("- finding: finding"))
      assert.strictEqual(lines.length, MAX_LEARNINGS)
      assert.isTrue(lines.every((l) => l.length < MAX_LEARNING_CHARS + 40))
    }).pipe(Effect.provide(layer())))
})

describe("what teaches the builder", () => {
  const entry = (kind: string, tags: ReadonlyArray<string>) => ({
    id: "mem-1", key: "k", layer: "episodic" as const, kind, scopes: [{ type: "issue" as const, id: "SPC-1" }], tags,
    provenance: { runIds: ["r1"], findingIds: [], reviewIds: [] }, content: "x", validFrom: "", validTo: null, recordedAt: "", supersededBy: null, closedReason: null
  })
  it("a review asking for changes does, a passing, pending or unsure one does not; a run that broke before the gate does, one the gate judged does not", () => {
    assert.isTrue(teaches(entry("review", ["review:changes_requested"])))
    for (const v of ["pass", "pending", "uncertain"]) assert.isFalse(teaches(entry("review", [`review:${v}`])), v)
    assert.isTrue(teaches(entry("run-outcome", ["status:failed", "outcome:fail"])))
    assert.isFalse(teaches(entry("run-outcome", ["status:blocked", "outcome:fail"])))
    assert.isTrue(teaches(entry("finding", [])))
  })
})
