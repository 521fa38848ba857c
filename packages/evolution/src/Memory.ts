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
import { Embeddings, Redactor } from "@spec-orch/harness"
import { Clock, Context, Duration, Effect, Latch, Layer, Option, Queue, Schema } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import type { Fragment } from "effect/sql/Statement"
import { randomBytes } from "node:crypto"
import type { MemoryRow } from "./internal/memoryRow.js"
import { entryBody, queryTerms } from "./internal/terms.js"
import { fuse, normalized, toBlob, VectorCache } from "./internal/vectors.js"

export const MemoryLayers = ["working", "episodic", "semantic", "procedural"] as const
/** working: this run only; episodic: what happened; semantic: what is true; procedural: how to do something. */
export type MemoryLayer = (typeof MemoryLayers)[number]

export const EntityTypes = ["issue", "mission", "file", "adapter", "project"] as const
export type EntityType = (typeof EntityTypes)[number]

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
  /** The memory entries it replaced (a compaction summary lists the entries it folded); empty otherwise. */
  readonly entryIds: ReadonlyArray<string>
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

/** Which ranking found a recalled entry: full text, or vector similarity to the query. */
export type Retriever = "fts" | "vector"

/**
 * A recalled entry and its rank score (higher is better). Full text alone: entries with every query
 * term come first, whatever their score. Fused with vectors: the reciprocal-rank-fusion score.
 */
export interface Recalled {
  readonly entry: MemoryEntry
  readonly score: number
  /** The rankings that found it (empty for a recall without text). */
  readonly retrievers: ReadonlyArray<Retriever>
}

/** Whether vector recall took part in a recall, and why not. */
export interface VectorRecall {
  /** `off`: no embedding model; `used`: fused with full text; `skipped`: configured, but full text alone answered (see `note`). */
  readonly state: "off" | "used" | "skipped"
  /** The embedding model (`<id>/<model>`), when one is configured. */
  readonly model: string | undefined
  /** Why vectors were skipped (the provider failed or did not answer in time, …), or what is worth knowing. */
  readonly note: string | undefined
  /**
   * Entries without a vector yet (found by full text alone until embedded): in `vectorStatus`, those
   * holding now; in a search, those among its results. 0 when off.
   */
  readonly pending: number
}

/** What a search found, and how. */
export interface SearchResult {
  readonly results: ReadonlyArray<Recalled>
  readonly vector: VectorRecall
}

/** What embedding pending entries did. */
export interface EmbedResult {
  /** The embedding model, when one is configured. */
  readonly model: string | undefined
  readonly embedded: number
  /** Entries holding now still without a vector (the provider failed part-way). */
  readonly pending: number
  /** Why it stopped early, when it did. */
  readonly problem: string | undefined
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
  /**
   * The rankings to use for a query with text (default both); `["vector"]` ranks by meaning alone,
   * `["fts"]` by words alone. Without an embedding model (or when the model fails), full text answers.
   */
  readonly retrievers?: ReadonlyArray<Retriever> | undefined
  /**
   * Vector recall only: entries less similar to the query than this cosine (-1..1; default 0, any
   * positive similarity) are left out of the vector ranking. What "similar" means depends on the model.
   */
  readonly minSimilarity?: number | undefined
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
  "0001_memory": Effect.gen(function* () {
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
  }),
  "0002_memory_vectors": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // One embedding per entry and model, never updated (read incrementally by seq); float32, little-endian.
    yield* sql`CREATE TABLE IF NOT EXISTS so_memory_vectors (
      seq ${sql.literal(sql.onDialectOrElse({ pg: () => "BIGSERIAL PRIMARY KEY", orElse: () => "INTEGER PRIMARY KEY AUTOINCREMENT" }))},
      entry_id TEXT NOT NULL,
      model TEXT NOT NULL,
      dims INTEGER NOT NULL,
      vector ${sql.literal(sql.onDialectOrElse({ pg: () => "BYTEA", orElse: () => "BLOB" }))} NOT NULL,
      embedded_at TEXT NOT NULL,
      UNIQUE (entry_id, model)
    )`
    yield* sql`CREATE INDEX IF NOT EXISTS so_memory_vectors_model ON so_memory_vectors (model, seq)`
  })
})

/** Runs the memory tables' migrations (idempotent; their own migrations table). */
export const migrateMemory = Migrator.make({})({ loader: migrations, table: "so_evolution_migrations" })

const COLUMNS =
  "m.id, m.key, m.layer, m.kind, m.scopes, m.tags, m.provenance, m.content, m.valid_from, m.valid_to, m.recorded_at, m.superseded_by, m.closed_reason"

