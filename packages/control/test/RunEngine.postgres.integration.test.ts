/**
 * The durable Run workflow on PostgreSQL: the daemon's wiring (RunEngine's `WorkflowEngineLayer`,
 * `effect/cluster`'s SQL message storage, the run store, the daemon store, the evidence ledger)
 * over a PgClient instead of the SQLite file, and nothing else changed. One issue runs through
 * every stage to a pull request; a second process on the same database finds the journaled result.
 * Fails when SPEC_ORCH_PG_URL is not set, unless SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { assert, describe, it } from "@effect/vitest"
import { EvidenceLedger } from "@spec-orch/evidence"
import { requirePostgres } from "@spec-orch/test-kit"
import { Effect, Option } from "effect"
import { SqlClient } from "effect/sql"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { Daemon } from "../src/daemon/Daemon.js"
import { DaemonStore } from "../src/daemon/DaemonStore.js"
import { RunStore } from "../src/run/RunStore.js"
import { Run } from "../src/run/RunWorkflow.js"
import { agentLog, daemonLayer, daemonWorld, readyIssue, REPO } from "./utils/daemonWorld.js"
import { freshDatabase, pgClient } from "./utils/postgres.js"

const pg = requirePostgres()

describe.skipIf(!pg.run)(pg.title("The Run workflow on Postgres"), () => {
  it.live(
    "runs an issue through every stage to a pull request with the journal, runs and evidence on Postgres; another process reads the result back",
    () =>
      Effect.gen(function* () {
        const url = yield* freshDatabase("engine")
        const w = yield* daemonWorld()
        const li = readyIssue(w.linear, "a health endpoint")
        const runId = `${li.identifier}-r1`
        yield* Effect.gen(function* () {
          const daemon = yield* Daemon
          assert.deepStrictEqual((yield* daemon.tick).dispatched, [li.identifier])
          yield* daemon.drain
          const runs = yield* RunStore.use((s) => s.list({ issueId: li.identifier }))
          assert.deepStrictEqual(
            runs.map((r) => [r.runId, r.status, r.stage]),
            [[runId, "succeeded", "publish"]]
          )
          assert.deepStrictEqual(agentLog(w), [`start ${li.identifier}`, `end ${li.identifier}`])
          assert.deepStrictEqual(
            w.github.pulls(REPO).map((p) => p.head),
            [`spec-orch/${li.identifier}`]
          )
          assert.strictEqual((yield* DaemonStore.use((s) => s.issue(li.identifier)))?.status, "done")
          // The workflow's journal is in Postgres: every stage's activity result is a stored reply.
          const sql = yield* SqlClient.SqlClient
          const [replies] = yield* sql<{ n: string | number }>`SELECT COUNT(*) AS n FROM cluster_replies`
          assert.isAtLeast(Number(replies!.n), 11, "load … publish: one reply per activity, and the workflow's own")
        }).pipe(Effect.provide(daemonLayer(w, { sql: pgClient(url) })))
        assert.isFalse(existsSync(join(w.repo.path, ".spec-orch", "state.db")), "nothing went to the SQLite file")

        // Another process on the same database: the engine has the run's result; the stores have its record and verdict.
        yield* Effect.gen(function* () {
          const executionId = yield* Run.executionId({ runId, runKey: runId, issueId: runId, attempt: 0 })
          const result = yield* Run.poll(executionId)
          assert.isTrue(
            Option.isSome(result) && result.value._tag === "Complete",
            `the journal has the outcome (${JSON.stringify(result)})`
          )
          if (Option.isSome(result) && result.value._tag === "Complete") {
            assert.strictEqual(result.value.exit._tag, "Success")
          }
          assert.strictEqual((yield* RunStore.use((s) => s.get(runId)))?.status, "succeeded")
          const verdict = yield* EvidenceLedger.use((l) => l.latestVerdict(li.identifier))
          assert.isTrue(Option.isSome(verdict) && verdict.value.mergeable)
          assert.deepStrictEqual(
            (yield* (yield* Daemon).tick).dispatched,
            [],
            "a finished issue is not dispatched again"
          )
        }).pipe(Effect.provide(daemonLayer(w, { sql: pgClient(url) })))
      })
  )
})
