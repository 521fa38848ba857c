import { assert, describe, it } from "@effect/vitest"
import { Issue } from "@spec-orch/contract"
import { ContextAssembler, Learnings, withinTokens } from "@spec-orch/harness"
import { SqliteClient } from "@spec-orch/sqlite"
import { bagOfWordsEmbedder, ModelServer } from "@spec-orch/test-kit"
import { Effect, Layer, Option, Schema } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { TestClock } from "effect/testing"
import {
  compactMemory,
  Memory,
  MemoryLearnings,
  MAX_LEARNING_CHARS,
  MAX_LEARNINGS,
  noteInput,
  teaches
} from "../src/index.js"
import { finish, world } from "./utils/runs.js"
import { memoryWith, SYNONYMS } from "./utils/vectorSuite.js"

const issue = (
  id: string,
  targetFiles: ReadonlyArray<string> = [],
  text: { readonly title: string; readonly summary: string } = {
    title: "Parse empty input",
    summary: "parse('') should return an empty list"
  }
) =>
  Schema.decodeUnknownSync(Issue)({
    id,
    ...text,
    acceptanceCriteria: [],
    constraints: [],
    filesToRead: [],
    targetFiles,
    labels: [],
    origin: { kind: "fixture", ref: `fixtures/issues/${id}.json` }
  })

const layer = () => {
  const base = world()
  return Layer.mergeAll(ContextAssembler.layer.pipe(Layer.provideMerge(MemoryLearnings)), base).pipe(
    Layer.provideMerge(base)
  )
}

describe("Learnings from memory", () => {
  it.effect(
    "the next builder prompt for the issue holds the earlier failure and finding, fenced as data, with their ids listed",
    () =>
      Effect.gen(function* () {
        const assembler = yield* ContextAssembler
        const before = yield* assembler.assemble({ issue: issue("SPC-1"), verification: [] })
        assert.deepStrictEqual(before.learnings, [])
        yield* finish(1, ["verification"], 1)
        const env = yield* assembler.assemble({ issue: issue("SPC-1"), verification: [] })
        const section = env.prompt.slice(env.prompt.indexOf("## Learned from earlier runs"))
        assert.match(
          section,
          /^## Learned from earlier runs\n\n<untrusted-data source="spec-orch memory of earlier runs">\n/
        )
        assert.include(section, "AssertionError: expected 2 to be 3")
        assert.include(section, "parse('') throws")
        assert.include(section, "(from run-SPC-1-1)")
        assert.strictEqual(env.learnings.length, 4, "failed condition, failing step, finding, review")
        assert.isTrue(env.learnings.every((id) => id.startsWith("mem-")))
      }).pipe(Effect.provide(layer()))
  )

  it.effect(
    "another issue that names the same file learns the file's finding; an unrelated issue learns nothing; a fixed failure is no longer taught",
    () =>
      Effect.gen(function* () {
        const assembler = yield* ContextAssembler
        yield* finish(1, ["verification"], 1)
        const other = yield* assembler.assemble({ issue: issue("SPC-9", ["src/parser.ts"]), verification: [] })
        assert.include(other.prompt, "parse('') throws")
        assert.deepStrictEqual(
          (yield* assembler.assemble({ issue: issue("SPC-8", ["src/other.ts"]), verification: [] })).learnings,
          []
        )
        yield* finish(2, [], 0)
        const after = yield* assembler.assemble({ issue: issue("SPC-1"), verification: [] })
        assert.notInclude(after.prompt, "expected 2 to be 3")
      }).pipe(Effect.provide(layer()))
  )

  it.effect("a person's note about a file the issue names is taught (memory add); one about another file is not", () =>
    Effect.gen(function* () {
      const assembler = yield* ContextAssembler
      const memory = yield* Memory
      const note = yield* memory.remember(
        noteInput({ text: "parser tests need --runInBand", scopes: [{ type: "file", id: "src/parser.ts" }], by: "ada" })
      )
      const env = yield* assembler.assemble({ issue: issue("SPC-5", ["src/parser.ts"]), verification: [] })
      assert.include(env.prompt, "- a person's note: parser tests need --runInBand")
      assert.deepStrictEqual(env.learnings, [note.id])
      assert.deepStrictEqual(
        (yield* assembler.assemble({ issue: issue("SPC-6", ["src/other.ts"]), verification: [] })).learnings,
        []
      )
    }).pipe(Effect.provide(layer()))
  )

  it.effect("is bounded: a handful of learnings, each cut short", () =>
    Effect.gen(function* () {
      const memory = yield* Memory
      yield* memory.rememberAll(
        Array.from({ length: 30 }, (_, i) => ({
          key: `finding:SPC-1:${i}`,
          layer: "episodic" as const,
          kind: "finding",
          scopes: [{ type: "issue" as const, id: "SPC-1" }],
          provenance: { runIds: [`run-${i}`] },
          content: `finding ${i}: ${"x".repeat(2000)}`
        }))
      )
      const env = yield* (yield* ContextAssembler).assemble({ issue: issue("SPC-1"), verification: [] })
      assert.strictEqual(env.learnings.length, MAX_LEARNINGS)
      const lines = env.prompt.split("\n").filter((l) => l.startsWith("- finding: finding"))
      assert.strictEqual(lines.length, MAX_LEARNINGS)
      assert.isTrue(lines.every((l) => l.length < MAX_LEARNING_CHARS + 40))
      // The reviewer's and planner's share is held to a token budget: whole learnings, as many as fit.
      const forReviewer = yield* (yield* Learnings).forIssue(issue("SPC-1"), "reviewer")
      assert.strictEqual(forReviewer.length, MAX_LEARNINGS, "eight learnings of about 105 tokens fit in 1,000")
      assert.strictEqual(withinTokens(forReviewer, 250).length, 2, "two of about 105 tokens fit in 250")
      assert.strictEqual(
        withinTokens([{ id: "cjk", text: "缓存".repeat(200), source: "r1" }], 150).length,
        0,
        "400 CJK characters are about 200 tokens"
      )
    }).pipe(Effect.provide(layer()))
  )

  it.effect(
    "a compacted history's summary is offered to the builder; the reviewer is told findings and reviews, not failing steps",
    () =>
      Effect.gen(function* () {
        yield* finish(1, ["verification"], 1)
        yield* finish(2, [], 0)
        yield* TestClock.setTime(Date.parse("2027-01-01T00:00:00Z"))
        const compacted = yield* compactMemory({ olderThanMs: 86_400_000 })
        const summaryId = compacted.scopes.find((s) => s.scope === "issue:SPC-1")!.summaryId
        const env = yield* (yield* ContextAssembler).assemble({ issue: issue("SPC-1"), verification: [] })
        assert.include(env.learnings, summaryId)
        assert.match(
          env.prompt,
          /- summary of earlier runs: Summary of issue:SPC-1 before [^\n]*2 runs[^\n]*Failing verification steps: test \(1 run\)[^\n]*\(from run-SPC-1-1, run-SPC-1-2\)/
        )
        assert.deepStrictEqual(env.learned.find((l) => l.id === summaryId)?.source, "run-SPC-1-1, run-SPC-1-2")
        const forReviewer = yield* (yield* Learnings).forIssue(issue("SPC-1"), "reviewer")
        const memory = yield* Memory
        const kinds = yield* Effect.forEach(forReviewer, (l) =>
          Effect.map(memory.get(l.id), (e) => Option.getOrThrow(e).kind)
        )
        assert.includeMembers(kinds, ["finding", "summary"])
        assert.notInclude(kinds, "verification-failed")
      }).pipe(Effect.provide(layer()))
  )
})

