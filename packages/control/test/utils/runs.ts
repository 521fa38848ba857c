/** Run records for run store tests (SQLite and PostgreSQL alike). */
import { makeIssueId, makeRunId, makeRunKey, RunRecord } from "@spec-orch/contract"

/** Attempt `attempt` of issue T-1, started a second per attempt after 10:00. */
export const record = (attempt: number, status: RunRecord["status"] = "running") =>
  new RunRecord({
    runId: makeRunId(`T-1-r${attempt}`),
    runKey: makeRunKey("T-1"),
    issueId: makeIssueId("T-1"),
    attempt,
    status,
    stage: "load",
    startedAt: `2026-11-25T10:00:0${attempt}.000Z`,
    updatedAt: `2026-11-25T10:00:0${attempt}.000Z`
  })
