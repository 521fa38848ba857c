/**
 * Memory at scale, on a SQLite file, at 20,000 and then 100,000 entries (BENCH_MEMORY_SIZES to change,
 * e.g. `5000,20000`): recall latency (p50/p95 over 200 queries of each sort), and what recording a
 * finished run adds to the run (the ledger read plus the memory write, p50 and p95 over 50 runs, at
 * the largest size). The entries are what the run writer records — outcomes, failed conditions,
 * failing steps, findings — over 2,000 files and 5,000 issues, with an English vocabulary of 5,000
 * words plus the words every entry shares ("failed", "run", …) and Chinese text in one entry in ten.
 * With BENCH_MEMORY_PG_URL (a Postgres database the user owns, emptied of memory tables first), the
 * same on Postgres.
 *
 * Then the same recalls with vectors (an embedding model configured): every entry gets a 384-dimension
 * vector (the size of bge-small; written straight to the table, as background embedding would), the
 * query is embedded by the scripted model server on 127.0.0.1 over the OpenAI wire format, and recall
 * ranks by vectors alone and fused with full text. Beside each, the floor: the same embedding request
 * sent with a bare `fetch` (what any vector recall waits for), timed alternately with the recall, and
 * full text alone (above). The first recall of a fresh process (which reads every vector) is timed too.
 */
import {
  ConditionResult,
  EvidenceBundle,
  GateVerdict,
  RunRecord,
  StepResult,
  VerificationReport
} from "@spec-orch/contract"
import { EvidenceLedger } from "@spec-orch/evidence"
import { parseConfig } from "@spec-orch/contract"
import { Embeddings, Redactor } from "@spec-orch/harness"
import { bagOfWords, bagOfWordsEmbedder, startModelServer } from "@spec-orch/test-kit"
import { ConfigProvider } from "effect"
import { FetchHttpClient } from "effect/http"
import { SqlClient as Sql } from "effect/sql"
import { normalized, toBlob } from "../src/internal/vectors.js"
import { SqliteClient } from "@spec-orch/sqlite"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted, Schema } from "effect"
import type { SqlClient } from "effect/sql"
import { mkdtempSync } from "node:fs"
import { availableParallelism, loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { Memory, type MemoryInput, RunMemory, runEntries } from "../src/index.js"

const SIZES = (process.env.BENCH_MEMORY_SIZES ?? "20000,100000").split(",").map(Number)
/** The entries recorded so far. */
let N = 0
let seed = 42
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}
const pick = <A>(xs: ReadonlyArray<A>) => xs[Math.floor(rand() * xs.length)]!
const syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "sa", "do", "gu", "fe", "hi", "ja", "bo"]
const vocabulary = Array.from(
  { length: 5000 },
  (_, i) => `${syllables[i % 16]}${syllables[Math.floor(i / 16) % 16]}${syllables[Math.floor(i / 256) % 16]}${i % 7}`
)
const hanzi = "数据库连接超时导致测试失败缓存页面登录修复问题配置文件解析器错误构建依赖版本冲突网络请求重试".split("")
const sentence = (n: number) => Array.from({ length: n }, () => pick(vocabulary)).join(" ")
const kinds = ["run-outcome", "failed-condition", "verification-failed", "finding"]

const entry = (i: number): MemoryInput => {
  const issue = `SPC-${Math.floor(rand() * 5000)}`
  const kind = kinds[i % kinds.length]!
  const zh = i % 10 === 0 ? ` ${Array.from({ length: 12 }, () => pick(hanzi)).join("")}` : ""
  return {
    key: `${kind}:${i}`,
    layer: "episodic",
    kind,
    scopes: [
      { type: "issue", id: issue },
      { type: "file", id: `src/m${Math.floor(rand() * 2000)}.ts` }
    ],
    tags: [`outcome:${i % 3 === 0 ? "pass" : "fail"}`, `adapter:${pick(["codex", "claude", "opencode"])}`],
    provenance: { runIds: [`${issue}-r${i % 5}`] },
    content: `${kind} in run ${issue}-r${i % 5}: verification failed, ${sentence(14)}${zh}`
  }
}

