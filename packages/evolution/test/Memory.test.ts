import { assert, describe, it } from "@effect/vitest"
import { SqliteClient } from "@spec-orch/sqlite"
import { Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Memory } from "../src/index.js"
import { memoryOver, memorySuite } from "./utils/memorySuite.js"

describe("Memory on a SQLite file", () => {
  memorySuite(
    Effect.sync(() => SqliteClient.layer({ filename: join(mkdtempSync(join(tmpdir(), "memory-")), "state.db") }))
  )
})

describe("Memory recall over a large store (SQLite)", () => {
  it.effect(
    "terms most entries hold do not drown the rare ones; a query of only such terms gives the newest entries holding them",
    () =>
      Effect.gen(function* () {
        const memory = yield* Memory
        const entries = Array.from({ length: 2500 }, (_, i) => ({
          key: `k${i}`,
          layer: "episodic" as const,
          kind: "failed-condition",
          scopes: [{ type: "issue" as const, id: `SPC-${i % 50}` }],
          content: `verification failed in run ${i}${i === 1234 ? " because the parser rejected unicode" : ""}`
        }))
        for (let i = 0; i < entries.length; i += 500) yield* memory.rememberAll(entries.slice(i, i + 500))
        const rare = yield* memory.recall({ text: "failed parser", limit: 3 })
        assert.strictEqual(rare[0]!.entry.key, "k1234")
        const newest = yield* memory.recall({ text: "verification failed", limit: 3 })
        assert.deepStrictEqual(
          newest.map((h) => h.entry.key),
          ["k2499", "k2498", "k2497"]
        )
        const scoped = yield* memory.recall({
          text: "verification failed",
          scopes: [{ type: "issue", id: "SPC-7" }],
          limit: 2
        })
        assert.deepStrictEqual(
          scoped.map((h) => h.entry.key),
          ["k2457", "k2407"]
        )
      }).pipe(
        Effect.provide(
          memoryOver(SqliteClient.layer({ filename: join(mkdtempSync(join(tmpdir(), "memory-")), "state.db") }))
        )
      )
  )
})
