/**
 * Read models over the run history and memory (pure, no model): the project's profile (its stack, the
 * verification commands it runs, the files runs change most, how each adapter does, with Wilson
 * intervals), its failure patterns (gate conditions and verification steps that fail again and again,
 * with the runs and issues that showed them), its success recipes (how issues that passed got there)
 * and its trends (pass rate per day or week). `spec-orch memory profile` shows them.
 */
import { Effect } from "effect"
import { type OutcomeCounts, outcomeOf, type RunFacts, RunHistory, summarize } from "./Analytics.js"
import { type Rate, wilson } from "./internal/stats.js"
import { Memory, type MemoryEntry } from "./Memory.js"

/** What the project is and does, from its runs. */
export interface ProjectProfile {
  readonly runs: number
  /** Languages and tools, by how many changed files show them. */
  readonly stack: ReadonlyArray<{ readonly name: string; readonly files: number }>
  /** Each verification step the runs ran, its command, and how often it passed. */
  readonly verification: ReadonlyArray<{ readonly step: string; readonly command: string; readonly passRate: Rate }>
  /** The files runs changed most, with how many of those runs were not mergeable. */
  readonly hotFiles: ReadonlyArray<{ readonly file: string; readonly runs: number; readonly notMergeable: number }>
  readonly adapters: ReadonlyArray<{
    readonly adapter: string
    readonly outcomes: OutcomeCounts
    readonly passRate: Rate
  }>
}

/** A gate condition or verification step that failed, in how many runs of how many issues. */
export interface FailurePattern {
  readonly kind: "condition" | "step"
  readonly name: string
  readonly runs: number
  readonly issues: ReadonlyArray<string>
  /** Seen in more than one run. */
  readonly recurring: boolean
  /** Memory's latest word on it (why it failed, the command's key lines), when memory has one. */
  readonly latest: string | null
  /** The memory entry that said it, when there is one. */
  readonly memoryId: string | null
}

/** How an issue that passed got there. */
export interface SuccessRecipe {
  readonly issueId: string
  readonly runId: string
  readonly adapter: string
  /** Runs of the issue up to and including the one that passed. */
  readonly attempts: number
  /** What failed in earlier runs of the issue and passed in this one. */
  readonly overcame: ReadonlyArray<string>
  readonly changedFiles: ReadonlyArray<string>
  readonly accepted: boolean
}

/** The pass rate of the runs that started in one period. */
export interface TrendPoint {
  readonly period: string
  readonly runs: number
  readonly passRate: Rate
}

export interface ReadModels {
  readonly profile: ProjectProfile
  readonly failurePatterns: ReadonlyArray<FailurePattern>
  readonly successRecipes: ReadonlyArray<SuccessRecipe>
  readonly trends: { readonly bucket: "day" | "week"; readonly points: ReadonlyArray<TrendPoint> }
}

const STACK: ReadonlyArray<readonly [RegExp, string]> = [
  [/\.(ts|tsx|mts|cts)$/, "TypeScript"],
  [/\.(js|jsx|mjs|cjs)$/, "JavaScript"],
  [/(^|\/)package\.json$/, "npm"],
  [/\.py$|(^|\/)(pyproject\.toml|requirements\.txt)$/, "Python"],
  [/\.rs$|(^|\/)Cargo\.toml$/, "Rust"],
  [/\.go$|(^|\/)go\.mod$/, "Go"],
  [/\.(java|kt)$|(^|\/)(pom\.xml|build\.gradle(\.kts)?)$/, "JVM"],
  [/\.rb$|(^|\/)Gemfile$/, "Ruby"],
  [/\.(c|h|cc|cpp|hpp)$/, "C/C++"],
  [/\.cs$/, "C#"],
  [/\.(sh|bash)$/, "shell"],
  [/\.(md|mdx|rst|txt)$/, "docs"],
  [/\.(json|ya?ml|toml)$/, "config"],
  [/\.(css|scss|html|vue|svelte)$/, "web"],
  [/\.sql$/, "SQL"]
]

