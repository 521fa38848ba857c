/**
 * Where a new run executes on a cluster (docs/cluster.md, "Throughput, and what limits it").
 *
 * effect/cluster runs an entity on the owner of its shard, a hash of its id; left to the hash, the runs
 * queued at one moment fall on the hosts unevenly, and one host's turns wait for its agent slots while
 * another host idles (uniform random placement allows only 0.78× linear throughput with 3 hosts). So the
 * daemon chooses: a new run goes to the live runner with the fewest runs in flight per agent slot, by a
 * salt in its workflow's execution id that hashes to one of that runner's shards. The salt is kept in the
 * run's record, so a resume, an interrupt and a failover find the same execution; the shard, not the salt,
 * still decides who runs it, so fencing and failover are unchanged, and a wrong guess (the shards moved in
 * between) only costs balance.
 *
 * Every runner publishes the shards it holds and its slots to the state database every few seconds
 * (`so_cluster_runner_shards`), and removes its row when it stops; a row not refreshed within the shard
 * lock expiry is a runner that is gone.
 */
import { Clock, Context, Duration, Effect, Layer, Schedule, Semaphore } from "effect"
import { ClusterSchema, EntityId, Sharding, ShardId } from "effect/cluster"
import { SqlClient } from "effect/sql"
import { Run, runExecutionId } from "../run/RunWorkflow.js"
import { HostSlots } from "./HostSlots.js"
import { runHostsOf } from "./RunHosts.js"

/** One runner as it last published itself. */
export interface RunnerShards {
  readonly runner: string
  /** The shards it holds, as `group:n`. */
  readonly shards: ReadonlySet<string>
  readonly slots: number
}

/**
 * The runner a new run should go to (pure): the fewest runs in flight per slot, then the fewest runs, then
 * the one the run's own shard already names (no salt needed), then by address. Runners holding no shard
 * cannot take a run.
 */
export const leastLoaded = (
  runners: ReadonlyArray<RunnerShards>,
  load: ReadonlyMap<string, number>,
  natural: string | undefined
): RunnerShards | undefined =>
  runners
    .filter((r) => r.shards.size > 0)
    .map((r) => ({ r, n: load.get(r.runner) ?? 0 }))
    .sort(
      (a, b) =>
        a.n / Math.max(1, a.r.slots) - b.n / Math.max(1, b.r.slots) ||
        a.n - b.n ||
        Number(b.r.runner === natural) - Number(a.r.runner === natural) ||
        a.r.runner.localeCompare(b.r.runner)
    )[0]?.r

/**
 * The shard (`group:n`) a run's execution falls on, with placement salt `placement` (undefined: the run
 * id's own shard): the one the runner that executes it holds.
 */
export const runShard = (runId: string, placement: string | undefined) =>
  Effect.gen(function* () {
    const sharding = yield* Sharding.Sharding
    const entityId = EntityId.make(yield* runExecutionId({ runId, placement }))
    const group = Context.get(Run.annotations, ClusterSchema.ShardGroup)(entityId)
    return sharding.getShardId(entityId, group).toString()
  })

/** How many salts to try before giving up on the chosen runner (each holds about 1/N of the shards). */
const MAX_TRIES = 2000

export class RunPlacement extends Context.Service<
  RunPlacement,
  {
    /**
     * The placement salt for the new run `runId` (undefined: its own shard is already right, or nothing is
     * known to choose by). `inFlight` are the run ids of every other run the daemon has in flight.
     */
    readonly choose: (runId: string, inFlight: ReadonlyArray<string>) => Effect.Effect<string | undefined>
  }
