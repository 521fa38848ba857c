import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SqliteClient } from "../src/index.js"

const file = () => join(mkdtempSync(join(tmpdir(), "sqlite-")), "state.db")
const withDb =
  (filename: string) =>
  <A, E>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, E>) =>
    SqlClient.SqlClient.use(f).pipe(Effect.provide(Layer.fresh(SqliteClient.layer({ filename }))))

describe("SqliteClient", () => {
  it.effect("opens the file in WAL mode and keeps data across connections", () =>
    Effect.gen(function* () {
      const db = withDb(file())
      yield* db((sql) =>
        Effect.andThen(
          sql`CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)`,
          sql`INSERT INTO t ${sql.insert({ id: "a", n: 1 })}`
        )
      )
      const mode = yield* db((sql) => sql<{ journal_mode: string }>`PRAGMA journal_mode`)
      assert.strictEqual(mode[0]!.journal_mode, "wal")
      const rows = yield* db((sql) => sql<{ id: string; n: number }>`SELECT id, n FROM t`)
      assert.deepStrictEqual(rows, [{ id: "a", n: 1 }])
    })
  )

  it.effect("rolls a failed transaction back", () =>
    Effect.gen(function* () {
      const db = withDb(file())
      yield* db((sql) => sql`CREATE TABLE t (id TEXT PRIMARY KEY)`)
      const failed = yield* db((sql) =>
        sql`INSERT INTO t ${sql.insert({ id: "x" })}`.pipe(
          Effect.andThen(Effect.fail("boom")),
          sql.withTransaction,
          Effect.flip
        )
      )
      assert.strictEqual(failed, "boom")
      const n = yield* db((sql) => sql<{ n: number }>`SELECT COUNT(*) AS n FROM t`)
      assert.strictEqual(n[0]!.n, 0)
    })
  )

  it.effect("a file that is not a database fails to open, says so with the fix, and is left as it was", () =>
    Effect.gen(function* () {
      const filename = file()
      writeFileSync(filename, "notes, not a database\n".repeat(100))
      const e = yield* Effect.flip(withDb(filename)((sql) => sql`SELECT 1`))
      assert.instanceOf(e, SqliteClient.SqliteOpenError)
      assert.include(e, { filename, problem: "not-a-database" })
      assert.strictEqual(
        e.message,
        `${filename} is not a SQLite database (file is not a database). Restore it from a backup, or move it aside and spec-orch starts an empty one.`
      )
      // Apart, for a list of checks (`spec-orch doctor`): what is wrong, and what to do.
      assert.deepStrictEqual(
        [e.summary, e.fix],
        [
          `${filename} is not a SQLite database (file is not a database)`,
          "restore it from a backup, or move it aside and spec-orch starts an empty one"
        ]
      )
      assert.strictEqual(readFileSync(filename, "utf8"), "notes, not a database\n".repeat(100))
    })
  )

  it.effect(
    "a path that cannot be a database file (a directory, or in a directory that is missing) fails to open",
    () =>
      Effect.gen(function* () {
        const directory = file()
        mkdirSync(directory)
        const missing = join(mkdtempSync(join(tmpdir(), "sqlite-")), "gone", "state.db")
        for (const filename of [directory, missing]) {
          const e = yield* Effect.flip(withDb(filename)((sql) => sql`SELECT 1`))
          assert.include(e, { _tag: "SqliteOpenError", filename, problem: "cannot-open" })
          assert.match(e.message, new RegExp(`^cannot open ${filename} \\(.+\\)\\. Check that it is a file`))
        }
      })
  )

  it.effect("says what SQLite said when a statement fails", () =>
    Effect.gen(function* () {
      const e = yield* withDb(file())((sql) => Effect.flip(sql`INSERT INTO missing VALUES (1)`))
      assert.match(e.message, /Failed to execute statement: no such table: missing/)
    })
  )

  it.live("a transaction that reads then writes waits for another process's write instead of failing", () =>
    Effect.gen(function* () {
      const filename = file()
      const db = withDb(filename)
      yield* db((sql) => sql`CREATE TABLE t (id TEXT PRIMARY KEY)`)
      // Another process takes the write lock, writes, holds it a moment, then commits.
      const driver = createRequire(import.meta.url).resolve("better-sqlite3")
      const other = spawn(
        process.execPath,
        [
          "-e",
          `
        const db = new (require(${JSON.stringify(driver)}))(${JSON.stringify(filename)})
        db.exec("BEGIN IMMEDIATE"); db.prepare("INSERT INTO t VALUES ('other')").run()
        process.stdout.write("locked\\n")
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400)
        db.exec("COMMIT")`
        ],
        { stdio: ["ignore", "pipe", "inherit"] }
      )
      const exited = new Promise<number | null>((resolve) => other.on("exit", resolve))
      yield* Effect.promise(
        () =>
          new Promise<void>((resolve) =>
            other.stdout!.on("data", (d: Buffer) => d.toString().includes("locked") && resolve())
          )
      )
      // Counting then inserting is a read turned into a write: it must see the other process's row.
      const seen = yield* db((sql) =>
        sql<{ n: number }>`SELECT COUNT(*) AS n FROM t`.pipe(
          Effect.tap((rows) => sql`INSERT INTO t ${sql.insert({ id: `mine-after-${rows[0]!.n}` })}`),
          sql.withTransaction
        )
      )
      assert.strictEqual(seen[0]!.n, 1)
      assert.strictEqual(yield* Effect.promise(() => exited), 0)
      const rows = yield* db((sql) => sql<{ id: string }>`SELECT id FROM t ORDER BY id`)
      assert.deepStrictEqual(
        rows.map((r) => r.id),
        ["mine-after-1", "other"]
      )
    })
  )
})
