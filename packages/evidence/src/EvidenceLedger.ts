/**
 * The evidence ledger: a durable record of every evidence bundle and verdict, finding, review and
 * human acceptance, per issue and run, with timestamps. Written against the `effect/sql`
 * `SqlClient` interface in SQL that runs on SQLite and Postgres alike (TEXT and INTEGER columns,
 * JSON stored as text, ids assigned by the ledger, `ON CONFLICT … DO NOTHING` for dedupe).
 * Records are only ever appended; a finding's resolution is the one update.
 */
import { EvidenceBundle, Finding, GateVerdict, HumanAcceptance, ReviewVerdict, sha256 } from "@spec-orch/contract"
import { Clock, Context, Effect, Layer, Option, Schema } from "effect"
import * as Migrator from "effect/sql/Migrator"
import * as SqlClient from "effect/sql/SqlClient"
import type * as SqlError from "effect/sql/SqlError"
import { mergeFindings, resolveFinding } from "./Findings.js"
import { FindingNotFound, LedgerError } from "./GateError.js"

/** One judged bundle as the ledger holds it. */
export interface LedgerRecord {
  /** Position in the ledger: later records have larger numbers. */
  readonly seq: number
  readonly issueId: string
  readonly runId: string | null
  readonly recordedAt: string
  readonly bundle: EvidenceBundle
  readonly verdict: GateVerdict
}

/** A time range over `recordedAt` (ISO times, both ends inclusive, either may be open). */
export interface TimeRange {
  readonly since?: string | undefined
  readonly until?: string | undefined
}

/** The ledger's tables. Migration ids are private to this table so planes sharing a database never clash. */
const MIGRATIONS_TABLE = "evidence_migrations"

