/** Finished runs of SPC-1 with their evidence in a real ledger, for the writer and learnings tests. */
import {
  ConditionResult,
  EvidenceBundle,
  Finding,
  GateVerdict,
  ReviewVerdict,
  RunRecord,
  StepResult,
  VerificationReport
} from "@spec-orch/contract"
import { EvidenceLedger } from "@spec-orch/evidence"
import { Redactor } from "@spec-orch/harness"
import { SqliteClient } from "@spec-orch/sqlite"
import { Effect, Layer, Schema } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Memory, RunMemory } from "../../src/index.js"

export const world = () => {
  const db = SqliteClient.layer({ filename: join(mkdtempSync(join(tmpdir(), "run-memory-")), "state.db") })
  const base = Layer.mergeAll(
    Memory.layer.pipe(Layer.provide(Redactor.layerFrom({}))),
    EvidenceLedger.layer().pipe(Layer.orDie)
  ).pipe(Layer.provideMerge(db))
  return RunMemory.layer.pipe(Layer.provideMerge(base))
}

export const verdictOf = (failed: ReadonlyArray<string>) =>
  new GateVerdict({
    policy: "default",
    profile: null,
    mergeable: failed.length === 0,
    autoMergeable: false,
    conditions: ["verification", "review"].map(
      (c) =>
        new ConditionResult({
          condition: c,
          required: true,
          status: failed.includes(c) ? "failed" : "passed",
          reason: failed.includes(c) ? `${c} did not pass` : "ok",
          ...(failed.includes(c) ? { unblock: `fix ${c}` } : {})
        })
    ),
    failed: [...failed],
    notJudgeable: []
  })

export const runOf = (n: number, failed: ReadonlyArray<string>) =>
  Schema.decodeUnknownSync(RunRecord)({
    runId: `run-SPC-1-${n}`,
    runKey: "SPC-1",
    issueId: "SPC-1",
    attempt: n,
    status: failed.length === 0 ? "succeeded" : "blocked",
    stage: "publish",
    startedAt: `2026-12-01T10:0${n}:00.000Z`,
    updatedAt: `2026-12-01T10:0${n}:30.000Z`,
    finishedAt: `2026-12-01T10:0${n}:30.000Z`,
    adapter: "codex",
    verdict: Schema.encodeSync(GateVerdict)(verdictOf(failed))
  })

export const bundleOf = (n: number, exitCode: number) =>
  new EvidenceBundle({
    schemaVersion: 1,
    issueId: "SPC-1",
    runId: `run-SPC-1-${n}`,
    changedFiles: ["src/parser.ts", "test/parser.test.ts"],
    verification: new VerificationReport({
      steps: [
        new StepResult({
          name: "test",
          outcome: exitCode === 0 ? "passed" : "failed",
          command: ["npm", "test"],
          exitCode,
          durationMs: 1200,
          outputTail: exitCode === 0 ? "ok" : "AssertionError: expected 2 to be 3 at parser.test.ts:14"
        })
      ],
      startedAt: "2026-12-01T10:00:00.000Z",
      finishedAt: "2026-12-01T10:00:10.000Z"
    }),
    review: new ReviewVerdict({
      verdict: "changes_requested",
      reviewedBy: "sam",
      source: "human",
      reviewedAt: "2026-12-01T10:05:00.000Z",
      summary: "Handle empty input"
    }),
    findings: [
      new Finding({
        id: "f-1",
        source: "human",
        severity: "blocking",
        scope: "in_spec",
        confidence: 0.9,
        fingerprint: "fp1",
        description: "parse('') throws",
        filePath: "src/parser.ts",
        line: 3,
        resolved: false,
        createdAt: "2026-12-01T10:05:00.000Z"
      })
    ]
  })

export const finish = (n: number, failed: ReadonlyArray<string>, exitCode: number) =>
  Effect.gen(function* () {
    const ledger = yield* EvidenceLedger
    const record = runOf(n, failed)
    yield* ledger.record(bundleOf(n, exitCode), record.verdict!)
    yield* (yield* RunMemory).record(record)
  })
