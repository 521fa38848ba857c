/**
 * The evidence ledger on a real Postgres server: the same SQL as on SQLite. Runs when
 * SPEC_ORCH_PG_URL points at a server where the user may create databases (each run creates its
 * own database), e.g. postgres://postgres@127.0.0.1:5432/postgres; fails otherwise, unless
 * SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { requirePostgres } from "@spec-orch/test-kit"
import { Effect, Layer, Option, Redacted, Result } from "effect"
import { SqlClient } from "effect/sql"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { evaluate, EvidenceLedger, humanReview, loadGatePolicy, makeAcceptance, makeFinding } from "../src/index.js"
import { DIFF, goodBundle, without } from "./utils/evidence.js"

const pg = requirePostgres()
const url = pg.url
const policy = Result.getOrThrow(
  loadGatePolicy(
    readFileSync(join(import.meta.dirname, "fixtures", "original.gate.policy.yaml"), "utf8"),
    "gate.policy.yaml"
  )
)
const plain = (x: unknown) => JSON.parse(JSON.stringify(x))

/** A fresh database on the server, for this run only. */
const freshDatabase = Effect.gen(function* () {
  const name = `evidence_ledger_${Date.now()}_${Math.floor(Math.random() * 1e6)}`
  yield* Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(`CREATE DATABASE ${name}`)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url!) })))
  const u = new URL(url!)
  u.pathname = `/${name}`
  return u.toString()
})

describe.skipIf(!pg.run)(pg.title("EvidenceLedger on Postgres"), () => {
  it.live("records, queries, dedupes and resolves exactly as on SQLite", () =>
    Effect.gen(function* () {
      const db = yield* freshDatabase
      const layer = EvidenceLedger.layer().pipe(Layer.provideMerge(PgClient.layer({ url: Redacted.make(db) })))
      yield* Effect.gen(function* () {
        const ledger = yield* EvidenceLedger
        const first = goodBundle({ runId: "run-1" })
        const r1 = yield* ledger.record(first, evaluate(policy, null, first))
        const second = without(goodBundle({ runId: "run-2" }), "acceptance", "review")
        yield* ledger.record(second, evaluate(policy, null, second))
        assert.deepStrictEqual(plain(Option.getOrThrow(yield* ledger.latestBundle("SPC-7"))), plain(second))
        assert.deepStrictEqual(
          (yield* ledger.history("SPC-7")).map((r) => [r.seq, r.runId]),
          [
            [1, "run-1"],
            [2, "run-2"]
          ]
        )
        assert.deepStrictEqual(
          (yield* ledger.byRun("run-1")).map((r) => r.seq),
          [1]
        )
        assert.deepStrictEqual(
          (yield* ledger.between({ until: r1.recordedAt })).map((r) => r.runId),
          ["run-1"]
        )

        const f = makeFinding({ source: "ci", description: "flaky", severity: "blocking" }, "2026-11-25T10:00:00.000Z")
        yield* ledger.addFindings("SPC-7", [f, f])
        assert.deepStrictEqual(
          (yield* ledger.findings("SPC-7")).map((x) => x.id),
          [f.id, first.findings![0]!.id],
          "once each, oldest first"
        )
        yield* ledger.resolveFinding("SPC-7", f.id, "ada")
        yield* ledger.recordReview(
          "SPC-7",
          humanReview({ verdict: "pass", reviewedBy: "sam", diffHash: DIFF }, "2026-11-25T12:00:00.000Z")
        )
        const acceptance = makeAcceptance({ acceptedBy: "kim", diffHash: DIFF }, "2026-11-25T12:05:00.000Z")
        yield* ledger.recordAcceptance("SPC-7", acceptance)
        yield* ledger.recordAcceptance("SPC-7", acceptance)
        assert.strictEqual((yield* ledger.acceptances("SPC-7")).length, 2, "the first run's acceptance and kim's")
        const current = Option.getOrThrow(yield* ledger.currentBundle("SPC-7"))
        assert.deepStrictEqual([current.review?.reviewedBy, current.acceptance?.acceptedBy], ["sam", "kim"])
        assert.isTrue(evaluate(policy, null, current).mergeable)
      }).pipe(Effect.provide(layer))
      // A second process migrating the same database is a no-op.
      yield* Effect.gen(function* () {
        assert.strictEqual((yield* (yield* EvidenceLedger).history("SPC-7")).length, 2)
      }).pipe(Effect.provide(EvidenceLedger.layer().pipe(Layer.provide(PgClient.layer({ url: Redacted.make(db) })))))
    })
  )
})
