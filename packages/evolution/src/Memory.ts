/**
 * spec-orch's memory: what earlier runs showed, kept in the state database (SQLite or Postgres, through
 * `effect/sql`'s SqlClient) with full-text recall.
 *
 * Every entry has a layer (working, episodic, semantic, procedural), a kind, the entities it is about
 * (an issue, a mission, a file, an adapter, the project), tags, provenance (runs, findings, reviews)
 * and two times: when it holds in the world (`validFrom`..`validTo`) and when spec-orch recorded it
 * (`recordedAt`). Nothing is deleted: a newer entry with the same key closes the older one's validity
 * (`supersededBy`), and `forget` closes an entry's validity now. Recall returns only entries valid
 * now, unless asked for another moment (`asOf`).
 */
import { Redactor } from "@spec-orch/harness"
import { Clock, Context, Effect, Layer, Option, Schema } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import type { Fragment } from "effect/sql/Statement"
import { randomBytes } from "node:crypto"
import type { MemoryRow } from "./internal/memoryRow.js"
import { entryBody, queryTerms } from "./internal/terms.js"

export const MemoryLayers = ["working", "episodic", "semantic", "procedural"] as const
/** working: this run only; episodic: what happened; semantic: what is true; procedural: how to do something. */
export type MemoryLayer = typeof MemoryLayers[number]

export const EntityTypes = ["issue", "mission", "file", "adapter", "project"] as const
export type EntityType = typeof EntityTypes[number]

/** An entity an entry is about. */
export interface EntityRef {
  readonly type: EntityType
  readonly id: string
}

/** Where an entry came from. */
export interface Provenance {
  readonly runIds: ReadonlyArray<string>
  readonly findingIds: ReadonlyArray<string>
  readonly reviewIds: ReadonlyArray<string>
}

/** What to remember. */
export interface MemoryInput {
  /** What the entry is a fact about: a newer entry with the same key supersedes the one valid now. */
  readonly key: string
  readonly layer: MemoryLayer
  /** What sort of fact: `run-outcome`, `failed-condition`, `finding`, … */
  readonly kind: string
  /** The entities it is about; the first is its main scope. At least one. */
  readonly scopes: ReadonlyArray<EntityRef>
  readonly tags?: ReadonlyArray<string> | undefined
  readonly provenance?: Partial<Provenance> | undefined
  readonly content: string
  /** When it became true (default: now). */
  readonly validFrom?: string | undefined
}

/** One stored entry. */
export interface MemoryEntry {
  readonly id: string
  readonly key: string
  readonly layer: MemoryLayer
  readonly kind: string
  readonly scopes: ReadonlyArray<EntityRef>
  readonly tags: ReadonlyArray<string>
  readonly provenance: Provenance
  readonly content: string
  readonly validFrom: string
  /** When it stopped being true; null while it holds. */
  readonly validTo: string | null
  readonly recordedAt: string
  /** The entry that replaced it, when one did. */
  readonly supersededBy: string | null
  /** Why its validity was closed: `superseded` or `forgotten`. */
  readonly closedReason: string | null
}

/** A recalled entry and its rank score (higher is better; entries with every query term come first, whatever their score). */
export interface Recalled {
  readonly entry: MemoryEntry
  readonly score: number
}

/** What to recall. Filters combine with AND; several scopes or layers match any of them. */
export interface RecallQuery {
  /** Full-text query; empty or absent: every entry the filters allow, newest first. */
  readonly text?: string | undefined
  readonly scopes?: ReadonlyArray<EntityRef> | undefined
  readonly layers?: ReadonlyArray<MemoryLayer> | undefined
  readonly kinds?: ReadonlyArray<string> | undefined
  /** Every tag must be present. */
  readonly tags?: ReadonlyArray<string> | undefined
  /** What memory held at this moment (ISO time) instead of now. */
  readonly asOf?: string | undefined
  /** Include entries whose validity is closed (history). */
  readonly includeClosed?: boolean | undefined
  /** At most this many (default 10). */
  readonly limit?: number | undefined
}

