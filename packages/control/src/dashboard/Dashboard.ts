/**
 * The dashboard's read model: what `spec-orch dashboard` shows, computed from the shared stores only
 * (the run store and its event logs, the run artifacts under `<state dir>/runs/<id>/`, the evidence
 * ledger's findings and the daemon's retries and dead letters). Nothing here is needed for a run to be
 * correct, and nothing here is process-local: a run another process started is seen by polling the
 * store, so `changes` streams it as it moves.
 */
import {
  type FileMissing,
  type InvalidFile,
  Missions,
  type MissionsError,
  Project,
  type RunRecord,
  Specs,
  unresolvedBlocking
} from "@spec-orch/contract"
import type { Plans } from "@spec-orch/task"
import { EvidenceLedger } from "@spec-orch/evidence"
import { Redactor } from "@spec-orch/harness"
import { Context, Effect, FileSystem, Layer, Option, Path, Schedule, Schema, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { runHostsOf } from "../cluster/RunHosts.js"
import { DaemonStore } from "../daemon/DaemonStore.js"
import { type Heartbeat, judgeHealth, readHeartbeat } from "../daemon/Heartbeat.js"
import { missionStatus, type MissionStatusView } from "../mission/MissionStatus.js"
import type { MissionStore } from "../mission/MissionStore.js"
import { ProcessToken } from "../run/EngineLock.js"
import { type RunEvent, RunStore } from "../run/RunStore.js"
import { ownerAlive } from "../run/Runs.js"

/** Tokens a run used, Symphony's field names. */
export interface TokensView {
  readonly input_tokens: number
  readonly output_tokens: number
  readonly total_tokens: number
}

/** One gate condition as the page and clients see it. */
export interface ConditionView {
  readonly condition: string
  readonly required: boolean
  readonly status: string
  readonly reason: string
  readonly unblock: string | null
}

/** One run, the row every list shows. */
export interface RunView {
  readonly run_id: string
  /** The issue, under both of Symphony's names (spec-orch has one id per issue). */
  readonly issue_id: string
  readonly issue_identifier: string
  /** The issue's title from its spec snapshot, when known: text, never markup. */
  readonly title: string | null
  readonly run_key: string
  readonly attempt: number
  /** queued, running, succeeded, blocked, failed, cancelled, waiting, or interrupted (running, but its process is gone). */
  readonly state: string
  readonly stage: string
  readonly started_at: string
  readonly updated_at: string
  readonly finished_at: string | null
  readonly message: string | null
  /** mergeable, blocked, or null before the gate judged the run. */
  readonly verdict: "mergeable" | "blocked" | null
  readonly adapter: string | null
  readonly tokens: TokensView | null
  readonly cost_usd: number | null
  readonly conditions: ReadonlyArray<ConditionView>
  /** What would unblock the run, one sentence per failing condition. */
  readonly to_unblock: ReadonlyArray<string>
}

/** `GET /api/v1/state`: Symphony's snapshot, extended with blocked runs, stages and verdicts. */
export interface StateView {
  readonly generated_at: string
  readonly counts: {
    readonly running: number
    readonly retrying: number
    readonly blocked: number
    readonly attention: number
  }
  readonly running: ReadonlyArray<RunView>
  readonly retrying: ReadonlyArray<RetryView>
  readonly blocked: ReadonlyArray<RunView>
  /** The latest runs, newest first. */
  readonly recent: ReadonlyArray<RunView>
  readonly codex_totals: TokensView & { readonly cost_usd: number; readonly seconds_running: number }
  readonly rate_limits: null
}

/** An issue the daemon will try again. */
export interface RetryView {
  readonly issue_id: string
  readonly issue_identifier: string
  readonly attempt: number
  readonly due_at: string | null
  readonly error: string | null
}

/** `GET /api/v1/<issue>`. */
export interface IssueView {
  readonly issue_id: string
  readonly issue_identifier: string
  /** The latest run's state. */
  readonly state: string
  readonly runs: ReadonlyArray<RunView>
  readonly findings: ReadonlyArray<unknown>
}

/** One stage of a run's timeline. */
export interface StageView {
  readonly stage: string
  readonly state: "started" | "finished" | "failed"
  readonly started_at: string | null
  readonly finished_at: string | null
  readonly ms: number | null
  readonly ok: boolean | null
  readonly summary: string | null
}

/** `GET /api/v1/runs/<id>`. */
export interface RunDetailView {
  readonly run: RunView
  readonly timeline: ReadonlyArray<StageView>
  readonly verification: ReadonlyArray<unknown>
  readonly findings: ReadonlyArray<unknown>
  /** explain.md, when the run got that far. */
  readonly explain: string | null
  /** diff.patch (the run's change), cut at 256 KB, when the run got that far. */
  readonly diff: string | null
  readonly diff_truncated: boolean
  /** report.json, when the run got that far. */
  readonly report: unknown
  /** The newest events of the run's log (at most 500), oldest first. */
  readonly events: ReadonlyArray<RunEvent>
}

/** One mission in `GET /api/v1/missions`. */
export interface MissionSummaryView {
  readonly mission_id: string
  readonly title: string
  /** mission.json's status (drafting, approved, in_progress, completed, failed, archived). */
  readonly status: string
  readonly spec_state: string
  /** Packets per state (not-started, running, interrupted, succeeded, blocked, failed, waiting, skipped); null before there is a usable plan. */
  readonly counts: Readonly<Record<string, number>> | null
  readonly packets: number | null
  /** Why there are no counts (no plan yet, an invalid plan), in one sentence. */
  readonly problem: string | null
}

/** `GET /api/v1/missions/<id>`: the mission as waves of packets, each with its latest run. */
export interface MissionDetailView {
  readonly mission_id: string
  readonly title: string
  readonly status: string
  readonly spec_state: string
  readonly branch: string
  /** The latest `run-plan`: running, interrupted (its process is gone), or how it ended. */
  readonly mission_run: {
    readonly outcome: string
    readonly started_at: string
    readonly finished_at: string | null
    readonly message: string | null
  } | null
  readonly counts: Readonly<Record<string, number>>
  readonly waves: ReadonlyArray<{
    readonly index: number
    readonly description: string
    readonly packets: ReadonlyArray<{
      readonly packet_id: string
      readonly run_key: string
      readonly title: string
      readonly depends_on: ReadonlyArray<string>
      readonly state: string
      readonly reason: string | null
      /** What `run-plan` would do with it now. */
      readonly next: string
      readonly run: RunView | null
      readonly integration: { readonly outcome: string; readonly message: string } | null
    }>
  }>
  readonly problems: ReadonlyArray<unknown>
}

/** `GET /api/v1/daemon`: whether the project's daemon is working, and what it holds. */
export interface DaemonView {
  /** `state`: healthy, starting, not-running, stopped, stale, degraded or unreadable (as `spec-orch daemon health`). */
  readonly health: {
    readonly healthy: boolean
    readonly state: string
    readonly message: string
    readonly age_seconds: number | null
  }
  readonly heartbeat: Heartbeat | null
  readonly last_poll: string | null
  /** Issues a daemon process holds right now. */
  readonly claims: ReadonlyArray<{
    readonly issue_id: string
    readonly owner: string
    readonly run_id: string | null
    /** On a cluster (docs/cluster.md): the runner (`host:port`) the run executes on; null on a single host. */
    readonly runner: string | null
    readonly lease_until: string
  }>
  readonly retrying: ReadonlyArray<RetryView>
  readonly dead_letters: ReadonlyArray<{
    readonly issue_id: string
    readonly reason: string
    readonly attempts: number
    readonly last_run_id: string | null
    readonly dead_at: string
  }>
  /** Issues the intake allow-list refused: who filed them and why (never their text). */
  readonly refused: ReadonlyArray<{
    readonly issue_id: string
    readonly who: string
    readonly reason: string
    readonly last_at: string
  }>
}

/** One group of finished runs in `GET /api/v1/stats`. */
export interface StatsGroup {
  /** The day (YYYY-MM-DD, UTC), adapter or profile. */
  readonly key: string
  readonly runs: number
  readonly mergeable: number
  readonly blocked: number
  readonly failed: number
  /** mergeable / runs. */
  readonly pass_rate: number
  readonly cost_usd: number
  readonly median_seconds: number | null
}

/** `GET /api/v1/stats`: how the latest finished runs went, for the page's charts. */
export interface StatsView {
  /** How many finished runs this covers (the latest, at most 200). */
  readonly runs: number
  readonly by_day: ReadonlyArray<StatsGroup>
  readonly by_adapter: ReadonlyArray<StatsGroup>
  readonly by_profile: ReadonlyArray<StatsGroup>
  /** Time per stage over the latest 30 finished runs. */
  readonly stages: ReadonlyArray<{
    readonly stage: string
    readonly runs: number
    readonly median_ms: number
    readonly p95_ms: number
  }>
}

const FINISHED_STATES = new Set(["succeeded", "blocked", "failed"])
const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0
}

