/**
 * Memory on a real Postgres server: the same cases as on SQLite, full text through a tsvector. Runs
 * when SPEC_ORCH_PG_URL points at a server where the user may create databases (each test creates
 * its own), e.g. postgres://postgres@127.0.0.1:5432/postgres; fails otherwise, unless
 * SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { PgClient } from "@effect/sql-pg"
import { describe, it } from "@effect/vitest"
import { requirePostgres } from "@spec-orch/test-kit"
import { Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { memorySuite } from "./utils/memorySuite.js"
import { vectorSuite } from "./utils/vectorSuite.js"

const pg = requirePostgres()
const url = pg.url

const freshDatabase = Effect.gen(function* () {
  const name = `memory_${Date.now()}_${Math.floor(Math.random() * 1e6)}`
  yield* Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(`CREATE DATABASE ${name}`)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url!) })), Effect.orDie)
  const u = new URL(url!)
  u.pathname = `/${name}`
  return PgClient.layer({ url: Redacted.make(u.toString()) }).pipe(Layer.orDie) as Layer.Layer<SqlClient.SqlClient>
})

describe.skipIf(!pg.run)(pg.title("Memory on Postgres"), () => {
  memorySuite(freshDatabase, it.effect)
})

describe.skipIf(!pg.run)(pg.title("Memory with vectors and a compaction model on Postgres"), () => {
  vectorSuite(freshDatabase)
})
