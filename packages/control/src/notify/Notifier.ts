/**
 * Needs-attention notices: `[notify] webhooks` receive an event when a run waits for a person (a review,
 * human acceptance, an answer), when the daemon dead-letters an issue, when a mission finishes and when
 * a run goes over its budget. A generic webhook gets a JSON body; a Slack incoming webhook gets `{ text }`.
 * Every body is redacted. A failed delivery (network, 5xx, 429) is retried with exponential backoff a
 * bounded number of times. One event reaches one webhook at most once, across processes and restarts:
 * its key is written to the state database (`so_notify_deliveries`, state `sending`) before the request
 * and updated afterwards (`sent` or `failed`); a key already there is never sent again.
 */
import { type NOTIFY_EVENTS, Project, type RunRecord } from "@spec-orch/contract"
import { Redactor } from "@spec-orch/harness"
import { Clock, Config, Context, Duration, Effect, Layer, Option, Schedule } from "effect"
import { Migrator, SqlClient } from "effect/sql"

/** An event `[notify]` webhooks can receive. */
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number]

/** One needs-attention event. */
export interface Notice {
  readonly event: NotifyEvent
  /** What the event is about, one per occurrence (an issue's run, a mission run): with the event, the de-duplication key. */
  readonly subject: string
  /** One line for people. */
  readonly text: string
  /** Why a person is needed (`review`, `acceptance`, `question`), or what was exceeded (`cost`, `tokens`, `time`). */
  readonly reason?: string | undefined
  readonly issueId?: string | undefined
  readonly runId?: string | undefined
  readonly missionId?: string | undefined
}

/** What happened to a notice at one webhook. */
export interface NoticeDelivery {
  /** The webhook, by the environment variable holding its URL (the URL is a secret). */
  readonly webhook: string
  /** `sent`; `failed` after the retries; `duplicate`: sent (or attempted) before; `unset`: its variable is not set. */
  readonly state: "sent" | "failed" | "duplicate" | "unset"
  readonly detail?: string | undefined
}

/** Attempts after the first failed delivery; waits double from `RETRY_BASE`. */
export const NOTIFY_RETRIES = 4
const RETRY_BASE = Duration.millis(500)
/** A failed delivery attempt: whether another attempt may succeed, and what happened. */
interface Attempt {
  readonly retry: boolean
  readonly detail: string
}

/** The bound on one delivery request. */
const REQUEST_TIMEOUT = Duration.seconds(10)