/** Finished runs grouped by `key`, oldest group first for days, largest first otherwise. */
export const statsGroups = (
  records: ReadonlyArray<RunRecord>,
  key: (r: RunRecord) => string
): ReadonlyArray<StatsGroup> => {
  const groups = new Map<string, Array<RunRecord>>()
  for (const r of records) {
    if (!FINISHED_STATES.has(r.status)) continue
    const k = key(r)
    groups.set(k, [...(groups.get(k) ?? []), r])
  }
  return [...groups.entries()].map(([k, rs]) => {
    const mergeable = rs.filter((r) => r.verdict?.mergeable === true).length
    const seconds = rs.flatMap((r) =>
      r.finishedAt !== undefined ? [(Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000] : []
    )
    return {
      key: k,
      runs: rs.length,
      mergeable,
      blocked: rs.filter((r) => r.status === "blocked" || (r.status === "succeeded" && r.verdict?.mergeable === false))
        .length,
      failed: rs.filter((r) => r.status === "failed").length,
      pass_rate: rs.length === 0 ? 0 : Math.round((mergeable / rs.length) * 1000) / 1000,
      cost_usd: Math.round(rs.reduce((n, r) => n + (r.costUsd ?? 0), 0) * 10000) / 10000,
      median_seconds: seconds.length === 0 ? null : Math.round(quantile(seconds, 0.5) * 10) / 10
    }
  })
}

/** One point of a `GET /api/v1/metrics` series: the finished runs of one group that started in one bucket. */
export interface MetricsPoint {
  /** The bucket's first day (YYYY-MM-DD, UTC; a week starts on Monday). */
  readonly bucket: string
  readonly runs: number
  readonly mergeable: number
  /** mergeable / runs. */
  readonly pass_rate: number
  readonly cost_usd: number
  readonly median_seconds: number | null
  /** Median milliseconds per stage, over the runs whose stage events are in the store. */
  readonly stage_ms: Readonly<Record<string, number>>
}

/** `GET /api/v1/metrics?by=adapter|profile&bucket=day|week`: pass rate, cost and time per stage over time, one series per group. */
export interface MetricsView {
  readonly by: "adapter" | "profile"
  readonly bucket: "day" | "week"
  /** How many finished runs this covers (the latest, at most 200). */
  readonly runs: number
  /** Every bucket with a finished run, oldest first. */
  readonly buckets: ReadonlyArray<string>
  /** Every stage with a time, in the order the first run went through them. */
  readonly stages: ReadonlyArray<string>
  /** One series per adapter or profile, largest first; points only for buckets where it ran. */
  readonly series: ReadonlyArray<{
    readonly key: string
    readonly runs: number
    readonly points: ReadonlyArray<MetricsPoint>
  }>
  /** Every group together, one point per bucket. */
  readonly overall: ReadonlyArray<MetricsPoint>
}

/** The bucket a run that started at `iso` falls in. */
export const bucketOf = (iso: string, bucket: "day" | "week"): string => {
  if (bucket === "day") return iso.slice(0, 10)
  const day = new Date(`${iso.slice(0, 10)}T00:00:00.000Z`)
  day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7))
  return day.toISOString().slice(0, 10)
}