const stackOf = (file: string) => STACK.filter(([re]) => re.test(file)).map(([, name]) => name)

const byCount =
  <A extends { readonly name: string }>(count: (a: A) => number) =>
  (a: A, b: A) =>
    count(b) - count(a) || a.name.localeCompare(b.name)

const finished = (r: RunFacts) => {
  const o = outcomeOf(r.status)
  return o === "mergeable" || o === "blocked" || o === "failed"
}

const failedSteps = (r: RunFacts) =>
  (r.steps ?? []).filter((s) => s.outcome !== "passed" && s.outcome !== "skipped").map((s) => s.name)

/** The profile of the project from its runs (oldest first). */
export const projectProfile = (runs: ReadonlyArray<RunFacts>, top = 10): ProjectProfile => {
  const files = new Map<string, { runs: number; notMergeable: number }>()
  for (const r of runs) {
    for (const f of new Set(r.changedFiles ?? [])) {
      const c = files.get(f) ?? { runs: 0, notMergeable: 0 }
      c.runs++
      if (outcomeOf(r.status) !== "mergeable") c.notMergeable++
      files.set(f, c)
    }
  }
  const stack = new Map<string, number>()
  for (const f of files.keys()) for (const s of stackOf(f)) stack.set(s, (stack.get(s) ?? 0) + 1)
  const steps = new Map<string, { command: string; passed: number; ran: number }>()
  for (const r of runs) {
    for (const s of r.steps ?? []) {
      if (s.outcome === "skipped") continue
      const c = steps.get(s.name) ?? { command: s.command, passed: 0, ran: 0 }
      // The latest command the step ran.
      c.command = s.command
      c.ran++
      if (s.outcome === "passed") c.passed++
      steps.set(s.name, c)
    }
  }
  return {
    runs: runs.length,
    stack: [...stack].map(([name, n]) => ({ name, files: n })).sort(byCount((s) => s.files)),
    verification: [...steps]
      .map(([step, c]) => ({ step, command: c.command, passRate: wilson(c.passed, c.ran) }))
      .sort((a, b) => b.passRate.n - a.passRate.n || a.step.localeCompare(b.step)),
    hotFiles: [...files]
      .map(([file, c]) => ({ file, ...c }))
      .sort((a, b) => b.runs - a.runs || b.notMergeable - a.notMergeable || a.file.localeCompare(b.file))
      .slice(0, top),
    adapters: summarize(runs).byAdapter
  }
}

/**
 * The conditions and steps that failed, most runs first, with memory's latest entry about each (its
 * `failed-condition` or `verification-failed` entry, open or closed) for the why.
 */
export const failurePatterns = (
  runs: ReadonlyArray<RunFacts>,
  entries: ReadonlyArray<MemoryEntry> = []
): ReadonlyArray<FailurePattern> => {
  const seen = new Map<string, { kind: "condition" | "step"; name: string; runs: Set<string>; issues: Set<string> }>()
  const add = (kind: "condition" | "step", name: string, r: RunFacts) => {
    const key = `${kind}:${name}`
    const p = seen.get(key) ?? { kind, name, runs: new Set(), issues: new Set() }
    p.runs.add(r.runId)
    p.issues.add(r.issueId)
    seen.set(key, p)
  }
  for (const r of runs) {
    if (!finished(r)) continue
    for (const c of new Set(r.blockedBy)) add("condition", c, r)
    for (const s of new Set(failedSteps(r))) add("step", s, r)
  }
  const latest = new Map<string, MemoryEntry>()
  for (const e of entries) {
    const m = /^issue:.+:(condition|step):(.+)$/.exec(e.key)
    if (m === null || (e.kind !== "failed-condition" && e.kind !== "verification-failed")) continue
    const key = `${m[1]}:${m[2]}`
    const had = latest.get(key)
    if (
      had === undefined ||
      had.validFrom < e.validFrom ||
      (had.validFrom === e.validFrom && had.recordedAt < e.recordedAt)
    )
      latest.set(key, e)
  }
  return [...seen]
    .map(
      ([key, p]): FailurePattern => ({
        kind: p.kind,
        name: p.name,
        runs: p.runs.size,
        issues: [...p.issues].sort(),
        recurring: p.runs.size > 1,
        latest: latest.get(key)?.content ?? null,
        memoryId: latest.get(key)?.id ?? null
      })
    )
    .sort((a, b) => b.runs - a.runs || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name))
}

