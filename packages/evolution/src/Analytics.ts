/**
 * Analytics over finished runs: counts by outcome, pass rates with their Wilson 95% intervals and n,
 * what blocked, time per stage and cost; comparisons of two sets of runs with a significance test
 * instead of a winner picked on raw rates. The runs come from a `RunHistory`, which the app implements
 * over its run store (evolution does not import control).
 */
import type { RunStatus } from "@spec-orch/contract"
import { Context, Effect, Layer, Schema } from "effect"
import {
  chooseTest,
  fisherExact,
  mean,
  median,
  type ProportionTest,
  type Rate,
  twoProportionZ,
  wilson
} from "./internal/stats.js"

export { fisherExact, type ProportionTest, type Rate, twoProportionZ, wilson } from "./internal/stats.js"

/** What analytics needs to know about one run. */
export interface RunFacts {
  readonly runId: string
  readonly issueId: string
  readonly status: RunStatus
  readonly adapter?: string | undefined
  /** The gate profile its verdict was judged under. */
  readonly profile?: string | null | undefined
  readonly startedAt: string
  readonly finishedAt?: string | undefined
  /** Required gate conditions that failed or could not be judged, when the gate judged it. */
  readonly blockedBy: ReadonlyArray<string>
  /** Whether a person accepted the run's diff (`accept-issue`). */
  readonly accepted: boolean
  /** Milliseconds each finished stage took. */
  readonly stageMs: Readonly<Record<string, number>>
  readonly costUsd?: number | undefined
  /** The files its diff changed (from its evidence), when known. */
  readonly changedFiles?: ReadonlyArray<string> | undefined
  /** Its verification steps: name, command and outcome (passed, failed, timed_out, skipped, …), when known. */
  readonly steps?:
    | ReadonlyArray<{ readonly name: string; readonly command: string; readonly outcome: string }>
    | undefined
}

/** Reading the run store failed. */
export class RunHistoryError extends Schema.TaggedError<RunHistoryError>()("RunHistoryError", {
  reason: Schema.String
}) {
  override get message(): string {
    return `analytics: could not read the runs: ${this.reason}`
  }
}

/** The runs analytics reads, oldest first. Implemented by the app over the run store and evidence ledger. */
export class RunHistory extends Context.Service<
  RunHistory,
  {
    readonly runs: Effect.Effect<ReadonlyArray<RunFacts>, RunHistoryError>
  }
>()("@spec-orch/evolution/RunHistory") {
  /** A fixed list of runs (tests, or a caller that already read them). */
  static readonly layerOf = (runs: ReadonlyArray<RunFacts>): Layer.Layer<RunHistory> =>
    Layer.succeed(RunHistory, { runs: Effect.succeed(runs) })
}

/** How a run ended, for counting. */
export type Outcome = "mergeable" | "blocked" | "failed" | "cancelled" | "unfinished"

/** mergeable = the gate passed it (after acceptance too); blocked = finished, gate says no; failed = a stage failed. */
export const outcomeOf = (status: RunStatus): Outcome =>
  status === "succeeded"
    ? "mergeable"
    : status === "blocked"
      ? "blocked"
      : status === "failed"
        ? "failed"
        : status === "cancelled"
          ? "cancelled"
          : "unfinished"

/** What the pass rate counts; shown with every rate. */
export const PASS_RATE_RULE =
  "pass rate = mergeable / (mergeable + blocked + failed); cancelled and unfinished runs are not counted"

export const TEST_RULE =
  "Fisher's exact test (two-sided) when any expected cell of the 2x2 table is below 5, otherwise the pooled two-proportion z-test (two-sided); significant at p < 0.05"

export interface OutcomeCounts {
  readonly mergeable: number
  readonly blocked: number
  readonly failed: number
  readonly cancelled: number
  readonly unfinished: number
  /** Runs whose diff a person accepted (any outcome; after acceptance a run is usually mergeable). */
  readonly accepted: number
}

export interface StageTime {
  readonly stage: string
  readonly n: number
  readonly meanMs: number
  readonly medianMs: number
}