/** Stored provenance in its canonical shape (entries recorded before `entryIds` existed have none). */
export const provenanceOf = (json: string): Provenance => {
  const p = JSON.parse(json) as Partial<Provenance>
  return {
    runIds: p.runIds ?? [],
    findingIds: p.findingIds ?? [],
    reviewIds: p.reviewIds ?? [],
    entryIds: p.entryIds ?? []
  }
}

const toEntry = (r: MemoryRow): MemoryEntry => ({
  id: r.id,
  key: r.key,
  layer: r.layer as MemoryLayer,
  kind: r.kind,
  scopes: JSON.parse(r.scopes) as Array<EntityRef>,
  tags: JSON.parse(r.tags) as Array<string>,
  provenance: provenanceOf(r.provenance),
  content: r.content,
  validFrom: r.valid_from,
  validTo: r.valid_to,
  recordedAt: r.recorded_at,
  supersededBy: r.superseded_by,
  closedReason: r.closed_reason
})

/** Vectors read per query when the cache catches up. */
const VECTOR_BATCH = 20_000

/** Entries embedded per request. */
const EMBED_BATCH = 64

const newId = () => `mem-${randomBytes(6).toString("hex")}`
const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())
const uniq = (xs: ReadonlyArray<string>) => [...new Set(xs)]

const validate = (input: MemoryInput): string | undefined => {
  if (input.key.trim() === "") return "its key is empty"
  if (!(MemoryLayers as ReadonlyArray<string>).includes(input.layer))
    return `layer must be one of ${MemoryLayers.join(", ")}, got ${JSON.stringify(input.layer)}`
  if (input.kind.trim() === "") return "its kind is empty"
  if (input.scopes.length === 0) return "it names no entity (scopes is empty)"
  const bad = input.scopes.find((s) => !(EntityTypes as ReadonlyArray<string>).includes(s.type) || s.id === "")
  if (bad !== undefined)
    return `scope ${JSON.stringify(bad)} must have a type among ${EntityTypes.join(", ")} and an id`
  if (input.content.trim() === "") return "its content is empty"
  if (input.validFrom !== undefined && Number.isNaN(Date.parse(input.validFrom)))
    return `validFrom ${JSON.stringify(input.validFrom)} is not an ISO time`
  return undefined
}

/** The same fact as the one valid now: nothing to record. */
const sameFact = (
  a: MemoryEntry,
  b: Omit<MemoryEntry, "id" | "validFrom" | "validTo" | "recordedAt" | "supersededBy" | "closedReason">
) =>
  a.layer === b.layer &&
  a.kind === b.kind &&
  a.content === b.content &&
  JSON.stringify(a.scopes) === JSON.stringify(b.scopes) &&
  JSON.stringify(a.tags) === JSON.stringify(b.tags) &&
  JSON.stringify(a.provenance) === JSON.stringify(b.provenance)

/** Memory entries in the state database. */
export class Memory extends Context.Service<
  Memory,
  {
    /** Records an entry; the entry valid now with the same key (if any) is superseded. Recording the same fact again changes nothing. */
    readonly remember: (input: MemoryInput) => Effect.Effect<MemoryEntry, MemoryError | InvalidMemoryEntry>
    /** Records entries in order, in one transaction. */
    readonly rememberAll: (
      inputs: ReadonlyArray<MemoryInput>
    ) => Effect.Effect<ReadonlyArray<MemoryEntry>, MemoryError | InvalidMemoryEntry>
    /**
     * Ranked recall (or, without text, the newest entries) under the query's filters: full text, fused
     * with vector similarity when an embedding model is configured.
     */
    readonly recall: (query: RecallQuery) => Effect.Effect<ReadonlyArray<Recalled>, MemoryError>
    /** `recall`, and whether vectors took part (and why not). Never fails for the embedding model's sake. */
    readonly search: (query: RecallQuery) => Effect.Effect<SearchResult, MemoryError>
    /** Embeds the entries holding now that have no vector yet (what `memory reindex` does); nothing without a model. */
    readonly embedPending: Effect.Effect<EmbedResult, MemoryError>
    /** The embedding model and how many entries holding now await a vector (`state` is `used` when one is configured). */
    readonly vectorStatus: Effect.Effect<VectorRecall, MemoryError>
    /** Waits until the background embedder has nothing in hand (tests; immediate without a model). */
    readonly idle: Effect.Effect<void>
    readonly get: (id: string) => Effect.Effect<Option.Option<MemoryEntry>, MemoryError>
    /** Every version of a key, oldest first. */
    readonly history: (key: string) => Effect.Effect<ReadonlyArray<MemoryEntry>, MemoryError>
    /** Closes an entry's validity now; it stays in history. */
    readonly forget: (id: string) => Effect.Effect<MemoryEntry, MemoryError | MemoryNotFound>
  }