const migrations = Migrator.fromRecord({
  "1_evidence_ledger": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE IF NOT EXISTS evidence_records (
      seq INTEGER PRIMARY KEY,
      issue_id TEXT NOT NULL,
      run_id TEXT,
      recorded_at TEXT NOT NULL,
      policy TEXT NOT NULL,
      profile TEXT,
      mergeable INTEGER NOT NULL,
      diff_hash TEXT,
      bundle TEXT NOT NULL,
      verdict TEXT NOT NULL
    )`
    yield* sql`CREATE INDEX IF NOT EXISTS evidence_records_issue ON evidence_records (issue_id, seq)`
    yield* sql`CREATE INDEX IF NOT EXISTS evidence_records_run ON evidence_records (run_id)`
    yield* sql`CREATE INDEX IF NOT EXISTS evidence_records_time ON evidence_records (recorded_at)`
    yield* sql`CREATE TABLE IF NOT EXISTS evidence_findings (
      issue_id TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      id TEXT NOT NULL,
      run_id TEXT,
      resolved INTEGER NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      data TEXT NOT NULL,
      PRIMARY KEY (issue_id, fingerprint)
    )`
    yield* sql`CREATE TABLE IF NOT EXISTS evidence_reviews (
      seq INTEGER PRIMARY KEY,
      issue_id TEXT NOT NULL,
      run_id TEXT,
      recorded_at TEXT NOT NULL,
      reviewed_at TEXT NOT NULL,
      reviewed_by TEXT NOT NULL,
      verdict TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      data TEXT NOT NULL,
      UNIQUE (issue_id, fingerprint)
    )`
    yield* sql`CREATE TABLE IF NOT EXISTS evidence_acceptances (
      seq INTEGER PRIMARY KEY,
      issue_id TEXT NOT NULL,
      run_id TEXT,
      recorded_at TEXT NOT NULL,
      accepted_at TEXT NOT NULL,
      accepted_by TEXT NOT NULL,
      diff_hash TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      data TEXT NOT NULL,
      UNIQUE (issue_id, fingerprint)
    )`
  })
})

const decodeBundle = Schema.decodeUnknownEffect(Schema.fromJsonString(EvidenceBundle))
const decodeVerdict = Schema.decodeUnknownEffect(Schema.fromJsonString(GateVerdict))
const decodeFinding = Schema.decodeUnknownEffect(Schema.fromJsonString(Finding))
const decodeReview = Schema.decodeUnknownEffect(Schema.fromJsonString(ReviewVerdict))
const decodeAcceptance = Schema.decodeUnknownEffect(Schema.fromJsonString(HumanAcceptance))
const encodeBundle = Schema.encodeSync(Schema.fromJsonString(EvidenceBundle))
const encodeVerdict = Schema.encodeSync(Schema.fromJsonString(GateVerdict))
const encodeFinding = Schema.encodeSync(Schema.fromJsonString(Finding))
const encodeReview = Schema.encodeSync(Schema.fromJsonString(ReviewVerdict))
const encodeAcceptance = Schema.encodeSync(Schema.fromJsonString(HumanAcceptance))

interface RecordRow {
  readonly seq: number | bigint
  readonly issue_id: string
  readonly run_id: string | null
  readonly recorded_at: string
  readonly bundle: string
  readonly verdict: string
}

/** The later of two optional ISO-timestamped records (ties go to `b`, the ledger's). */
const later = <A extends object>(a: A | undefined, b: A | undefined, at: (x: A) => string): A | undefined =>
  a === undefined ? b : b === undefined ? a : at(b) >= at(a) ? b : a

/** The durable record of judgements. */
export class EvidenceLedger extends Context.Service<
  EvidenceLedger,
  {
    /** Where the ledger lives, for messages (`.spec-orch/state.db`). */
    readonly location: string
    /** Appends a judged bundle; its findings, review and acceptance are recorded too (deduplicated). */
    readonly record: (bundle: EvidenceBundle, verdict: GateVerdict) => Effect.Effect<LedgerRecord, LedgerError>
    /** The most recent record of an issue. */
    readonly latest: (issueId: string) => Effect.Effect<Option.Option<LedgerRecord>, LedgerError>
    /** The most recently recorded bundle of an issue. */
    readonly latestBundle: (issueId: string) => Effect.Effect<Option.Option<EvidenceBundle>, LedgerError>
    /** The most recently recorded verdict of an issue. */
    readonly latestVerdict: (issueId: string) => Effect.Effect<Option.Option<GateVerdict>, LedgerError>
    /**
     * The issue's latest bundle with the ledger's newer evidence applied: every recorded finding
     * (with its resolution), and a review or acceptance recorded after that bundle.
     */
    readonly currentBundle: (issueId: string) => Effect.Effect<Option.Option<EvidenceBundle>, LedgerError>
    /** Every record of an issue, oldest first, optionally within a time range. */
    readonly history: (issueId: string, range?: TimeRange) => Effect.Effect<ReadonlyArray<LedgerRecord>, LedgerError>
    /** Every record of one run, oldest first. */
    readonly byRun: (runId: string) => Effect.Effect<ReadonlyArray<LedgerRecord>, LedgerError>
    /** Every record of every issue within a time range, oldest first. */
    readonly between: (range: TimeRange) => Effect.Effect<ReadonlyArray<LedgerRecord>, LedgerError>
    /** Records findings; one already recorded for the issue (same fingerprint) is kept as it is. Returns the issue's findings. */
    readonly addFindings: (
      issueId: string,
      findings: ReadonlyArray<Finding>,
      runId?: string
    ) => Effect.Effect<ReadonlyArray<Finding>, LedgerError>
    /** The issue's findings, oldest first (resolved ones too unless `unresolvedOnly`). */
    readonly findings: (
      issueId: string,
      options?: { readonly unresolvedOnly?: boolean }
    ) => Effect.Effect<ReadonlyArray<Finding>, LedgerError>
    /** Marks one finding resolved. */
    readonly resolveFinding: (
      issueId: string,
      findingId: string,
      resolvedBy: string
    ) => Effect.Effect<Finding, FindingNotFound | LedgerError>
    /** Records a review verdict (the same record twice is kept once). */
    readonly recordReview: (issueId: string, review: ReviewVerdict, runId?: string) => Effect.Effect<void, LedgerError>
    /** The issue's reviews, oldest first. */
    readonly reviews: (issueId: string) => Effect.Effect<ReadonlyArray<ReviewVerdict>, LedgerError>
    /** Records a human acceptance (the same record twice is kept once). */
    readonly recordAcceptance: (
      issueId: string,
      acceptance: HumanAcceptance,
      runId?: string
    ) => Effect.Effect<void, LedgerError>
    /** The issue's acceptances, oldest first. */
    readonly acceptances: (issueId: string) => Effect.Effect<ReadonlyArray<HumanAcceptance>, LedgerError>
  }
>()("@spec-orch/evidence/EvidenceLedger") {
  /** The ledger over the provided `SqlClient`; creates or migrates its tables first. */
  static readonly layer = (options?: {
    readonly location?: string
  }): Layer.Layer<EvidenceLedger, LedgerError, SqlClient.SqlClient> =>
    Layer.effect(EvidenceLedger, EvidenceLedger.make(options?.location ?? "the evidence ledger"))

  /** Builds the ledger over the current `SqlClient`, running its migrations. */
  static readonly make = Effect.fnUntraced(function* (location: string) {
    const sql = yield* SqlClient.SqlClient
    const fail = (operation: string) => (e: unknown) =>
      new LedgerError({ operation, reason: e instanceof Error ? e.message : String(e) })

    yield* Migrator.make({})({ loader: migrations, table: MIGRATIONS_TABLE }).pipe(
      Effect.mapError(fail(`migrating ${location}`))
    )

    const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())
    const nextSeq = (table: string) =>
      Effect.map(sql<{ next: number | bigint }>`SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM ${sql(table)}`, (rows) =>
        Number(rows[0]!.next)
      )
    /** Runs a write in a transaction, retried when another writer took the same sequence number. */
    const write = <A>(operation: string, effect: Effect.Effect<A, SqlError.SqlError | LedgerError>) =>
      sql.withTransaction(effect).pipe(
        Effect.retry({ times: 3, while: (e) => e._tag === "SqlError" }),
        Effect.mapError((e) => (e._tag === "LedgerError" ? e : fail(operation)(e)))
      )

    const toRecord = (row: RecordRow) =>
      Effect.all({ bundle: decodeBundle(row.bundle), verdict: decodeVerdict(row.verdict) }).pipe(
        Effect.map(
          ({ bundle, verdict }): LedgerRecord => ({
            seq: Number(row.seq),
            issueId: row.issue_id,
            runId: row.run_id,
            recordedAt: row.recorded_at,
            bundle,
            verdict
          })
        ),
        Effect.mapError(fail(`reading record ${row.seq} of ${row.issue_id}`))
      )
    const records = (operation: string, query: Effect.Effect<ReadonlyArray<RecordRow>, SqlError.SqlError>) =>
      query.pipe(Effect.mapError(fail(operation)), Effect.flatMap(Effect.forEach(toRecord)))

    const insertFindings = (issueId: string, findings: ReadonlyArray<Finding>, runId: string | null, at: string) =>
      Effect.forEach(
        findings,
        (f) =>
          sql`INSERT INTO evidence_findings (issue_id, fingerprint, id, run_id, resolved, created_at, updated_at, data)
            VALUES (${issueId}, ${f.fingerprint}, ${f.id}, ${runId}, ${f.resolved ? 1 : 0}, ${f.createdAt}, ${at}, ${encodeFinding(f)})
            ON CONFLICT (issue_id, fingerprint) DO NOTHING`,
        { discard: true }
      )
    // A review or acceptance is recorded once: the same record (same fingerprint of its data)
    // arriving again, e.g. inside a later bundle, is not a new event.
    const insertReview = (issueId: string, r: ReviewVerdict, runId: string | null, at: string) => {
      const data = encodeReview(r)
      return Effect.flatMap(
        nextSeq("evidence_reviews"),
        (seq) =>
          sql`INSERT INTO evidence_reviews (seq, issue_id, run_id, recorded_at, reviewed_at, reviewed_by, verdict, fingerprint, data)
            VALUES (${seq}, ${issueId}, ${runId}, ${at}, ${r.reviewedAt}, ${r.reviewedBy}, ${r.verdict}, ${sha256(data)}, ${data})
            ON CONFLICT (issue_id, fingerprint) DO NOTHING`
      )
    }
    const insertAcceptance = (issueId: string, a: HumanAcceptance, runId: string | null, at: string) => {
      const data = encodeAcceptance(a)
      return Effect.flatMap(
        nextSeq("evidence_acceptances"),
        (seq) =>
          sql`INSERT INTO evidence_acceptances (seq, issue_id, run_id, recorded_at, accepted_at, accepted_by, diff_hash, fingerprint, data)
            VALUES (${seq}, ${issueId}, ${runId}, ${at}, ${a.acceptedAt}, ${a.acceptedBy}, ${a.diffHash}, ${sha256(data)}, ${data})
            ON CONFLICT (issue_id, fingerprint) DO NOTHING`
      )
    }

    const findings = Effect.fn("EvidenceLedger.findings")(function* (
      issueId: string,
      options?: { readonly unresolvedOnly?: boolean }
    ) {
      const rows = yield* (
        options?.unresolvedOnly === true
          ? sql<{
              data: string
            }>`SELECT data FROM evidence_findings WHERE issue_id = ${issueId} AND resolved = 0 ORDER BY created_at, id`
          : sql<{
              data: string
            }>`SELECT data FROM evidence_findings WHERE issue_id = ${issueId} ORDER BY created_at, id`
      ).pipe(Effect.mapError(fail(`reading findings of ${issueId}`)))
      return yield* Effect.forEach(rows, (r) => decodeFinding(r.data)).pipe(
        Effect.mapError(fail(`reading findings of ${issueId}`))
      )
    })
    const reviews = Effect.fn("EvidenceLedger.reviews")(function* (issueId: string) {
      const rows = yield* sql<{
        data: string
      }>`SELECT data FROM evidence_reviews WHERE issue_id = ${issueId} ORDER BY seq`.pipe(
        Effect.mapError(fail(`reading reviews of ${issueId}`))
      )
      return yield* Effect.forEach(rows, (r) => decodeReview(r.data)).pipe(
        Effect.mapError(fail(`reading reviews of ${issueId}`))
      )
    })
    const acceptances = Effect.fn("EvidenceLedger.acceptances")(function* (issueId: string) {
      const rows = yield* sql<{
        data: string
      }>`SELECT data FROM evidence_acceptances WHERE issue_id = ${issueId} ORDER BY seq`.pipe(
        Effect.mapError(fail(`reading acceptances of ${issueId}`))
      )
      return yield* Effect.forEach(rows, (r) => decodeAcceptance(r.data)).pipe(
        Effect.mapError(fail(`reading acceptances of ${issueId}`))
      )
    })

    const latest = Effect.fn("EvidenceLedger.latest")(function* (issueId: string) {
      const rows = yield* records(
        `reading the latest record of ${issueId}`,
        sql<RecordRow>`SELECT seq, issue_id, run_id, recorded_at, bundle, verdict FROM evidence_records WHERE issue_id = ${issueId} ORDER BY seq DESC LIMIT 1`
      )
      return Option.fromNullishOr(rows[0])
    })

    const rangeClause = (range: TimeRange | undefined) =>
      sql.and([
        ...(range?.since !== undefined ? [sql`recorded_at >= ${range.since}`] : []),
        ...(range?.until !== undefined ? [sql`recorded_at <= ${range.until}`] : []),
        sql`1 = 1`
      ])

    return EvidenceLedger.of({
      location,
      record: Effect.fn("EvidenceLedger.record")(function* (bundle: EvidenceBundle, verdict: GateVerdict) {
        const at = yield* now
        const runId = bundle.runId ?? null
        const seq = yield* write(
          `recording evidence for ${bundle.issueId}`,
          Effect.gen(function* () {
            const seq = yield* nextSeq("evidence_records")
            yield* sql`INSERT INTO evidence_records (seq, issue_id, run_id, recorded_at, policy, profile, mergeable, diff_hash, bundle, verdict)
              VALUES (${seq}, ${bundle.issueId}, ${runId}, ${at}, ${verdict.policy}, ${verdict.profile}, ${verdict.mergeable ? 1 : 0},
                      ${bundle.diffHash ?? null}, ${encodeBundle(bundle)}, ${encodeVerdict(verdict)})`
            yield* insertFindings(bundle.issueId, bundle.findings ?? [], runId, at)
            if (bundle.review !== undefined) yield* insertReview(bundle.issueId, bundle.review, runId, at)
            if (bundle.acceptance !== undefined) yield* insertAcceptance(bundle.issueId, bundle.acceptance, runId, at)
            return seq
          })
        )
        return { seq, issueId: bundle.issueId, runId, recordedAt: at, bundle, verdict }
      }),
      latest,
      latestBundle: (issueId) =>
        Effect.map(
          latest(issueId),
          Option.map((r) => r.bundle)
        ),
      latestVerdict: (issueId) =>
        Effect.map(
          latest(issueId),
          Option.map((r) => r.verdict)
        ),
      currentBundle: Effect.fn("EvidenceLedger.currentBundle")(function* (issueId: string) {
        const last = yield* latest(issueId)
        if (Option.isNone(last)) return Option.none()
        const bundle = last.value.bundle
        const recorded = yield* findings(issueId)
        const byFingerprint = new Map(recorded.map((f) => [f.fingerprint, f]))
        const merged =
          recorded.length === 0
            ? bundle.findings
            : mergeFindings(
                (bundle.findings ?? []).map((f) => byFingerprint.get(f.fingerprint) ?? f),
                recorded
              )
        const review = later(bundle.review, (yield* reviews(issueId)).at(-1), (r) => r.reviewedAt)
        const acceptance = later(bundle.acceptance, (yield* acceptances(issueId)).at(-1), (a) => a.acceptedAt)
        return Option.some(
          new EvidenceBundle({
            ...bundle,
            ...(merged !== undefined ? { findings: merged } : {}),
            ...(review !== undefined ? { review } : {}),
            ...(acceptance !== undefined ? { acceptance } : {})
          })
        )
      }),
      history: (issueId, range) =>
        records(
          `reading the history of ${issueId}`,
          sql<RecordRow>`SELECT seq, issue_id, run_id, recorded_at, bundle, verdict FROM evidence_records
                         WHERE issue_id = ${issueId} AND ${rangeClause(range)} ORDER BY seq`
        ),
      byRun: (runId) =>
        records(
          `reading the records of run ${runId}`,
          sql<RecordRow>`SELECT seq, issue_id, run_id, recorded_at, bundle, verdict FROM evidence_records WHERE run_id = ${runId} ORDER BY seq`
        ),
      between: (range) =>
        records(
          "reading records by time",
          sql<RecordRow>`SELECT seq, issue_id, run_id, recorded_at, bundle, verdict FROM evidence_records WHERE ${rangeClause(range)} ORDER BY seq`
        ),
      addFindings: Effect.fn("EvidenceLedger.addFindings")(function* (
        issueId: string,
        incoming: ReadonlyArray<Finding>,
        runId?: string
      ) {
        const at = yield* now
        yield* write(`recording findings for ${issueId}`, insertFindings(issueId, incoming, runId ?? null, at))
        return yield* findings(issueId)
      }),
      findings,
      resolveFinding: Effect.fn("EvidenceLedger.resolveFinding")(function* (
        issueId: string,
        findingId: string,
        resolvedBy: string
      ) {
        const all = yield* findings(issueId)
        const hit = all.find((f) => f.id === findingId || f.fingerprint === findingId)
        if (hit === undefined) return yield* new FindingNotFound({ issueId, findingId, known: all.map((f) => f.id) })
        const resolved = resolveFinding(hit, resolvedBy)
        const at = yield* now
        yield* write(
          `resolving finding ${findingId} of ${issueId}`,
          sql`UPDATE evidence_findings SET resolved = 1, updated_at = ${at}, data = ${encodeFinding(resolved)}
              WHERE issue_id = ${issueId} AND fingerprint = ${hit.fingerprint}`
        )
        return resolved
      }),
      recordReview: Effect.fn("EvidenceLedger.recordReview")(function* (
        issueId: string,
        review: ReviewVerdict,
        runId?: string
      ) {
        const at = yield* now
        yield* write(`recording a review of ${issueId}`, insertReview(issueId, review, runId ?? null, at))
      }),
      reviews,
      recordAcceptance: Effect.fn("EvidenceLedger.recordAcceptance")(function* (
        issueId: string,
        acceptance: HumanAcceptance,
        runId?: string
      ) {
        const at = yield* now
        yield* write(`recording an acceptance of ${issueId}`, insertAcceptance(issueId, acceptance, runId ?? null, at))
      }),
      acceptances
    })
  })
}
