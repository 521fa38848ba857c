/**
 * The daemon's tables in the state database: the records it keeps (issues, claims, dead letters, refusals),
 * their migrations, and how a row reads back. Rule: a change to a table is a new migration, never an edit
 * of one that shipped.
 */
import { Effect } from "effect"
import { Migrator, SqlClient } from "effect/sql"

/** Where an issue stands for the daemon. */
export type DaemonIssueStatus =
  /** Seen, not dispatched yet. */
  | "new"
  /** Waiting for a person to answer the clarification comment. */
  | "clarifying"
  /** A run is in flight (or was, when the daemon stopped: it resumes it). */
  | "running"
  /** The last attempt failed; the next one is due at `retryAt`. */
  | "retry"
  /** Finished: the run reached a verdict a person acts on (pull request, review). */
  | "done"
  /** Gave up after `[daemon] max_retries`; `dlq-retry` releases it. */
  | "dead"
  /** The tracker moved the issue away mid-run; a new attempt starts if it comes back. */
  | "cancelled"

/** The daemon's record of one issue. */
export interface DaemonIssue {
  readonly issueId: string
  readonly status: DaemonIssueStatus
  readonly runKey: string | null
  readonly lastRunId: string | null
  /** Failed attempts so far. */
  readonly retryCount: number
  /** Epoch milliseconds when the next attempt is due (status `retry`). */
  readonly retryAt: number | null
  /** Re-verify this run's agent outcome on the next attempt instead of running the agent again. */
  readonly reuseAgentOf: string | null
  readonly lastError: string | null
  readonly prNumber: number | null
  /** The head commit the daemon last published (the feedback loop compares it with the PR's head). */
  readonly prHead: string | null
  /** The tracker's `updatedAt` when the daemon finished with the issue (a later move re-opens it). */
  readonly trackerUpdatedAt: string | null
  readonly updatedAt: string
  readonly finishedAt: string | null
}

/** A claim: who may dispatch an issue, until when. */
export interface Claim {
  readonly issueId: string
  readonly owner: string
  readonly runId: string | null
  readonly expiresAt: number
}

/** A dead-lettered issue. */
export interface DeadLetter {
  readonly issueId: string
  readonly reason: string
  readonly attempts: number
  readonly lastRunId: string | null
  readonly deadAt: string
}

/** An issue the intake allow-list refused: who filed it and why no rule admitted it (never its text). */
export interface Refusal {
  readonly issueId: string
  readonly who: string
  readonly reason: string
  readonly firstAt: string
  readonly lastAt: string
}

const migrations = Migrator.fromRecord({
  "0001_daemon": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE IF NOT EXISTS so_daemon_issues (
      issue_id TEXT PRIMARY KEY,
      status TEXT NOT NULL,
      run_key TEXT,
      last_run_id TEXT,
      retry_count INTEGER NOT NULL,
      retry_at BIGINT,
      reuse_agent_of TEXT,
      last_error TEXT,
      pr_number INTEGER,
      pr_head TEXT,
      tracker_updated_at TEXT,
      updated_at TEXT NOT NULL,
      finished_at TEXT
    )`
    yield* sql`CREATE INDEX IF NOT EXISTS so_daemon_issues_status ON so_daemon_issues (status)`
    yield* sql`CREATE TABLE IF NOT EXISTS so_daemon_claims (
      issue_id TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      run_id TEXT,
      expires_at BIGINT NOT NULL,
      updated_at TEXT NOT NULL
    )`
    yield* sql`CREATE TABLE IF NOT EXISTS so_daemon_dead_letters (
      issue_id TEXT PRIMARY KEY,
      reason TEXT NOT NULL,
      attempts INTEGER NOT NULL,
      last_run_id TEXT,
      dead_at TEXT NOT NULL
    )`
    yield* sql`CREATE TABLE IF NOT EXISTS so_daemon_meta (
      meta_key TEXT PRIMARY KEY,
      meta_value TEXT NOT NULL
    )`
    yield* sql`CREATE TABLE IF NOT EXISTS so_daemon_marks (
      mark TEXT PRIMARY KEY,
      created_at TEXT NOT NULL
    )`
  }),
  "0002_daemon_refusals": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE IF NOT EXISTS so_daemon_refusals (
      issue_id TEXT PRIMARY KEY,
      who TEXT NOT NULL,
      reason TEXT NOT NULL,
      first_at TEXT NOT NULL,
      last_at TEXT NOT NULL
    )`
  }),
  "0003_daemon_leader": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // The leader now (one row), and every daemon that ever led (their run locks go to the leader).
    yield* sql`CREATE TABLE IF NOT EXISTS so_daemon_leader (
      name TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      since TEXT NOT NULL
    )`
    yield* sql`CREATE TABLE IF NOT EXISTS so_daemon_leaders (
      owner TEXT PRIMARY KEY,
      since TEXT NOT NULL
    )`
  })
})

/** Runs the daemon tables' migrations (idempotent; its own migrations table). */
export const migrateDaemonStore = Migrator.make({})({ loader: migrations, table: "so_daemon_migrations" })

/** A row of `so_daemon_issues` as the drivers return it (integers may come back as bigint). */
export interface IssueRow {
  readonly issue_id: string
  readonly status: string
  readonly run_key: string | null
  readonly last_run_id: string | null
  readonly retry_count: number | bigint
  readonly retry_at: number | bigint | null
  readonly reuse_agent_of: string | null
  readonly last_error: string | null
  readonly pr_number: number | bigint | null
  readonly pr_head: string | null
  readonly tracker_updated_at: string | null
  readonly updated_at: string
  readonly finished_at: string | null
}

/** The daemon's record of an issue from its row. */
export const toIssue = (r: IssueRow): DaemonIssue => ({
  issueId: r.issue_id,
  status: r.status as DaemonIssueStatus,
  runKey: r.run_key,
  lastRunId: r.last_run_id,
  retryCount: Number(r.retry_count),
  retryAt: r.retry_at === null ? null : Number(r.retry_at),
  reuseAgentOf: r.reuse_agent_of,
  lastError: r.last_error,
  prNumber: r.pr_number === null ? null : Number(r.pr_number),
  prHead: r.pr_head,
  trackerUpdatedAt: r.tracker_updated_at,
  updatedAt: r.updated_at,
  finishedAt: r.finished_at
})

/** Fields of an issue record a caller may change. */
export type DaemonIssuePatch = Partial<Omit<DaemonIssue, "issueId" | "updatedAt">>
