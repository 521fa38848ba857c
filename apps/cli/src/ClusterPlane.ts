/**
 * The planes over a cluster runner (`[cluster] storage = "postgres"`, docs/cluster.md): what `withEngine`
 * gives a single host, with the workflow engine of this host's runner (effect/cluster sharding over the
 * cluster's Postgres, TCP between runners on `runner_address`) in place of the journal and its lock. The
 * state database is the cluster's Postgres too (StatePlane), so every runner shares the run store.
 */
import { layerClientProtocol, layerSocketServer } from "@effect/platform-node/NodeClusterSocket"
import { Project } from "@spec-orch/contract"
import {
  ClusterSetupLock,
  checkRunnerAddress,
  clusterEngineLayer,
  clusterUrl,
  RunWorkflowLayer
} from "@spec-orch/control"
import { Redactor } from "@spec-orch/harness"
import { Effect, Layer } from "effect"
import {
  RunnerHealth,
  Runners,
  type ShardingConfig,
  SocketRunner,
  SqlMessageStorage,
  SqlRunnerStorage,
  ShardingConfig as ShardingConfigLayer
} from "effect/cluster"
import { Digest } from "effect/crypto"
import { RpcSerialization } from "effect/rpc"
import { projectLayer, redactingOutput } from "./ProjectScope.js"
import { Planes, RunsRecorded } from "./Planes.js"
import { Root } from "./Root.js"
import { RunTracing } from "./Trace.js"

/**
 * Sharding over TCP between runners with SQL storage: `NodeClusterSocket.layer({ storage: "sql" })` of
 * \@effect/platform-node, put together here from its parts, because that function also pulls in its
 * Kubernetes health check (undici), which the CLI bundle does not need.
 */
const socketSharding = (shardingConfig: Partial<ShardingConfig.ShardingConfig["Service"]>) =>
  Layer.provide(SocketRunner.layer, [layerSocketServer, layerClientProtocol]).pipe(
    Layer.provide(RunnerHealth.layerPing.pipe(Layer.provide(Runners.layerRpc), Layer.provide(layerClientProtocol))),
    Layer.provideMerge(SqlMessageStorage.layer.pipe(Layer.provide(Digest.layerWebCrypto))),
    Layer.provide(Layer.orDie(SqlRunnerStorage.layer)),
    Layer.provide(ShardingConfigLayer.layerFromEnv(shardingConfig)),
    Layer.provide(RpcSerialization.layerSchemaBinary())
  )

/** This host's runner: sharding over the cluster's Postgres, the Run workflow served here, fenced. */
const RunnerLive = Layer.unwrap(
  Effect.gen(function* () {
    const project = yield* Project
    const url = yield* clusterUrl(project.config.cluster)
    // Said before joining, not as the socket server's bare "Open: listen EADDRINUSE" once it is half up.
    yield* checkRunnerAddress(project.config.cluster.runner_address!)
    return clusterEngineLayer(project.config, url, socketSharding)
  })
)

/** Runs `effect` as a runner of the project's cluster, with every plane, the Run workflow and `Runs`. */
export const withClusterEngine = <A, E, R>(
  options: { readonly source?: string | undefined },
  effect: Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    const flags = yield* Root
    const project = projectLayer(flags, options.source)
    const base = Planes.pipe(Layer.provideMerge(project))
    const engine = RunsRecorded.pipe(Layer.provideMerge(RunWorkflowLayer), Layer.provideMerge(RunnerLive))
    const tracing = RunTracing.pipe(Layer.provide(Redactor.layer), Layer.provideMerge(project))
    // Built first, released once the runner's layers are: hosts started together set up tables one at a time.
    const setup = Layer.unwrap(
      Effect.map(
        Effect.flatMap(Project, (p) => clusterUrl(p.config.cluster)),
        ClusterSetupLock.layer
      )
    ).pipe(Layer.provide(project))
    const released = Effect.andThen(
      Effect.flatMap(ClusterSetupLock, (lock) => lock.release),
      effect
    )
    return yield* redactingOutput(released).pipe(
      Effect.provide(engine.pipe(Layer.provideMerge(base), Layer.provideMerge(tracing), Layer.provideMerge(setup)))
    )
  })
