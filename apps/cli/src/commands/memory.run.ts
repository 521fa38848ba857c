/** Handlers for `spec-orch memory`. Memory is read and forgotten here even when `[memory] enabled` is off. */
import { Project } from "@spec-orch/contract"
import {
  type CompactionModel,
  compactMemory,
  type EntityRef,
  Memory,
  memoryStatus,
  noteInput,
  reindexMemory,
  type MemoryEntry,
  type MemoryLayer,
  MemoryNotFound,
  parseAge,
  parseEntityRef,
  readModels,
  type RecallQuery,
  type Recalled
} from "@spec-orch/evolution"
import { Models } from "@spec-orch/harness"
import { Console, Effect, Layer, Option } from "effect"
import type { SqlClient } from "effect/sql"
import { emit, ExitCode, setExitCode, table, usageError } from "../Output.js"
import { MemoryLive, withPlanes } from "../Planes.js"
import { whoAmI } from "../Who.js"
import { rateText, RunHistoryLive } from "./eval.run.js"

const opt = <A>(o: Option.Option<A>) => Option.getOrUndefined(o)

/** An entry as plain JSON. */
export const entryJson = (e: MemoryEntry, score?: number, retrievers?: Recalled["retrievers"]) => ({
  id: e.id,
  key: e.key,
  layer: e.layer,
  kind: e.kind,
  scopes: e.scopes.map((s) => `${s.type}:${s.id}`),
  tags: e.tags,
  provenance: e.provenance,
  content: e.content,
  validFrom: e.validFrom,
  validTo: e.validTo,
  recordedAt: e.recordedAt,
  supersededBy: e.supersededBy,
  closedReason: e.closedReason,
  ...(score !== undefined ? { score } : {}),
  ...(retrievers !== undefined ? { retrievers } : {})
})

const short = (text: string, n = 90) => {
  const t = text.replace(/\s+/g, " ").trim()
  return t.length <= n ? t : `${t.slice(0, n - 1)}…`
}

const rows = (entries: ReadonlyArray<MemoryEntry>, foundBy?: ReadonlyArray<Recalled["retrievers"]>) =>
  table(
    ["ID", "KIND", "ABOUT", "SINCE", ...(foundBy !== undefined ? ["FOUND BY"] : []), "CONTENT"],
    entries.map((e, i) => [
      e.id,
      e.validTo !== null ? `${e.kind} (${e.closedReason ?? "closed"})` : e.kind,
      e.scopes[0] !== undefined ? `${e.scopes[0].type}:${e.scopes[0].id}` : "-",
      e.validFrom.replace("T", " ").slice(0, 16),
      ...(foundBy !== undefined ? [foundBy[i]!.join("+")] : []),
      short(e.content)
    ])
  )

/** Filters from the flags, or the reason a flag is malformed. */
const filters = (input: {
  scope: ReadonlyArray<string>
  layer: Option.Option<MemoryLayer>
  kind: Option.Option<string>
  tag: ReadonlyArray<string>
  limit: number
  asOf: Option.Option<string>
}): RecallQuery | string => {
  const scopes: Array<EntityRef> = []
  for (const s of input.scope) {
    const parsed = parseEntityRef(s)
    if (typeof parsed === "string") return `--scope: ${parsed}`
    scopes.push(parsed)
  }
  const asOf = opt(input.asOf)
  if (asOf !== undefined && Number.isNaN(Date.parse(asOf)))
    return `--as-of: expected an ISO time such as 2026-12-01T10:00:00Z, got ${JSON.stringify(asOf)}`
  if (input.limit < 1) return `--limit: expected a positive number, got ${input.limit}`
  const layer = opt(input.layer)
  const kind = opt(input.kind)
  return {
    scopes,
    ...(layer !== undefined ? { layers: [layer] } : {}),
    ...(kind !== undefined ? { kinds: [kind] } : {}),
    tags: input.tag,
    limit: input.limit,
    ...(asOf !== undefined ? { asOf: new Date(asOf).toISOString() } : {})
  }
}

const withMemory = <A, E>(effect: Effect.Effect<A, E, Memory | SqlClient.SqlClient | Project | Models>) =>
  withPlanes(Effect.provide(effect, MemoryLive))

type FilterFlags = Parameters<typeof filters>[0]