describe("Learnings by meaning, with an embedding model", () => {
  it.live(
    "a lesson about another issue, phrased in other words than the issue, is taught with vectors on and not with them off",
    () =>
      Effect.gen(function* () {
        // The scripted model server's embeddings: bags of words where "intermittent" means "flaky" and "signin" "login".
        const server = yield* ModelServer.scoped({ embedder: bagOfWordsEmbedder({ synonyms: SYNONYMS }) })
        const db = SqliteClient.layer({ filename: join(mkdtempSync(join(tmpdir(), "learnings-")), "state.db") })
        const signin = issue("SPC-1", [], { title: "Intermittent signin", summary: "Signin is intermittent" })
        const note = (key: string, issueId: string, content: string) => ({
          key,
          layer: "episodic" as const,
          kind: "note",
          scopes: [{ type: "issue" as const, id: issueId }],
          content
        })
        const off = memoryWith(db, server.url, "")
        const taught = yield* Effect.gen(function* () {
          const memory = yield* Memory
          const [flaky, commits] = yield* memory.rememberAll([
            note("n1", "SPC-7", "Login spec flaky under load"),
            note("n2", "SPC-8", "The reviewer asked for smaller commits")
          ])
          // No word in common: full text finds nothing for the issue's text, and nothing is about SPC-1.
          assert.deepStrictEqual(yield* memory.recall({ text: `${signin.title} ${signin.summary}` }), [])
          return { flaky: flaky!.id, commits: commits!.id, learnings: yield* (yield* Learnings).forIssue(signin) }
        }).pipe(Effect.provide(MemoryLearnings.pipe(Layer.provideMerge(off))))
        assert.deepStrictEqual(taught.learnings, [])
        const on = memoryWith(db, server.url, 'embedding_model = "embed"')
        const withVectors = yield* Effect.gen(function* () {
          yield* (yield* Memory).embedPending
          return yield* (yield* Learnings).forIssue(signin)
        }).pipe(Effect.provide(MemoryLearnings.pipe(Layer.provideMerge(on))))
        assert.deepStrictEqual(
          withVectors.map((l) => [l.id, l.text]),
          [[taught.flaky, "a person's note: Login spec flaky under load"]],
          "the flaky login lesson, not the unrelated one about commits"
        )
        assert.notInclude(
          withVectors.map((l) => l.id),
          taught.commits
        )
      })
  )
})

describe("what teaches the builder", () => {
  const entry = (kind: string, tags: ReadonlyArray<string>) => ({
    id: "mem-1",
    key: "k",
    layer: "episodic" as const,
    kind,
    scopes: [{ type: "issue" as const, id: "SPC-1" }],
    tags,
    provenance: { runIds: ["r1"], findingIds: [], reviewIds: [], entryIds: [] },
    content: "x",
    validFrom: "",
    validTo: null,
    recordedAt: "",
    supersededBy: null,
    closedReason: null
  })
  it("a review asking for changes does, a passing, pending or unsure one does not; a run that broke before the gate does, one the gate judged does not", () => {
    assert.isTrue(teaches(entry("review", ["review:changes_requested"])))
    for (const v of ["pass", "pending", "uncertain"]) assert.isFalse(teaches(entry("review", [`review:${v}`])), v)
    assert.isTrue(teaches(entry("run-outcome", ["status:failed", "outcome:fail"])))
    assert.isFalse(teaches(entry("run-outcome", ["status:blocked", "outcome:fail"])))
    assert.isTrue(teaches(entry("finding", [])))
  })
})
