/**
 * One host at a time sets up the cluster's tables. Hosts started together on a fresh database would
 * otherwise race on `CREATE TABLE IF NOT EXISTS` (effect/cluster's runner and message tables, the run
 * hosts table): Postgres lets two sessions both decide to create a table and fails the second with a
 * duplicate-key error on its catalog, which stopped a runner at start. The lock is a session advisory
 * lock on a connection of its own: taken before the runner's layers are built, released (by `release`,
 * or when the layer's scope ends) once they are; a host killed while holding it releases it with its
 * connection.
 */
import { PgClient } from "@effect/sql-pg"
import { Context, Duration, Effect, Exit, Layer, Redacted, Scope } from "effect"
import { SqlClient } from "effect/sql"

/** The lock's key: "SPECORCH" as a bigint; the one-key space does not overlap effect/cluster's two-key shard locks. */
const KEY = "6004225417001370440"

export class ClusterSetupLock extends Context.Service<
  ClusterSetupLock,
  {
    /** Lets the next host set up; idempotent. */
    readonly release: Effect.Effect<void>
  }
>()("@spec-orch/control/ClusterSetupLock") {
  /** Waits for the lock on the cluster's Postgres at `url`, saying so when another host holds it for long. */
  static readonly layer = (url: string): Layer.Layer<ClusterSetupLock> =>
    Layer.effect(
      ClusterSetupLock,
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
        const taken = yield* Effect.gen(function* () {
          // Built into `scope`, not per effect: the pool (and with it the lock) lives until release.
          const pg = yield* Layer.buildWithScope(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 }), scope)
          const sql = Context.get(pg, SqlClient.SqlClient)
          const conn = yield* Scope.provide(sql.reserve, scope)
          const lock = conn.executeRaw(`SELECT pg_advisory_lock(${KEY}::bigint)`, [])
          const saying = Effect.sleep(Duration.seconds(10)).pipe(
            Effect.andThen(
              Effect.logInfo("cluster: waiting for another runner to finish setting up the cluster's tables")
            ),
            Effect.andThen(Effect.never)
          )
          yield* Effect.race(lock, saying)
        }).pipe(Effect.exit)
        // Without the lock the runner still starts; the tables' own guards are what is left.
        if (Exit.isFailure(taken)) {
          yield* Effect.logWarning("cluster: could not take the setup lock; setting up without it", taken.cause)
          yield* Scope.close(scope, Exit.void)
        }
        return ClusterSetupLock.of({ release: Scope.close(scope, Exit.void) })
      })
    )
}
