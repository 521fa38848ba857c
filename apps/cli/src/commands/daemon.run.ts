/** Handlers for `spec-orch daemon start|status|health|dlq|dlq-retry`. */
import { createServer } from "node:http"
import { hostname } from "node:os"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { formatModelCost, IssueSource, Project } from "@spec-orch/contract"
import {
  ClusterDaemonLoop,
  clusterDaemonProject,
  clusterUrl,
  Daemon,
  DaemonLoop,
  DaemonStore,
  DEAD_LETTER_LABEL,
  evolveAfterRuns,
  judgeHealth,
  ownerAlive,
  pgServerOf,
  pokeClusterDaemon,
  Publisher,
  readHeartbeat,
  runHostsOf,
  staleAfterSeconds,
  targetOf,
  TRIAGE_USAGE_KEY,
  webhookServer
} from "@spec-orch/control"
import { Memory, Proposals } from "@spec-orch/evolution"
import { Console, Effect, FileSystem, Layer, Option } from "effect"
import { emit, ExitCode, setExitCode, stopsOnSignal, table } from "../Output.js"
import { runEvolvers } from "../Evolvers.js"
import { withClusterEngine } from "../ClusterPlane.js"
import { TriageModelLive, withContract, withEngine, withPlanes } from "../Planes.js"
import { preflight } from "./preflight.js"

const opt = <A>(o: Option.Option<A>) => Option.getOrUndefined(o)

/** The daemon and its store over the engine's services (with the planner's model for triage, when there is one). */
const DaemonLive = Daemon.layer.pipe(
  Layer.provide(TriageModelLive),
  // [evolution] trigger_after_n_runs: the evolvers propose (never approve) after every N finished runs.
  // The verification learning learns from memory (so only with [memory] enabled); the compliance-rule
  // evolver and the skills miner from the evidence ledger and the runs' event logs.
  Layer.provide(
    Layer.unwrap(
      Effect.map(Effect.service(Project), (project) =>
        evolveAfterRuns(runEvolvers({})).pipe(
          Layer.provide(project.config.memory.enabled ? Layer.merge(Proposals.layer, Memory.layer) : Proposals.layer)
        )
      )
    )
  ),
  Layer.provideMerge(DaemonStore.layer)
)

export const start = (input: { once: boolean; source: Option.Option<string>; webhookHost: string; wait: boolean }) =>
  // Fail before work: a daemon whose gate cannot judge its runs ([daemon] gate_profile, the policy) never dispatches one.
  Effect.flatMap(
    preflight("start the daemon", (project) => project.config.daemon.gate_profile),
    (ok) =>
      !ok
        ? Effect.void
        : Effect.flatMap(
            withContract(
              Effect.map(Effect.service(Project), (p) => p.config.cluster.storage),
              {
                source: opt(input.source)
              }
            ),
            (storage) =>
              Effect.gen(function* () {
                if (storage === "postgres") return yield* clusterDaemonStart(input)
                return yield* daemonStart(input)
              })
          )
  )

/** `daemon start` on `[cluster] storage = "postgres"`: this host joins the cluster as a runner (docs/cluster.md). */
const clusterDaemonStart = (input: {
  once: boolean
  source: Option.Option<string>
  webhookHost: string
  wait: boolean
}) =>
  input.once
    ? Effect.andThen(
        Console.error(
          'spec-orch daemon start --once: with [cluster] storage = "postgres" the daemon runs once for the whole cluster (on one of its runners), so one host cannot tick it on its own; start the runner without --once (see docs/cluster.md)'
        ),
        setExitCode(ExitCode.failure)
      )
    : withClusterEngine(
        { source: opt(input.source) },
        Effect.gen(function* () {
          const project = yield* Project
          const cluster = project.config.cluster
          const port = project.config.daemon.webhook_port
          // A delivery to any runner reaches the daemon singleton, wherever it runs (Postgres NOTIFY).
          const webhooks = webhookLayer(port, input.webhookHost, pokeClusterDaemon)
          yield* Console.error(
            `cluster: runner ${cluster.runner_address} joining (${pgServerOf(yield* clusterUrl(cluster))}, shard groups ${cluster.shard_groups.join(", ")}); up to ${cluster.max_concurrent_total ?? project.config.daemon.max_concurrent} run(s) in the cluster`
          )
          yield* stopsOnSignal
          // The daemon (intake, dispatch) runs once in the cluster as a singleton; its cap is the cluster's.
          const daemon = DaemonLive.pipe(
            Layer.provide(Layer.effect(Project, Effect.map(Effect.service(Project), clusterDaemonProject)))
          )
          return yield* Layer.launch(Layer.mergeAll(ClusterDaemonLoop, webhooks).pipe(Layer.provideMerge(daemon)))
        })
      )