/** The memory store could not be read or written. */
export class MemoryError extends Schema.TaggedError<MemoryError>()("MemoryError", {
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `memory: ${this.operation} failed: ${this.reason}`
  }
}

/** No entry has this id. */
export class MemoryNotFound extends Schema.TaggedError<MemoryNotFound>()("MemoryNotFound", { id: Schema.String }) {
  override get message(): string {
    return `memory: no entry ${this.id}; \`spec-orch memory list\` shows the ids`
  }
}

/** An entry to remember was malformed. */
export class InvalidMemoryEntry extends Schema.TaggedError<InvalidMemoryEntry>()("InvalidMemoryEntry", {
  key: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `memory: entry ${JSON.stringify(this.key)} is invalid: ${this.reason}`
  }
}

/**
 * Parses `type:id` (e.g. `file:src/x.ts`, `issue:SPC-1`) into an entity reference, or says what is
 * wrong with it.
 */
export const parseEntityRef = (text: string): EntityRef | string => {
  const at = text.indexOf(":")
  const type = at < 0 ? "" : text.slice(0, at)
  const id = at < 0 ? "" : text.slice(at + 1)
  if (!(EntityTypes as ReadonlyArray<string>).includes(type) || id === "") {
    return `expected <type>:<id> with type one of ${EntityTypes.join(", ")} (e.g. file:src/x.ts, issue:SPC-1), got ${JSON.stringify(text)}`
  }
  return { type: type as EntityType, id }
}

const migrations = Migrator.fromRecord({
  "0001_memory": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // `seq` numbers entries in the order they were recorded; on SQLite it is also the full-text row's id.
    yield* sql`CREATE TABLE IF NOT EXISTS so_memory (
      seq ${sql.literal(sql.onDialectOrElse({ pg: () => "BIGSERIAL PRIMARY KEY", orElse: () => "INTEGER PRIMARY KEY AUTOINCREMENT" }))},
      id TEXT NOT NULL UNIQUE,
      key TEXT NOT NULL,
      layer TEXT NOT NULL,
      kind TEXT NOT NULL,
      scopes TEXT NOT NULL,
      tags TEXT NOT NULL,
      provenance TEXT NOT NULL,
      content TEXT NOT NULL,
      valid_from TEXT NOT NULL,
      valid_to TEXT,
      recorded_at TEXT NOT NULL,
      superseded_by TEXT,
      closed_reason TEXT
    )`
    yield* sql`CREATE INDEX IF NOT EXISTS so_memory_key ON so_memory (key, valid_to)`
    yield* sql`CREATE INDEX IF NOT EXISTS so_memory_recorded ON so_memory (recorded_at)`
    yield* sql`CREATE TABLE IF NOT EXISTS so_memory_scopes (
      entry_id TEXT NOT NULL,
      scope_type TEXT NOT NULL,
      scope_id TEXT NOT NULL,
      PRIMARY KEY (entry_id, scope_type, scope_id)
    )`
    yield* sql`CREATE INDEX IF NOT EXISTS so_memory_scopes_by ON so_memory_scopes (scope_type, scope_id)`
    yield* sql`CREATE TABLE IF NOT EXISTS so_memory_tags (
      entry_id TEXT NOT NULL,
      tag TEXT NOT NULL,
      PRIMARY KEY (entry_id, tag)
    )`
    yield* sql`CREATE INDEX IF NOT EXISTS so_memory_tags_by ON so_memory_tags (tag)`
    // Full text: FTS5 on SQLite, a tsvector with a GIN index on Postgres; both over the same terms.
    yield* sql.onDialectOrElse({
      sqlite: () =>
        Effect.andThen(
          sql`CREATE VIRTUAL TABLE IF NOT EXISTS so_memory_fts USING fts5(body, tokenize = 'unicode61 remove_diacritics 0')`,
          // How many entries hold each term: recall sets aside terms most entries hold.
          sql`CREATE VIRTUAL TABLE IF NOT EXISTS so_memory_fts_terms USING fts5vocab(so_memory_fts, 'row')`
        ),
      pg: () =>
        Effect.andThen(
          sql`ALTER TABLE so_memory ADD COLUMN IF NOT EXISTS search tsvector`,
          sql`CREATE INDEX IF NOT EXISTS so_memory_search ON so_memory USING GIN (search)`
        ),
      orElse: () => Effect.void
    })
  })
})