>()("@spec-orch/evolution/Memory") {
  static readonly layer: Layer.Layer<Memory, never, SqlClient.SqlClient | Redactor> = Layer.effect(
    Memory,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const redactor = yield* Redactor
      yield* migrateMemory.pipe(Effect.orDie)
      const sqlite = sql.onDialectOrElse({ sqlite: () => true, orElse: () => false })
      const fail = (operation: string) => (cause: unknown) =>
        new MemoryError({ operation, reason: cause instanceof Error ? cause.message : String(cause) })
      // Vector recall when an embedding model is configured and usable; full text alone otherwise.
      const embeddings = Option.getOrUndefined(yield* Effect.serviceOption(Embeddings))
      const setup = embeddings?.setup
      const vectors =
        setup?._tag === "On" && embeddings?.model !== undefined
          ? { name: setup.name, model: embeddings.model, timeoutMs: setup.recallTimeoutMs }
          : undefined
      // Said with every recall only when a configured model cannot be used; the original's local model only in status.
      const setupNote = setup?._tag === "Unusable" ? `vector recall off: ${setup.problem}` : undefined
      const statusNote = setup?._tag === "Off" ? setup.note : setupNote
      const cache = new VectorCache()

      const get = (id: string) =>
        sql<MemoryRow>`SELECT ${sql.literal(COLUMNS)} FROM so_memory m WHERE m.id = ${id}`.pipe(
          Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toEntry)),
          Effect.mapError(fail("get"))
        )

      const close = (id: string, at: string, supersededBy: string | null, reason: string) =>
        sql`UPDATE so_memory SET valid_to = ${at}, superseded_by = ${supersededBy}, closed_reason = ${reason} WHERE id = ${id} AND valid_to IS NULL`

      /** Records one entry; the ids of the entries it closed are pushed to `closed`. */
      const insertOne = (input: MemoryInput, closed: Array<string>) =>
        Effect.gen(function* () {
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
              reviewIds: uniq(input.provenance?.reviewIds ?? []),
              entryIds: uniq(input.provenance?.entryIds ?? [])
            },
            content: redactor.redact(input.content)
          }
          const current =
            (yield* sql<MemoryRow>`SELECT ${sql.literal(COLUMNS)} FROM so_memory m WHERE m.key = ${input.key} AND m.valid_to IS NULL`).map(
              toEntry
            )
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
          // What is searched: the content, the tags and the ids of what it is about.
          const body = entryBody(entry)
          const row = {
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
          }
          // On Postgres the row is written once with its tsvector (an UPDATE after it would write it twice).
          yield* sqlite
            ? sql`INSERT INTO so_memory ${sql.insert(row)}`
            : sql`INSERT INTO so_memory (id, key, layer, kind, scopes, tags, provenance, content, valid_from, valid_to, recorded_at, superseded_by, closed_reason, search)
                VALUES (${row.id}, ${row.key}, ${row.layer}, ${row.kind}, ${row.scopes}, ${row.tags}, ${row.provenance}, ${row.content}, ${row.valid_from}, NULL, ${row.recorded_at}, NULL, NULL,
                  array_to_tsvector(string_to_array(${body}, ' ')))`
          const [scope, ...scopes] = uniq(entry.scopes.map((s) => JSON.stringify([s.type, s.id]))).map((s) => {
            const [type, id] = JSON.parse(s) as [string, string]
            return { entry_id: entry.id, scope_type: type, scope_id: id }
          })
          yield* sql`INSERT INTO so_memory_scopes ${sql.insert([scope!, ...scopes])}`
          if (entry.tags.length > 0) {
            const [tag, ...tags] = entry.tags.map((t) => ({ entry_id: entry.id, tag: t }))
            yield* sql`INSERT INTO so_memory_tags ${sql.insert([tag!, ...tags])}`
          }
          if (sqlite)
            yield* sql`INSERT INTO so_memory_fts (rowid, body) SELECT seq, ${body} FROM so_memory WHERE id = ${entry.id}`
          // A newer fact closes the older one's validity when the newer one starts to hold.
          for (const old of current) {
            yield* close(
              old.id,
              entry.validFrom < old.validFrom ? old.validFrom : entry.validFrom,
              entry.id,
              "superseded"
            )
            closed.push(old.id)
          }
          return entry
        })

      const rememberAll = (inputs: ReadonlyArray<MemoryInput>) =>
        inputs.length === 0
          ? Effect.succeed<ReadonlyArray<MemoryEntry>>([])
          : Effect.suspend(() => {
              const closed: Array<string> = []
              return sql.withTransaction(Effect.forEach(inputs, (input) => insertOne(input, closed))).pipe(
                // Once committed, the vectors of the entries it closed leave the ranking of what holds now.
                Effect.tap(() =>
                  Effect.sync(() => {
                    for (const id of closed) cache.close(id)
                  })
                )
              )
            }).pipe(
              Effect.catchTag("SqlError", (e) => Effect.fail(fail("remember")(e))),
              // The new entries are embedded in the background: recording never waits for the model.
              Effect.tap((entries) => Effect.sync(() => wakeEmbedder(entries))),
              Effect.withSpan("Memory.remember", { attributes: { entries: inputs.length } })
            )

      const commonTerms = (terms: ReadonlyArray<string>) =>
        Effect.gen(function* () {
          const total = Number(
            (yield* sql<{ readonly n: number | null }>`SELECT MAX(seq) AS n FROM so_memory`)[0]?.n ?? 0
          )
          if (total < 2000 || terms.length === 0) return new Set<string>()
          if (!sqlite) {
            // Postgres keeps the most common lexemes of a tsvector column, with the share of rows holding
            // each, in its statistics (refreshed by autovacuum's ANALYZE): no count of our own to keep up.
            const stats = yield* sql<{
              readonly elems: ReadonlyArray<string> | null
              readonly freqs: ReadonlyArray<number> | null
            }>`SELECT CAST(CAST(most_common_elems AS text) AS text[]) AS elems, most_common_elem_freqs AS freqs
                FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'so_memory' AND attname = 'search'`
            const elems = stats[0]?.elems ?? []
            const freqs = stats[0]?.freqs ?? []
            const wanted = new Set(terms)
            return new Set(elems.filter((t, i) => wanted.has(t) && Number(freqs[i] ?? 0) > 0.1))
          }
          const counts = yield* sql<{
            readonly term: string
            readonly doc: number
          }>`SELECT term, doc FROM so_memory_fts_terms WHERE term IN ${sql.in(terms)}`
          return new Set(counts.filter((c) => Number(c.doc) > total / 10).map((c) => c.term))
        })

      /** The query's filters as a WHERE condition over `so_memory m`. */
      const whereOf = (query: RecallQuery): Fragment => {
        const filters: Array<Fragment> = []
        if (query.asOf !== undefined) {
          filters.push(
            sql`m.recorded_at <= ${query.asOf}`,
            sql`m.valid_from <= ${query.asOf}`,
            sql`(m.valid_to IS NULL OR m.valid_to > ${query.asOf})`
          )
        } else if (query.includeClosed !== true) {
          filters.push(sql`m.valid_to IS NULL`)
        }
        if (query.layers !== undefined && query.layers.length > 0) filters.push(sql`m.layer IN ${sql.in(query.layers)}`)
        if (query.kinds !== undefined && query.kinds.length > 0) filters.push(sql`m.kind IN ${sql.in(query.kinds)}`)
        if (query.scopes !== undefined && query.scopes.length > 0) {
          filters.push(
            sql`m.id IN (SELECT s.entry_id FROM so_memory_scopes s WHERE ${sql.or(query.scopes.map((s) => sql`(s.scope_type = ${s.type} AND s.scope_id = ${s.id})`))})`
          )
        }
        for (const tag of uniq(query.tags ?? []))
          filters.push(sql`m.id IN (SELECT t.entry_id FROM so_memory_tags t WHERE t.tag = ${tag})`)
        return filters.length > 0 ? sql.and(filters) : sql`1 = 1`
      }

      /** Full-text recall alone (or, without terms, the newest entries). */
      const ftsRecall = (query: RecallQuery, limit: number) =>
        Effect.gen(function* () {
          const where = whereOf(query)
          const terms = queryTerms(query.text ?? "")
          if (terms.length === 0) {
            const rows =
              yield* sql<MemoryRow>`SELECT ${sql.literal(COLUMNS)} FROM so_memory m WHERE ${where} ORDER BY m.recorded_at DESC, m.id DESC LIMIT ${limit}`
            return rows.map(
              (r): Recalled => ({ entry: toEntry(r), score: 0, retrievers: terms.length > 0 ? ["fts"] : [] })
            )
          }
          // Entries with every term rank first; when they are fewer than asked, entries with any term follow.
          // Without a scope or tag filter, SQLite ranks the best few hundred matches in the full-text index
          // alone first and reads only those entries (a common word can match most of memory); the whole
          // match is ranked only when too few of them pass the filters.
          // Terms that more than a tenth of a large memory holds ("failed", "run") say little
          // about relevance and make ranking read most of the index: they are set aside when the query
          // has rarer terms; a query of only such terms returns the newest entries holding them all.
          const narrow = (query.scopes?.length ?? 0) === 0 && (query.tags?.length ?? 0) === 0
          const top = Math.max(200, limit * 20)
          const common = yield* commonTerms(terms)
          const rare = terms.filter((t) => !common.has(t))
          if (rare.length === 0 && !sqlite) {
            // Most entries match: the newest of them, read backwards along the primary key, not all of them ranked.
            const rows = yield* sql<MemoryRow>`SELECT ${sql.literal(COLUMNS)}, 0 AS score FROM so_memory m
              WHERE m.search @@ CAST(${terms.map((t) => `'${t}'`).join(" & ")} AS tsquery) AND ${where}
              ORDER BY m.seq DESC LIMIT ${limit}`
            return rows.map(
              (r): Recalled => ({ entry: toEntry(r), score: 0, retrievers: terms.length > 0 ? ["fts"] : [] })
            )
          }
          if (rare.length === 0) {
            const match = terms.map((t) => `"${t}"`).join(" AND ")
            const newest = (n: number) =>
              sql<MemoryRow>`SELECT ${sql.literal(COLUMNS)}, 0 AS score
                FROM (SELECT rowid AS seq FROM so_memory_fts WHERE so_memory_fts MATCH ${match} ORDER BY rowid DESC LIMIT ${n}) t JOIN so_memory m ON m.seq = t.seq
                WHERE ${where} ORDER BY t.seq DESC LIMIT ${limit}`
            const first = yield* newest(top)
            const rows = first.length >= limit ? first : yield* newest(Number.MAX_SAFE_INTEGER)
            return rows.map(
              (r): Recalled => ({ entry: toEntry(r), score: 0, retrievers: terms.length > 0 ? ["fts"] : [] })
            )
          }
          const search = (all: boolean) => {
            const match = rare.map((t) => `"${t}"`).join(all ? " AND " : " OR ")
            if (!sqlite) {
              return sql<MemoryRow>`SELECT ${sql.literal(COLUMNS)}, ts_rank(m.search, q.query) AS score FROM so_memory m, (SELECT CAST(${rare.map((t) => `'${t}'`).join(all ? " & " : " | ")} AS tsquery) AS query) q
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
                      sql<{
                        readonly n: number
                      }>`SELECT COUNT(*) AS n FROM (SELECT 1 FROM so_memory_fts WHERE so_memory_fts MATCH ${match} LIMIT ${top + 1})`,
                      (n) => (Number(n[0]?.n ?? 0) > top ? full : Effect.succeed(rows))
                    )
            )
          }
          const every = yield* search(true)
          const some = every.length < limit && rare.length > 1 ? yield* search(false) : []
          const seen = new Set(every.map((r) => r.id))
          const rows = [...every, ...some.filter((r) => !seen.has(r.id))].slice(0, limit)
          return rows.map((r): Recalled => ({ entry: toEntry(r), score: Number(r.score ?? 0), retrievers: ["fts"] }))
        })

      // ---- Vectors (when an embedding model is configured) ----

      /** Entries holding now without a vector of the model. */
      const pendingCount = (model: string) =>
        Effect.map(
          sql<{ readonly n: number | string }>`SELECT COUNT(*) AS n FROM so_memory m WHERE m.valid_to IS NULL
            AND NOT EXISTS (SELECT 1 FROM so_memory_vectors v WHERE v.entry_id = m.id AND v.model = ${model})`,
          (rows) => Number(rows[0]?.n ?? 0)
        )

      /**
       * Reads the vectors stored since the cache last looked (by this process or another), with whether
       * their entries hold now. Entries another process closes later stay in the cache as holding: the
       * query's filters, applied in the database to every candidate, leave them out.
       */
      const refreshCache = (model: string) =>
        Effect.gen(function* () {
          for (;;) {
            const rows = yield* sql<{
              readonly seq: number | string
              readonly entry_id: string
              readonly dims: number | string
              readonly vector: Uint8Array
              readonly valid_to: string | null
            }>`SELECT v.seq, v.entry_id, v.dims, v.vector, m.valid_to FROM so_memory_vectors v JOIN so_memory m ON m.id = v.entry_id
                WHERE v.model = ${model} AND v.seq > ${cache.after} ORDER BY v.seq LIMIT ${VECTOR_BATCH}`
            cache.reserve(cache.size + rows.length)
            for (const r of rows)
              cache.addBlob(Number(r.seq), r.entry_id, r.vector, Number(r.dims), r.valid_to === null)
            if (rows.length < VECTOR_BATCH) return
          }
        })

      const errorText = (e: unknown) =>
        e instanceof Error || (typeof e === "object" && e !== null && "message" in e)
          ? String((e as { message: unknown }).message)
          : String(e)

      /**
       * Embeds the rows `next` gives (entries holding now without a vector), batch after batch until it
       * gives none; stops at the first failure.
       */
      const embedRows = (
        next: Effect.Effect<ReadonlyArray<{ readonly id: string; readonly content: string }>, SqlError>
      ) =>
        Effect.gen(function* () {
          const { name, model } = vectors!
          let embedded = 0
          for (;;) {
            const rows = yield* next
            if (rows.length === 0) return { embedded, problem: undefined }
            const answer = yield* model.embedMany(rows.map((r) => r.content)).pipe(Effect.result)
            if (answer._tag === "Failure")
              return { embedded, problem: `the embedding model ${name} failed: ${errorText(answer.failure)}` }
            const at = yield* now
            const values = rows.map((r, i): Record<string, unknown> => {
              const v = normalized(answer.success.embeddings[i]!.vector)
              return { entry_id: r.id, model: name, dims: v.length, vector: toBlob(v), embedded_at: at }
            })
            const [first, ...rest] = values
            yield* sql`INSERT INTO so_memory_vectors ${sql.insert([first!, ...rest])} ON CONFLICT (entry_id, model) DO NOTHING`
            embedded += rows.length
          }
        })

      /**
       * Batch after batch, the entries holding now without a vector, oldest first: each batch goes on from
       * the last one's `seq` (a pass reads memory's ids once, not once per batch).
       */
      const unembedded = (name: string) => {
        let after = -1
        return Effect.suspend(() =>
          Effect.map(
            sql<{
              readonly seq: number | string
              readonly id: string
              readonly content: string
            }>`SELECT m.seq, m.id, m.content FROM so_memory m
            WHERE m.seq > ${after} AND m.valid_to IS NULL AND NOT EXISTS (SELECT 1 FROM so_memory_vectors v WHERE v.entry_id = m.id AND v.model = ${name})
            ORDER BY m.seq LIMIT ${EMBED_BATCH}`,
            (rows) => {
              if (rows.length > 0) after = Number(rows.at(-1)!.seq)
              return rows
            }
          )
        )
      }

      /** Embeds entries holding now that have no vector yet, in batches, oldest first; stops at the first failure. */
      const embedPending: Effect.Effect<EmbedResult, MemoryError> = Effect.gen(function* () {
        if (vectors === undefined) return { model: undefined, embedded: 0, pending: 0, problem: undefined }
        const { embedded, problem } = yield* embedRows(unembedded(vectors.name))
        return { model: vectors.name, embedded, pending: yield* pendingCount(vectors.name), problem }
      }).pipe(Effect.mapError(fail("embed")), Effect.withSpan("Memory.embed"))

      // What the background embedder has to do: the entries this process recorded since it last ran
      // (looked up by id: cheap however large memory is), and once per process whatever earlier ones
      // left without a vector (a scan of every entry's id).
      const recorded = new Set<string>()
      let leftoversChecked = false
      const embedInBackground = Effect.gen(function* () {
        const { name } = vectors!
        if (!leftoversChecked) {
          // What was recorded before the scan began, the scan embeds; what is recorded meanwhile stays listed.
          const before = [...recorded]
          const result = yield* embedRows(unembedded(name))
          if (result.problem !== undefined) return result
          leftoversChecked = true
          for (const id of before) recorded.delete(id)
          return result
        }
        let batch: Array<string> = []
        // The next batch of this process's entries still to embed (a batch with nothing left to embed, its
        // entries closed since or embedded by another process, is passed over).
        const next: Effect.Effect<
          ReadonlyArray<{ readonly id: string; readonly content: string }>,
          SqlError
        > = Effect.suspend(() => {
          for (const id of batch) recorded.delete(id)
          batch = [...recorded].slice(0, EMBED_BATCH)
          if (batch.length === 0) return Effect.succeed([])
          return sql<{ readonly id: string; readonly content: string }>`SELECT m.id, m.content FROM so_memory m
              WHERE m.id IN ${sql.in(batch)} AND m.valid_to IS NULL
              AND NOT EXISTS (SELECT 1 FROM so_memory_vectors v WHERE v.entry_id = m.id AND v.model = ${name})`.pipe(
            Effect.flatMap((rows) => (rows.length > 0 ? Effect.succeed(rows) : next))
          )
        })
        return yield* embedRows(next)
      }).pipe(Effect.mapError(fail("embed")), Effect.withSpan("Memory.embedInBackground"))

      /** The vector ranking of `text` under the query's filters, best first, or why there is none. */
      const vectorRecall = (query: RecallQuery, text: string, pool: number) =>
        Effect.gen(function* () {
          const { name, model, timeoutMs } = vectors!
          // embedMany, not embed: embed goes through a batching resolver whose request outlives a timeout.
          const asked = yield* model.embedMany([text]).pipe(
            Effect.map((r) => r.embeddings[0]!),
            Effect.timeoutOrElse({
              duration: Duration.millis(timeoutMs),
              orElse: () =>
                Effect.fail(new Error(`no answer within ${timeoutMs / 1000} s ([memory] embedding_timeout_seconds)`))
            }),
            Effect.result
          )
          if (asked._tag === "Failure")
            return `vector recall skipped, full text alone answered: embedding the query with ${name} failed: ${errorText(asked.failure)}`
          yield* refreshCache(name)
          const q = normalized(asked.success.vector)
          if (cache.size === 0) return [] as ReadonlyArray<MemoryRow>
          if (cache.dims !== q.length)
            return `vector recall skipped: the query's embedding has ${q.length} dimensions, the stored ones ${cache.dims}`
          const where = whereOf(query)
          // What holds now: the vectors of entries this process saw closed are not even scored.
          const holdingOnly = query.asOf === undefined && query.includeClosed !== true
          // The candidates' rows, under the query's filters (another process may have closed one since it was cached).
          const rowsOf = (ids: ReadonlyArray<string>) =>
            Effect.map(
              Effect.forEach(
                Array.from({ length: Math.ceil(ids.length / 1000) }, (_, i) => ids.slice(i * 1000, i * 1000 + 1000)),
                (chunk) =>
                  sql<MemoryRow>`SELECT ${sql.literal(COLUMNS)} FROM so_memory m WHERE m.id IN ${sql.in(chunk)} AND ${where}`
              ),
              (chunks) => chunks.flat()
            )
          const inOrder = (ids: ReadonlyArray<string>, rows: ReadonlyArray<MemoryRow>) => {
            const byId = new Map(rows.map((r) => [r.id, r]))
            return ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []))
          }
          // Narrow filters (scopes, tags): the entries they allow, scored alone when they are few.
          if ((query.scopes?.length ?? 0) > 0 || (query.tags?.length ?? 0) > 0) {
            const allowed = (yield* sql<{ readonly id: string }>`SELECT m.id FROM so_memory m WHERE ${where}`).map(
              (r) => r.id
            )
            const hits =
              allowed.length * 8 <= cache.size
                ? cache.nearestAmong(q, allowed, pool, holdingOnly, query.minSimilarity)
                : cache.nearest(q, pool, { holdingOnly, mask: cache.maskOf(allowed), above: query.minSimilarity })
            const ids = hits.map((h) => h.id)
            return inOrder(ids, yield* rowsOf(ids))
          }
          // Otherwise the best candidates, read with the filters, more of them while too few pass.
          for (let take = pool; ; take *= 4) {
            const ids = cache.nearest(q, take, { holdingOnly, above: query.minSimilarity }).map((h) => h.id)
            const found = inOrder(ids, yield* rowsOf(ids))
            if (found.length >= pool || ids.length < take) return found.slice(0, pool)
          }
        })

      const offPool = (): VectorRecall => ({ state: "off", model: undefined, note: setupNote, pending: 0 })

      const search = (query: RecallQuery) =>
        Effect.gen(function* () {
          const limit = Math.max(1, Math.min(query.limit ?? 10, 1000))
          const text = (query.text ?? "").trim()
          if (vectors === undefined || text === "")
            return {
              results: yield* ftsRecall(query, limit),
              vector:
                vectors === undefined
                  ? offPool()
                  : { state: "skipped" as const, model: vectors.name, note: "no query text", pending: 0 }
            }
          const wanted = query.retrievers ?? ["fts", "vector"]
          if (!wanted.includes("vector"))
            return {
              results: yield* ftsRecall(query, limit),
              vector: { state: "skipped" as const, model: vectors.name, note: "full text alone was asked", pending: 0 }
            }
          // Each ranking offers more than asked, so fusion can lift an entry both find.
          const pool = Math.min(Math.max(limit * 3, 30), 1000)
          const alone = !wanted.includes("fts")
          const vec = yield* vectorRecall(query, text, alone ? limit : pool)
          const fts = alone && typeof vec !== "string" ? [] : yield* ftsRecall(query, alone ? limit : pool)
          if (typeof vec === "string")
            return {
              results: fts.slice(0, limit),
              vector: { state: "skipped" as const, model: vectors.name, note: vec, pending: 0 }
            }
          const entries = new Map<string, MemoryEntry>()
          for (const r of fts) entries.set(r.entry.id, r.entry)
          for (const r of vec) if (!entries.has(r.id)) entries.set(r.id, toEntry(r))
          const fused = fuse([
            ...(alone ? [] : [{ name: "fts", ids: fts.map((r) => r.entry.id) }]),
            { name: "vector", ids: vec.map((r) => r.id) }
          ])
          const results = fused
            .slice(0, limit)
            .map(
              (f): Recalled => ({ entry: entries.get(f.id)!, score: f.score, retrievers: f.from as Array<Retriever> })
            )
          // Counting every entry without a vector would read all of memory: the results without one are counted.
          const pending = results.filter((r) => !cache.has(r.entry.id)).length
          return {
            results,
            vector: {
              state: "used" as const,
              model: vectors.name,
              note:
                pending > 0
                  ? `${pending} of the results have no vector yet: found by full text alone (\`spec-orch memory reindex\` embeds them)`
                  : undefined,
              pending
            }
          }
        }).pipe(Effect.mapError(fail("recall")), Effect.withSpan("Memory.recall"))

      const recall = (query: RecallQuery) => Effect.map(search(query), (r) => r.results)

      const history = (key: string) =>
        sql<MemoryRow>`SELECT ${sql.literal(COLUMNS)} FROM so_memory m WHERE m.key = ${key} ORDER BY m.recorded_at, m.valid_from`.pipe(
          Effect.map((rows) => rows.map(toEntry)),
          Effect.mapError(fail("history"))
        )

      const forget = (id: string) =>
        Effect.gen(function* () {
          const found = yield* get(id)
          if (Option.isNone(found)) return yield* new MemoryNotFound({ id })
          if (found.value.validTo !== null) return found.value
          yield* close(id, yield* now, null, "forgotten").pipe(Effect.mapError(fail("forget")))
          cache.close(id)
          return Option.getOrThrow(yield* get(id))
        })

      // The background embedder: one fiber in the layer's scope (never the recorder's, which may be in
      // a transaction), woken after each recording; it embeds whatever holds without a vector.
      const wake = yield* Queue.sliding<void>(1)
      const idle = yield* Latch.make(true)
      function wakeEmbedder(entries: ReadonlyArray<MemoryEntry>) {
        if (vectors === undefined) return
        for (const e of entries) recorded.add(e.id)
        idle.closeUnsafe()
        Queue.offerUnsafe(wake, undefined)
      }
      if (vectors !== undefined) {
        yield* Effect.forkScoped(
          Effect.forever(
            Effect.gen(function* () {
              yield* Queue.take(wake)
              const result = yield* embedInBackground.pipe(
                Effect.catch((e) => Effect.succeed({ problem: e.message, pending: undefined }))
              )
              if (result.problem !== undefined)
                yield* Effect.logWarning(
                  `memory: ${result.problem}; those entries are found by full text until embedded (\`spec-orch memory reindex\` embeds them)`
                )
              if (Queue.sizeUnsafe(wake) === 0) idle.openUnsafe()
            })
          )
        )
        // A short-lived command (a run) ends soon after recording: give the embedding in flight a bounded
        // moment (the recall bound) before the worker is stopped; what it misses is embedded later.
        yield* Effect.addFinalizer(() =>
          idle.await.pipe(
            Effect.timeoutOrElse({ duration: Duration.millis(vectors.timeoutMs), orElse: () => Effect.void })
          )
        )
      }

      return Memory.of({
        remember: (input) => Effect.map(rememberAll([input]), (es) => es[0]!),
        rememberAll,
        recall,
        search,
        embedPending,
        vectorStatus: Effect.gen(function* () {
          if (vectors === undefined) return { ...offPool(), note: statusNote }
          return {
            state: "used" as const,
            model: vectors.name,
            note: undefined,
            pending: yield* pendingCount(vectors.name)
          }
        }).pipe(Effect.mapError(fail("status"))),
        idle: idle.await,
        get,
        history,
        forget
      })
    })
  )
}
