import { assert, describe, it } from "@effect/vitest"
import { EvidenceLedger } from "@spec-orch/evidence"
import { SqliteClient } from "@spec-orch/sqlite"
import { Effect, Layer, Logger } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Memory, MemoryError, RunMemory } from "../src/index.js"
import { finish, world } from "./utils/runs.js"

describe("RunMemory", () => {
  it.effect(
    "records a failed run's verdict, failing step, finding and review with provenance, findable by the file it changed",
    () =>
      Effect.gen(function* () {
        yield* finish(1, ["verification"], 1)
        const memory = yield* Memory
        const hits = yield* memory.recall({
          text: "expected 2 to be 3",
          scopes: [{ type: "file", id: "src/parser.ts" }]
        })
        assert.strictEqual(hits[0]?.entry.kind, "verification-failed")
        assert.deepStrictEqual(hits[0]?.entry.provenance.runIds, ["run-SPC-1-1"])
        assert.include(hits[0]!.entry.content, "npm test")
        const kinds = (yield* memory.recall({ scopes: [{ type: "issue", id: "SPC-1" }], limit: 50 }))
          .map((h) => h.entry.kind)
          .sort()
        assert.deepStrictEqual(kinds, ["failed-condition", "finding", "review", "run-outcome", "verification-failed"])
        const finding = (yield* memory.recall({ kinds: ["finding"] }))[0]!.entry
        assert.deepStrictEqual(
          [finding.provenance.findingIds, finding.scopes.map((s) => `${s.type}:${s.id}`)],
          [["f-1"], ["issue:SPC-1", "file:src/parser.ts"]]
        )
        const review = (yield* memory.recall({ kinds: ["review"] }))[0]!.entry
        assert.deepStrictEqual(review.provenance.reviewIds, ["human:sam@2026-12-01T10:05:00.000Z"])
        const outcome = (yield* memory.recall({ kinds: ["run-outcome"], tags: ["adapter:codex", "outcome:fail"] }))[0]!
          .entry
        assert.include(outcome.content, "blocked by verification")
      }).pipe(Effect.provide(world()))
  )

  it.effect(
    "a failure seen again names every run that showed it; a later passing run supersedes it; recording the same run twice adds nothing",
    () =>
      Effect.gen(function* () {
        yield* finish(1, ["verification"], 1)
        yield* finish(1, ["verification"], 1)
        const memory = yield* Memory
        assert.strictEqual((yield* memory.recall({ includeClosed: true, limit: 100 })).length, 5)
        yield* finish(2, ["verification"], 1)
        const again = (yield* memory.recall({ kinds: ["verification-failed"] }))[0]!.entry
        assert.deepStrictEqual(
          again.provenance.runIds,
          ["run-SPC-1-1", "run-SPC-1-2"],
          "the same failure again names both runs"
        )
        assert.include(again.content, "in runs run-SPC-1-1, run-SPC-1-2")
        yield* finish(3, [], 0)
        assert.deepStrictEqual((yield* memory.recall({ kinds: ["failed-condition", "verification-failed"] })).length, 0)
        const history = yield* memory.history("issue:SPC-1:condition:verification")
        assert.deepStrictEqual(
          history.map((e) => [e.kind, e.closedReason]),
          [
            ["failed-condition", "superseded"],
            ["failed-condition", "superseded"],
            ["condition-passed", null]
          ]
        )
        assert.deepStrictEqual(
          (yield* memory.history("issue:SPC-1:step:test")).map((e) => e.kind),
          ["verification-failed", "verification-failed", "verification-passed"]
        )
        assert.deepStrictEqual(
          (yield* memory.recall({
            kinds: ["verification-failed", "verification-passed"],
            asOf: "2026-12-01T10:01:45.000Z"
          })).map((h) => h.entry.kind),
          ["verification-failed"],
          "as of between the runs, the failure held"
        )
      }).pipe(Effect.provide(world()))
  )

  it.effect("a memory failure never fails the run: it is logged", () => {
    const logs: Array<string> = []
    const broken = Layer.succeed(
      Memory,
      Memory.of({
        remember: () => Effect.fail(new MemoryError({ operation: "remember", reason: "disk full" })),
        rememberAll: () => Effect.fail(new MemoryError({ operation: "remember", reason: "disk full" })),
        recall: () => Effect.succeed([]),
        search: () => Effect.die("unused"),
        embedPending: Effect.die("unused"),
        vectorStatus: Effect.die("unused"),
        idle: Effect.void,
        get: () => Effect.die("unused"),
        history: () => Effect.die("unused"),
        forget: () => Effect.die("unused")
      })
    )
    const db = SqliteClient.layer({ filename: join(mkdtempSync(join(tmpdir(), "run-memory-")), "state.db") })
    const layer = RunMemory.layer.pipe(
      Layer.provideMerge(Layer.mergeAll(broken, EvidenceLedger.layer().pipe(Layer.orDie, Layer.provide(db))))
    )
    return Effect.gen(function* () {
      yield* finish(1, ["verification"], 1)
      assert.isTrue(
        logs.some((l) => l.includes("could not record run run-SPC-1-1") && l.includes("disk full")),
        logs.join("\n")
      )
    }).pipe(
      Effect.provide(layer),
      Effect.provide(Logger.layer([Logger.make((o) => logs.push(`${String(o.message)}`))]))
    )
  })
})