/** Runs the memory tables' migrations (idempotent; their own migrations table). */
export const migrateMemory = Migrator.make({})({ loader: migrations, table: "so_evolution_migrations" })

const COLUMNS = "m.id, m.key, m.layer, m.kind, m.scopes, m.tags, m.provenance, m.content, m.valid_from, m.valid_to, m.recorded_at, m.superseded_by, m.closed_reason"

const toEntry = (r: MemoryRow): MemoryEntry => ({
  id: r.id,
  key: r.key,
  layer: r.layer as MemoryLayer,
  kind: r.kind,
  scopes: JSON.parse(r.scopes) as Array<EntityRef>,
  tags: JSON.parse(r.tags) as Array<string>,
  provenance: JSON.parse(r.provenance) as Provenance,
  content: r.content,
  validFrom: r.valid_from,
  validTo: r.valid_to,
  recordedAt: r.recorded_at,
  supersededBy: r.superseded_by,
  closedReason: r.closed_reason
})

const newId = () => `mem-${randomBytes(6).toString("hex")}`
const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())
const uniq = (xs: ReadonlyArray<string>) => [...new Set(xs)]

const validate = (input: MemoryInput): string | undefined => {
  if (input.key.trim() === "") return "its key is empty"
  if (!(MemoryLayers as ReadonlyArray<string>).includes(input.layer)) return `layer must be one of ${MemoryLayers.join(", ")}, got ${JSON.stringify(input.layer)}`
  if (input.kind.trim() === "") return "its kind is empty"
  if (input.scopes.length === 0) return "it names no entity (scopes is empty)"
  const bad = input.scopes.find((s) => !(EntityTypes as ReadonlyArray<string>).includes(s.type) || s.id === "")
  if (bad !== undefined) return `scope ${JSON.stringify(bad)} must have a type among ${EntityTypes.join(", ")} and an id`
  if (input.content.trim() === "") return "its content is empty"
  if (input.validFrom !== undefined && Number.isNaN(Date.parse(input.validFrom))) return `validFrom ${JSON.stringify(input.validFrom)} is not an ISO time`
  return undefined
}

/** The same fact as the one valid now: nothing to record. */
const sameFact = (a: MemoryEntry, b: Omit<MemoryEntry, "id" | "validFrom" | "validTo" | "recordedAt" | "supersededBy" | "closedReason">) =>
  a.layer === b.layer && a.kind === b.kind && a.content === b.content && JSON.stringify(a.scopes) === JSON.stringify(b.scopes) &&
  JSON.stringify(a.tags) === JSON.stringify(b.tags) && JSON.stringify(a.provenance) === JSON.stringify(b.provenance)

