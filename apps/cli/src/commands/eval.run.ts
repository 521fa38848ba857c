/**
 * Handlers for `spec-orch evidence summary` and `spec-orch eval run|compare|degradation`, and the run
 * history they read: the run store's records, the time each stage took (its `stage` events, read in one
 * query) and whether a person accepted the run (the evidence ledger).
 */
import type { EvidenceBundle, RunRecord } from "@spec-orch/contract"
import { type RunEvent, RunStore } from "@spec-orch/control"
import { EvidenceLedger } from "@spec-orch/evidence"
import {
  Analytics,
  type Comparison,
  type Degradation,
  InvalidSelector,
  InvalidWindow,
  type Rate,
  type RunFacts,
  RunHistory,
  RunHistoryError,
  type Summary
} from "@spec-orch/evolution"
import { Console, Effect, Layer } from "effect"
import { emit, ExitCode, setExitCode, table } from "../Output.js"
import { withPlanes } from "../Planes.js"

/** What analytics needs from one run record and its events. */
export const runFacts = (
  r: RunRecord,
  events: ReadonlyArray<RunEvent>,
  accepted: boolean,
  bundle?: EvidenceBundle
): RunFacts => {
  const stageMs: Record<string, number> = {}
  for (const e of events) {
    if (e.kind !== "stage") continue
    const data = e.data as { readonly stage?: unknown; readonly state?: unknown; readonly ms?: unknown }
    // A stage run twice (a resumed run) counts its last finish.
    if (data.state === "finished" && typeof data.stage === "string" && typeof data.ms === "number")
      stageMs[data.stage] = data.ms
  }
  return {
    runId: r.runId,
    issueId: r.issueId,
    status: r.status,
    adapter: r.adapter,
    profile: r.verdict?.profile,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    blockedBy: r.verdict !== undefined ? [...r.verdict.failed, ...r.verdict.notJudgeable] : [],
    accepted,
    stageMs,
    costUsd: r.costUsd,
    ...(bundle !== undefined
      ? {
          changedFiles: [...(bundle.changedFiles ?? bundle.fileChanges?.map((f) => f.path) ?? [])],
          steps: (bundle.verification?.steps ?? []).map((s) => ({
            name: s.name,
            command: s.command.join(" "),
            outcome: s.outcome
          }))
        }
      : {})
  }
}

/** The run history over the run store and the evidence ledger, oldest run first. */
export const RunHistoryLive = Layer.effect(
  RunHistory,
  Effect.gen(function* () {
    const store = yield* RunStore
    const ledger = yield* EvidenceLedger
    return {
      runs: Effect.gen(function* () {
        const records = yield* store.list({ limit: 1_000_000 })
        const judged = yield* ledger
          .between({})
          .pipe(Effect.mapError((e) => new RunHistoryError({ reason: e.message })))
        const accepted = new Set(
          judged.flatMap((j) => (j.runId !== null && j.bundle.acceptance !== undefined ? [j.runId] : []))
        )
        const bundles = new Map(judged.flatMap((j) => (j.runId !== null ? [[j.runId, j.bundle] as const] : [])))
        const stages = new Map<string, Array<RunEvent>>()
        for (const e of yield* store.eventsOfKind("stage")) {
          const list = stages.get(e.runId)
          if (list === undefined) stages.set(e.runId, [e])
          else list.push(e)
        }
        return [...records]
          .reverse()
          .map((r) => runFacts(r, stages.get(r.runId) ?? [], accepted.has(r.runId), bundles.get(r.runId)))
      })
    }
  })
)

/** A malformed selector or window is a usage error (exit 2), said on one line. */
const usage = (e: InvalidSelector | InvalidWindow) =>
  Effect.andThen(Console.error(`spec-orch: ${e.message}`), setExitCode(ExitCode.usage))

const withAnalytics = <A, E>(effect: Effect.Effect<A, E | InvalidSelector | InvalidWindow, Analytics>) =>
  withPlanes(
    Effect.provide(
      effect.pipe(
        Effect.catchIf(
          (e): e is InvalidSelector | InvalidWindow => e instanceof InvalidSelector || e instanceof InvalidWindow,
          usage
        )
      ),
      Analytics.layer.pipe(Layer.provide(RunHistoryLive))
    )
  )

const pct = (x: number | null) => (x === null ? "-" : `${(x * 100).toFixed(1)}%`)

/** `50.0% (3 of 6), 95% CI 18.8%–81.2%`, or `no finished runs`. */
export const rateText = (r: Rate) =>
  r.n === 0 ? "no finished runs (n = 0)" : `${pct(r.rate)} (${r.k} of ${r.n}), 95% CI ${pct(r.low)}–${pct(r.high)}`

