/**
 * Which cluster runner (`host:port`) runs each run, in the shared state database: the runner that owns
 * a run's shard writes it right before the run's first stage there (RunFence), and again when the run
 * moved to it. `daemon status` and the dashboard's daemon API show it for the runs in flight.
 */
import { Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"

/** Where one run executes. */
export interface RunHost {
  readonly runId: string
  readonly issueId: string
  /** The runner's address, `[cluster] runner_address` of its host. */
  readonly runner: string
  /** When the runner took the run (ISO time). */
  readonly since: string
}

export class RunHosts extends Context.Service<
  RunHosts,
  {
    readonly record: (run: {
      readonly runId: string
      readonly issueId: string
      readonly runner: string
    }) => Effect.Effect<void>
    /** The hosts of these runs (those recorded; none on a single host). */
    readonly of: (runIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<RunHost>>
  }
>()("@spec-orch/control/RunHosts") {
  /** Over the ambient SqlClient (the state database); creates its table first. */
  static readonly layer: Layer.Layer<RunHosts, never, SqlClient.SqlClient> = Layer.effect(
    RunHosts,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE IF NOT EXISTS so_cluster_run_hosts (
        run_id TEXT PRIMARY KEY,
        issue_id TEXT NOT NULL,
        runner TEXT NOT NULL,
        since TEXT NOT NULL
      )`.pipe(
        // Another host creating it at the same moment fails this one on Postgres's catalog; then it exists.
        Effect.retry({ times: 2 }),
        Effect.orDie
      )
      return RunHosts.of({
        record: (run) =>
          sql`INSERT INTO so_cluster_run_hosts (run_id, issue_id, runner, since)
              VALUES (${run.runId}, ${run.issueId}, ${run.runner}, ${new Date().toISOString()})
              ON CONFLICT (run_id) DO UPDATE SET runner = excluded.runner, since = excluded.since`.pipe(
            Effect.asVoid,
            Effect.catchCause((c) => Effect.logWarning(`could not record the host of run ${run.runId}`, c))
          ),
        of: (runIds) =>
          runIds.length === 0
            ? Effect.succeed([])
            : sql<{ run_id: string; issue_id: string; runner: string; since: string }>`
                SELECT run_id, issue_id, runner, since FROM so_cluster_run_hosts WHERE ${sql.in("run_id", runIds)}`.pipe(
                Effect.map((rows) =>
                  rows.map((r) => ({ runId: r.run_id, issueId: r.issue_id, runner: r.runner, since: r.since }))
                ),
                Effect.orDie
              )
      })
    })
  )
}

/** The hosts of `runIds` when the table exists (a single host never creates it): empty otherwise. */
export const runHostsOf = (runIds: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    if (runIds.length === 0) return [] as ReadonlyArray<RunHost>
    return yield* sql<{ run_id: string; issue_id: string; runner: string; since: string }>`
      SELECT run_id, issue_id, runner, since FROM so_cluster_run_hosts WHERE ${sql.in("run_id", runIds)}`.pipe(
      Effect.map(
        (rows): ReadonlyArray<RunHost> =>
          rows.map((r) => ({ runId: r.run_id, issueId: r.issue_id, runner: r.runner, since: r.since }))
      ),
      Effect.orElseSucceed((): ReadonlyArray<RunHost> => [])
    )
  })