export interface Summary {
  readonly selector: string
  readonly runs: number
  readonly outcomes: OutcomeCounts
  readonly passRate: Rate
  readonly rule: string
  readonly byAdapter: ReadonlyArray<{
    readonly adapter: string
    readonly outcomes: OutcomeCounts
    readonly passRate: Rate
  }>
  /** For each required condition: how many blocked runs it blocked (a run may be blocked by several). */
  readonly blockedBy: ReadonlyArray<{ readonly condition: string; readonly runs: number }>
  readonly stages: ReadonlyArray<StageTime>
  readonly cost: { readonly runsWithCost: number; readonly totalUsd: number; readonly meanUsd: number | null }
}

const count = (runs: ReadonlyArray<RunFacts>): OutcomeCounts => {
  const c = { mergeable: 0, blocked: 0, failed: 0, cancelled: 0, unfinished: 0, accepted: 0 }
  for (const r of runs) {
    c[outcomeOf(r.status)]++
    if (r.accepted) c.accepted++
  }
  return c
}

const passRateOf = (c: OutcomeCounts): Rate => wilson(c.mergeable, c.mergeable + c.blocked + c.failed)

/** The order stages run in; stages not listed (none today) go last, by name. */
const STAGE_ORDER = [
  "load",
  "spec",
  "workspace",
  "context",
  "agent",
  "commit",
  "verify",
  "preview",
  "review",
  "gate",
  "record",
  "publish"
]
const stageRank = (s: string) => {
  const i = STAGE_ORDER.indexOf(s)
  return i === -1 ? STAGE_ORDER.length : i
}

/** Counts, rates, blockers, stage times and cost of `runs`. */
export const summarize = (runs: ReadonlyArray<RunFacts>, selector = "all"): Summary => {
  const outcomes = count(runs)
  const adapters = [...new Set(runs.map((r) => r.adapter ?? "unknown"))].sort()
  const blocked = new Map<string, number>()
  for (const r of runs) {
    if (outcomeOf(r.status) !== "blocked") continue
    for (const c of new Set(r.blockedBy)) blocked.set(c, (blocked.get(c) ?? 0) + 1)
  }
  const times = new Map<string, Array<number>>()
  for (const r of runs)
    for (const [stage, ms] of Object.entries(r.stageMs)) times.set(stage, [...(times.get(stage) ?? []), ms])
  const costs = runs.flatMap((r) => (r.costUsd !== undefined ? [r.costUsd] : []))
  return {
    selector,
    runs: runs.length,
    outcomes,
    passRate: passRateOf(outcomes),
    rule: PASS_RATE_RULE,
    byAdapter: adapters.map((adapter) => {
      const o = count(runs.filter((r) => (r.adapter ?? "unknown") === adapter))
      return { adapter, outcomes: o, passRate: passRateOf(o) }
    }),
    blockedBy: [...blocked]
      .map(([condition, n]) => ({ condition, runs: n }))
      .sort((a, b) => b.runs - a.runs || a.condition.localeCompare(b.condition)),
    stages: [...times]
      .sort(([a], [b]) => stageRank(a) - stageRank(b) || a.localeCompare(b))
      .map(([stage, ms]) => ({ stage, n: ms.length, meanMs: mean(ms)!, medianMs: median(ms)! })),
    cost: { runsWithCost: costs.length, totalUsd: costs.reduce((s, x) => s + x, 0), meanUsd: mean(costs) }
  }
}