const percentile = (xs: Array<number>, p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!
const round = (x: number) => Math.round(x * 10) / 10
const load = () => `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`
const report = (metric: string, value: number, unit: string, extra: Record<string, string> = {}) =>
  console.log(JSON.stringify({ bench: "memory", metric, value: Math.round(value * 10) / 10, unit, ...extra }))

const time = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const start = performance.now()
    yield* effect
    return performance.now() - start
  })

const DIMS = 384

const recallSorts = (): Record<string, () => Parameters<Memory["Service"]["recall"]>[0]> => ({
  "recall two words": () => ({ text: `${pick(vocabulary)} ${pick(vocabulary)}` }),
  "recall CJK": () => ({ text: `${pick(hanzi)}${pick(hanzi)}${pick(hanzi)}` }),
  "recall common words": () => ({ text: "verification failed" }),
  "recall in a file": () => ({
    text: pick(vocabulary),
    scopes: [{ type: "file", id: `src/m${Math.floor(rand() * 2000)}.ts` }]
  })
})

const model = "embed/bench-embedding"
/** Vectors for the entries holding now that have none yet (what the background embedder would write). */
const storeVectors = Effect.gen(function* () {
  const sql = yield* Sql.SqlClient
  const start = performance.now()
  let after = -1
  let stored = 0
  for (;;) {
    const rows = yield* sql<{
      readonly seq: number
      readonly id: string
      readonly content: string
    }>`SELECT m.seq, m.id, m.content FROM so_memory m WHERE m.valid_to IS NULL AND m.seq > ${after}
        AND NOT EXISTS (SELECT 1 FROM so_memory_vectors v WHERE v.entry_id = m.id) ORDER BY m.seq LIMIT 1000`
    if (rows.length === 0) break
    const [first, ...rest] = rows.map((r) => ({
      entry_id: r.id,
      model,
      dims: DIMS,
      vector: toBlob(normalized(bagOfWords(r.content, DIMS))),
      embedded_at: new Date().toISOString()
    }))
    yield* sql`INSERT INTO so_memory_vectors ${sql.insert([first!, ...rest])}`
    after = Number(rows.at(-1)!.seq)
    stored += rows.length
  }
  report(`store ${DIMS}-dimension vectors of ${stored} entries`, (performance.now() - start) / 1000, "s")
})

/** Memory with the embedding model of the scripted server at `url`. */
const vectorMemory = (url: string) => {
  const { config } = parseConfig(
    `[models.embed]\nmodel = "bench-embedding"\napi_type = "openai"\napi_key_env = "BENCH_KEY"\napi_base = "${url}/v1"\n[memory]\nembedding_model = "embed"\n`,
    "spec-orch.toml"
  )
  // Fresh: the full-text Memory of the bench would otherwise be reused (layers are memoized).
  return Layer.fresh(Memory.layer).pipe(
    Layer.provide(
      Layer.mergeAll(
        Redactor.layerFrom({}),
        Embeddings.layerConfig(config!).pipe(
          Layer.provide(FetchHttpClient.layer),
          Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { BENCH_KEY: "sk-bench" } })))
        )
      )
    )
  )
}

