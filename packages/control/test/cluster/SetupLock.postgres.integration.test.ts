/**
 * Hosts started together set up the cluster's tables one at a time: a second runner's setup waits on
 * the first one's lock in Postgres and goes on once it is released, also when the first host's
 * connection just goes away (a host killed while setting up). Fails when SPEC_ORCH_PG_URL is not set,
 * unless SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { assert, describe, it } from "@effect/vitest"
import { requirePostgres } from "@spec-orch/test-kit"
import { Context, Effect, Exit, Fiber, Layer, Schedule, Scope } from "effect"
import { SqlClient } from "effect/sql"
import { ClusterSetupLock } from "../../src/cluster/SetupLock.js"
import { freshDatabase, pgClient } from "../utils/postgres.js"

const pg = requirePostgres()

/** How many sessions wait for an advisory lock on this database. */
const waiting = (url: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
      WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()`
    return rows[0]!.n
  }).pipe(Effect.provide(pgClient(url)), Effect.orDie)

const untilWaiting = (url: string, n: number) =>
  waiting(url).pipe(
    Effect.repeat({ until: (w) => w === n, schedule: Schedule.spaced("50 millis") }),
    Effect.timeout("20 seconds")
  )

describe.skipIf(!pg.run)(pg.title("the cluster's setup lock"), () => {
  it.live("a second host's setup waits for the first one's release, then proceeds", () =>
    Effect.gen(function* () {
      const url = yield* freshDatabase("setup_lock")
      const first = yield* Scope.make()
      const lock = yield* Layer.buildWithScope(ClusterSetupLock.layer(url), first)
      const second = yield* Effect.forkChild(Effect.scoped(Layer.build(ClusterSetupLock.layer(url))))
      yield* untilWaiting(url, 1)
      assert.isUndefined(second.pollUnsafe(), "the second host is still setting up")
      yield* Context.get(lock, ClusterSetupLock).release
      const exit = yield* Fiber.await(second).pipe(Effect.timeout("20 seconds"))
      assert.isTrue(Exit.isSuccess(exit))
      yield* Scope.close(first, Exit.void)
    })
  )

  it.live("a host that goes away while setting up does not hold the others", () =>
    Effect.gen(function* () {
      const url = yield* freshDatabase("setup_lock")
      const first = yield* Scope.make()
      yield* Layer.buildWithScope(ClusterSetupLock.layer(url), first)
      const second = yield* Effect.forkChild(Effect.scoped(Layer.build(ClusterSetupLock.layer(url))))
      yield* untilWaiting(url, 1)
      // Its scope ends without a release, as when the process is gone: the connection closes.
      yield* Scope.close(first, Exit.void)
      const exit = yield* Fiber.await(second).pipe(Effect.timeout("20 seconds"))
      assert.isTrue(Exit.isSuccess(exit))
    })
  )
})