const migrations = Migrator.fromRecord({
  "0001_notify": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE IF NOT EXISTS so_notify_deliveries (
      dedupe_key TEXT PRIMARY KEY,
      event TEXT NOT NULL,
      webhook TEXT NOT NULL,
      state TEXT NOT NULL,
      detail TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`
  })
})

const migrateNotify = Migrator.make({})({ loader: migrations, table: "so_notify_migrations" })

/** The generic webhook's JSON body. */
export const genericBody = (notice: Notice, at: string): Record<string, unknown> => ({
  source: "spec-orch",
  event: notice.event,
  subject: notice.subject,
  text: notice.text,
  ...(notice.reason !== undefined ? { reason: notice.reason } : {}),
  ...(notice.issueId !== undefined ? { issueId: notice.issueId } : {}),
  ...(notice.runId !== undefined ? { runId: notice.runId } : {}),
  ...(notice.missionId !== undefined ? { missionId: notice.missionId } : {}),
  at
})

/** Text Slack shows as written: `&`, `<` and `>` are its control characters (links, mentions). */
const slackEscape = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

/** A Slack incoming webhook's body; the notice's text cannot ping anyone or forge a link. */
export const slackBody = (notice: Notice): Record<string, unknown> => ({
  text: `*spec-orch: ${notice.event}*${notice.reason !== undefined ? ` (${notice.reason})` : ""} ${slackEscape(notice.text)}`
})

/** Gate conditions that only a person can satisfy, by the reason a notice names. */
const HUMAN_CONDITIONS: Readonly<Record<string, string>> = {
  review: "review",
  human_acceptance: "acceptance",
  acceptance: "acceptance"
}

/** The notices a finished run calls for: blocked on a person (review, acceptance, a question), over budget. */
export const noticesOfRun = (record: RunRecord): ReadonlyArray<Notice> => {
  const out: Array<Notice> = []
  const base = { issueId: record.issueId, runId: record.runId }
  const message = record.message ?? record.status
  if (record.status === "waiting")
    out.push({
      ...base,
      event: "blocked-on-human",
      subject: `${record.issueId}/${record.runId}`,
      reason: "question",
      text: `${record.issueId} (run ${record.runId}) waits for an answer: ${message}`
    })
  const failed = record.status === "blocked" ? (record.verdict?.failed ?? []) : []
  // A condition a person has not judged yet (no review, no acceptance) is as much theirs as one they failed;
  // but while another condition fails (verification, boundaries) the run is not a person's to judge yet.
  const othersFail = failed.some((c) => HUMAN_CONDITIONS[c] === undefined && c !== "budget")
  const pending = othersFail
    ? []
    : [...failed, ...(record.status === "blocked" ? (record.verdict?.notJudgeable ?? []) : [])]
  const human = [...new Set(pending.flatMap((c) => (HUMAN_CONDITIONS[c] !== undefined ? [HUMAN_CONDITIONS[c]] : [])))]
  if (human.length > 0)
    out.push({
      ...base,
      event: "blocked-on-human",
      subject: `${record.issueId}/${record.runId}`,
      reason: human.join(", "),
      text: `${record.issueId} (run ${record.runId}) waits for a person's ${human.join(" and ")}: ${message}`
    })
  if (failed.includes("budget"))
    out.push({
      ...base,
      event: "budget-exceeded",
      subject: `${record.issueId}/${record.runId}`,
      text: `${record.issueId} (run ${record.runId}) went over its budget${record.costUsd !== undefined ? ` (spent $${record.costUsd.toFixed(2)})` : ""}: ${message}`
    })
  return out
}

/** Sends needs-attention notices to the `[notify]` webhooks, once per event and webhook. */
export class Notifier extends Context.Service<
  Notifier,
  {
    /** Delivers a notice to every webhook that takes its event; never fails (a failed delivery is logged). */
    readonly notify: (notice: Notice) => Effect.Effect<ReadonlyArray<NoticeDelivery>>
  }