/** Recall with vectors, by vectors alone and fused with full text, over the entries recorded so far. */
const vectorBench = Effect.gen(function* () {
  const server = yield* Effect.acquireRelease(
    Effect.promise(() => startModelServer({ embedder: bagOfWordsEmbedder({ dims: DIMS }) })),
    (s) => Effect.promise(() => s.close())
  )
  yield* storeVectors
  const memory = yield* Effect.service(Memory).pipe(Effect.provide(vectorMemory(server.url)))
  report(
    `first recall with vectors (reads every vector), ${N} entries`,
    yield* time(memory.recall({ text: "kalomi0" })),
    "ms",
    {
      note: load()
    }
  )
  // The floor: the query's embedding request alone, as a bare fetch (what every vector recall waits for).
  const bare = (text: string) =>
    Effect.promise(async () => {
      const t0 = performance.now()
      const r = await fetch(`${server.url}/v1/embeddings`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer sk-bench" },
        body: JSON.stringify({ model: "bench-embedding", input: [text], encoding_format: "float" })
      })
      JSON.parse(await r.text())
      return performance.now() - t0
    })
  for (const [name, query] of Object.entries(recallSorts())) {
    for (const [how, retrievers] of [
      ["by vectors alone", ["vector"]],
      ["fused with full text", ["fts", "vector"]]
    ] as const) {
      for (let i = 0; i < 10; i++) yield* memory.search({ ...query(), retrievers })
      const times: Array<number> = []
      const floor: Array<number> = []
      let used = 0
      for (let i = 0; i < 200; i++) {
        const q = { ...query(), retrievers }
        // Alternate which goes first, so neither always runs on a warmer connection.
        if (i % 2 === 1) floor.push(yield* bare(q.text ?? ""))
        const t0 = performance.now()
        const r = yield* memory.search(q)
        times.push(performance.now() - t0)
        if (i % 2 === 0) floor.push(yield* bare(q.text ?? ""))
        if (r.vector.state === "used") used++
      }
      if (used < 200)
        throw new Error(
          `${name}: vectors took part in ${used} of 200 recalls: ${JSON.stringify((yield* memory.search(query())).vector)}`
        )
      report(`${name} ${how} p50`, percentile(times, 0.5), "ms", {
        note: `floor (the query's embedding request alone) ${round(percentile(floor, 0.5))} ms`
      })
      report(`${name} ${how} p95`, percentile(times, 0.95), "ms", {
        target: "< 20 ms",
        note: `floor ${round(percentile(floor, 0.95))} ms; ${N} entries, ${DIMS} dims, 200 recalls, exact brute force (int8 SIMD scan + float re-rank)${pg !== undefined ? ", Postgres" : ""}; ${load()}`
      })
    }
  }
}).pipe(Effect.scoped)

/** Records entries up to `size`, then times full-text recall. */
const recallBench = (size: number) =>
  Effect.gen(function* () {
    const memory = yield* Memory
    const start = performance.now()
    const from = N
    for (let b = from; b < size; b += 1000)
      yield* memory.rememberAll(Array.from({ length: Math.min(1000, size - b) }, (_, i) => entry(b + i)))
    N = size
    report(`record entries ${from} to ${size}`, (performance.now() - start) / 1000, "s")
    const sorts: Record<string, () => Parameters<typeof memory.recall>[0]> = {
      ...recallSorts(),
      "learnings for an issue": () => ({
        scopes: [
          { type: "issue", id: `SPC-${Math.floor(rand() * 5000)}` },
          { type: "file", id: `src/m${Math.floor(rand() * 2000)}.ts` }
        ],
        kinds: ["failed-condition", "verification-failed", "finding", "review"],
        limit: 50
      })
    }
    for (const [name, query] of Object.entries(sorts)) {
      for (let i = 0; i < 20; i++) yield* memory.recall(query())
      const times: Array<number> = []
      for (let i = 0; i < 200; i++) times.push(yield* time(memory.recall(query())))
      report(`${name} p50`, percentile(times, 0.5), "ms")
      report(`${name} p95`, percentile(times, 0.95), "ms", {
        target: "< 20 ms",
        note: `full text alone, ${N} entries${pg !== undefined ? ", Postgres" : ""}; ${load()}`
      })
    }
  })

const verdict = (failed: boolean) =>
  new GateVerdict({
    policy: "default",
    profile: null,
    mergeable: !failed,
    autoMergeable: false,
    conditions: [
      new ConditionResult({
        condition: "verification",
        required: true,
        status: failed ? "failed" : "passed",
        reason: failed ? "unit failed" : "ok"
      })
    ],
    failed: failed ? ["verification"] : [],
    notJudgeable: []
  })

let recorded = 0
/**
 * Records finished runs: every other one through the run writer (timed whole), the others step by
 * step as the writer does them (the ledger read, the open failures' recall, the memory write), to
 * show where the time goes.
 */