export const recall = (input: FilterFlags & { query: string; json: boolean }) =>
  Effect.gen(function* () {
    const query = filters(input)
    if (typeof query === "string") return yield* usageError(query)
    yield* withMemory(
      Effect.gen(function* () {
        const found = yield* (yield* Memory).search({ ...query, text: input.query })
        const hits = found.results
        // An embedding model that failed or did not answer in time: full text answered alone; say so.
        if (found.vector.note !== undefined && found.vector.state !== "used")
          yield* Console.error(`spec-orch: ${found.vector.note}`)
        yield* emit(
          input.json,
          hits.map((h) => entryJson(h.entry, h.score, h.retrievers)),
          () =>
            hits.length === 0
              ? `Nothing in memory matches ${JSON.stringify(input.query)}.`
              : rows(
                  hits.map((h) => h.entry),
                  found.vector.state === "used" ? hits.map((h) => h.retrievers) : undefined
                )
        )
      })
    )
  })

export const list = (input: FilterFlags & { all: boolean; json: boolean }) =>
  Effect.gen(function* () {
    const query = filters(input)
    if (typeof query === "string") return yield* usageError(query)
    yield* withMemory(
      Effect.gen(function* () {
        const hits = yield* (yield* Memory).recall({ ...query, includeClosed: input.all })
        yield* emit(
          input.json,
          hits.map((h) => entryJson(h.entry)),
          () =>
            hits.length === 0
              ? "Memory is empty: finished runs are recorded when [memory] enabled is on (the default)."
              : rows(hits.map((h) => h.entry))
        )
      })
    )
  })

export const show = (input: { id: string; json: boolean }) =>
  withMemory(
    Effect.gen(function* () {
      const memory = yield* Memory
      const found = yield* memory.get(input.id)
      if (Option.isNone(found)) return yield* new MemoryNotFound({ id: input.id })
      const e = found.value
      const history = yield* memory.history(e.key)
      yield* emit(input.json, { ...entryJson(e), history: history.map((h) => entryJson(h)) }, () => [
        `${e.id}  ${e.layer}/${e.kind}  key ${e.key}`,
        `about     ${e.scopes.map((s) => `${s.type}:${s.id}`).join(", ")}`,
        ...(e.tags.length > 0 ? [`tags      ${e.tags.join(", ")}`] : []),
        `valid     ${e.validFrom} → ${e.validTo ?? "now"}${e.closedReason !== null ? ` (${e.closedReason}${e.supersededBy !== null ? ` by ${e.supersededBy}` : ""})` : ""}`,
        `recorded  ${e.recordedAt}`,
        ...(e.provenance.runIds.length > 0 ? [`runs      ${e.provenance.runIds.join(", ")}`] : []),
        ...(e.provenance.findingIds.length > 0 ? [`findings  ${e.provenance.findingIds.join(", ")}`] : []),
        ...(e.provenance.reviewIds.length > 0 ? [`reviews   ${e.provenance.reviewIds.join(", ")}`] : []),
        ...(e.provenance.entryIds.length > 0 ? [`replaces  ${e.provenance.entryIds.join(", ")}`] : []),
        "",
        e.content,
        ...(history.length > 1 ? ["", "Versions of this key:", rows(history)] : [])
      ])
    })
  )

export const forget = (input: { id: string; json: boolean }) =>
  withMemory(
    Effect.gen(function* () {
      const e = yield* (yield* Memory).forget(input.id)
      yield* emit(
        input.json,
        entryJson(e),
        () => `Forgot ${e.id} (valid until ${e.validTo}); it stays in history: \`spec-orch memory show ${e.id}\`.`
      )
    })
  )

export const compact = (input: { olderThan: string; json: boolean }) =>
  Effect.gen(function* () {
    const age = parseAge(input.olderThan)
    if (typeof age === "string") return yield* usageError(`--older-than: ${age}`)
    yield* withMemory(
      Effect.gen(function* () {
        const model = yield* compactionModel
        const result = yield* compactMemory({ olderThanMs: age, model })
        yield* emit(input.json, result, () =>
          result.scopes.length === 0
            ? `Nothing to compact: no scope has episodic entries from before ${result.before} that are not failures still holding.`
            : [
                `Compacted ${result.folded} entr${result.folded === 1 ? "y" : "ies"} from before ${result.before} into ${result.scopes.length} summar${result.scopes.length === 1 ? "y" : "ies"}${result.model !== undefined ? ` written by ${result.model}` : ""}:`,
                table(
                  ["SCOPE", "SUMMARY", "FOLDED", "WRITTEN BY"],
                  result.scopes.map((s) => [
                    s.scope,
                    s.summaryId,
                    String(s.folded),
                    s.summarizer === "llm" ? "model" : "counts"
                  ])
                ),
                ...result.scopes.flatMap((s) => (s.note !== undefined ? [`${s.scope}: ${s.note}`] : [])),
                "The folded entries stay in history: `spec-orch memory show <summary>`, `memory list --all`, `--as-of`."
              ].join("\n")
        )
      })
    )
  })