/**
 * The signed-webhook listener on `[daemon] webhook_port` (a delivery makes the daemon poll: this
 * process's daemon, or `poke`), or nothing without a port.
 */
const webhookLayer = (port: number | undefined, host: string, poke?: Effect.Effect<void>) =>
  port === undefined
    ? Layer.empty
    : Layer.unwrap(
        Effect.gen(function* () {
          const d = yield* Daemon
          return webhookServer(() => poke ?? d.poke)
        })
      ).pipe(Layer.provide(NodeHttpServer.layer(() => createServer(), { port, host })))

const daemonStart = (input: { once: boolean; source: Option.Option<string>; webhookHost: string; wait: boolean }) =>
  withEngine(
    input.once ? "daemon start --once" : "daemon start",
    { journal: "daemon", what: "the daemon", wait: input.wait, source: opt(input.source) },
    Effect.gen(function* () {
      const project = yield* Project
      if (input.once) {
        return yield* Effect.gen(function* () {
          const daemon = yield* Daemon
          const resumed = yield* daemon.reclaim
          const report = yield* daemon.tick
          yield* daemon.drain
          const feedback = yield* daemon.feedback
          const store = yield* DaemonStore
          const rows = yield* store.issues()
          yield* Console.error(
            [
              ...(resumed.length > 0 ? [`resumed: ${resumed.join(", ")}`] : []),
              `polled ${report.polled} issue(s); dispatched ${report.dispatched.length > 0 ? report.dispatched.join(", ") : "none"}` +
                `${report.clarifying.length > 0 ? `; asked for clarification: ${report.clarifying.join(", ")}` : ""}` +
                `${report.refused.length > 0 ? `; refused at intake: ${report.refused.join(", ")} (spec-orch daemon status)` : ""}` +
                `${report.cancelled.length > 0 ? `; cancelled: ${report.cancelled.join(", ")}` : ""}`,
              ...rows
                .filter((r) => [...resumed, ...report.dispatched].includes(r.issueId))
                .map((r) => `  ${r.issueId}: ${r.status}${r.lastError ? ` (${r.lastError})` : ""}`),
              ...(feedback.checked.length > 0
                ? [
                    `read ${feedback.checked.length} pull request(s): ${feedback.findings} finding(s)${feedback.reactions.length > 0 ? `; reactions: ${feedback.reactions.join(", ")}` : ""}`
                  ]
                : [])
            ].join("\n")
          )
        }).pipe(Effect.provide(DaemonLive))
      }
      const port = project.config.daemon.webhook_port
      const webhooks = webhookLayer(port, input.webhookHost)
      if (port !== undefined)
        yield* Console.error(
          `webhooks: listening on http://${input.webhookHost}:${port}/ (signed GitHub and Linear deliveries trigger a poll)`
        )
      // SIGTERM or Ctrl-C is how the daemon is meant to stop: exit 0 once runs in flight are cancelled (resumable).
      yield* stopsOnSignal
      return yield* Layer.launch(Layer.mergeAll(DaemonLoop, webhooks).pipe(Layer.provideMerge(DaemonLive)))
    })
  )