/**
 * The metrics series of finished runs grouped by `key` and bucketed by start time; `stageMs` gives a
 * run's milliseconds per stage (empty when its events are gone).
 */
export const metricsSeries = (
  records: ReadonlyArray<RunRecord>,
  options: {
    readonly by: "adapter" | "profile"
    readonly bucket: "day" | "week"
    readonly stageMs: (r: RunRecord) => ReadonlyArray<readonly [string, number]>
  }
): MetricsView => {
  const finished = records.filter((r) => FINISHED_STATES.has(r.status))
  const keyOf = (r: RunRecord) =>
    options.by === "adapter" ? (r.adapter ?? "unknown") : (r.verdict?.profile ?? "default")
  const stageOrder: Array<string> = []
  const point = (bucket: string, rs: ReadonlyArray<RunRecord>): MetricsPoint => {
    const g = statsGroups(rs, () => bucket)[0]!
    const perStage = new Map<string, Array<number>>()
    for (const r of rs) {
      for (const [stage, ms] of options.stageMs(r)) {
        if (!stageOrder.includes(stage)) stageOrder.push(stage)
        perStage.set(stage, [...(perStage.get(stage) ?? []), ms])
      }
    }
    return {
      bucket,
      runs: g.runs,
      mergeable: g.mergeable,
      pass_rate: g.pass_rate,
      cost_usd: g.cost_usd,
      median_seconds: g.median_seconds,
      stage_ms: Object.fromEntries([...perStage.entries()].map(([stage, ms]) => [stage, quantile(ms, 0.5)]))
    }
  }
  const byBucket = (rs: ReadonlyArray<RunRecord>) => {
    const m = new Map<string, Array<RunRecord>>()
    for (const r of rs) {
      const b = bucketOf(r.startedAt, options.bucket)
      m.set(b, [...(m.get(b) ?? []), r])
    }
    return [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([b, group]) => point(b, group))
  }
  const groups = new Map<string, Array<RunRecord>>()
  for (const r of finished) groups.set(keyOf(r), [...(groups.get(keyOf(r)) ?? []), r])
  const overall = byBucket(finished)
  return {
    by: options.by,
    bucket: options.bucket,
    runs: finished.length,
    buckets: overall.map((p) => p.bucket),
    stages: stageOrder,
    series: [...groups.entries()]
      .sort(([a, x], [b, y]) => y.length - x.length || a.localeCompare(b))
      .map(([key, rs]) => ({ key, runs: rs.length, points: byBucket(rs) })),
    overall
  }
}

/** `GET /api/v1/evolution`: what memory holds, which learnings the latest runs were given, and proposals. */
export interface EvolutionView {
  /** `absent`: memory never recorded anything here (off, or no run finished yet). */
  readonly memory: {
    readonly status: "active" | "absent"
    /** Entries in force (not superseded or closed), per layer. */
    readonly live: number
    readonly closed: number
    readonly by_layer: Readonly<Record<string, number>>
    readonly latest_recorded_at: string | null
  }
  /** The latest runs given learnings (from their context.json), newest first, at most 20. */
  readonly runs: ReadonlyArray<{
    readonly run_id: string
    readonly issue_id: string
    readonly started_at: string
    readonly learnings: ReadonlyArray<{
      readonly id: string
      readonly key: string | null
      readonly layer: string | null
      readonly content: string | null
    }>
  }>
  /** Proposals, when the state database has a proposals table; null otherwise (with `proposals_note` saying why). */
  readonly proposals: ReadonlyArray<Readonly<Record<string, unknown>>> | null
  readonly proposals_note: string | null
}

/** One thing that needs a person. */
export interface AttentionItem {
  /** review, acceptance, question, blocked, failed, interrupted or dead_letter. */
  readonly kind: string
  readonly issue_id: string
  readonly run_id: string | null
  readonly since: string
  /** What is needed, in one sentence. */
  readonly message: string
  /** The command (or page action) that resolves it. */
  readonly to_unblock: ReadonlyArray<string>
  /** [question] The open blocking questions, to answer on the page. */
  readonly questions?: ReadonlyArray<{ readonly id: string; readonly text: string }>
}

/** One Server-Sent Event: a run changed (`run`), or a run logged something (`log`). */
export interface DashboardEvent {
  readonly event: "run" | "log"
  readonly data: unknown
}

const tokensOf = (r: RunRecord): TokensView | null =>
  r.inputTokens === undefined && r.outputTokens === undefined
    ? null
    : {
        input_tokens: r.inputTokens ?? 0,
        output_tokens: r.outputTokens ?? 0,
        total_tokens: (r.inputTokens ?? 0) + (r.outputTokens ?? 0)
      }

