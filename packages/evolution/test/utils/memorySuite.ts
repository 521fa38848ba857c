/**
 * What the Memory service must do on any database: the same cases run on SQLite (always) and on
 * Postgres (when SPEC_ORCH_PG_URL is set).
 */
import { assert, it } from "@effect/vitest"
import { Clock, Effect, Exit, Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import { SqlClient } from "effect/sql"
import { Redactor } from "@spec-orch/harness"
import { compactMemory, Memory, type MemoryInput, memoryStatus, reindexMemory } from "../../src/index.js"

/** A fresh, empty database per test. */
export type FreshDb = Effect.Effect<Layer.Layer<SqlClient.SqlClient, unknown>>

const SECRET = "sk-memorytest-0123456789abcdef0123"
export const memoryOver = (db: Layer.Layer<SqlClient.SqlClient, unknown>) =>
  Memory.layer.pipe(Layer.provide(Layer.mergeAll(db, Redactor.layerFrom({ OPENAI_API_KEY: SECRET }))))

const fact = (over: Partial<MemoryInput> & { key: string; content: string }): MemoryInput => ({
  layer: "episodic",
  kind: "note",
  scopes: [{ type: "issue", id: "SPC-1" }],
  ...over
})

/** `test` is `it.effect` for SQLite (TestClock) or `it.live` for Postgres. */
export const memorySuite = (fresh: FreshDb, test: typeof it.effect = it.effect) => {
  const withMemory = <A, E>(body: Effect.Effect<A, E, Memory>) =>
    Effect.flatMap(fresh, (db) => body.pipe(Effect.provide(memoryOver(db))))

  test("recall ranks the entry that matches most of the query first, and only matching entries", () =>
    withMemory(
      Effect.gen(function* () {
        const memory = yield* Memory
        yield* memory.rememberAll([
          fact({ key: "a", content: "The verification step npm test timed out after 600 seconds" }),
          fact({ key: "b", content: "Flaky test: the login spec timed out waiting for the database" }),
          fact({ key: "c", content: "The reviewer asked for smaller commits" })
        ])
        const hits = yield* memory.recall({ text: "flaky database timeout" })
        assert.deepStrictEqual(
          hits.map((h) => h.entry.key),
          ["b"],
          "only b has any of the words (timed ≠ timeout)"
        )
        const ranked = yield* memory.recall({ text: "login test timed out" })
        assert.strictEqual(ranked[0]!.entry.key, "b", "b has every word")
        assert.deepStrictEqual(ranked.map((h) => h.entry.key).sort(), ["a", "b"])
      })
    ))

  test("in a large memory, a query of words most entries hold gives the newest entries holding them, and such words do not drown a rarer one", () =>
    Effect.flatMap(fresh, (db) =>
      Effect.gen(function* () {
        const memory = yield* Memory
        const sql = yield* SqlClient.SqlClient
        // 2,500 entries all holding "failed"; the older ones hold it more often (a higher rank by term counts).
        for (let b = 0; b < 2500; b += 500)
          yield* memory.rememberAll(
            Array.from({ length: 500 }, (_, i) => {
              const n = b + i
              return fact({
                key: `run-${n}`,
                content: `${n < 2000 ? "failed failed failed" : "failed"} run ${n}${n % 1000 === 7 ? " deadlock" : ""}`
              })
            })
          )
        // Postgres learns which words are common from its statistics (autovacuum's ANALYZE in real use).
        yield* sql.onDialectOrElse({ pg: () => sql`ANALYZE so_memory`, orElse: () => Effect.void })
        const newest = yield* memory.recall({ text: "failed", limit: 5 })
        assert.deepStrictEqual(
          newest.map((h) => h.entry.key),
          ["run-2499", "run-2498", "run-2497", "run-2496", "run-2495"]
        )
        const rare = yield* memory.recall({ text: "failed deadlock", limit: 5 })
        assert.deepStrictEqual(rare.map((h) => h.entry.key).sort(), ["run-1007", "run-2007", "run-7"])
      }).pipe(
        Effect.provide(
          Memory.layer.pipe(Layer.provideMerge(Layer.mergeAll(db, Redactor.layerFrom({ OPENAI_API_KEY: SECRET }))))
        )
      )
    ))

  test("recall finds Chinese and Japanese text by words inside longer runs of characters", () =>
    withMemory(
      Effect.gen(function* () {
        const memory = yield* Memory
        yield* memory.rememberAll([
          fact({ key: "zh", content: "修复登录页面的缓存问题：数据库连接超时导致测试失败" }),
          fact({ key: "ja", content: "テストが失敗しました。設定ファイルを確認してください" }),
          fact({ key: "en", content: "cache invalidation broke the build" })
        ])
        assert.deepStrictEqual(
          (yield* memory.recall({ text: "缓存" })).map((h) => h.entry.key),
          ["zh"]
        )
        assert.deepStrictEqual(
          (yield* memory.recall({ text: "连接超时" })).map((h) => h.entry.key),
          ["zh"]
        )
        assert.deepStrictEqual(
          (yield* memory.recall({ text: "页面" })).map((h) => h.entry.key),
          ["zh"],
          "a word the writer's text splits differently"
        )
        assert.deepStrictEqual(
          (yield* memory.recall({ text: "設定ファイル" })).map((h) => h.entry.key),
          ["ja"]
        )
        assert.deepStrictEqual((yield* memory.recall({ text: "失败 cache" })).map((h) => h.entry.key).sort(), [
          "en",
          "zh"
        ])
        assert.deepStrictEqual(
          (yield* memory.recall({ text: "天气" })).length,
          0,
          "no shared pair of characters: nothing"
        )
      })
    ))

  test("a newer fact with the same key supersedes the older one: recall shows the newer, history and asOf the older", () =>
    withMemory(
      Effect.gen(function* () {
        const memory = yield* Memory
        const first = yield* memory.remember(
          fact({
            key: "issue:SPC-1:condition:verification",
            kind: "failed-condition",
            content: "verification failed: npm test exited 1"
          })
        )
        yield* TestClock.adjust("1 hour")
        const again = yield* memory.remember(
          fact({
            key: "issue:SPC-1:condition:verification",
            kind: "failed-condition",
            content: "verification failed: npm test exited 1"
          })
        )
        assert.strictEqual(again.id, first.id, "the same fact again records nothing")
        yield* TestClock.adjust("1 hour")
        const second = yield* memory.remember(
          fact({
            key: "issue:SPC-1:condition:verification",
            kind: "condition-passed",
            content: "verification passed again"
          })
        )
        const now = yield* memory.recall({ text: "verification" })
        assert.deepStrictEqual(
          now.map((h) => h.entry.id),
          [second.id]
        )
        const history = yield* memory.history("issue:SPC-1:condition:verification")
        assert.deepStrictEqual(
          history.map((e) => [e.id, e.validTo, e.supersededBy, e.closedReason]),
          [
            [first.id, second.validFrom, second.id, "superseded"],
            [second.id, null, null, null]
          ]
        )
        const before = yield* memory.recall({ text: "verification", asOf: first.recordedAt })
        assert.deepStrictEqual(
          before.map((h) => h.entry.id),
          [first.id],
          "as of the first record, the failure held"
        )
        assert.strictEqual((yield* memory.recall({ text: "verification", includeClosed: true })).length, 2)
      })
    ))

  test("filters by scope (any of several), layer, kind and tags (all of them)", () =>
    withMemory(
      Effect.gen(function* () {
        const memory = yield* Memory
        yield* memory.rememberAll([
          fact({
            key: "1",
            content: "tests failed in parser",
            scopes: [
              { type: "issue", id: "SPC-1" },
              { type: "file", id: "src/parser.ts" }
            ],
            tags: ["failed", "condition:verification"]
          }),
          fact({
            key: "2",
            content: "tests failed in lexer",
            scopes: [
              { type: "issue", id: "SPC-2" },
              { type: "file", id: "src/lexer.ts" }
            ],
            tags: ["failed"]
          }),
          fact({
            key: "3",
            content: "tests run with vitest",
            layer: "procedural",
            kind: "recipe",
            scopes: [{ type: "project", id: "." }]
          })
        ])
        const keys = (hits: ReadonlyArray<{ entry: { key: string } }>) => hits.map((h) => h.entry.key).sort()
        assert.deepStrictEqual(
          keys(yield* memory.recall({ text: "tests", scopes: [{ type: "file", id: "src/parser.ts" }] })),
          ["1"]
        )
        assert.deepStrictEqual(
          keys(
            yield* memory.recall({
              text: "tests",
              scopes: [
                { type: "file", id: "src/parser.ts" },
                { type: "issue", id: "SPC-2" }
              ]
            })
          ),
          ["1", "2"]
        )
        assert.deepStrictEqual(keys(yield* memory.recall({ text: "tests", layers: ["procedural"] })), ["3"])
        assert.deepStrictEqual(keys(yield* memory.recall({ kinds: ["recipe"] })), ["3"])
        assert.deepStrictEqual(keys(yield* memory.recall({ tags: ["failed", "condition:verification"] })), ["1"])
        assert.strictEqual(
          (yield* memory.recall({ text: "lexer.ts" }))[0]!.entry.key,
          "2",
          "the ids of what an entry is about are searchable"
        )
      })
    ))

  test("forget closes an entry's validity and keeps it in history; an unknown id says how to find ids", () =>
    withMemory(
      Effect.gen(function* () {
        const memory = yield* Memory
        const e = yield* memory.remember(fact({ key: "k", content: "remember me" }))
        yield* TestClock.adjust("1 minute")
        const closed = yield* memory.forget(e.id)
        assert.strictEqual(closed.closedReason, "forgotten")
        assert.isNotNull(closed.validTo)
        assert.strictEqual((yield* memory.recall({ text: "remember" })).length, 0)
        assert.strictEqual((yield* memory.history("k")).length, 1)
        assert.isTrue(Option.isSome(yield* memory.get(e.id)))
        const missing = yield* memory.forget("mem-000000000000").pipe(Effect.exit)
        assert.isTrue(Exit.isFailure(missing))
        assert.include(String(Exit.isFailure(missing) ? missing.cause : ""), "spec-orch memory list")
      })
    ))

  test("secrets are redacted before they are stored; malformed entries are refused with the reason", () =>
    withMemory(
      Effect.gen(function* () {
        const memory = yield* Memory
        const e = yield* memory.remember(fact({ key: "s", content: `the agent printed ${SECRET} in its log` }))
        assert.notInclude(e.content, SECRET)
        assert.notInclude(Option.getOrThrow(yield* memory.get(e.id)).content, SECRET)
        const bad = yield* memory.remember(fact({ key: "x", content: "x", scopes: [] })).pipe(Effect.flip)
        assert.strictEqual(bad._tag, "InvalidMemoryEntry")
        assert.include(bad.message, "names no entity")
      })
    ))

  test("compaction folds a scope's old episodic entries into one semantic summary; they stay in history and as of before", () =>
    Effect.flatMap(fresh, (db) =>
      Effect.gen(function* () {
        const memory = yield* Memory
        const start = yield* Clock.currentTimeMillis
        const old = (days: number) => new Date(start - days * 86_400_000).toISOString()
        const run = (n: number, pass: boolean, days: number) =>
          fact({
            key: `run:r${n}`,
            kind: "run-outcome",
            tags: [`outcome:${pass ? "pass" : "fail"}`],
            provenance: { runIds: [`r${n}`] },
            content: `Run r${n} ended ${pass ? "mergeable" : "blocked by verification"}.`,
            validFrom: old(days)
          })
        yield* memory.rememberAll([
          run(1, false, 50),
          fact({
            key: "issue:SPC-1:condition:verification",
            kind: "failed-condition",
            tags: ["condition:verification"],
            provenance: { runIds: ["r1"] },
            content: "verification failed in run r1",
            validFrom: old(50)
          }),
          run(2, false, 45),
          fact({
            key: "issue:SPC-1:condition:verification",
            kind: "failed-condition",
            tags: ["condition:verification"],
            provenance: { runIds: ["r1", "r2"] },
            content: "verification failed in runs r1, r2",
            validFrom: old(45)
          }),
          fact({
            key: "issue:SPC-1:step:test",
            kind: "verification-failed",
            tags: ["step:test"],
            provenance: { runIds: ["r2"] },
            content: "step test failed in run r2",
            validFrom: old(45)
          }),
          run(3, true, 40),
          fact({
            key: "issue:SPC-1:condition:verification",
            kind: "condition-passed",
            tags: ["condition:verification"],
            provenance: { runIds: ["r3"] },
            content: "verification passed in run r3",
            validFrom: old(40)
          }),
          run(4, false, 2),
          fact({
            key: "run:o1",
            kind: "run-outcome",
            scopes: [{ type: "issue", id: "SPC-2" }],
            provenance: { runIds: ["o1"] },
            content: "Run o1 of another issue.",
            validFrom: old(60)
          })
        ])
        const beforeCompaction = new Date(start).toISOString()
        yield* TestClock.adjust("1 minute")
        const result = yield* compactMemory({ olderThanMs: 30 * 86_400_000 })
        assert.deepStrictEqual(
          result.scopes.map((s) => [s.scope, s.folded]),
          [
            ["issue:SPC-1", 4],
            ["issue:SPC-2", 1]
          ]
        )
        const summary = Option.getOrThrow(yield* memory.get(result.scopes[0]!.summaryId))
        assert.deepStrictEqual(
          [summary.layer, summary.kind, summary.key],
          ["semantic", "summary", "summary:issue:SPC-1"]
        )
        assert.deepStrictEqual(summary.provenance.runIds, ["r1", "r2", "r3"])
        assert.include(summary.content, "from 3 runs (1 mergeable, 2 not)")
        assert.include(summary.content, "Failed conditions: verification (2 runs).")
        assert.include(summary.content, "Failing verification steps: test (1 run).")
        assert.include(summary.content, "Last outcome: Run r3 ended mergeable.")
        const now = (yield* memory.recall({ scopes: [{ type: "issue", id: "SPC-1" }], limit: 50 }))
          .map((h) => h.entry.key)
          .sort()
        assert.deepStrictEqual(
          now,
          ["issue:SPC-1:step:test", "run:r4", "summary:issue:SPC-1"],
          "the recent run and the failure that still holds stay open"
        )
        const folded = (yield* memory.history("run:r1"))[0]!
        assert.deepStrictEqual([folded.closedReason, folded.supersededBy], [`compacted into ${summary.id}`, summary.id])
        const then = (yield* memory.recall({
          scopes: [{ type: "issue", id: "SPC-1" }],
          asOf: beforeCompaction,
          limit: 50
        })).map((h) => h.entry.key)
        assert.include(then, "run:r1", "as of before the compaction, the folded entries still held")
        assert.notInclude(then, "summary:issue:SPC-1")
        const again = yield* compactMemory({ olderThanMs: 30 * 86_400_000 })
        assert.deepStrictEqual(again.scopes, [], "nothing new to fold: nothing changes")
      }).pipe(Effect.provide(Layer.merge(memoryOver(db), db)))
    ))

  test("status counts entries per layer and kind and sees a damaged full-text index; reindex makes recall find them again", () =>
    Effect.flatMap(fresh, (db) =>
      Effect.gen(function* () {
        const memory = yield* Memory
        const sql = yield* SqlClient.SqlClient
        const a = yield* memory.remember(fact({ key: "a", content: "the parser rejects unicode input" }))
        yield* memory.remember(
          fact({ key: "b", layer: "procedural", kind: "note", content: "run the parser tests alone" })
        )
        yield* TestClock.adjust("1 minute")
        yield* memory.forget(a.id)
        const before = yield* memoryStatus
        assert.deepStrictEqual(
          [before.total, before.open, before.layers.procedural, before.layers.episodic, before.closed],
          [2, 1, 1, 0, { forgotten: 1 }]
        )
        assert.deepStrictEqual(before.kinds, [{ kind: "note", count: 1 }])
        assert.isTrue(before.index.ok)
        yield* sql.onDialectOrElse({
          pg: () => sql`UPDATE so_memory SET search = NULL`,
          orElse: () => sql`DELETE FROM so_memory_fts`
        })
        assert.strictEqual((yield* memory.recall({ text: "parser tests" })).length, 0)
        const damaged = yield* memoryStatus
        assert.deepStrictEqual([damaged.index.ok, damaged.index.missing], [false, 2])
        assert.strictEqual(yield* reindexMemory, 2)
        assert.deepStrictEqual(
          (yield* memory.recall({ text: "parser tests" })).map((h) => h.entry.key),
          ["b"]
        )
        assert.deepStrictEqual(
          (yield* memory.recall({ text: "unicode", includeClosed: true })).map((h) => h.entry.key),
          ["a"],
          "closed entries are indexed too"
        )
        assert.isTrue((yield* memoryStatus).index.ok)
      }).pipe(Effect.provide(Layer.merge(memoryOver(db), db)))
    ))
}