export const health = (input: { json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      // On a cluster the heartbeat is the daemon singleton's, in the daemon store, whichever host runs it.
      const onCluster = (yield* Project).config.cluster.storage === "postgres"
      const { file, heartbeat, kept } = yield* onCluster
        ? readHeartbeat().pipe(Effect.provide(DaemonStore.layer))
        : readHeartbeat()
      const verdict = judgeHealth(
        file,
        heartbeat,
        Date.now(),
        hostname(),
        (pid) => ownerAlive(`${hostname()}:${pid}`, hostname()),
        kept
      )
      if (!verdict.healthy) yield* setExitCode(ExitCode.failure)
      yield* emit(
        input.json,
        {
          healthy: verdict.healthy,
          state: verdict.state,
          message: verdict.message,
          ageSeconds: verdict.ageSeconds,
          file,
          heartbeat: heartbeat ?? null
        },
        () => `${verdict.healthy ? "healthy" : "unhealthy"}: ${verdict.message}`
      )
    })
  )

/** The daemon's summed readiness model calls (`TRIAGE_USAGE_KEY`), when it made any. */
const triageUsageOf = (text: string | undefined) => {
  if (text === undefined) return undefined
  try {
    const t = JSON.parse(text)
    const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0)
    return {
      calls: n(t.calls),
      failed: n(t.failed),
      inputTokens: n(t.inputTokens),
      outputTokens: n(t.outputTokens),
      usd: typeof t.usd === "number" ? (t.usd as number) : undefined
    }
  } catch {
    return undefined
  }
}

export const status = (input: { json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const store = yield* DaemonStore
      const { file, heartbeat } = yield* readHeartbeat()
      const exists = yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))
      const verdict = judgeHealth(
        file,
        heartbeat,
        Date.now(),
        hostname(),
        (pid) => ownerAlive(`${hostname()}:${pid}`, hostname()),
        exists
      )
      const rows = yield* store.issues()
      // On a cluster, the runner (host:port) each claimed run executes on (docs/cluster.md).
      const hosts = yield* runHostsOf((yield* store.claims).flatMap((c) => (c.runId !== null ? [c.runId] : [])))
      const claims = (yield* store.claims).map((c) => ({
        ...c,
        runner: hosts.find((h) => h.runId === c.runId)?.runner ?? null
      }))
      const dead = yield* store.deadLetters
      const refusals = yield* store.refusals
      const lastPoll = yield* store.getMeta("last_poll")
      const triage = triageUsageOf(yield* store.getMeta(TRIAGE_USAGE_KEY))
      const when = (ms: number | null) =>
        ms === null ? "-" : new Date(ms).toISOString().replace("T", " ").slice(0, 19)
      yield* emit(
        input.json,
        {
          health: { healthy: verdict.healthy, state: verdict.state, message: verdict.message },
          heartbeat: heartbeat ?? null,
          lastPoll: lastPoll ?? null,
          issues: rows,
          claims,
          deadLetters: dead,
          refused: refusals,
          triageModelCalls: triage ?? null
        },
        () => {
          const active = rows.filter((r) => r.status !== "done" || r.finishedAt === null)
          return [
            `daemon: ${verdict.message}`,
            ...(lastPoll !== undefined ? [`last poll: ${lastPoll.replace("T", " ").slice(0, 19)}`] : []),
            ...(triage !== undefined
              ? [
                  `triage: ${triage.calls} model call${triage.calls === 1 ? "" : "s"}${triage.failed > 0 ? ` (${triage.failed} failed)` : ""}, ${triage.inputTokens} in / ${triage.outputTokens} out tokens, ${triage.usd !== undefined ? formatModelCost(triage.usd) : "cost unknown (no prices configured)"}`
                ]
              : []),
            ...(heartbeat !== undefined && heartbeat.status !== "stopped"
              ? [`heartbeat: ${file} (stale after ${staleAfterSeconds(heartbeat)} s)`]
              : []),
            "",
            rows.length === 0
              ? "No issues seen yet."
              : table(
                  ["ISSUE", "STATUS", "RETRIES", "NEXT RETRY", "LAST RUN", "PR", "NOTE"],
                  (active.length > 0 ? active : rows).map((r) => [
                    r.issueId,
                    r.status,
                    String(r.retryCount),
                    r.status === "retry" ? when(r.retryAt) : "-",
                    r.lastRunId ?? "-",
                    r.prNumber !== null ? `#${r.prNumber}` : "-",
                    (r.lastError ?? "").slice(0, 80)
                  ])
                ),
            ...(claims.length > 0
              ? [
                  "",
                  hosts.length > 0
                    ? table(
                        ["CLAIMED", "OWNER", "RUN", "RUNNER", "LEASE UNTIL"],
                        claims.map((c) => [c.issueId, c.owner, c.runId ?? "-", c.runner ?? "-", when(c.expiresAt)])
                      )
                    : table(
                        ["CLAIMED", "OWNER", "RUN", "LEASE UNTIL"],
                        claims.map((c) => [c.issueId, c.owner, c.runId ?? "-", when(c.expiresAt)])
                      )
                ]
              : []),
            ...(dead.length > 0
              ? ["", `${dead.length} dead-lettered: ${dead.map((d) => d.issueId).join(", ")} (spec-orch daemon dlq)`]
              : []),
            ...(refusals.length > 0
              ? [
                  "",
                  `${refusals.length} refused at intake (who may dispatch work: [github] / [linear] allowed_* keys in spec-orch.toml):`,
                  table(
                    ["ISSUE", "FROM", "WHY"],
                    refusals.map((r) => [r.issueId, r.who, r.reason])
                  )
                ]
              : [])
          ]
        }
      )
    }).pipe(Effect.provide(DaemonStore.layer))
  )