const recordBench = (how: string) =>
  Effect.gen(function* () {
    const ledger = yield* EvidenceLedger
    const writer = yield* RunMemory
    const memory = yield* Memory
    const times: Array<number> = []
    const parts = {
      "ledger read": [] as Array<number>,
      "open failures recall": [] as Array<number>,
      "memory write": [] as Array<number>
    }
    for (let j = 0; j < 110; j++) {
      const i = recorded++
      // Half of the runs fail, in both halves (each writer-timed run is followed by a step-by-step one).
      const failed = i % 4 < 2
      const runId = `SPC-${i % 10}-r${i}`
      const record = Schema.decodeUnknownSync(RunRecord)({
        runId,
        runKey: `SPC-${i % 10}`,
        issueId: `SPC-${i % 10}`,
        attempt: i + 1,
        status: failed ? "blocked" : "succeeded",
        stage: "publish",
        startedAt: new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString(),
        updatedAt: new Date(Date.UTC(2026, 11, 1, 0, i, 30)).toISOString(),
        adapter: "codex",
        verdict: Schema.encodeSync(GateVerdict)(verdict(failed))
      })
      yield* ledger.record(
        new EvidenceBundle({
          schemaVersion: 1,
          issueId: record.issueId,
          runId,
          changedFiles: ["src/a.ts", "src/b.ts", "test/a.test.ts"],
          verification: new VerificationReport({
            steps: [
              new StepResult({
                name: "unit",
                outcome: failed ? "failed" : "passed",
                command: ["npm", "test"],
                exitCode: failed ? 1 : 0,
                durationMs: 900,
                outputTail: failed ? sentence(60) : "ok"
              })
            ],
            startedAt: record.startedAt,
            finishedAt: record.updatedAt
          })
        }),
        record.verdict!
      )
      if (j % 2 === 0) {
        const ms = yield* time(writer.record(record))
        if (j >= 10) times.push(ms)
        continue
      }
      const t0 = performance.now()
      const bundle = (yield* ledger.byRun(runId)).at(-1)?.bundle
      const t1 = performance.now()
      const open = yield* memory.recall({
        scopes: [{ type: "issue", id: record.issueId }],
        kinds: ["failed-condition", "verification-failed"],
        limit: 1000
      })
      const t2 = performance.now()
      yield* memory.rememberAll(
        runEntries(record, bundle, new Map(open.map((h) => [h.entry.key, h.entry.provenance.runIds])))
      )
      if (j >= 10) {
        parts["ledger read"].push(t1 - t0)
        parts["open failures recall"].push(t2 - t1)
        parts["memory write"].push(performance.now() - t2)
      }
    }
    report(`recording a finished run ${how} p50`, percentile(times, 0.5), "ms", {
      note: `${Object.entries(parts)
        .map(([part, xs]) => `${part} ${round(percentile(xs, 0.5))}`)
        .join(", ")} ms`
    })
    report(`recording a finished run ${how} p95`, percentile(times, 0.95), "ms", {
      target: "< 20 ms",
      note: `${Object.entries(parts)
        .map(([part, xs]) => `${part} ${round(percentile(xs, 0.95))}`)
        .join(
          ", "
        )} ms (p95 of each, over 50 other runs); ledger read + memory write, with ${N} entries in memory, 50 runs; ${load()}`
    })
  })

/** Recording with an embedding model: the background embedder embeds each run's entries meanwhile. */
const recordWithVectors = Effect.gen(function* () {
  const server = yield* Effect.acquireRelease(
    Effect.promise(() => startModelServer({ embedder: bagOfWordsEmbedder({ dims: DIMS }) })),
    (s) => Effect.promise(() => s.close())
  )
  yield* recordBench("with an embedding model").pipe(
    Effect.provide(Layer.fresh(RunMemory.layer).pipe(Layer.provideMerge(vectorMemory(server.url))))
  )
}).pipe(Effect.scoped)

const pg = process.env.BENCH_MEMORY_PG_URL
const db: Layer.Layer<SqlClient.SqlClient> =
  pg !== undefined
    ? PgClient.layer({ url: Redacted.make(pg) }).pipe(Layer.orDie)
    : SqliteClient.layer({ filename: join(mkdtempSync(join(tmpdir(), "memory-bench-")), "state.db") })
const layer = RunMemory.layer.pipe(
  Layer.provideMerge(
    Layer.mergeAll(Memory.layer.pipe(Layer.provide(Redactor.layerFrom({}))), EvidenceLedger.layer().pipe(Layer.orDie))
  ),
  Layer.provideMerge(db)
)
Effect.runPromise(
  Effect.forEach(SIZES, (size) => Effect.andThen(recallBench(size), vectorBench), { discard: true }).pipe(
    Effect.andThen(recordBench("without an embedding model")),
    Effect.andThen(recordWithVectors),
    Effect.provide(layer)
  )
).catch((e) => {
  console.error(e)
  process.exit(1)
})
