/**
 * Finished runs written straight into a test project's run store, copies of a real run with another
 * day, adapter, gate profile, verdict and cost: a store with history, for the dashboard's charts.
 */
import { createRequire } from "node:module"
import { join } from "node:path"

/** One seeded run. */
export interface SeededRun {
  /** YYYY-MM-DD: it starts at 09:00 UTC that day and runs a minute. */
  readonly day: string
  readonly adapter: string
  readonly profile: string
  readonly mergeable: boolean
  readonly costUsd: number
}

interface Db {
  prepare: (q: string) => { get: (...a: Array<unknown>) => any; run: (...a: Array<unknown>) => unknown }
  close: () => void
}

/** Copies the run `fromRunId` once per `runs` entry, as attempts 100, 101, …; returns their run ids. */
export const seedRuns = (root: string, fromRunId: string, runs: ReadonlyArray<SeededRun>): Array<string> => {
  const Database = createRequire(import.meta.url)("better-sqlite3") as new (file: string) => Db
  const db = new Database(join(root, ".spec-orch/state.db"))
  try {
    const row = db.prepare("SELECT * FROM so_runs WHERE run_id = ?").get(fromRunId)
    if (row === undefined) throw new Error(`no run ${fromRunId} to copy`)
    const insert = db.prepare(
      "INSERT INTO so_runs (run_id, run_key, issue_id, attempt, status, stage, owner, started_at, updated_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    const original = JSON.parse(row.record)
    return runs.map((r, i) => {
      const attempt = 100 + i
      const runId = `${row.issue_id}-r${attempt}`
      const startedAt = `${r.day}T09:00:00.000Z`
      const finishedAt = `${r.day}T09:01:00.000Z`
      const status = r.mergeable ? "succeeded" : "blocked"
      const record = {
        ...original,
        runId,
        attempt,
        status,
        startedAt,
        updatedAt: finishedAt,
        finishedAt,
        adapter: r.adapter,
        costUsd: r.costUsd,
        verdict: { ...original.verdict, profile: r.profile, mergeable: r.mergeable }
      }
      insert.run(
        runId,
        row.run_key,
        row.issue_id,
        attempt,
        status,
        row.stage,
        row.owner,
        startedAt,
        finishedAt,
        JSON.stringify(record)
      )
      return runId
    })
  } finally {
    db.close()
  }
}

/** The history both dashboard tests seed: four runs over three days, two adapters, two profiles. */
export const HISTORY: ReadonlyArray<SeededRun> = [
  { day: "2026-11-20", adapter: "command", profile: "e2e", mergeable: true, costUsd: 0.5 },
  { day: "2026-11-20", adapter: "codex", profile: "e2e", mergeable: false, costUsd: 0.25 },
  { day: "2026-11-21", adapter: "command", profile: "strict", mergeable: true, costUsd: 1 },
  { day: "2026-11-22", adapter: "codex", profile: "strict", mergeable: true, costUsd: 0.1 }
]