/** The row of one run; `interrupted` when it says running but the process that owns it is gone. */
export const runView = (r: RunRecord, interrupted = false, title: string | null = null): RunView => {
  const conditions = (r.verdict?.conditions ?? []).map((c) => ({
    condition: c.condition,
    required: c.required,
    status: c.status,
    reason: c.reason,
    unblock: c.unblock ?? null
  }))
  return {
    run_id: r.runId,
    issue_id: r.issueId,
    issue_identifier: r.issueId,
    title,
    run_key: r.runKey,
    attempt: r.attempt,
    state: interrupted ? "interrupted" : r.status,
    stage: r.stage,
    started_at: r.startedAt,
    updated_at: r.updatedAt,
    finished_at: r.finishedAt ?? null,
    message: r.message ?? null,
    verdict: r.verdict === undefined ? null : r.verdict.mergeable ? "mergeable" : "blocked",
    adapter: r.adapter ?? null,
    tokens: tokensOf(r),
    cost_usd: r.costUsd ?? null,
    conditions,
    to_unblock: conditions
      .filter((c) => c.required && (c.status === "failed" || c.status === "not_judgeable") && c.unblock !== null)
      .map((c) => c.unblock!)
  }
}

/** The stage timeline from a run's `stage` events. */
export const timelineOf = (events: ReadonlyArray<RunEvent>): ReadonlyArray<StageView> => {
  const stages: Array<{ -readonly [K in keyof StageView]: StageView[K] }> = []
  for (const e of events) {
    if (e.kind !== "stage") continue
    const d = e.data as {
      stage?: string
      state?: string
      ms?: number
      ok?: boolean
      summary?: string
      message?: string
    }
    if (typeof d.stage !== "string") continue
    if (d.state === "started") {
      stages.push({
        stage: d.stage,
        state: "started",
        started_at: e.at,
        finished_at: null,
        ms: null,
        ok: null,
        summary: null
      })
      continue
    }
    let s = stages.findLast((x) => x.stage === d.stage && x.state === "started")
    if (s === undefined) {
      s = { stage: d.stage, state: "started", started_at: null, finished_at: null, ms: null, ok: null, summary: null }
      stages.push(s)
    }
    s.state = d.state === "failed" ? "failed" : "finished"
    s.finished_at = e.at
    s.ms = typeof d.ms === "number" ? d.ms : null
    s.ok = d.state === "failed" ? false : typeof d.ok === "boolean" ? d.ok : null
    s.summary = typeof d.summary === "string" ? d.summary : typeof d.message === "string" ? d.message : null
  }
  return stages
}

const needs = (v: RunView, condition: string) =>
  v.conditions.some(
    (c) => c.condition === condition && c.required && (c.status === "failed" || c.status === "not_judgeable")
  )

/** What a finished run needs from a person, if anything. */
export const attentionOf = (v: RunView): AttentionItem | undefined => {
  const item = (kind: string, message: string, unblock: ReadonlyArray<string>): AttentionItem => ({
    kind,
    issue_id: v.issue_id,
    run_id: v.run_id,
    since: v.finished_at ?? v.updated_at,
    message,
    to_unblock: unblock
  })
  switch (v.state) {
    case "blocked": {
      const kind = needs(v, "review") ? "review" : needs(v, "human_acceptance") ? "acceptance" : "blocked"
      return item(kind, v.message ?? `${v.issue_id} is blocked`, v.to_unblock)
    }
    case "waiting":
      return item("question", v.message ?? `${v.issue_id} waits for an answer`, [`spec-orch spec show ${v.issue_id}`])
    case "failed":
      return item("failed", v.message ?? `${v.issue_id} failed`, [
        `spec-orch logs ${v.issue_id}`,
        `spec-orch run ${v.issue_id} --new-attempt`
      ])
    case "interrupted":
      return item(
        "interrupted",
        `${v.issue_id}: the process running it is gone; it resumes at its stage (${v.stage})`,
        [`spec-orch run ${v.issue_id}`]
      )
    default:
      return undefined
  }
}

/** A run's change fingerprint: what the page would redraw for. */
const fingerprint = (v: RunView) => `${v.state}|${v.stage}|${v.updated_at}|${v.verdict ?? ""}|${v.title ?? ""}`

const UNFINISHED = new Set(["queued", "running"])
const parseJson = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))
const DIFF_CAP = 256 * 1024

/** Reads what the dashboard shows. */
export class Dashboard extends Context.Service<
  Dashboard,
  {
    /** The snapshot of `GET /api/v1/state`. */
    readonly state: Effect.Effect<StateView>
    /** One issue's runs, newest first; `undefined` when the store has none. */
    readonly issue: (issueId: string) => Effect.Effect<IssueView | undefined>
    /** One run with its timeline, verification, findings and explain.md; `undefined` for an unknown run. */
    readonly run: (runId: string) => Effect.Effect<RunDetailView | undefined>
    /** Every mission with its packets' progress. */
    readonly missions: Effect.Effect<ReadonlyArray<MissionSummaryView>>
    /** One mission as waves of packets; fails when it is unknown (FileMissing) or its files are unusable. */
    readonly mission: (missionId: string) => Effect.Effect<MissionDetailView, MissionsError | InvalidFile | FileMissing>
    /** The daemon's health, claims, retries, dead letters and refusals. */
    readonly daemon: Effect.Effect<DaemonView>
    /** Pass rate, cost and time per day, adapter and profile, and time per stage, over the latest finished runs. */
    readonly stats: Effect.Effect<StatsView>
    /** Pass rate, cost and time per stage over time, one series per adapter or profile, over the latest finished runs. */
    readonly metrics: (options: {
      readonly by: "adapter" | "profile"
      readonly bucket: "day" | "week"
    }) => Effect.Effect<MetricsView>
    /** Memory's state, the learnings the latest runs were given, and proposals when there are any. */
    readonly evolution: Effect.Effect<EvolutionView>
    /** The needs-a-human queue, oldest first. */
    readonly attention: Effect.Effect<ReadonlyArray<AttentionItem>>
    /**
     * Run changes and new log events, polled from the store every `pollMillis` (so runs of other
     * processes arrive too). Starts with the current state of the latest runs.
     */
    readonly changes: (options?: { readonly pollMillis?: number | undefined }) => Stream.Stream<DashboardEvent>
  }