/** For each issue with a mergeable run: its first such run, how many tries it took and what it overcame. */
export const successRecipes = (runs: ReadonlyArray<RunFacts>): ReadonlyArray<SuccessRecipe> => {
  const byIssue = new Map<string, Array<RunFacts>>()
  for (const r of runs) byIssue.set(r.issueId, [...(byIssue.get(r.issueId) ?? []), r])
  const recipes: Array<SuccessRecipe> = []
  for (const [issueId, rs] of byIssue) {
    const at = rs.findIndex((r) => outcomeOf(r.status) === "mergeable")
    if (at < 0) continue
    const won = rs[at]!
    const before = rs.slice(0, at)
    const failedBefore = [
      ...new Set(
        before.flatMap((r) => [...r.blockedBy.map((c) => `condition ${c}`), ...failedSteps(r).map((s) => `step ${s}`)])
      )
    ]
    const stillFailing = new Set([
      ...won.blockedBy.map((c) => `condition ${c}`),
      ...failedSteps(won).map((s) => `step ${s}`)
    ])
    recipes.push({
      issueId,
      runId: won.runId,
      adapter: won.adapter ?? "unknown",
      attempts: at + 1,
      overcame: failedBefore.filter((f) => !stillFailing.has(f)),
      changedFiles: won.changedFiles ?? [],
      accepted: won.accepted
    })
  }
  return recipes.sort((a, b) => b.attempts - a.attempts || a.issueId.localeCompare(b.issueId))
}

const DAY = 86_400_000

/** Pass rate per UTC day, or per week (starting Monday) when the runs span more than two weeks. */
export const trends = (runs: ReadonlyArray<RunFacts>): ReadModels["trends"] => {
  const times = runs.map((r) => Date.parse(r.startedAt)).filter((t) => !Number.isNaN(t))
  const bucket = times.length > 0 && Math.max(...times) - Math.min(...times) > 14 * DAY ? "week" : "day"
  const periodOf = (t: number) => {
    const d = new Date(t)
    if (bucket === "day") return d.toISOString().slice(0, 10)
    const monday = new Date(
      Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - ((d.getUTCDay() + 6) % 7) * DAY
    )
    return `week of ${monday.toISOString().slice(0, 10)}`
  }
  const periods = new Map<string, Array<RunFacts>>()
  for (const r of runs) {
    const t = Date.parse(r.startedAt)
    if (Number.isNaN(t)) continue
    const p = periodOf(t)
    periods.set(p, [...(periods.get(p) ?? []), r])
  }
  return {
    bucket,
    points: [...periods]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([period, rs]) => ({ period, runs: rs.length, passRate: summarize(rs).passRate }))
  }
}

/** Every read model over runs (oldest first) and memory entries (open and closed). */
export const readModelsOf = (runs: ReadonlyArray<RunFacts>, entries: ReadonlyArray<MemoryEntry>): ReadModels => ({
  profile: projectProfile(runs),
  failurePatterns: failurePatterns(runs, entries),
  successRecipes: successRecipes(runs),
  trends: trends(runs)
})

/** The read models over the run history and what memory holds about failures. */
export const readModels = Effect.gen(function* () {
  const runs = yield* (yield* RunHistory).runs
  const entries = yield* (yield* Memory).recall({
    kinds: ["failed-condition", "verification-failed"],
    includeClosed: true,
    limit: 1000
  })
  return readModelsOf(
    runs,
    entries.map((h) => h.entry)
  )
}).pipe(Effect.withSpan("ReadModels.read"))