/** Two sets of runs compared. */
export interface Comparison {
  readonly a: { readonly selector: string; readonly passRate: Rate }
  readonly b: { readonly selector: string; readonly passRate: Rate }
  /** a's pass rate minus b's, or null when either has no finished runs. */
  readonly difference: number | null
  readonly test: ProportionTest | null
  readonly pValue: number | null
  readonly significant: boolean
  readonly rule: string
  /** Finished runs both sets select: the tests assume two independent sets, so a verdict with overlap says so. */
  readonly overlap: number
  /** One plain sentence. */
  readonly verdict: string
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`

/** Finished runs only, by start time, so windows count runs the pass rate counts. */
const finishedInOrder = (runs: ReadonlyArray<RunFacts>) =>
  runs
    .filter((r) => ["mergeable", "blocked", "failed"].includes(outcomeOf(r.status)))
    .sort((x, y) => x.startedAt.localeCompare(y.startedAt) || x.runId.localeCompare(y.runId))

/** Compares the pass rates of two sets of runs with the test `TEST_RULE` names. */
export const compareRates = (
  a: { readonly selector: string; readonly runs: ReadonlyArray<RunFacts> },
  b: { readonly selector: string; readonly runs: ReadonlyArray<RunFacts> }
): Comparison => {
  const ra = passRateOf(count(a.runs))
  const rb = passRateOf(count(b.runs))
  const inA = new Set(finishedInOrder(a.runs).map((r) => r.runId))
  const overlap = finishedInOrder(b.runs).filter((r) => inA.has(r.runId)).length
  const base = {
    a: { selector: a.selector, passRate: ra },
    b: { selector: b.selector, passRate: rb },
    rule: TEST_RULE,
    overlap
  }
  if (ra.n === 0 || rb.n === 0) {
    const empty = ra.n === 0 ? a.selector : b.selector
    return {
      ...base,
      difference: null,
      test: null,
      pValue: null,
      significant: false,
      verdict: `cannot compare: ${empty} selects no finished runs`
    }
  }
  const test = chooseTest(ra.k, ra.n, rb.k, rb.n)
  const pValue =
    test === "fisher-exact"
      ? fisherExact(ra.k, ra.n - ra.k, rb.k, rb.n - rb.k)
      : twoProportionZ(ra.k, ra.n, rb.k, rb.n).p
  const difference = ra.rate! - rb.rate!
  const significant = pValue < 0.05
  const p = pValue < 0.001 ? "p < 0.001" : `p = ${pValue.toFixed(3)}`
  const verdict = significant
    ? `${a.selector} passes ${difference > 0 ? "more" : "less"} often than ${b.selector}: ${pct(ra.rate!)} vs ${pct(rb.rate!)} (${p}, n = ${ra.n} vs ${rb.n})`
    : `no evidence of a difference at n = ${ra.n} vs ${rb.n} (${pct(ra.rate!)} vs ${pct(rb.rate!)}, ${p})`
  const caveat =
    overlap > 0
      ? `; the two sets share ${overlap} run(s), so the test, which assumes independent sets, is only indicative`
      : ""
  return { ...base, difference, test, pValue, significant, verdict: `${verdict}${caveat}` }
}

/** A selector was malformed. */
export class InvalidSelector extends Schema.TaggedError<InvalidSelector>()("InvalidSelector", {
  selector: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `selector ${JSON.stringify(this.selector)}: ${this.reason}. A selector is key=value pairs joined by commas (all must hold; a|b for either value), keys adapter, issue, profile, status, since, until (e.g. adapter=codex,since=2026-12-01), or all`
  }
}

const SELECTOR_KEYS = ["adapter", "issue", "profile", "status", "since", "until"] as const
type SelectorKey = (typeof SELECTOR_KEYS)[number]

/**
 * Parses `adapter=codex,since=2026-12-01` into a predicate over runs: every pair must hold, and a value
 * may list alternatives with `|` (`adapter=codex|claude_code`). `issue` takes ids or prefixes ending in
 * `*` (`SPC-*`); `since`/`until` take ISO dates or times and compare the run's start
 * (`until` a bare date includes that whole day); `status` takes an outcome (mergeable, blocked, …).
 */
export const parseSelector = (selector: string): ((r: RunFacts) => boolean) | InvalidSelector => {
  const text = selector.trim()
  if (text === "all" || text === "") return () => true
  const tests: Array<(r: RunFacts) => boolean> = []
  for (const part of text.split(",")) {
    const eq = part.indexOf("=")
    if (eq <= 0) return new InvalidSelector({ selector, reason: `${JSON.stringify(part)} is not key=value` })
    const key = part.slice(0, eq).trim() as SelectorKey
    const value = part.slice(eq + 1).trim()
    if (!SELECTOR_KEYS.includes(key))
      return new InvalidSelector({ selector, reason: `unknown key ${JSON.stringify(key)}` })
    if (value === "") return new InvalidSelector({ selector, reason: `${key} has no value` })
    const alternatives = value.split("|").map((v) => v.trim())
    if (alternatives.includes(""))
      return new InvalidSelector({ selector, reason: `${key} has an empty alternative in ${JSON.stringify(value)}` })
    switch (key) {
      case "adapter":
        tests.push((r) => alternatives.includes(r.adapter ?? "unknown"))
        break
      case "profile":
        tests.push((r) => alternatives.includes(r.profile ?? ""))
        break
      case "issue":
        tests.push((r) =>
          alternatives.some((v) => (v.endsWith("*") ? r.issueId.startsWith(v.slice(0, -1)) : r.issueId === v))
        )
        break
      case "status": {
        const outcomes: ReadonlyArray<string> = ["mergeable", "blocked", "failed", "cancelled", "unfinished"]
        const unknown = alternatives.find((v) => !outcomes.includes(v))
        if (unknown !== undefined)
          return new InvalidSelector({
            selector,
            reason: `status must be one of ${outcomes.join(", ")}, got ${JSON.stringify(unknown)}`
          })
        tests.push((r) => alternatives.includes(outcomeOf(r.status)))
        break
      }
      case "since":
      case "until": {
        const bareDate = /^\d{4}-\d{2}-\d{2}$/.test(value)
        const at = Date.parse(
          bareDate && key === "until" ? `${value}T23:59:59.999Z` : bareDate ? `${value}T00:00:00Z` : value
        )
        if (Number.isNaN(at))
          return new InvalidSelector({
            selector,
            reason: `${key} must be an ISO date or time such as 2026-12-01 or 2026-12-01T10:00:00Z, got ${JSON.stringify(value)}`
          })
        tests.push(key === "since" ? (r) => Date.parse(r.startedAt) >= at : (r) => Date.parse(r.startedAt) <= at)
        break
      }
    }
  }
  return (r) => tests.every((t) => t(r))
}

/** The recent runs against the ones before them. */
export interface Degradation extends Comparison {
  readonly recent: number
  readonly baseline: number
  readonly degraded: boolean
}

/** --recent or --baseline out of range. */
export class InvalidWindow extends Schema.TaggedError<InvalidWindow>()("InvalidWindow", {
  flag: Schema.String,
  value: Schema.Number
}) {
  override get message(): string {
    return `${this.flag} must be a positive whole number of runs, got ${this.value}`
  }
}

/** The `recent` most recent finished runs against the `baseline` finished runs before them. */
export const degradationOf = (runs: ReadonlyArray<RunFacts>, recent: number, baseline: number): Degradation => {
  const done = finishedInOrder(runs)
  const recentRuns = done.slice(Math.max(0, done.length - recent))
  const baselineRuns = done.slice(Math.max(0, done.length - recent - baseline), Math.max(0, done.length - recent))
  const c = compareRates(
    { selector: `recent ${recentRuns.length}`, runs: recentRuns },
    { selector: `baseline ${baselineRuns.length}`, runs: baselineRuns }
  )
  const degraded = c.significant && (c.difference ?? 0) < 0
  return {
    ...c,
    recent: recentRuns.length,
    baseline: baselineRuns.length,
    degraded,
    verdict:
      c.test === null
        ? c.verdict
        : degraded
          ? `degraded: ${c.verdict}`
          : c.significant
            ? `improved: ${c.verdict}`
            : c.verdict
  }
}

/** Analytics over the run history. */
export class Analytics extends Context.Service<
  Analytics,
  {
    readonly summary: (selector?: string) => Effect.Effect<Summary, RunHistoryError | InvalidSelector>
    readonly compare: (a: string, b: string) => Effect.Effect<Comparison, RunHistoryError | InvalidSelector>
    readonly degradation: (
      recent: number,
      baseline: number
    ) => Effect.Effect<Degradation, RunHistoryError | InvalidWindow>
  }
>()("@spec-orch/evolution/Analytics") {
  static readonly layer: Layer.Layer<Analytics, never, RunHistory> = Layer.effect(
    Analytics,
    Effect.gen(function* () {
      const history = yield* RunHistory
      const select = (selector: string) =>
        Effect.gen(function* () {
          const keep = parseSelector(selector)
          if (keep instanceof InvalidSelector) return yield* keep
          return (yield* history.runs).filter(keep)
        })
      return {
        summary: (selector = "all") => Effect.map(select(selector), (runs) => summarize(runs, selector)),
        compare: (a, b) =>
          Effect.gen(function* () {
            const [ra, rb] = [yield* select(a), yield* select(b)]
            return compareRates({ selector: a, runs: ra }, { selector: b, runs: rb })
          }),
        degradation: (recent, baseline) =>
          Effect.gen(function* () {
            if (!Number.isInteger(recent) || recent < 1)
              return yield* new InvalidWindow({ flag: "--recent", value: recent })
            if (!Number.isInteger(baseline) || baseline < 1)
              return yield* new InvalidWindow({ flag: "--baseline", value: baseline })
            return degradationOf(yield* history.runs, recent, baseline)
          })
      }
    })
  )
}
