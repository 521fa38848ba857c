/**
 * The evidence the rule evolvers learn from: every finished run the evidence ledger judged, whether it
 * succeeded (the gate found it mergeable) or failed (a required condition was judged and failed), and the
 * agent events spec-orch recorded for it (`.spec-orch/runs/<run>/events.jsonl`, already redacted). A run
 * still waiting for a review or an acceptance is neither, and a run without an event log has no events.
 */
import { type AgentEvent, Project } from "@spec-orch/contract"
import { EvidenceLedger } from "@spec-orch/evidence"
import { parseEventLog } from "@spec-orch/harness"
import { Effect, FileSystem, Path } from "effect"

/** One finished run as the evolvers see it. */
export interface RunEvidence {
  readonly runId: string
  readonly issueId: string
  readonly outcome: "succeeded" | "failed"
  readonly events: ReadonlyArray<AgentEvent>
}

/** At most this many runs (the most recent) are read. */
export const MAX_EVIDENCE_RUNS = 500

/** The finished runs with their outcome and agent events, oldest first. */
export const finishedRuns = (limit: number = MAX_EVIDENCE_RUNS) =>
  Effect.gen(function* () {
    const ledger = yield* EvidenceLedger
    const project = yield* Project
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    // A run is judged again after a review or acceptance: its last record is its outcome.
    const last = new Map<string, { issueId: string; mergeable: boolean; failed: boolean }>()
    for (const r of yield* ledger.between({})) {
      if (r.runId === null) continue
      last.delete(r.runId)
      last.set(r.runId, { issueId: r.issueId, mergeable: r.verdict.mergeable, failed: r.verdict.failed.length > 0 })
    }
    const runs: Array<RunEvidence> = []
    for (const [runId, v] of [...last].slice(-limit)) {
      if (!v.mergeable && !v.failed) continue
      const text = yield* fs
        .readFileString(path.join(project.stateDir, "runs", runId, "events.jsonl"))
        .pipe(Effect.orElseSucceed(() => ""))
      runs.push({
        runId,
        issueId: v.issueId,
        outcome: v.mergeable ? "succeeded" : "failed",
        events: parseEventLog(text, `${runId}/events.jsonl`).events
      })
    }
    return runs
  }).pipe(Effect.withSpan("RunEvidence.finishedRuns"))
