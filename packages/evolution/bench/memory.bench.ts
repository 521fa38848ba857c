/**
 * Memory at scale, on a SQLite file: recall latency (p50/p95 over 200 queries of each sort) with
 * 100k entries (BENCH_MEMORY_ENTRIES to change), and what recording a finished run adds to the run
 * (the ledger read plus the memory write, median and p95 over 50 runs). The entries are what the run
 * writer records — outcomes, failed conditions, failing steps, findings — over 2,000 files and 5,000
 * issues, with an English vocabulary of 5,000 words plus the words every entry shares
 * ("failed", "run", …) and Chinese text in one entry in ten. With BENCH_MEMORY_PG_URL (a Postgres
 * database the user owns, emptied of memory tables first), the same on Postgres.
 */
import { ConditionResult, EvidenceBundle, GateVerdict, RunRecord, StepResult, VerificationReport } from "@spec-orch/contract"
import { EvidenceLedger } from "@spec-orch/evidence"
import { Redactor } from "@spec-orch/harness"
import { SqliteClient } from "@spec-orch/sqlite"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted, Schema } from "effect"
import type { SqlClient } from "effect/sql"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Memory, type MemoryInput, RunMemory } from "../src/index.js"

const N = Number(process.env.BENCH_MEMORY_ENTRIES ?? 100_000)
let seed = 42
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
const pick = <A>(xs: ReadonlyArray<A>) => xs[Math.floor(rand() * xs.length)]!
const syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "sa", "do", "gu", "fe", "hi", "ja", "bo"]
const vocabulary = Array.from({ length: 5000 }, (_, i) => `${syllables[i % 16]}${syllables[Math.floor(i / 16) % 16]}${syllables[Math.floor(i / 256) % 16]}${i % 7}`)
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
    scopes: [{ type: "issue", id: issue }, { type: "file", id: `src/m${Math.floor(rand() * 2000)}.ts` }],
    tags: [`outcome:${i % 3 === 0 ? "pass" : "fail"}`, `adapter:${pick(["codex", "claude", "opencode"])}`],
    provenance: { runIds: [`${issue}-r${i % 5}`] },
    content: `${kind} in run ${issue}-r${i % 5}: verification failed, ${sentence(14)}${zh}`
  }
}

const percentile = (xs: Array<number>, p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!
const report = (metric: string, value: number, unit: string, extra: Record<string, string> = {}) =>
  console.log(JSON.stringify({ bench: "memory", metric, value: Math.round(value * 10) / 10, unit, ...extra }))

const time = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    yield* effect
    return performance.now() - start
  })

const recallBench = Effect.gen(function*() {
  const memory = yield* Memory
  const start = performance.now()
  for (let b = 0; b < N; b += 1000) yield* memory.rememberAll(Array.from({ length: Math.min(1000, N - b) }, (_, i) => entry(b + i)))
  report(`record ${N} entries`, (performance.now() - start) / 1000, "s")
  const sorts: Record<string, () => Parameters<typeof memory.recall>[0]> = {
    "recall two words": () => ({ text: `${pick(vocabulary)} ${pick(vocabulary)}` }),
    "recall CJK": () => ({ text: `${pick(hanzi)}${pick(hanzi)}${pick(hanzi)}` }),
    "recall common words": () => ({ text: "verification failed" }),
    "recall in a file": () => ({ text: pick(vocabulary), scopes: [{ type: "file", id: `src/m${Math.floor(rand() * 2000)}.ts` }] }),
    "learnings for an issue": () => ({ scopes: [{ type: "issue", id: `SPC-${Math.floor(rand() * 5000)}` }, { type: "file", id: `src/m${Math.floor(rand() * 2000)}.ts` }], kinds: ["failed-condition", "verification-failed", "finding", "review"], limit: 50 })
  }
  for (const [name, query] of Object.entries(sorts)) {
    for (let i = 0; i < 20; i++) yield* memory.recall(query())
    const times: Array<number> = []
    for (let i = 0; i < 200; i++) times.push(yield* time(memory.recall(query())))
    report(`${name} p50`, percentile(times, 0.5), "ms")
    report(`${name} p95`, percentile(times, 0.95), "ms", { target: "< 20 ms", note: `${N} entries${pg !== undefined ? ", Postgres" : ""}` })
  }
})

const verdict = (failed: boolean) =>
  new GateVerdict({
    policy: "default",
    profile: null,
    mergeable: !failed,
    autoMergeable: false,
    conditions: [new ConditionResult({ condition: "verification", required: true, status: failed ? "failed" : "passed", reason: failed ? "unit failed" : "ok" })],
    failed: failed ? ["verification"] : [],
    notJudgeable: []
  })

const recordBench = Effect.gen(function*() {
  const ledger = yield* EvidenceLedger
  const writer = yield* RunMemory
  const times: Array<number> = []
  for (let i = 0; i < 60; i++) {
    const failed = i % 2 === 0
    const runId = `SPC-${i % 10}-r${i}`
    const record = Schema.decodeUnknownSync(RunRecord)({
      runId, runKey: `SPC-${i % 10}`, issueId: `SPC-${i % 10}`, attempt: i + 1, status: failed ? "blocked" : "succeeded", stage: "publish",
      startedAt: new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString(), updatedAt: new Date(Date.UTC(2026, 11, 1, 0, i, 30)).toISOString(),
      adapter: "codex", verdict: Schema.encodeSync(GateVerdict)(verdict(failed))
    })
    yield* ledger.record(new EvidenceBundle({
      schemaVersion: 1, issueId: record.issueId, runId, changedFiles: ["src/a.ts", "src/b.ts", "test/a.test.ts"],
      verification: new VerificationReport({ steps: [new StepResult({ name: "unit", outcome: failed ? "failed" : "passed", command: ["npm", "test"], exitCode: failed ? 1 : 0, durationMs: 900, outputTail: failed ? sentence(60) : "ok" })], startedAt: record.startedAt, finishedAt: record.updatedAt })
    }), record.verdict!)
    const ms = yield* time(writer.record(record))
    if (i >= 10) times.push(ms)
  }
  report("recording a finished run p50", percentile(times, 0.5), "ms")
  report("recording a finished run p95", percentile(times, 0.95), "ms", { target: "< 20 ms", note: `ledger read + memory write, with ${N} entries in memory` })
})

const pg = process.env.BENCH_MEMORY_PG_URL
const db: Layer.Layer<SqlClient.SqlClient> = pg !== undefined
  ? PgClient.layer({ url: Redacted.make(pg) }).pipe(Layer.orDie)
  : SqliteClient.layer({ filename: join(mkdtempSync(join(tmpdir(), "memory-bench-")), "state.db") })
const layer = RunMemory.layer.pipe(
  Layer.provideMerge(Layer.mergeAll(Memory.layer.pipe(Layer.provide(Redactor.layerFrom({}))), EvidenceLedger.layer().pipe(Layer.orDie))),
  Layer.provideMerge(db)
)
Effect.runPromise(Effect.andThen(recallBench, recordBench).pipe(Effect.provide(layer))).catch((e) => {
  console.error(e)
  process.exit(1)
})