>()("@spec-orch/control/Notifier") {
  /** Webhooks from the project's `[notify]`, URLs from the environment (`Config`), state in the ambient SqlClient. */
  static readonly layer: Layer.Layer<Notifier, never, Project | Redactor | SqlClient.SqlClient> = Layer.effect(
    Notifier,
    Effect.gen(function* () {
      const project = yield* Project
      const redactor = yield* Redactor
      const sql = yield* SqlClient.SqlClient
      const webhooks = project.config.notify.webhooks
      if (webhooks.length > 0) yield* migrateNotify.pipe(Effect.orDie)
      const nowIso = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

      /** One POST; a network failure, a 5xx or a 429 is worth another attempt, any other answer is final. */
      const post = (url: string, body: string): Effect.Effect<void, Attempt> =>
        Effect.tryPromise({
          try: (signal) =>
            fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body, signal }),
          catch: (e): Attempt => ({ retry: true, detail: `unreachable: ${String((e as Error)?.message ?? e)}` })
        }).pipe(
          Effect.timeoutOrElse({
            duration: REQUEST_TIMEOUT,
            orElse: () => Effect.fail<Attempt>({ retry: true, detail: "no answer within 10 s" })
          }),
          Effect.flatMap((res: Response) =>
            res.ok
              ? Effect.void
              : Effect.fail({ retry: res.status >= 500 || res.status === 429, detail: `answered HTTP ${res.status}` })
          )
        )

      const deliver = (hook: (typeof webhooks)[number], notice: Notice): Effect.Effect<NoticeDelivery> =>
        Effect.gen(function* () {
          const webhook = hook.url_env
          const url = yield* Config.option(Config.String(webhook)).pipe(Effect.orElseSucceed(() => Option.none()))
          if (Option.isNone(url) || url.value.trim() === "") {
            yield* Effect.logWarning(`[notify] ${webhook} is not set: ${notice.event} for ${notice.subject} not sent`)
            return { webhook, state: "unset" } satisfies NoticeDelivery
          }
          const key = `${notice.event}:${notice.subject}:${webhook}`
          const at = yield* nowIso
          const claimed = yield* sql<{
            dedupe_key: string
          }>`INSERT INTO so_notify_deliveries (dedupe_key, event, webhook, state, created_at, updated_at)
             VALUES (${key}, ${notice.event}, ${webhook}, 'sending', ${at}, ${at})
             ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key`.pipe(Effect.orDie)
          if (claimed.length === 0) return { webhook, state: "duplicate" } satisfies NoticeDelivery
          const body = JSON.stringify(
            redactor.redactJson(hook.kind === "slack" ? slackBody(notice) : genericBody(notice, at))
          )
          const outcome = yield* post(url.value, body).pipe(
            Effect.retry({
              while: (e) => e.retry,
              times: NOTIFY_RETRIES,
              schedule: Schedule.exponential(RETRY_BASE)
            }),
            Effect.result
          )
          const state = outcome._tag === "Success" ? "sent" : "failed"
          const detail = outcome._tag === "Success" ? null : redactor.redact(outcome.failure.detail)
          yield* sql`UPDATE so_notify_deliveries SET state = ${state}, detail = ${detail}, updated_at = ${yield* nowIso}
                     WHERE dedupe_key = ${key}`.pipe(Effect.orDie)
          if (detail !== null)
            yield* Effect.logWarning(`[notify] ${notice.event} for ${notice.subject} to ${webhook} failed: ${detail}`)
          return detail !== null ? { webhook, state, detail } : { webhook, state }
        })

      const notify = (notice: Notice) =>
        Effect.forEach(
          webhooks.filter((h) => h.events.includes(notice.event)),
          (hook) => deliver(hook, notice)
        )

      return Notifier.of({ notify })
    })
  )
}

/** Sends `notice` when a `Notifier` is provided; nothing otherwise (callers without `[notify]` wiring). */
export const notifyIfConfigured = (notice: Notice): Effect.Effect<void> =>
  Effect.flatMap(Effect.serviceOption(Notifier), (n) =>
    Option.isSome(n) ? Effect.asVoid(n.value.notify(notice)) : Effect.void
  )

/** Sends the notices a finished run calls for (`noticesOfRun`) when a `Notifier` is provided. */
export const notifyRun = (record: RunRecord): Effect.Effect<void> =>
  Effect.forEach(noticesOfRun(record), notifyIfConfigured, { discard: true })

/** The notice of a dead-lettered issue (one per dead letter: its last run names the occurrence). */
export const deadLetterNotice = (
  issueId: string,
  attempts: number,
  reason: string,
  lastRunId: string | null | undefined
): Notice => ({
  event: "dead-letter",
  subject: `${issueId}/${lastRunId ?? "no-run"}`,
  issueId,
  ...(lastRunId != null ? { runId: lastRunId } : {}),
  text: `spec-orch gave up on ${issueId} after ${attempts} failed attempt(s): ${reason}. Fix what blocks it, then \`spec-orch daemon dlq-retry ${issueId}\`.`
})

/** The notice of a finished mission run (one per finish). */
export const missionFinishedNotice = (
  missionId: string,
  outcome: string,
  finishedAt: string,
  message: string
): Notice => ({
  event: "mission-finished",
  subject: `${missionId}@${finishedAt}`,
  missionId,
  reason: outcome,
  text: `mission ${missionId} ${outcome}: ${message}`
})
