import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SqliteClient } from "../src/index.js"

const file = () => join(mkdtempSync(join(tmpdir(), "sqlite-")), "state.db")
const withDb = (filename: string) => <A, E>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, E>) =>
  SqlClient.SqlClient.use(f).pipe(Effect.provide(Layer.fresh(SqliteClient.layer({ filename }))))

describe("SqliteClient", () => {
  it.effect("opens the file in WAL mode and keeps data across connections", () =>
    Effect.gen(function*() {
      const db = withDb(file())
      yield* db((sql) => Effect.andThen(sql`CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)`, sql`INSERT INTO t ${sql.insert({ id: "a", n: 1 })}`))
      const mode = yield* db((sql) => sql<{ journal_mode: string }>`PRAGMA journal_mode`)
      assert.strictEqual(mode[0]!.journal_mode, "wal")
      const rows = yield* db((sql) => sql<{ id: string; n: number }>`SELECT id, n FROM t`)
      assert.deepStrictEqual(rows, [{ id: "a", n: 1 }])
    }))

  it.effect("rolls a failed transaction back", () =>
    Effect.gen(function*() {
      const db = withDb(file())
      yield* db((sql) => sql`CREATE TABLE t (id TEXT PRIMARY KEY)`)
      const failed = yield* db((sql) => sql`INSERT INTO t ${sql.insert({ id: "x" })}`.pipe(Effect.andThen(Effect.fail("boom")), sql.withTransaction, Effect.flip))
      assert.strictEqual(failed, "boom")
      const n = yield* db((sql) => sql<{ n: number }>`SELECT COUNT(*) AS n FROM t`)
      assert.strictEqual(n[0]!.n, 0)
    }))

  it.effect("says what SQLite said when a statement fails", () =>
    Effect.gen(function*() {
      const e = yield* withDb(file())((sql) => Effect.flip(sql`INSERT INTO missing VALUES (1)`))
      assert.match(e.message, /Failed to execute statement: no such table: missing/)
    }))
})
