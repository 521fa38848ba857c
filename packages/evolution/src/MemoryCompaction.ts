/**
 * Compaction: old episodic entries of one scope folded into one semantic summary entry.
 *
 * For each main scope (an entry's first entity: its issue, mission, …) with open episodic entries that
 * began before the cutoff, the summary counts what its history before the cutoff shows — runs and their
 * outcomes, the failed conditions and failing steps by how many runs showed them, findings — names the
 * last run's outcome, and carries every run, finding and review id as provenance. It is deterministic:
 * the same history gives the same summary, and compacting again with nothing new changes nothing.
 *
 * The folded entries are not deleted: their validity closes with `compacted into <summary id>`, so
 * `history`, `includeClosed` and `asOf` still see them. Failures that still hold (a failed condition or
 * step no run has passed since, an unresolved finding) stay open: the builder is still told about them;
 * they are counted in the summary all the same.
 */
import { Clock, Effect } from "effect"
import { SqlClient } from "effect/sql"
import { type EntityRef, Memory, MemoryError, type MemoryInput } from "./Memory.js"
import type { MemoryRow } from "./internal/memoryRow.js"

/** Kinds that, while open, are failures that still hold: never folded, so the builder keeps them. */
const LIVE = new Set(["failed-condition", "verification-failed", "finding"])

/** What compaction did in one scope. */
export interface CompactedScope {
  readonly scope: string
  /** The summary entry (new, or the unchanged one when nothing new was folded). */
  readonly summaryId: string
  /** How many open entries were folded into it. */
  readonly folded: number
}

/** What compaction did. */
export interface CompactionResult {
  /** Entries that began before this time were compacted. */
  readonly before: string
  readonly scopes: ReadonlyArray<CompactedScope>
  readonly folded: number
}

type Row = Pick<MemoryRow, "id" | "key" | "kind" | "scopes" | "tags" | "provenance" | "content" | "valid_from" | "valid_to">

interface Old {
  readonly id: string
  readonly key: string
  readonly kind: string
  readonly scope: EntityRef
  readonly tags: ReadonlyArray<string>
  readonly runIds: ReadonlyArray<string>
  readonly findingIds: ReadonlyArray<string>
  readonly reviewIds: ReadonlyArray<string>
  readonly content: string
  readonly validFrom: string
  readonly open: boolean
}

const uniq = (xs: ReadonlyArray<string>) => [...new Set(xs)]
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

/** `name (n runs)` for the most frequent, most first (ties by name), at most five. */
const mostFrequent = (counts: ReadonlyMap<string, number>) =>
  [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5).map(([name, n]) => `${name} (${plural(n, "run")})`).join(", ")

/** The tag value after `prefix`, e.g. `condition:` → `verification`. */
const tagged = (tags: ReadonlyArray<string>, prefix: string) => tags.find((t) => t.startsWith(prefix))?.slice(prefix.length)

/** The summary of one scope's history before `before` (pure). */
export const summaryOf = (scope: EntityRef, history: ReadonlyArray<Old>, before: string): MemoryInput => {
  const ordered = [...history].sort((a, b) => a.validFrom.localeCompare(b.validFrom) || a.id.localeCompare(b.id))
  // The latest version of each key says how things ended; every version says which runs showed a failure.
  const latest = new Map<string, Old>()
  for (const e of ordered) latest.set(e.key, e)
  const outcomes = [...latest.values()].filter((e) => e.kind === "run-outcome")
  const passed = outcomes.filter((e) => e.tags.includes("outcome:pass")).length
  const failedBy = (kind: string, prefix: string) => {
    const runs = new Map<string, Set<string>>()
    for (const e of ordered.filter((x) => x.kind === kind)) {
      const name = tagged(e.tags, prefix) ?? e.key
      const set = runs.get(name) ?? new Set<string>()
      for (const r of e.runIds) set.add(r)
      runs.set(name, set)
    }
    return new Map([...runs].map(([name, set]) => [name, set.size]))
  }
  const conditions = failedBy("failed-condition", "condition:")
  const steps = failedBy("verification-failed", "step:")
  const findings = [...latest.values()].filter((e) => e.kind === "finding" || e.kind === "finding-resolved")
  const resolved = findings.filter((e) => e.kind === "finding-resolved").length
  const last = outcomes.at(-1)
  const runIds = uniq(ordered.flatMap((e) => e.runIds))
  const name = `${scope.type}:${scope.id}`
  return {
    key: `summary:${name}`,
    layer: "semantic",
    kind: "summary",
    scopes: [scope],
    tags: ["compacted"],
    provenance: { runIds, findingIds: uniq(ordered.flatMap((e) => e.findingIds)), reviewIds: uniq(ordered.flatMap((e) => e.reviewIds)) },
    content: [
      `Summary of ${name} before ${before}: ${plural(latest.size, "fact")} from ${plural(runIds.length, "run")}` +
      (outcomes.length > 0 ? ` (${passed} mergeable, ${outcomes.length - passed} not).` : "."),
      ...(conditions.size > 0 ? [`Failed conditions: ${mostFrequent(conditions)}.`] : []),
      ...(steps.size > 0 ? [`Failing verification steps: ${mostFrequent(steps)}.`] : []),
      ...(findings.length > 0 ? [`Findings: ${findings.length} (${resolved} resolved).`] : []),
      ...(last !== undefined ? [`Last outcome: ${last.content.length <= 300 ? last.content : `${last.content.slice(0, 299)}…`}`] : [])
    ].join(" ")
  }
}