const duration = (ms: number) =>
  ms < 1000
    ? `${Math.round(ms)}ms`
    : ms < 60_000
      ? `${(ms / 1000).toFixed(1)}s`
      : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`

const usd = (x: number) => `$${x.toFixed(2)}`

const summaryLines = (s: Summary): ReadonlyArray<string> => {
  if (s.runs === 0)
    return [
      s.selector === "all" ? "No runs yet. Start one with `spec-orch run <issue>`." : `No runs match ${s.selector}.`
    ]
  const o = s.outcomes
  const finished = o.mergeable + o.blocked + o.failed
  return [
    `Runs${s.selector === "all" ? "" : ` (${s.selector})`}: ${s.runs}; finished ${finished}: ${o.mergeable} mergeable, ${o.blocked} blocked, ${o.failed} failed` +
      `${o.cancelled > 0 ? `; ${o.cancelled} cancelled` : ""}${o.unfinished > 0 ? `; ${o.unfinished} unfinished` : ""}; accepted by a person: ${o.accepted}`,
    `Pass rate: ${rateText(s.passRate)} (Wilson)`,
    `  ${s.rule}`,
    "",
    table(
      ["ADAPTER", "MERGEABLE", "BLOCKED", "FAILED", "PASS RATE (95% CI, n)"],
      s.byAdapter.map((a) => [
        a.adapter,
        String(a.outcomes.mergeable),
        String(a.outcomes.blocked),
        String(a.outcomes.failed),
        rateText(a.passRate)
      ])
    ),
    "",
    ...(s.blockedBy.length > 0
      ? [
          table(
            ["BLOCKED BY", "RUNS"],
            s.blockedBy.map((b) => [b.condition, String(b.runs)])
          )
        ]
      : ["Blocked by: nothing (no blocked runs)"]),
    "",
    ...(s.stages.length > 0
      ? [
          table(
            ["STAGE", "RUNS", "MEAN", "MEDIAN"],
            s.stages.map((t) => [t.stage, String(t.n), duration(t.meanMs), duration(t.medianMs)])
          )
        ]
      : ["Time per stage: not recorded"]),
    "",
    s.cost.runsWithCost > 0
      ? `Cost: ${usd(s.cost.totalUsd)} over ${s.cost.runsWithCost} run(s) that recorded it (mean ${usd(s.cost.meanUsd ?? 0)}); ${s.runs - s.cost.runsWithCost} run(s) recorded none`
      : "Cost: no run recorded one"
  ]
}

const comparisonLines = (c: Comparison, labels: readonly [string, string] = ["A ", "B "]): ReadonlyArray<string> => [
  `${labels[0]}${c.a.selector}: ${rateText(c.a.passRate)}`,
  `${labels[1]}${c.b.selector}: ${rateText(c.b.passRate)}`,
  ...(c.difference !== null && c.test !== null && c.pValue !== null
    ? [
        `difference: ${c.difference >= 0 ? "+" : ""}${(c.difference * 100).toFixed(1)} points`,
        `test: ${c.test === "fisher-exact" ? "Fisher's exact test (two-sided)" : "two-proportion z-test (pooled, two-sided)"}, p = ${c.pValue < 0.001 ? c.pValue.toExponential(2) : c.pValue.toFixed(3)}`
      ]
    : []),
  "",
  c.verdict,
  `  (${c.rule})`
]

export const summary = (input: { select: string; json: boolean }) =>
  withAnalytics(
    Effect.gen(function* () {
      const s = yield* (yield* Analytics).summary(input.select)
      yield* emit(input.json, s, () => summaryLines(s))
    })
  )

export const compare = (input: { a: string; b: string; json: boolean }) =>
  withAnalytics(
    Effect.gen(function* () {
      const c = yield* (yield* Analytics).compare(input.a, input.b)
      yield* emit(input.json, c, () => comparisonLines(c))
    })
  )

export const degradation = (input: { recent: number; baseline: number; json: boolean }) =>
  withAnalytics(
    Effect.gen(function* () {
      const d: Degradation = yield* (yield* Analytics).degradation(input.recent, input.baseline)
      yield* emit(input.json, d, () => [
        ...(d.recent < input.recent || d.baseline < input.baseline
          ? [
              `Only ${d.recent + d.baseline} finished run(s): comparing the last ${d.recent} with the ${d.baseline} before them.`,
              ""
            ]
          : []),
        ...comparisonLines(d, ["", ""])
      ])
    })
  )
