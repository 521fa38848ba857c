/**
 * Looking after memory: what it holds (`memoryStatus`), a person's own notes (`noteInput`) and
 * rebuilding the full-text index from the entries (`reindexMemory`).
 */
import { createHash } from "node:crypto"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { entryBody } from "./internal/terms.js"
import {
  type EntityRef,
  MemoryError,
  type MemoryInput,
  type MemoryLayer,
  MemoryLayers,
  migrateMemory
} from "./Memory.js"

/** What memory holds. */
export interface MemoryStatus {
  /** `sqlite` or `pg`. */
  readonly dialect: string
  /** Every entry ever recorded, closed ones included. */
  readonly total: number
  /** Entries that hold now. */
  readonly open: number
  /** Open entries per layer (every layer listed). */
  readonly layers: Readonly<Record<MemoryLayer, number>>
  /** Open entries per kind, most first. */
  readonly kinds: ReadonlyArray<{ readonly kind: string; readonly count: number }>
  /** Closed entries by why they closed (superseded, forgotten, compacted). */
  readonly closed: Readonly<Record<string, number>>
  /** When the newest entry was recorded; null when memory is empty. */
  readonly lastRecordedAt: string | null
  /** The full-text index: how many entries it lacks; `ok` when none and the index is consistent. */
  readonly index: { readonly ok: boolean; readonly missing: number; readonly problem: string | null }
}

interface CountRow {
  readonly name: string | null
  readonly n: number | string
}

const fail = (operation: string) => (cause: { readonly message: string }) =>
  new MemoryError({ operation, reason: cause.message })

/** What memory holds, per layer and kind, and whether its full-text index is whole. */
export const memoryStatus = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* migrateMemory.pipe(Effect.mapError((e) => new MemoryError({ operation: "status", reason: e.message })))
  const sqlite = sql.onDialectOrElse({ sqlite: () => true, orElse: () => false })
  const total = Number((yield* sql<{ readonly n: number | string }>`SELECT COUNT(*) AS n FROM so_memory`)[0]?.n ?? 0)
  const layerRows =
    yield* sql<CountRow>`SELECT layer AS name, COUNT(*) AS n FROM so_memory WHERE valid_to IS NULL GROUP BY layer`
  const kindRows =
    yield* sql<CountRow>`SELECT kind AS name, COUNT(*) AS n FROM so_memory WHERE valid_to IS NULL GROUP BY kind`
  const closedRows =
    yield* sql<CountRow>`SELECT closed_reason AS name, COUNT(*) AS n FROM so_memory WHERE valid_to IS NOT NULL GROUP BY closed_reason`
  const last = (yield* sql<{ readonly at: string | null }>`SELECT MAX(recorded_at) AS at FROM so_memory`)[0]?.at ?? null
  const missing = Number(
    (sqlite
      ? yield* sql<{
          readonly n: number | string
        }>`SELECT COUNT(*) AS n FROM so_memory m WHERE NOT EXISTS (SELECT 1 FROM so_memory_fts f WHERE f.rowid = m.seq)`
      : yield* sql<{ readonly n: number | string }>`SELECT COUNT(*) AS n FROM so_memory WHERE search IS NULL`)[0]?.n ??
      0
  )
  // FTS5 checks its own structures; a damaged index says so here instead of recalling wrongly.
  const problem = sqlite
    ? yield* sql`INSERT INTO so_memory_fts (so_memory_fts) VALUES ('integrity-check')`.pipe(
        Effect.as(null),
        Effect.catchTag("SqlError", (e) => Effect.succeed(e.message))
      )
    : null
  const layers = Object.fromEntries(MemoryLayers.map((l) => [l, 0])) as Record<MemoryLayer, number>
  for (const r of layerRows) if (r.name !== null) layers[r.name as MemoryLayer] = Number(r.n)
  // Closed entries by why: "compacted into <id>" counts as "compacted".
  const closed: Record<string, number> = {}
  for (const r of closedRows) {
    const reason = (r.name ?? "closed").replace(/^compacted into .*/, "compacted")
    closed[reason] = (closed[reason] ?? 0) + Number(r.n)
  }
  return {
    dialect: sqlite ? "sqlite" : "pg",
    total,
    open: Object.values(layers).reduce((a, b) => a + b, 0),
    layers,
    kinds: kindRows
      .map((r) => ({ kind: r.name ?? "?", count: Number(r.n) }))
      .sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind)),
    closed,
    lastRecordedAt: last,
    index: { ok: missing === 0 && problem === null, missing, problem }
  } satisfies MemoryStatus
}).pipe(
  Effect.catchTag("SqlError", (e) => Effect.fail(fail("status")(e))),
  Effect.withSpan("Memory.status")
)

/** Rebuilds the full-text index from every entry (closed ones too); returns how many entries it indexed. */
export const reindexMemory = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* migrateMemory.pipe(Effect.mapError((e) => new MemoryError({ operation: "reindex", reason: e.message })))
  const sqlite = sql.onDialectOrElse({ sqlite: () => true, orElse: () => false })
  return yield* sql.withTransaction(
    Effect.gen(function* () {
      if (sqlite) yield* sql`DELETE FROM so_memory_fts`
      let indexed = 0
      let after = -1
      for (;;) {
        const rows = yield* sql<{
          readonly seq: number | string
          readonly id: string
          readonly content: string
          readonly tags: string
          readonly scopes: string
        }>`
        SELECT seq, id, content, tags, scopes FROM so_memory WHERE seq > ${after} ORDER BY seq LIMIT 1000`
        if (rows.length === 0) break
        for (const r of rows) {
          const body = entryBody({
            content: r.content,
            tags: JSON.parse(r.tags) as Array<string>,
            scopes: JSON.parse(r.scopes) as Array<EntityRef>
          })
          yield* sqlite
            ? sql`INSERT INTO so_memory_fts (rowid, body) VALUES (${Number(r.seq)}, ${body})`
            : sql`UPDATE so_memory SET search = array_to_tsvector(string_to_array(${body}, ' ')) WHERE id = ${r.id}`
        }
        indexed += rows.length
        after = Number(rows.at(-1)!.seq)
      }
      return indexed
    })
  )
}).pipe(
  Effect.catchTag("SqlError", (e) => Effect.fail(fail("reindex")(e))),
  Effect.withSpan("Memory.reindex")
)

/**
 * A person's note as a memory entry (pure): procedural by default, keyed by its scope and text, so
 * adding the same note again changes nothing.
 */
export const noteInput = (input: {
  readonly text: string
  readonly scopes: ReadonlyArray<EntityRef>
  readonly kind?: string | undefined
  readonly layer?: MemoryLayer | undefined
  readonly tags?: ReadonlyArray<string> | undefined
  readonly by: string
}): MemoryInput => {
  const kind = input.kind ?? "note"
  const main = input.scopes[0]
  const hash = createHash("sha256").update(`${kind}\n${input.text}`).digest("hex").slice(0, 12)
  return {
    key: `${kind}:${main !== undefined ? `${main.type}:${main.id}` : "-"}:${hash}`,
    layer: input.layer ?? "procedural",
    kind,
    scopes: input.scopes,
    tags: [...(input.tags ?? []), "source:human", `by:${input.by}`],
    content: input.text
  }
}