/** Memory entries in the state database. */
export class Memory extends Context.Service<Memory, {
  /** Records an entry; the entry valid now with the same key (if any) is superseded. Recording the same fact again changes nothing. */
  readonly remember: (input: MemoryInput) => Effect.Effect<MemoryEntry, MemoryError | InvalidMemoryEntry>
  /** Records entries in order, in one transaction. */
  readonly rememberAll: (inputs: ReadonlyArray<MemoryInput>) => Effect.Effect<ReadonlyArray<MemoryEntry>, MemoryError | InvalidMemoryEntry>
  /** Ranked full-text recall (or, without text, the newest entries) under the query's filters. */
  readonly recall: (query: RecallQuery) => Effect.Effect<ReadonlyArray<Recalled>, MemoryError>
  readonly get: (id: string) => Effect.Effect<Option.Option<MemoryEntry>, MemoryError>
  /** Every version of a key, oldest first. */
  readonly history: (key: string) => Effect.Effect<ReadonlyArray<MemoryEntry>, MemoryError>
  /** Closes an entry's validity now; it stays in history. */
  readonly forget: (id: string) => Effect.Effect<MemoryEntry, MemoryError | MemoryNotFound>
}>()("@spec-orch/evolution/Memory") {
  static readonly layer: Layer.Layer<Memory, never, SqlClient.SqlClient | Redactor> = Layer.effect(
    Memory,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const redactor = yield* Redactor
      yield* migrateMemory.pipe(Effect.orDie)
      const sqlite = sql.onDialectOrElse({ sqlite: () => true, orElse: () => false })
      const fail = (operation: string) => (cause: unknown) =>
        new MemoryError({ operation, reason: cause instanceof Error ? cause.message : String(cause) })

      const get = (id: string) =>
        sql<MemoryRow>`SELECT ${sql.literal(COLUMNS)} FROM so_memory m WHERE m.id = ${id}`.pipe(
          Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toEntry)),
          Effect.mapError(fail("get"))
        )

      const close = (id: string, at: string, supersededBy: string | null, reason: string) =>
        sql`UPDATE so_memory SET valid_to = ${at}, superseded_by = ${supersededBy}, closed_reason = ${reason} WHERE id = ${id} AND valid_to IS NULL`

      const insertOne = (input: MemoryInput) =>
        Effect.gen(function*() {
          const problem = validate(input)
          if (problem !== undefined) return yield* new InvalidMemoryEntry({ key: input.key, reason: problem })
          const recordedAt = yield* now
          const fact = {
            key: input.key,
            layer: input.layer,
            kind: input.kind,
            scopes: input.scopes.map((s) => ({ type: s.type, id: s.id })),
            tags: uniq(input.tags ?? []).map((t) => redactor.redact(t)),
            provenance: {
              runIds: uniq(input.provenance?.runIds ?? []),
              findingIds: uniq(input.provenance?.findingIds ?? []),
              reviewIds: uniq(input.provenance?.reviewIds ?? [])
            },
            content: redactor.redact(input.content)
          }
          const current = (yield* sql<MemoryRow>`SELECT ${sql.literal(COLUMNS)} FROM so_memory m WHERE m.key = ${input.key} AND m.valid_to IS NULL`).map(toEntry)
          const same = current.find((c) => sameFact(c, fact))
          if (same !== undefined && current.length === 1) return same
          const entry: MemoryEntry = {
            id: newId(),
            ...fact,
            validFrom: input.validFrom ?? recordedAt,
            validTo: null,
            recordedAt,
            supersededBy: null,
            closedReason: null
          }
          yield* sql`INSERT INTO so_memory ${
            sql.insert({
              id: entry.id,
              key: entry.key,
              layer: entry.layer,
              kind: entry.kind,
              scopes: JSON.stringify(entry.scopes),
              tags: JSON.stringify(entry.tags),
              provenance: JSON.stringify(entry.provenance),
              content: entry.content,
              valid_from: entry.validFrom,
              valid_to: null,
              recorded_at: entry.recordedAt,
              superseded_by: null,
              closed_reason: null
            })
          }`
          const [scope, ...scopes] = uniq(entry.scopes.map((s) => JSON.stringify([s.type, s.id]))).map((s) => {
            const [type, id] = JSON.parse(s) as [string, string]
            return { entry_id: entry.id, scope_type: type, scope_id: id }
          })
          yield* sql`INSERT INTO so_memory_scopes ${sql.insert([scope!, ...scopes])}`
          if (entry.tags.length > 0) {
            const [tag, ...tags] = entry.tags.map((t) => ({ entry_id: entry.id, tag: t }))
            yield* sql`INSERT INTO so_memory_tags ${sql.insert([tag!, ...tags])}`
          }
          // What is searched: the content, the tags and the ids of what it is about.
          const body = entryBody(entry)
          yield* sqlite
            ? sql`INSERT INTO so_memory_fts (rowid, body) SELECT seq, ${body} FROM so_memory WHERE id = ${entry.id}`
            : sql`UPDATE so_memory SET search = array_to_tsvector(string_to_array(${body}, ' ')) WHERE id = ${entry.id}`
          // A newer fact closes the older one's validity when the newer one starts to hold.
          for (const old of current) yield* close(old.id, entry.validFrom < old.validFrom ? old.validFrom : entry.validFrom, entry.id, "superseded")
          return entry
        })

      const rememberAll = (inputs: ReadonlyArray<MemoryInput>) =>
        inputs.length === 0
          ? Effect.succeed<ReadonlyArray<MemoryEntry>>([])
          : sql.withTransaction(Effect.forEach(inputs, insertOne)).pipe(
            Effect.catchTag("SqlError", (e) => Effect.fail(fail("remember")(e))),
            Effect.withSpan("Memory.remember", { attributes: { entries: inputs.length } })
          )

      const commonTerms = (terms: ReadonlyArray<string>) =>
        Effect.gen(function*() {
          const total = Number((yield* sql<{ readonly n: number | null }>`SELECT MAX(seq) AS n FROM so_memory`)[0]?.n ?? 0)
          if (total < 2000 || terms.length === 0) return new Set<string>()
          const counts = yield* sql<{ readonly term: string; readonly doc: number }>`SELECT term, doc FROM so_memory_fts_terms WHERE term IN ${sql.in(terms)}`
          return new Set(counts.filter((c) => Number(c.doc) > total / 10).map((c) => c.term))
        })

      const recall = (query: RecallQuery) =>
        Effect.gen(function*() {
          const limit = Math.max(1, Math.min(query.limit ?? 10, 1000))
          const filters: Array<Fragment> = []
          if (query.asOf !== undefined) {
            filters.push(sql`m.recorded_at <= ${query.asOf}`, sql`m.valid_from <= ${query.asOf}`, sql`(m.valid_to IS NULL OR m.valid_to > ${query.asOf})`)
          } else if (query.includeClosed !== true) {
            filters.push(sql`m.valid_to IS NULL`)
          }
          if (query.layers !== undefined && query.layers.length > 0) filters.push(sql`m.layer IN ${sql.in(query.layers)}`)
          if (query.kinds !== undefined && query.kinds.length > 0) filters.push(sql`m.kind IN ${sql.in(query.kinds)}`)
          if (query.scopes !== undefined && query.scopes.length > 0) {
            filters.push(sql`m.id IN (SELECT s.entry_id FROM so_memory_scopes s WHERE ${sql.or(query.scopes.map((s) => sql`(s.scope_type = ${s.type} AND s.scope_id = ${s.id})`))})`)
          }
          for (const tag of uniq(query.tags ?? [])) filters.push(sql`m.id IN (SELECT t.entry_id FROM so_memory_tags t WHERE t.tag = ${tag})`)
          const where = filters.length > 0 ? sql.and(filters) : sql`1 = 1`
          const terms = queryTerms(query.text ?? "")
          if (terms.length === 0) {
            const rows = yield* sql<MemoryRow>`SELECT ${sql.literal(COLUMNS)} FROM so_memory m WHERE ${where} ORDER BY m.recorded_at DESC, m.id DESC LIMIT ${limit}`
            return rows.map((r): Recalled => ({ entry: toEntry(r), score: 0 }))
          }
          // Entries with every term rank first; when they are fewer than asked, entries with any term follow.
          // Without a scope or tag filter, SQLite ranks the best few hundred matches in the full-text index
          // alone first and reads only those entries (a common word can match most of memory); the whole
          // match is ranked only when too few of them pass the filters.
          // On SQLite, terms that more than a tenth of a large memory holds ("failed", "run") say little
          // about relevance and make ranking read most of the index: they are set aside when the query
          // has rarer terms; a query of only such terms returns the newest entries holding them all.
          const narrow = (query.scopes?.length ?? 0) === 0 && (query.tags?.length ?? 0) === 0
          const top = Math.max(200, limit * 20)
          const common = sqlite ? yield* commonTerms(terms) : new Set<string>()
          const rare = terms.filter((t) => !common.has(t))
          if (rare.length === 0) {
            const match = terms.map((t) => `"${t}"`).join(" AND ")
            const newest = (n: number) =>
              sql<MemoryRow>`SELECT ${sql.literal(COLUMNS)}, 0 AS score
                FROM (SELECT rowid AS seq FROM so_memory_fts WHERE so_memory_fts MATCH ${match} ORDER BY rowid DESC LIMIT ${n}) t JOIN so_memory m ON m.seq = t.seq
                WHERE ${where} ORDER BY t.seq DESC LIMIT ${limit}`
            const first = yield* newest(top)
            const rows = first.length >= limit ? first : yield* newest(Number.MAX_SAFE_INTEGER)
            return rows.map((r): Recalled => ({ entry: toEntry(r), score: 0 }))
          }
          const search = (all: boolean) => {
            const match = rare.map((t) => `"${t}"`).join(all ? " AND " : " OR ")
            if (!sqlite) {
              return sql<MemoryRow>`SELECT ${sql.literal(COLUMNS)}, ts_rank(m.search, q.query) AS score FROM so_memory m, (SELECT CAST(${terms.map((t) => `'${t}'`).join(all ? " & " : " | ")} AS tsquery) AS query) q
                WHERE m.search @@ q.query AND ${where}
                ORDER BY score DESC, m.recorded_at DESC LIMIT ${limit}`
            }
            const full = sql<MemoryRow>`SELECT ${sql.literal(COLUMNS)}, -f.rank AS score FROM so_memory_fts f JOIN so_memory m ON m.seq = f.rowid
                WHERE so_memory_fts MATCH ${match} AND ${where}
                ORDER BY f.rank, m.seq DESC LIMIT ${limit}`
            if (!narrow) return full
            return Effect.flatMap(
              sql<MemoryRow>`SELECT ${sql.literal(COLUMNS)}, -t.rank AS score
                FROM (SELECT rowid AS seq, rank FROM so_memory_fts WHERE so_memory_fts MATCH ${match} ORDER BY rank LIMIT ${top}) t JOIN so_memory m ON m.seq = t.seq
                WHERE ${where} ORDER BY t.rank, m.seq DESC LIMIT ${limit}`,
              (rows) =>
                rows.length >= limit
                  ? Effect.succeed(rows)
                  : Effect.flatMap(
                    sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM (SELECT 1 FROM so_memory_fts WHERE so_memory_fts MATCH ${match} LIMIT ${top + 1})`,
                    (n) => (Number(n[0]?.n ?? 0) > top ? full : Effect.succeed(rows))
                  )
            )
          }
          const every = yield* search(true)
          const some = every.length < limit && rare.length > 1 ? yield* search(false) : []
          const seen = new Set(every.map((r) => r.id))
          const rows = [...every, ...some.filter((r) => !seen.has(r.id))].slice(0, limit)
          return rows.map((r): Recalled => ({ entry: toEntry(r), score: Number(r.score ?? 0) }))
        }).pipe(Effect.mapError(fail("recall")), Effect.withSpan("Memory.recall"))

      const history = (key: string) =>
        sql<MemoryRow>`SELECT ${sql.literal(COLUMNS)} FROM so_memory m WHERE m.key = ${key} ORDER BY m.recorded_at, m.valid_from`.pipe(
          Effect.map((rows) => rows.map(toEntry)),
          Effect.mapError(fail("history"))
        )

      const forget = (id: string) =>
        Effect.gen(function*() {
          const found = yield* get(id)
          if (Option.isNone(found)) return yield* new MemoryNotFound({ id })
          if (found.value.validTo !== null) return found.value
          yield* close(id, yield* now, null, "forgotten").pipe(Effect.mapError(fail("forget")))
          return Option.getOrThrow(yield* get(id))
        })

      return Memory.of({
        remember: (input) => Effect.map(rememberAll([input]), (es) => es[0]!),
        rememberAll,
        recall,
        get,
        history,
        forget
      })
    })
  )
}