/**
 * The model that writes compaction summaries: `[memory] compaction_role`'s chain; none when unset, or
 * when that role has no usable model (said on stderr: the summaries are then the deterministic ones).
 */
const compactionModel = Effect.gen(function* () {
  const role = (yield* Project).config.memory.compaction_role
  if (role === undefined) return undefined
  const models = yield* Models
  const chain = yield* models.forRole(role).pipe(Effect.result)
  if (chain._tag === "Failure") {
    yield* Console.error(
      `spec-orch: [memory] compaction_role = "${role}": ${chain.failure.message}; writing deterministic summaries`
    )
    return undefined
  }
  return { name: `[${role}] ${models.role(role).plan?.name ?? role}`, model: chain.success } satisfies CompactionModel
})

/** The vector line of `memory status`. */
const vectorLine = (v: {
  readonly state: string
  readonly model: string | undefined
  readonly note: string | undefined
  readonly pending: number
}) =>
  v.model === undefined
    ? `off${v.note !== undefined ? ` (${v.note})` : " (no [memory] embedding_model: full text alone)"}`
    : `${v.model}, ${v.pending === 0 ? "every entry holding now embedded" : `${v.pending} entr${v.pending === 1 ? "y" : "ies"} holding now not embedded yet (found by full text; \`spec-orch memory reindex\` embeds them)`}`

export const status = (input: { json: boolean }) =>
  withMemory(
    Effect.gen(function* () {
      const s = yield* memoryStatus
      const vectors = yield* (yield* Memory).vectorStatus
      const database = `${(yield* Project).stateDir}/state.db`
      yield* emit(input.json, { database, ...s, vectors }, () => [
        `database  ${database} (${s.dialect})`,
        `entries   ${s.open} holding now, ${s.total} ever recorded${
          Object.keys(s.closed).length > 0
            ? ` (closed: ${Object.entries(s.closed)
                .map(([k, n]) => `${n} ${k}`)
                .join(", ")})`
            : ""
        }`,
        `layers    ${Object.entries(s.layers)
          .map(([k, n]) => `${k} ${n}`)
          .join(", ")}`,
        ...(s.kinds.length > 0 ? [`kinds     ${s.kinds.map((k) => `${k.kind} ${k.count}`).join(", ")}`] : []),
        `last      ${s.lastRecordedAt ?? "nothing recorded yet"}`,
        `index     ${s.index.ok ? "ok" : `not whole: ${s.index.missing} entr${s.index.missing === 1 ? "y" : "ies"} missing${s.index.problem !== null ? `, ${s.index.problem}` : ""}; run \`spec-orch memory reindex\``}`,
        `vectors   ${vectorLine(vectors)}`
      ])
    })
  )

export const add = (input: {
  text: string
  scope: ReadonlyArray<string>
  kind: string
  layer: MemoryLayer
  tag: ReadonlyArray<string>
  by: Option.Option<string>
  json: boolean
}) =>
  Effect.gen(function* () {
    const scopes: Array<EntityRef> = []
    for (const s of input.scope) {
      const parsed = parseEntityRef(s)
      if (typeof parsed === "string") return yield* usageError(`--scope: ${parsed}`)
      scopes.push(parsed)
    }
    if (scopes.length === 0)
      return yield* usageError(
        "memory add: say what the note is about with --scope <type>:<id> (e.g. --scope issue:SPC-1 or --scope project:main)"
      )
    if (input.text.trim() === "") return yield* usageError("memory add: the note is empty")
    const by = yield* whoAmI(input.by)
    yield* withMemory(
      Effect.gen(function* () {
        const e = yield* (yield* Memory).remember(
          noteInput({ text: input.text, scopes, kind: input.kind, layer: input.layer, tags: input.tag, by })
        )
        yield* emit(
          input.json,
          entryJson(e),
          () =>
            `Remembered ${e.id} (${e.layer}/${e.kind}) about ${e.scopes.map((s) => `${s.type}:${s.id}`).join(", ")}.`
        )
      })
    )
  })

export const reindex = (input: { json: boolean }) =>
  withMemory(
    Effect.gen(function* () {
      const indexed = yield* reindexMemory
      const s = yield* memoryStatus
      // With an embedding model: the entries holding now that have no vector yet are embedded too.
      const embedded = yield* (yield* Memory).embedPending
      if (embedded.problem !== undefined) yield* Console.error(`spec-orch: ${embedded.problem}`)
      yield* emit(
        input.json,
        { indexed, index: s.index, ...(embedded.model !== undefined ? { vectors: embedded } : {}) },
        () =>
          [
            `Rebuilt the full-text index over ${indexed} entr${indexed === 1 ? "y" : "ies"}; index ${s.index.ok ? "ok" : "still not whole"}.`,
            ...(embedded.model !== undefined
              ? [
                  `Embedded ${embedded.embedded} entr${embedded.embedded === 1 ? "y" : "ies"} with ${embedded.model}${embedded.pending > 0 ? `; ${embedded.pending} still without a vector` : ""}.`
                ]
              : [])
          ].join("\n")
      )
      if (embedded.problem !== undefined) yield* setExitCode(ExitCode.failure)
    })
  )

export const profile = (input: { json: boolean }) =>
  withPlanes(
    Effect.provide(
      Effect.gen(function* () {
        const m = yield* readModels
        const p = m.profile
        yield* emit(input.json, m, () =>
          p.runs === 0
            ? "No runs yet: the profile is drawn from finished runs. Start one with `spec-orch run <issue>`."
            : [
                `Runs: ${p.runs}`,
                `Stack: ${p.stack.length > 0 ? p.stack.map((s) => `${s.name} (${s.files} file${s.files === 1 ? "" : "s"})`).join(", ") : "unknown (no changed files recorded)"}`,
                "",
                "Verification:",
                p.verification.length > 0
                  ? table(
                      ["STEP", "COMMAND", "PASSED"],
                      p.verification.map((v) => [v.step, short(v.command, 60), rateText(v.passRate)])
                    )
                  : "  no verification steps recorded",
                "",
                "Hot files:",
                p.hotFiles.length > 0
                  ? table(
                      ["FILE", "RUNS", "NOT MERGEABLE"],
                      p.hotFiles.map((f) => [f.file, String(f.runs), String(f.notMergeable)])
                    )
                  : "  no changed files recorded",
                "",
                "Adapters:",
                table(
                  ["ADAPTER", "PASS RATE (WILSON 95%)"],
                  p.adapters.map((a) => [a.adapter, rateText(a.passRate)])
                ),
                "",
                "Failure patterns:",
                m.failurePatterns.length > 0
                  ? table(
                      ["KIND", "NAME", "RUNS", "ISSUES", "LATEST"],
                      m.failurePatterns.map((f) => [
                        f.kind,
                        f.name,
                        `${f.runs}${f.recurring ? " (recurring)" : ""}`,
                        f.issues.join(", "),
                        f.latest !== null ? short(f.latest, 70) : "-"
                      ])
                    )
                  : "  none: no run failed a condition or a step",
                "",
                "Success recipes:",
                m.successRecipes.length > 0
                  ? table(
                      ["ISSUE", "RUN", "ADAPTER", "ATTEMPTS", "OVERCAME"],
                      m.successRecipes.map((r) => [
                        r.issueId,
                        r.runId,
                        r.adapter,
                        String(r.attempts),
                        r.overcame.length > 0 ? r.overcame.join(", ") : "-"
                      ])
                    )
                  : "  none yet: no issue has a mergeable run",
                "",
                `Trend (pass rate per ${m.trends.bucket}):`,
                table(
                  ["PERIOD", "RUNS", "PASS RATE"],
                  m.trends.points.map((t) => [t.period, String(t.runs), rateText(t.passRate)])
                )
              ].join("\n")
        )
      }),
      Layer.mergeAll(Memory.layer, RunHistoryLive)
    )
  )
