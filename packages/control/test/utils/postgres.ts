/**
 * A real PostgreSQL server for the store tests: `SPEC_ORCH_PG_URL` names one where the user may
 * create databases (CI starts one, see .ci/run); every test gets a database of its own.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"

/** The server, when the environment names one (each suite checks it with test-kit's `requirePostgres`). */
const pgUrl: string | undefined = process.env.SPEC_ORCH_PG_URL

/** Creates a fresh database on the server and returns its URL. */
export const freshDatabase = (prefix: string) =>
  Effect.gen(function* () {
    const name = `${prefix}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`
    yield* Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe(`CREATE DATABASE ${name}`)
    }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(pgUrl!) })), Effect.orDie)
    const u = new URL(pgUrl!)
    u.pathname = `/${name}`
    return u.toString()
  })

/** A SqlClient (one pool) on the database at `url`; `Layer.fresh` gives another process's pool. */
export const pgClient = (url: string) => PgClient.layer({ url: Redacted.make(url) }).pipe(Layer.orDie)
