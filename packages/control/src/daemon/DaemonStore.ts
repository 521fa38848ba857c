/**
 * The daemon's durable state in the state database: what it knows about each tracker issue (status,
 * retries and when the next one is due, the last run, the pull request), claims with a lease (one
 * owner per issue), dead letters, issues the intake allow-list refused, small meta values and
 * reaction marks. Plain SQL over `effect/sql`
 * (TEXT, INTEGER, BIGINT, `ON CONFLICT … DO UPDATE`), so it runs on SQLite and Postgres alike.
 */
import { Redactor } from "@spec-orch/harness"
import { Clock, Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import {
  type Claim,
  type DaemonIssue,
  type DaemonIssuePatch,
  type DaemonIssueStatus,
  type DeadLetter,
  type IssueRow,
  migrateDaemonStore,
  type Refusal,
  toIssue
} from "./DaemonTables.js"

/** The leader row's name: one daemon per state database. */
const LEADER = "daemon"

export {
  type Claim,
  type DaemonIssue,
  type DaemonIssuePatch,
  type DaemonIssueStatus,
  type DeadLetter,
  migrateDaemonStore,
  type Refusal
} from "./DaemonTables.js"

/** The daemon's tables. */
export class DaemonStore extends Context.Service<
  DaemonStore,
  {
    /** The daemon's record of an issue, if it has one. */
    readonly issue: (issueId: string) => Effect.Effect<DaemonIssue | undefined>
    /** Records of issues in any of `statuses` (every record without). */
    readonly issues: (statuses?: ReadonlyArray<DaemonIssueStatus>) => Effect.Effect<ReadonlyArray<DaemonIssue>>
    /** Creates or changes an issue's record (a new record starts as `new` with no retries). */
    readonly upsert: (issueId: string, patch: DaemonIssuePatch) => Effect.Effect<DaemonIssue>
    /**
     * Takes (or renews) the claim on an issue for `leaseMs`; false when another owner holds an unexpired claim.
     * Once a leader is recorded (`lead`, a cluster), only the leader may claim, and it takes over any claim.
     */
    readonly claim: (
      issueId: string,
      owner: string,
      leaseMs: number,
      runId?: string | undefined
    ) => Effect.Effect<boolean>
    /** Extends every claim `owner` holds by `leaseMs` from now. */
    readonly renewClaims: (owner: string, leaseMs: number) => Effect.Effect<void>
    /** Drops the claim on an issue if `owner` holds it (any owner's when `owner` is undefined). */
    readonly release: (issueId: string, owner?: string | undefined) => Effect.Effect<void>
    /** Every claim. */
    readonly claims: Effect.Effect<ReadonlyArray<Claim>>
    /**
     * Records `owner` as the one daemon of this state database (a cluster's daemon singleton, where it starts):
     * from now on only it may claim, and it takes over the claims of the daemons before it, whether their
     * host is gone or only stood still. A daemon that is no longer the leader can claim nothing.
     */
    readonly lead: (owner: string) => Effect.Effect<void>
    /** The recorded leader, if any. */
    readonly leader: Effect.Effect<string | undefined>
    /** Whether `owner` led once and another daemon leads now (what it held, a run's lock, is the leader's to take). */
    readonly formerLeader: (owner: string) => Effect.Effect<boolean>
    /** Records a dead letter (replacing an earlier one for the issue) and marks the issue `dead`. */
    readonly deadLetter: (entry: Omit<DeadLetter, "deadAt">) => Effect.Effect<DeadLetter>
    /** Every dead letter, newest first. */
    readonly deadLetters: Effect.Effect<ReadonlyArray<DeadLetter>>
    /** Removes a dead letter and resets the issue to `new` with no retries; false when it was not dead-lettered. */
    readonly releaseDeadLetter: (issueId: string) => Effect.Effect<boolean>
    readonly getMeta: (key: string) => Effect.Effect<string | undefined>
    readonly setMeta: (key: string, value: string) => Effect.Effect<void>
    /** Records a mark once; true when it is new (reaction de-duplication). */
    readonly mark: (mark: string) => Effect.Effect<boolean>
    /** Whether a mark was recorded. */
    readonly hasMark: (mark: string) => Effect.Effect<boolean>
    /** Records that intake refused an issue; true when this is news (first refusal, or a different who or reason). */
    readonly refuse: (entry: {
      readonly issueId: string
      readonly who: string
      readonly reason: string
    }) => Effect.Effect<boolean>
    /** Forgets a refusal (the issue is admitted now, or no longer waiting); true when there was one. */
    readonly forgetRefusal: (issueId: string) => Effect.Effect<boolean>
    /** Every refusal, newest first. */
    readonly refusals: Effect.Effect<ReadonlyArray<Refusal>>
  }
>()("@spec-orch/control/DaemonStore") {
  /**
   * The store over the ambient SqlClient; migrates its tables first. Error texts (an issue's last error,
   * a dead letter's and a refusal's reason) are redacted before they are written: they quote commands,
   * tracker answers and agent output, and the database outlives every place that shows them.
   */
  static readonly layer: Layer.Layer<DaemonStore, never, SqlClient.SqlClient | Redactor> = Layer.effect(
    DaemonStore,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const { redact } = yield* Redactor
      const redactNullable = (text: string | null) => (text === null ? null : redact(text))
      yield* migrateDaemonStore.pipe(Effect.orDie)
      const nowMs = Clock.currentTimeMillis
      const nowIso = Effect.map(nowMs, (ms) => new Date(ms).toISOString())

      const issue = (issueId: string) =>
        sql<IssueRow>`SELECT * FROM so_daemon_issues WHERE issue_id = ${issueId}`.pipe(
          Effect.map((rows) => (rows[0] ? toIssue(rows[0]) : undefined)),
          Effect.orDie
        )

      const issues = (statuses?: ReadonlyArray<DaemonIssueStatus>) =>
        (statuses === undefined
          ? sql<IssueRow>`SELECT * FROM so_daemon_issues ORDER BY issue_id`
          : statuses.length === 0
            ? Effect.succeed([] as ReadonlyArray<IssueRow>)
            : sql<IssueRow>`SELECT * FROM so_daemon_issues WHERE ${sql.in("status", statuses)} ORDER BY issue_id`
        ).pipe(
          Effect.map((rows) => rows.map(toIssue)),
          Effect.orDie
        )

      const upsert = (issueId: string, patch: DaemonIssuePatch) =>
        sql
          .withTransaction(
            Effect.gen(function* () {
              const at = yield* nowIso
              const current = yield* issue(issueId)
              const next: DaemonIssue = {
                issueId,
                status: "new",
                runKey: null,
                lastRunId: null,
                retryCount: 0,
                retryAt: null,
                reuseAgentOf: null,
                lastError: null,
                prNumber: null,
                prHead: null,
                trackerUpdatedAt: null,
                finishedAt: null,
                ...current,
                ...patch,
                updatedAt: at
              }
              const row = {
                issue_id: next.issueId,
                status: next.status,
                run_key: next.runKey,
                last_run_id: next.lastRunId,
                retry_count: next.retryCount,
                retry_at: next.retryAt,
                reuse_agent_of: next.reuseAgentOf,
                last_error: redactNullable(next.lastError),
                pr_number: next.prNumber,
                pr_head: next.prHead,
                tracker_updated_at: next.trackerUpdatedAt,
                updated_at: next.updatedAt,
                finished_at: next.finishedAt
              }
              if (current === undefined) yield* sql`INSERT INTO so_daemon_issues ${sql.insert(row)}`
              else yield* sql`UPDATE so_daemon_issues SET ${sql.update(row, ["issue_id"])} WHERE issue_id = ${issueId}`
              return { ...next, lastError: row.last_error }
            })
          )
          .pipe(Effect.orDie)

      // One statement decides: insert, or take over a claim that is ours or expired (or any, for the leader).
      // On Postgres two daemons racing for an issue serialize on its row and the loser's WHERE no longer
      // matches, so it gets no row back (a read-then-write would let both win). A renewal without a run id
      // keeps the run. Where a leader is recorded, a daemon that is not it gets nothing: the fence against a
      // cluster's daemon singleton that stood still past its shard lock and wakes after another took over.
      const claim = (issueId: string, owner: string, leaseMs: number, runId?: string | undefined) =>
        Effect.gen(function* () {
          const now = yield* nowMs
          const at = new Date(now).toISOString()
          const notFenced = sql`NOT EXISTS (SELECT 1 FROM so_daemon_leader WHERE name = ${LEADER} AND owner <> ${owner})`
          const won = yield* sql<{
            issue_id: string
          }>`INSERT INTO so_daemon_claims (issue_id, owner, run_id, expires_at, updated_at)
            SELECT ${issueId}, ${owner}, CAST(${runId ?? null} AS TEXT), CAST(${now + leaseMs} AS BIGINT), ${at} WHERE ${notFenced}
            ON CONFLICT (issue_id) DO UPDATE SET
              run_id = CASE WHEN excluded.run_id IS NOT NULL THEN excluded.run_id WHEN so_daemon_claims.owner = excluded.owner THEN so_daemon_claims.run_id ELSE NULL END,
              owner = excluded.owner, expires_at = excluded.expires_at, updated_at = excluded.updated_at
            WHERE ${notFenced} AND (so_daemon_claims.owner = excluded.owner OR so_daemon_claims.expires_at <= ${now}
              OR EXISTS (SELECT 1 FROM so_daemon_leader WHERE name = ${LEADER} AND owner = excluded.owner))
            RETURNING issue_id`
          return won.length > 0
        }).pipe(Effect.orDie)

      const lead = (owner: string) =>
        Effect.flatMap(nowIso, (since) =>
          sql.withTransaction(
            Effect.andThen(
              sql`INSERT INTO so_daemon_leaders (owner, since) VALUES (${owner}, ${since}) ON CONFLICT (owner) DO NOTHING`,
              sql`INSERT INTO so_daemon_leader (name, owner, since) VALUES (${LEADER}, ${owner}, ${since})
                ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, since = excluded.since`
            )
          )
        ).pipe(Effect.asVoid, Effect.orDie)

      const formerLeader = (owner: string) =>
        sql<{ owner: string }>`SELECT owner FROM so_daemon_leaders WHERE owner = ${owner}
          AND EXISTS (SELECT 1 FROM so_daemon_leader WHERE name = ${LEADER} AND owner <> ${owner})`.pipe(
          Effect.map((rows) => rows.length > 0),
          Effect.orDie
        )

      const leader = sql<{ owner: string }>`SELECT owner FROM so_daemon_leader WHERE name = ${LEADER}`.pipe(
        Effect.map((rows) => rows[0]?.owner),
        Effect.orDie
      )

      const renewClaims = (owner: string, leaseMs: number) =>
        Effect.flatMap(
          nowMs,
          (now) =>
            sql`UPDATE so_daemon_claims SET expires_at = ${now + leaseMs}, updated_at = ${new Date(now).toISOString()} WHERE owner = ${owner}`
        ).pipe(Effect.asVoid, Effect.orDie)

      const release = (issueId: string, owner?: string | undefined) =>
        (owner === undefined
          ? sql`DELETE FROM so_daemon_claims WHERE issue_id = ${issueId}`
          : sql`DELETE FROM so_daemon_claims WHERE issue_id = ${issueId} AND owner = ${owner}`
        ).pipe(Effect.asVoid, Effect.orDie)

      const claims = sql<{
        issue_id: string
        owner: string
        run_id: string | null
        expires_at: number | bigint
      }>`SELECT issue_id, owner, run_id, expires_at FROM so_daemon_claims ORDER BY issue_id`.pipe(
        Effect.map((rows) =>
          rows.map((r) => ({ issueId: r.issue_id, owner: r.owner, runId: r.run_id, expiresAt: Number(r.expires_at) }))
        ),
        Effect.orDie
      )

      const deadLetter = (unredacted: Omit<DeadLetter, "deadAt">) =>
        Effect.suspend(() => {
          const entry = { ...unredacted, reason: redact(unredacted.reason) }
          return sql.withTransaction(
            Effect.gen(function* () {
              const deadAt = yield* nowIso
              yield* sql`INSERT INTO so_daemon_dead_letters (issue_id, reason, attempts, last_run_id, dead_at) VALUES (${entry.issueId}, ${entry.reason}, ${entry.attempts}, ${entry.lastRunId}, ${deadAt})
            ON CONFLICT (issue_id) DO UPDATE SET reason = excluded.reason, attempts = excluded.attempts, last_run_id = excluded.last_run_id, dead_at = excluded.dead_at`
              yield* upsert(entry.issueId, {
                status: "dead",
                lastError: entry.reason,
                retryAt: null,
                finishedAt: deadAt
              })
              return { ...entry, deadAt }
            })
          )
        }).pipe(Effect.orDie)

      const deadLetters = sql<{
        issue_id: string
        reason: string
        attempts: number | bigint
        last_run_id: string | null
        dead_at: string
      }>`SELECT issue_id, reason, attempts, last_run_id, dead_at FROM so_daemon_dead_letters ORDER BY dead_at DESC, issue_id`.pipe(
        Effect.map((rows) =>
          rows.map((r) => ({
            issueId: r.issue_id,
            reason: r.reason,
            attempts: Number(r.attempts),
            lastRunId: r.last_run_id,
            deadAt: r.dead_at
          }))
        ),
        Effect.orDie
      )

      const releaseDeadLetter = (issueId: string) =>
        sql
          .withTransaction(
            Effect.gen(function* () {
              const found = yield* sql<{
                issue_id: string
              }>`SELECT issue_id FROM so_daemon_dead_letters WHERE issue_id = ${issueId}`
              if (found.length === 0) return false
              yield* sql`DELETE FROM so_daemon_dead_letters WHERE issue_id = ${issueId}`
              yield* upsert(issueId, {
                status: "new",
                retryCount: 0,
                retryAt: null,
                reuseAgentOf: null,
                lastError: null,
                finishedAt: null
              })
              return true
            })
          )
          .pipe(Effect.orDie)

      const getMeta = (key: string) =>
        sql<{ meta_value: string }>`SELECT meta_value FROM so_daemon_meta WHERE meta_key = ${key}`.pipe(
          Effect.map((rows) => rows[0]?.meta_value),
          Effect.orDie
        )
      const setMeta = (key: string, value: string) =>
        sql`INSERT INTO so_daemon_meta (meta_key, meta_value) VALUES (${key}, ${value}) ON CONFLICT (meta_key) DO UPDATE SET meta_value = excluded.meta_value`.pipe(
          Effect.asVoid,
          Effect.orDie
        )

      const mark = (m: string) =>
        Effect.gen(function* () {
          const at = yield* nowIso
          const inserted = yield* sql<{
            mark: string
          }>`INSERT INTO so_daemon_marks (mark, created_at) VALUES (${m}, ${at}) ON CONFLICT (mark) DO NOTHING RETURNING mark`
          return inserted.length > 0
        }).pipe(Effect.orDie)

      const hasMark = (m: string) =>
        sql<{ mark: string }>`SELECT mark FROM so_daemon_marks WHERE mark = ${m}`.pipe(
          Effect.map((rows) => rows.length > 0),
          Effect.orDie
        )

      const refuse = (unredacted: { readonly issueId: string; readonly who: string; readonly reason: string }) =>
        Effect.gen(function* () {
          const entry = { ...unredacted, who: redact(unredacted.who), reason: redact(unredacted.reason) }
          const at = yield* nowIso
          const before = yield* sql<{
            who: string
            reason: string
          }>`SELECT who, reason FROM so_daemon_refusals WHERE issue_id = ${entry.issueId}`
          yield* sql`INSERT INTO so_daemon_refusals (issue_id, who, reason, first_at, last_at) VALUES (${entry.issueId}, ${entry.who}, ${entry.reason}, ${at}, ${at})
            ON CONFLICT (issue_id) DO UPDATE SET who = excluded.who, reason = excluded.reason, last_at = excluded.last_at`
          return before[0] === undefined || before[0].who !== entry.who || before[0].reason !== entry.reason
        }).pipe(Effect.orDie)

      const forgetRefusal = (issueId: string) =>
        sql<{ issue_id: string }>`DELETE FROM so_daemon_refusals WHERE issue_id = ${issueId} RETURNING issue_id`.pipe(
          Effect.map((rows) => rows.length > 0),
          Effect.orDie
        )

      const refusals = sql<{
        issue_id: string
        who: string
        reason: string
        first_at: string
        last_at: string
      }>`SELECT issue_id, who, reason, first_at, last_at FROM so_daemon_refusals ORDER BY last_at DESC, issue_id`.pipe(
        Effect.map((rows) =>
          rows.map((r) => ({
            issueId: r.issue_id,
            who: r.who,
            reason: r.reason,
            firstAt: r.first_at,
            lastAt: r.last_at
          }))
        ),
        Effect.orDie
      )

      return DaemonStore.of({
        issue,
        issues,
        upsert,
        claim,
        renewClaims,
        release,
        claims,
        lead,
        leader,
        formerLeader,
        deadLetter,
        deadLetters,
        releaseDeadLetter,
        getMeta,
        setMeta,
        mark,
        hasMark,
        refuse,
        forgetRefusal,
        refusals
      })
    })
  )
}
