/**
 * Memory on a real Postgres server: the same cases as on SQLite, full text through a tsvector. Runs
 * when SPEC_ORCH_PG_URL points at a server where the user may create databases (each test creates
 * its own), e.g. postgres://postgres@127.0.0.1:5432/postgres; skipped otherwise.
 */
import { PgClient } from "@effect/sql-pg"
import { describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { memorySuite } from "./utils/memorySuite.js"

const url = process.env.SPEC_ORCH_PG_URL

const freshDatabase = Effect.gen(function*() {
  const name = `memory_${Date.now()}_${Math.floor(Math.random() * 1e6)}`
  yield* Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(`CREATE DATABASE ${name}`)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url!) })), Effect.orDie)
  const u = new URL(url!)
  u.pathname = `/${name}`
  return PgClient.layer({ url: Redacted.make(u.toString()) }).pipe(Layer.orDie) as Layer.Layer<SqlClient.SqlClient>
})

describe.skipIf(url === undefined)("Memory on Postgres", () => {
  memorySuite(freshDatabase, it.effect)
})