/** Parses `30d`, `12h`, `2w`, `45m` into milliseconds, or says what is wrong. */
export const parseAge = (text: string): number | string => {
  const m = /^(\d+)\s*(m|h|d|w)$/.exec(text.trim())
  if (m === null) return `expected a number and a unit, m (minutes), h, d or w (e.g. 30d), got ${JSON.stringify(text)}`
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as "m" | "h" | "d" | "w"]
}

/** Folds open episodic entries that began more than `olderThanMs` ago into one semantic summary per main scope. */
export const compactMemory = (options: { readonly olderThanMs: number }) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const memory = yield* Memory
    const at = yield* Clock.currentTimeMillis
    const now = new Date(at).toISOString()
    const before = new Date(at - options.olderThanMs).toISOString()
    const rows = yield* sql<Row>`SELECT id, key, kind, scopes, tags, provenance, content, valid_from, valid_to FROM so_memory
      WHERE layer = 'episodic' AND valid_from < ${before} ORDER BY seq`
    const byScope = new Map<string, Array<Old>>()
    for (const r of rows) {
      const scope = (JSON.parse(r.scopes) as Array<EntityRef>)[0]!
      const provenance = JSON.parse(r.provenance) as { runIds: Array<string>; findingIds: Array<string>; reviewIds: Array<string> }
      const name = `${scope.type}:${scope.id}`
      const list = byScope.get(name) ?? []
      list.push({ id: r.id, key: r.key, kind: r.kind, scope, tags: JSON.parse(r.tags) as Array<string>, ...provenance, content: r.content, validFrom: r.valid_from, open: r.valid_to === null })
      byScope.set(name, list)
    }
    const scopes: Array<CompactedScope> = []
    // One transaction: all or nothing, and one commit instead of one per scope.
    yield* sql.withTransaction(Effect.gen(function*() {
      for (const [name, history] of [...byScope].sort((a, b) => a[0].localeCompare(b[0]))) {
        const fold = history.filter((e) => e.open && !LIVE.has(e.kind))
        if (fold.length === 0) continue
        const summary = yield* memory.remember(summaryOf(history[0]!.scope, history, before))
        const ids = fold.map((e) => e.id)
        for (let i = 0; i < ids.length; i += 500) {
          yield* sql`UPDATE so_memory SET valid_to = ${now}, superseded_by = ${summary.id}, closed_reason = ${`compacted into ${summary.id}`}
            WHERE id IN ${sql.in(ids.slice(i, i + 500))} AND valid_to IS NULL`
        }
        scopes.push({ scope: name, summaryId: summary.id, folded: ids.length })
      }
    }))
    return { before, scopes, folded: scopes.reduce((n, s) => n + s.folded, 0) } satisfies CompactionResult
  }).pipe(
    Effect.catchTag("SqlError", (e) => Effect.fail(new MemoryError({ operation: "compact", reason: e.message }))),
    Effect.withSpan("Memory.compact")
  )
