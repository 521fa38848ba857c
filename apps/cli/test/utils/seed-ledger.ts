/**
 * Judged runs written into a test project's evidence ledger (`.spec-orch/state.db`) through the real
 * `EvidenceLedger`: the history the evolvers learn from, without running agents for it.
 */
import {
  ConditionResult,
  EvidenceBundle,
  Footprint,
  GateVerdict,
  StepResult,
  VerificationReport
} from "@spec-orch/contract"
import { EvidenceLedger } from "@spec-orch/evidence"
import { SqliteClient } from "@spec-orch/sqlite"
import { Effect, Layer } from "effect"
import { mkdirSync } from "node:fs"
import { join } from "node:path"

/** One judged run. */
export interface SeededJudgement {
  readonly issueId: string
  readonly runId: string
  readonly changedFiles?: ReadonlyArray<string>
  /** The declared scope (`Footprint.allowed`). */
  readonly allowed?: ReadonlyArray<string>
  /** Required conditions that failed, each with its reason; none = mergeable. */
  readonly failed?: Readonly<Record<string, string>>
  /** Verification steps that failed: name → [command, output tail]. */
  readonly failedSteps?: Readonly<Record<string, readonly [string, string]>>
}

export const seedLedger = (root: string, runs: ReadonlyArray<SeededJudgement>) =>
  Effect.gen(function* () {
    const ledger = yield* EvidenceLedger
    for (const r of runs) {
      const failed = Object.entries(r.failed ?? {})
      const steps = Object.entries(r.failedSteps ?? {})
      yield* ledger.record(
        new EvidenceBundle({
          schemaVersion: 1,
          issueId: r.issueId,
          runId: r.runId,
          ...(r.changedFiles !== undefined ? { changedFiles: [...r.changedFiles] } : {}),
          ...(r.allowed !== undefined ? { footprint: new Footprint({ allowed: [...r.allowed], forbidden: [] }) } : {}),
          ...(steps.length > 0
            ? {
                verification: new VerificationReport({
                  steps: steps.map(
                    ([name, [command, tail]]) =>
                      new StepResult({
                        name,
                        outcome: "failed",
                        command: command.split(" "),
                        exitCode: 1,
                        durationMs: 100,
                        outputTail: tail
                      })
                  ),
                  startedAt: "2026-12-01T10:00:00.000Z",
                  finishedAt: "2026-12-01T10:00:01.000Z"
                })
              }
            : {})
        }),
        new GateVerdict({
          policy: "default",
          profile: null,
          mergeable: failed.length === 0,
          autoMergeable: false,
          conditions: failed.map(
            ([condition, reason]) =>
              new ConditionResult({ condition, required: true, status: "failed", reason, unblock: "fix it" })
          ),
          failed: failed.map(([c]) => c),
          notJudgeable: []
        })
      )
    }
  }).pipe(
    Effect.provide(
      Layer.unwrap(
        Effect.sync(() => {
          mkdirSync(join(root, ".spec-orch"), { recursive: true })
          return EvidenceLedger.layer().pipe(
            Layer.orDie,
            Layer.provide(SqliteClient.layer({ filename: join(root, ".spec-orch/state.db") }))
          )
        })
      )
    )
  )

/** Judged runs of `issues` that each changed src/routes.js outside their declared scope (`src/<issue>.js`). */
export const seedOutOfScopeRuns = (root: string, issues: ReadonlyArray<string>) =>
  seedLedger(
    root,
    issues.map((issueId) => {
      const own = `src/${issueId.toLowerCase()}.js`
      return {
        issueId,
        runId: `${issueId}-r1`,
        changedFiles: [own, "src/routes.js"],
        allowed: [own],
        failed: { within_boundaries: "src/routes.js (major) changed outside the declared scope" }
      }
    })
  )