>()("@spec-orch/control/RunPlacement") {
  /**
   * This runner's placement: publishes its shards and slots every `publishEvery` while the layer lives,
   * and chooses from what the live runners published within `liveFor`.
   */
  static readonly layer = (options: {
    readonly runner: string
    readonly shardGroups: ReadonlyArray<string>
    readonly shardsPerGroup: number
    readonly publishEvery: Duration.Input
    readonly liveFor: Duration.Input
  }): Layer.Layer<RunPlacement, never, Sharding.Sharding | SqlClient.SqlClient | HostSlots> =>
    Layer.effect(
      RunPlacement,
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const sharding = yield* Sharding.Sharding
        const slots = yield* HostSlots
        const liveMs = Duration.toMillis(Duration.fromInputUnsafe(options.liveFor))
        yield* sql`CREATE TABLE IF NOT EXISTS so_cluster_runner_shards (
          runner TEXT PRIMARY KEY,
          shards TEXT NOT NULL,
          slots INTEGER NOT NULL,
          seen_ms BIGINT NOT NULL
        )`.pipe(Effect.retry({ times: 2 }), Effect.orDie)

        const held = () => {
          const shards: Array<string> = []
          for (const group of options.shardGroups)
            for (let n = 1; n <= options.shardsPerGroup; n++) {
              const id = ShardId.make(group, n)
              if (sharding.hasShardId(id)) shards.push(id.toString())
            }
          return shards
        }
        const publish = Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const shards = JSON.stringify(held())
          yield* sql`INSERT INTO so_cluster_runner_shards (runner, shards, slots, seen_ms)
            VALUES (${options.runner}, ${shards}, ${slots.size}, ${now})
            ON CONFLICT (runner) DO UPDATE SET shards = excluded.shards, slots = excluded.slots, seen_ms = excluded.seen_ms`
        }).pipe(Effect.catchCause((c) => Effect.logWarning("could not publish this runner's shards", c)))
        yield* Effect.addFinalizer(() =>
          sql`DELETE FROM so_cluster_runner_shards WHERE runner = ${options.runner}`.pipe(Effect.ignore)
        )
        yield* publish.pipe(Effect.repeat(Schedule.spaced(options.publishEvery)), Effect.forkScoped)

        const live = Effect.gen(function* () {
          const since = (yield* Clock.currentTimeMillis) - liveMs
          const rows = yield* sql<{ runner: string; shards: string; slots: number | string }>`
            SELECT runner, shards, slots FROM so_cluster_runner_shards WHERE seen_ms >= ${since}`
          return rows.map(
            (r): RunnerShards => ({
              runner: r.runner,
              shards: new Set(JSON.parse(r.shards) as ReadonlyArray<string>),
              slots: Number(r.slots)
            })
          )
        })
        const shardOf = (runId: string, placement: string | undefined) =>
          Effect.provideService(runShard(runId, placement), Sharding.Sharding, sharding)
        // Where this daemon sent runs, until their runner records them (RunHosts) or they leave its runs in
        // flight. A run is in flight only once its record exists, right after its choice: until the daemon has
        // seen it there (or a minute passed), its choice still counts.
        const planned = new Map<string, { runner: string; seen: boolean; atMs: number }>()
        const oneAtATime = yield* Semaphore.make(1)

        const choose = (runId: string, inFlight: ReadonlyArray<string>) =>
          Effect.gen(function* () {
            const runners = yield* live
            if (runners.length < 2) return undefined
            const now = yield* Clock.currentTimeMillis
            const flying = new Set(inFlight)
            for (const [id, p] of planned) {
              if (flying.has(id)) p.seen = true
              else if (p.seen || now - p.atMs > 60_000) planned.delete(id)
            }
            const recorded = new Map(
              (yield* runHostsOf(inFlight).pipe(Effect.provideService(SqlClient.SqlClient, sql))).map((h) => [
                h.runId,
                h.runner
              ])
            )
            const load = new Map<string, number>()
            for (const id of new Set([...inFlight, ...planned.keys()])) {
              const runner = recorded.get(id) ?? planned.get(id)?.runner
              if (runner !== undefined) load.set(runner, (load.get(runner) ?? 0) + 1)
            }
            const own = yield* shardOf(runId, undefined)
            const natural = runners.find((r) => r.shards.has(own))?.runner
            const target = leastLoaded(runners, load, natural)
            if (target === undefined) return undefined
            if (target.runner === natural) {
              planned.set(runId, { runner: target.runner, seen: false, atMs: now })
              return undefined
            }
            for (let i = 1; i <= MAX_TRIES; i++) {
              const salt = i.toString(36)
              if (target.shards.has(yield* shardOf(runId, salt))) {
                planned.set(runId, { runner: target.runner, seen: false, atMs: now })
                return salt
              }
            }
            return undefined
          }).pipe(
            oneAtATime.withPermits(1),
            Effect.catchCause((c) =>
              Effect.as(Effect.logWarning(`could not choose a runner for ${runId}; its shard decides`, c), undefined)
            )
          )

        return RunPlacement.of({ choose })
      })
    )
}