export const dlq = (input: { json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const dead = yield* DaemonStore.use((s) => s.deadLetters)
      yield* emit(input.json, dead, () =>
        dead.length === 0
          ? "No dead-lettered issues."
          : [
              table(
                ["ISSUE", "ATTEMPTS", "SINCE", "LAST RUN", "LAST FAILURE"],
                dead.map((d) => [
                  d.issueId,
                  String(d.attempts),
                  d.deadAt.replace("T", " ").slice(0, 19),
                  d.lastRunId ?? "-",
                  d.reason.slice(0, 100)
                ])
              ),
              "",
              "Release one with `spec-orch daemon dlq-retry <issue>`."
            ]
      )
    }).pipe(Effect.provide(DaemonStore.layer))
  )

export const dlqRetry = (input: { issue: string; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const project = yield* Project
      const store = yield* DaemonStore
      const released = yield* store.releaseDeadLetter(input.issue)
      if (!released) {
        yield* Console.error(`spec-orch: ${input.issue} is not dead-lettered (see \`spec-orch daemon dlq\`)`)
        return yield* setExitCode(ExitCode.failure)
      }
      // Best effort on the tracker: the daemon's own state is already released.
      const notes: Array<string> = []
      const issue = yield* IssueSource.use((s) => s.get(input.issue)).pipe(Effect.option)
      const target = Option.isSome(issue) ? targetOf(issue.value) : undefined
      if (target !== undefined) {
        const publisher = yield* Publisher
        yield* publisher.label({ target, remove: [DEAD_LETTER_LABEL] }).pipe(
          Effect.andThen(Effect.sync(() => notes.push(`removed the ${DEAD_LETTER_LABEL} label`))),
          Effect.catch((e) =>
            Effect.sync(() => notes.push(`could not remove the ${DEAD_LETTER_LABEL} label: ${e.message}`))
          )
        )
        if (target.tracker === "linear") {
          yield* publisher.moveLinearIssue({ id: target.id, state: project.config.daemon.consume_state }).pipe(
            Effect.andThen((m) =>
              Effect.sync(() =>
                notes.push(m.outcome === "moved" ? `moved it from ${m.from} to ${m.to}` : `it is in ${m.to}`)
              )
            ),
            Effect.catch((e) =>
              Effect.sync(() => notes.push(`could not move it to ${project.config.daemon.consume_state}: ${e.message}`))
            )
          )
        }
      }
      yield* emit(input.json, { issueId: input.issue, released: true, notes }, () => [
        `${input.issue}: released; the daemon tries it again on its next poll`,
        ...notes.map((n) => `  ${n}`)
      ])
    }).pipe(Effect.provide(DaemonStore.layer))
  )