>()("@spec-orch/control/Dashboard") {
  static readonly layer: Layer.Layer<
    Dashboard,
    never,
    | RunStore
    | EvidenceLedger
    | DaemonStore
    | MissionStore
    | Missions
    | Plans
    | ProcessToken
    | Project
    | Specs
    | Redactor
    | SqlClient.SqlClient
    | FileSystem.FileSystem
    | Path.Path
  > = Layer.effect(
    Dashboard,
    Effect.gen(function* () {
      const store = yield* RunStore
      const ledger = yield* EvidenceLedger
      const daemon = yield* DaemonStore
      const me = yield* ProcessToken
      const project = yield* Project
      const specs = yield* Specs
      const redactor = yield* Redactor
      const sql = yield* SqlClient.SqlClient
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const nowIso = Effect.map(
        Effect.clockWith((c) => c.currentTimeMillis),
        (ms) => new Date(ms).toISOString()
      )

      // Titles come from the spec snapshots, read once per issue (a missing one is looked for again after 1 s:
      // a new run's snapshot appears at its spec stage).
      const titles = new Map<string, { readonly title: string | null; readonly at: number }>()
      const titleOf = (issueId: string) =>
        Effect.gen(function* () {
          const nowMs = yield* Effect.clockWith((c) => c.currentTimeMillis)
          const known = titles.get(issueId)
          if (known !== undefined && (known.title !== null || nowMs - known.at < 1_000)) return known.title
          const snapshot = yield* specs.get(issueId).pipe(Effect.orElseSucceed(() => undefined))
          const heading = snapshot?.content.split("\n", 1)[0]?.match(/^#\s+(.*)$/)?.[1]
          // The snapshot keeps the issue's words as they were filed: a token pasted into a title is redacted here.
          const title =
            heading === undefined
              ? null
              : redactor.redact(heading.startsWith(`${issueId}: `) ? heading.slice(issueId.length + 2) : heading)
          titles.set(issueId, { title, at: nowMs })
          return title
        })
      const view = (r: RunRecord) =>
        Effect.gen(function* () {
          const title = yield* titleOf(r.issueId)
          const interrupted = r.status === "running" && !ownerAlive(yield* store.owner(r.runId), me.host)
          return runView(r, interrupted, title)
        })
      const views = (records: ReadonlyArray<RunRecord>) => Effect.forEach(records, view)
      // The latest runs, kept in memory and brought up to date with what changed since the last look
      // (re-reading the last 2 s, so a write another process committed late is not missed).
      const cache = new Map<string, RunRecord>()
      let cursor: string | undefined
      const latestRecords = Effect.gen(function* () {
        const changed =
          cursor === undefined
            ? yield* store.list({ limit: 200 })
            : yield* store.updatedSince(new Date(Date.parse(cursor) - 2_000).toISOString())
        for (const r of changed) {
          cache.set(r.runId, r)
          if (cursor === undefined || r.updatedAt > cursor) cursor = r.updatedAt
        }
        cursor ??= new Date(0).toISOString()
        return [...cache.values()]
          .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0))
          .slice(0, 200)
      })
      /** The latest attempt of each run key, newest first. */
      const latestPerKey = (vs: ReadonlyArray<RunView>) => {
        const seen = new Set<string>()
        return vs.filter((v) => {
          if (seen.has(v.run_key)) return false
          seen.add(v.run_key)
          return true
        })
      }
      // Artifacts are redacted when written; what is shown is redacted again with what this process knows.
      const readText = (file: string) =>
        fs.readFileString(file).pipe(
          Effect.map((t): string | null => redactor.redact(t)),
          Effect.orElseSucceed((): string | null => null)
        )
      const artifactsDir = (r: RunRecord) => r.artifactsDir ?? path.join(project.stateDir, "runs", r.runId)
      const findings = (issueId: string) =>
        ledger.findings(issueId, { unresolvedOnly: true }).pipe(Effect.orElseSucceed((): ReadonlyArray<unknown> => []))

      const state = Effect.gen(function* () {
        const all = yield* views(yield* latestRecords)
        const latest = latestPerKey(all)
        const retries = yield* retryViews
        const attention = latest.filter((v) => attentionOf(v) !== undefined).length + (yield* daemon.deadLetters).length
        const running = all.filter((v) => UNFINISHED.has(v.state))
        const sum = (f: (v: RunView) => number) => all.reduce((n, v) => n + f(v), 0)
        const nowMs = yield* Effect.clockWith((c) => c.currentTimeMillis)
        return {
          generated_at: yield* nowIso,
          counts: {
            running: running.length,
            retrying: retries.length,
            blocked: latest.filter((v) => v.state === "blocked").length,
            attention
          },
          running,
          retrying: retries,
          blocked: latest.filter((v) => v.state === "blocked"),
          recent: all.slice(0, 50),
          codex_totals: {
            input_tokens: sum((v) => v.tokens?.input_tokens ?? 0),
            output_tokens: sum((v) => v.tokens?.output_tokens ?? 0),
            total_tokens: sum((v) => v.tokens?.total_tokens ?? 0),
            cost_usd: sum((v) => v.cost_usd ?? 0),
            seconds_running:
              Math.round(running.reduce((n, v) => n + Math.max(0, nowMs - Date.parse(v.started_at)), 0) / 100) / 10
          },
          rate_limits: null
        } satisfies StateView
      })

      const issue = Effect.fn("Dashboard.issue")(function* (issueId: string) {
        const runs = yield* views(yield* store.list({ issueId, limit: 100 }))
        if (runs.length === 0) return undefined
        return {
          issue_id: issueId,
          issue_identifier: issueId,
          state: runs[0]!.state,
          runs,
          findings: yield* findings(issueId)
        } satisfies IssueView
      })

      const run = Effect.fn("Dashboard.run")(function* (runId: string) {
        const r = yield* store.get(runId)
        if (r === undefined) return undefined
        const events = yield* store.events(runId)
        const dir = artifactsDir(r)
        const reportText = yield* readText(path.join(dir, "report.json"))
        const report = reportText === null ? null : Option.getOrNull(parseJson(reportText))
        return {
          run: yield* view(r),
          timeline: timelineOf(events),
          verification: events.filter((e) => e.kind === "step").map((e) => e.data),
          findings: yield* findings(r.issueId),
          explain: yield* readText(path.join(dir, "explain.md")),
          ...(yield* Effect.map(readText(path.join(dir, "diff.patch")), (d) => ({
            diff: d === null ? null : d.slice(0, DIFF_CAP),
            diff_truncated: d !== null && d.length > DIFF_CAP
          }))),
          report,
          events: events.slice(-500)
        } satisfies RunDetailView
      })

      // Mission status reads the mission files, the plan and the stores (as `spec-orch mission status`).
      const missionContext = yield* Effect.context<Missions | Plans | RunStore | MissionStore | ProcessToken>()
      const statusOf = (missionId: string) => missionStatus(missionId).pipe(Effect.provide(missionContext))
      const detail = (s: MissionStatusView) =>
        Effect.gen(function* () {
          const waves = yield* Effect.forEach(s.waves, (w) =>
            Effect.map(
              Effect.forEach(w.packets, (p) =>
                Effect.map(p.run === undefined ? Effect.succeed(null) : view(p.run), (run) => ({
                  packet_id: p.packetId,
                  run_key: p.runKey,
                  title: p.title,
                  depends_on: p.dependsOn,
                  state: p.state,
                  reason: p.reason ?? null,
                  next: p.next,
                  run,
                  integration:
                    p.integration === undefined
                      ? null
                      : { outcome: p.integration.outcome, message: p.integration.message }
                }))
              ),
              (packets) => ({ index: w.index, description: w.description, packets })
            )
          )
          return {
            mission_id: s.missionId,
            title: s.title,
            status: s.status,
            spec_state: s.specState,
            branch: s.branch,
            mission_run:
              s.missionRun === undefined
                ? null
                : {
                    outcome:
                      s.missionRun.outcome === "running" && !s.missionRunAlive ? "interrupted" : s.missionRun.outcome,
                    started_at: s.missionRun.startedAt,
                    finished_at: s.missionRun.finishedAt ?? null,
                    message: s.missionRun.message ?? null
                  },
            counts: s.counts,
            waves,
            problems: s.problems
          } satisfies MissionDetailView
        })
      const mission = Effect.fn("Dashboard.mission")(function* (missionId: string) {
        return yield* detail(yield* statusOf(missionId))
      })
      const missions = Effect.gen(function* () {
        const { missions: all } = yield* Missions.use((m) => m.list).pipe(Effect.provide(missionContext))
        return yield* Effect.forEach(all, (m) =>
          statusOf(m.mission.id).pipe(
            Effect.map(
              (s): MissionSummaryView => ({
                mission_id: m.mission.id,
                title: m.mission.title,
                status: m.mission.status,
                spec_state: m.specState,
                counts: s.counts,
                packets: s.waves.reduce((n, w) => n + w.packets.length, 0),
                problem: null
              })
            ),
            Effect.catch((e: MissionsError | InvalidFile | FileMissing) =>
              Effect.succeed<MissionSummaryView>({
                mission_id: m.mission.id,
                title: m.mission.title,
                status: m.mission.status,
                spec_state: m.specState,
                counts: null,
                packets: null,
                problem: e.message
              })
            )
          )
        )
      })

      const retryViews = Effect.map(daemon.issues(["retry"]), (rows) =>
        rows.map(
          (d): RetryView => ({
            issue_id: d.issueId,
            issue_identifier: d.issueId,
            attempt: d.retryCount,
            due_at: d.retryAt === null ? null : new Date(d.retryAt).toISOString(),
            error: d.lastError
          })
        )
      )

      const daemonView = Effect.gen(function* () {
        const { file, heartbeat, kept } = yield* readHeartbeat().pipe(
          Effect.provideService(Project, project),
          Effect.provideService(FileSystem.FileSystem, fs),
          Effect.provideService(Path.Path, path),
          Effect.provideService(DaemonStore, daemon)
        )
        const nowMs = yield* Effect.clockWith((c) => c.currentTimeMillis)
        const health = judgeHealth(
          file,
          heartbeat,
          nowMs,
          me.host,
          (pid) => ownerAlive(`${me.host}:${pid}`, me.host),
          kept
        )
        return {
          health: {
            healthy: health.healthy,
            state: health.state,
            message: health.message,
            age_seconds: health.ageSeconds
          },
          heartbeat: heartbeat ?? null,
          last_poll: (yield* daemon.getMeta("last_poll")) ?? null,
          claims: yield* Effect.gen(function* () {
            const claims = yield* daemon.claims
            const hosts = yield* runHostsOf(claims.flatMap((c) => (c.runId !== null ? [c.runId] : []))).pipe(
              Effect.provideService(SqlClient.SqlClient, sql)
            )
            return claims.map((c) => ({
              issue_id: c.issueId,
              owner: c.owner,
              run_id: c.runId,
              runner: hosts.find((h) => h.runId === c.runId)?.runner ?? null,
              lease_until: new Date(c.expiresAt).toISOString()
            }))
          }),
          retrying: yield* retryViews,
          dead_letters: (yield* daemon.deadLetters).map((d) => ({
            issue_id: d.issueId,
            reason: d.reason,
            attempts: d.attempts,
            last_run_id: d.lastRunId,
            dead_at: d.deadAt
          })),
          refused: (yield* daemon.refusals).map((r) => ({
            issue_id: r.issueId,
            who: r.who,
            reason: r.reason,
            last_at: r.lastAt
          }))
        } satisfies DaemonView
      })

      const stats = Effect.gen(function* () {
        const finished = (yield* latestRecords).filter((r) => FINISHED_STATES.has(r.status))
        const stageTimes = new Map<string, Array<number>>()
        for (const r of finished.slice(0, 30)) {
          for (const t of timelineOf(yield* store.events(r.runId))) {
            if (t.ms !== null) stageTimes.set(t.stage, [...(stageTimes.get(t.stage) ?? []), t.ms])
          }
        }
        const byDay = statsGroups(finished, (r) => r.startedAt.slice(0, 10))
        return {
          runs: finished.length,
          by_day: [...byDay].sort((a, b) => a.key.localeCompare(b.key)),
          by_adapter: [...statsGroups(finished, (r) => r.adapter ?? "unknown")].sort((a, b) => b.runs - a.runs),
          by_profile: [...statsGroups(finished, (r) => r.verdict?.profile ?? "default")].sort(
            (a, b) => b.runs - a.runs
          ),
          stages: [...stageTimes.entries()].map(([stage, ms]) => ({
            stage,
            runs: ms.length,
            median_ms: quantile(ms, 0.5),
            p95_ms: quantile(ms, 0.95)
          }))
        } satisfies StatsView
      })

      // A finished run's stage times never change: read each run's events once.
      const stageTimes = new Map<string, ReadonlyArray<readonly [string, number]>>()
      const metrics = Effect.fn("Dashboard.metrics")(function* (options: {
        readonly by: "adapter" | "profile"
        readonly bucket: "day" | "week"
      }) {
        const finished = (yield* latestRecords).filter((r) => FINISHED_STATES.has(r.status))
        for (const r of finished) {
          if (stageTimes.has(r.runId)) continue
          const events = yield* store.events(r.runId)
          stageTimes.set(
            r.runId,
            timelineOf(events).flatMap((t) => (t.ms === null ? [] : [[t.stage, t.ms] as const]))
          )
        }
        return metricsSeries(finished, { ...options, stageMs: (r) => stageTimes.get(r.runId) ?? [] })
      })

      // Evolution reads memory's and proposals' tables without their plane (control may not import it):
      // a table that is not there, or not yet in the shape read here, is an empty state, never an error.
      const tablesLike = (pattern: string) =>
        sql
          .onDialectOrElse({
            pg: () =>
              sql<{
                name: string
              }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE ${pattern}`,
            orElse: () =>
              sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ${pattern}`
          })
          .pipe(
            Effect.map((rows) => rows.map((r) => r.name)),
            Effect.orElseSucceed((): ReadonlyArray<string> => [])
          )
      const redactDeep = (value: unknown): unknown =>
        typeof value === "string"
          ? redactor.redact(value)
          : Array.isArray(value)
            ? value.map(redactDeep)
            : value !== null && typeof value === "object"
              ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)]))
              : value
      const evolution = Effect.gen(function* () {
        const hasMemory = (yield* tablesLike("so_memory")).includes("so_memory")
        const layers = hasMemory
          ? yield* sql<{
              layer: string
              live: number
              closed: number
              latest: string | null
            }>`SELECT layer, SUM(CASE WHEN valid_to IS NULL AND superseded_by IS NULL THEN 1 ELSE 0 END) AS live, SUM(CASE WHEN valid_to IS NULL AND superseded_by IS NULL THEN 0 ELSE 1 END) AS closed, MAX(recorded_at) AS latest FROM so_memory GROUP BY layer`.pipe(
              Effect.orElseSucceed(() => [])
            )
          : []
        const live = layers.reduce((n, l) => n + Number(l.live), 0)
        const closed = layers.reduce((n, l) => n + Number(l.closed), 0)
        const runs: Array<EvolutionView["runs"][number]> = []
        for (const r of yield* latestRecords) {
          if (runs.length >= 20) break
          const text = yield* readText(path.join(artifactsDir(r), "context.json"))
          const ids =
            text === null
              ? []
              : Option.match(parseJson(text), {
                  onNone: () => [],
                  onSome: (c) =>
                    Array.isArray((c as { learnings?: unknown }).learnings)
                      ? (c as { learnings: Array<unknown> }).learnings.filter((x): x is string => typeof x === "string")
                      : []
                })
          if (ids.length === 0) continue
          const rows = hasMemory
            ? yield* sql<{
                id: string
                key: string
                layer: string
                content: string
              }>`SELECT id, key, layer, content FROM so_memory WHERE ${sql.in("id", ids)}`.pipe(
                Effect.orElseSucceed(() => [])
              )
            : []
          runs.push({
            run_id: r.runId,
            issue_id: r.issueId,
            started_at: r.startedAt,
            learnings: ids.map((id) => {
              const row = rows.find((x) => x.id === id)
              return {
                id,
                key: row?.key ?? null,
                layer: row?.layer ?? null,
                content: row === undefined ? null : redactor.redact(row.content.slice(0, 500))
              }
            })
          })
        }
        const proposalTables = (yield* tablesLike("%proposal%")).filter((n) => /^(so_)?proposals$/.test(n))
        const table = proposalTables[0]
        const proposals =
          table === undefined
            ? null
            : yield* sql<Record<string, unknown>>`SELECT * FROM ${sql(table)} LIMIT 200`.pipe(
                Effect.map((rows) => rows.map((row) => redactDeep(row) as Record<string, unknown>)),
                Effect.orElseSucceed(() => null)
              )
        return {
          memory: {
            status: hasMemory && live + closed > 0 ? "active" : "absent",
            live,
            closed,
            by_layer: Object.fromEntries(layers.map((l) => [l.layer, Number(l.live)])),
            latest_recorded_at: layers.reduce<string | null>(
              (m, l) => (l.latest !== null && (m === null || l.latest > m) ? l.latest : m),
              null
            )
          },
          runs,
          proposals,
          proposals_note:
            table === undefined
              ? "no proposals yet: this project's state database has no proposals table"
              : proposals === null
                ? `the ${table} table could not be read`
                : null
        } satisfies EvolutionView
      })

      const attention = Effect.gen(function* () {
        const latest = latestPerKey(yield* views(yield* latestRecords))
        const dead = (yield* daemon.deadLetters).map(
          (d): AttentionItem => ({
            kind: "dead_letter",
            issue_id: d.issueId,
            run_id: d.lastRunId,
            since: d.deadAt,
            message: `the daemon gave up on ${d.issueId} after ${d.attempts} attempt(s): ${d.reason}`,
            to_unblock: [`spec-orch daemon dlq-retry ${d.issueId}`]
          })
        )
        const items: Array<AttentionItem> = []
        for (const v of latest) {
          const item = attentionOf(v)
          if (item === undefined) continue
          if (item.kind !== "question") {
            items.push(item)
            continue
          }
          // A waiting run: name the questions and how to answer each.
          const open = Option.fromNullishOr(
            yield* specs.get(v.issue_id).pipe(Effect.orElseSucceed(() => undefined))
          ).pipe(
            Option.map(unresolvedBlocking),
            Option.getOrElse(() => [])
          )
          if (open.length === 0 && /question/.test(v.message ?? "")) {
            items.push({
              ...item,
              message: `${v.issue_id}: its questions are answered; run it again to continue`,
              to_unblock: [`spec-orch run ${v.issue_id}`]
            })
            continue
          }
          items.push(
            open.length === 0
              ? item
              : {
                  ...item,
                  message: `${v.issue_id} waits for ${open.length} answer(s): ${open.map((q) => `${q.id} "${q.text}"`).join("; ")}`,
                  to_unblock: open.map((q) => `spec-orch questions answer ${v.issue_id} ${q.id} --answer \u2026`),
                  questions: open.map((q) => ({ id: q.id, text: q.text }))
                }
          )
        }
        items.push(...dead)
        return items.sort((a, b) => a.since.localeCompare(b.since))
      })

      const changes = (options?: { readonly pollMillis?: number | undefined }) =>
        Stream.unwrap(
          Effect.sync(() => {
            const seen = new Map<string, string>()
            const cursors = new Map<string, number>()
            let first = true
            const poll = Effect.gen(function* () {
              const out: Array<DashboardEvent> = []
              const vs = yield* views(yield* latestRecords)
              // The first look sends the 50 newest runs and every moving one; later looks, what changed.
              for (const [i, v] of [...vs.entries()].reverse()) {
                const f = fingerprint(v)
                if (seen.get(v.run_id) !== f) {
                  seen.set(v.run_id, f)
                  if (!first || i < 50 || UNFINISHED.has(v.state)) out.push({ event: "run", data: v })
                }
              }
              // The logs of runs that are moving: new events since the last poll. A run already moving when
              // the stream starts shows where it is (the start of its current stage and at most its 50
              // latest events since), then streams on; a run seen later streams from its first event.
              for (const v of vs) {
                if (!UNFINISHED.has(v.state) && !cursors.has(v.run_id)) continue
                if (first && !cursors.has(v.run_id)) {
                  const all = yield* store.events(v.run_id)
                  let stageStart = all.length
                  for (let i = all.length - 1; i >= 0; i--) {
                    if (all[i]!.kind === "stage" && (all[i]!.data as { state?: string }).state === "started") {
                      stageStart = i
                      break
                    }
                  }
                  const current = all.slice(stageStart)
                  for (const e of current.length > 51 ? [current[0]!, ...current.slice(-50)] : current)
                    out.push({ event: "log", data: e })
                  cursors.set(v.run_id, all.at(-1)?.seq ?? 0)
                  continue
                }
                const after = cursors.get(v.run_id) ?? 0
                const batch = yield* store.events(v.run_id, after)
                if (batch.length > 0) cursors.set(v.run_id, batch[batch.length - 1]!.seq)
                if (!UNFINISHED.has(v.state)) cursors.delete(v.run_id)
                for (const e of batch) out.push({ event: "log", data: e })
              }
              first = false
              return out
            })
            return Stream.fromEffect(poll).pipe(
              Stream.repeat(Schedule.spaced(options?.pollMillis ?? 250)),
              Stream.flattenIterable
            )
          })
        )

      return Dashboard.of({
        state: Effect.withSpan(state, "Dashboard.state"),
        issue,
        run,
        missions: Effect.withSpan(missions, "Dashboard.missions"),
        mission,
        daemon: Effect.withSpan(daemonView, "Dashboard.daemon"),
        stats: Effect.withSpan(stats, "Dashboard.stats"),
        metrics,
        evolution: Effect.withSpan(evolution, "Dashboard.evolution"),
        attention: Effect.withSpan(attention, "Dashboard.attention"),
        changes
      })
    })
  )
}
