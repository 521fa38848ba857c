/**
 * The routes of `spec-orch dashboard`: the JSON API (`DashboardApi`), the live feed over Server-Sent
 * Events (`GET /api/v1/events`) and the page (`GET /`, its files from `pageDir`). Actions (review,
 * accept) need the per-start token as `Authorization: Bearer <token>`; when the server listens beyond
 * loopback every API route needs it (the feed also takes `?token=`, which EventSource can send).
 * The platform's HTTP server is the app's to provide.
 */
import { Cause, Context, Effect, FileSystem, Layer, Path, Stream } from "effect"
import { HttpRouter, HttpServerError, HttpServerRequest, HttpServerResponse } from "effect/http"
import { HttpApiBuilder, HttpApiError } from "effect/http-api"
import { Dashboard } from "./Dashboard.js"
import { DashboardApi } from "./DashboardApi.js"

/** Why an action was refused, in a sentence a person can act on. */
export interface ActionFailure {
  readonly message: string
}

/** What the page's buttons do: the same services the CLI's `review-issue` and `accept-issue` use. */
export class DashboardActions extends Context.Service<
  DashboardActions,
  {
    /** Records a person's review of the issue's current diff and re-gates it; returns the new report. */
    readonly review: (input: {
      readonly issue: string
      readonly verdict: "pass" | "changes_requested" | "uncertain"
      readonly reviewedBy: string
      readonly summary?: string | undefined
    }) => Effect.Effect<unknown, ActionFailure>
    /** Records a person's acceptance of the issue's current diff and re-gates it; returns the new report. */
    readonly accept: (input: {
      readonly issue: string
      readonly acceptedBy: string
      readonly note?: string | undefined
    }) => Effect.Effect<unknown, ActionFailure>
    /**
     * Runs the issue again in a process of its own (as `spec-orch run <issue>`, with `--new-attempt` when
     * asked): resumes an unfinished attempt, else starts the next. Fails with the command's own words when
     * it refuses at once (spec not approved, the issue already running); returns where its output goes.
     */
    readonly retry: (input: {
      readonly issue: string
      readonly newAttempt: boolean
    }) => Effect.Effect<unknown, ActionFailure>
    /** Releases a dead-lettered issue so the daemon tries it again (as `spec-orch daemon dlq-retry`). */
    readonly release: (input: { readonly issue: string }) => Effect.Effect<unknown, ActionFailure>
    /** Records a person's answer to a question on the issue's spec (as `spec-orch questions answer`); returns the decision. */
    readonly answer: (input: {
      readonly issue: string
      readonly questionId: string
      readonly answer: string
      readonly decidedBy: string
    }) => Effect.Effect<unknown, ActionFailure>
    /**
     * A person approves or rejects a learned proposal (as `spec-orch evolution approve|reject`, under the same
     * rules); returns the proposal as it now is. Refused when its state does not allow the move.
     */
    readonly proposal: (input: {
      readonly id: string
      readonly decision: "approve" | "reject"
      readonly decidedBy: string
      readonly why?: string | undefined
    }) => Effect.Effect<unknown, ActionFailure>
  }
>()("@spec-orch/control/DashboardActions") {
  /** No actions: every action is refused with `why`. */
  static readonly layerNone = (why: string): Layer.Layer<DashboardActions> =>
    Layer.succeed(
      DashboardActions,
      DashboardActions.of({
        review: () => Effect.fail({ message: why }),
        accept: () => Effect.fail({ message: why }),
        answer: () => Effect.fail({ message: why }),
        retry: () => Effect.fail({ message: why }),
        release: () => Effect.fail({ message: why }),
        proposal: () => Effect.fail({ message: why })
      })
    )
}

/** How the dashboard serves. */
export interface DashboardOptions {
  /** The per-start token actions need. */
  readonly token: string
  /** Every API route needs the token (the server listens beyond loopback). */
  readonly tokenForReads?: boolean | undefined
  /** The directory holding index.html, app.js and app.css. */
  readonly pageDir: string
  /** How often the live feed polls the store (default 250 ms). */
  readonly pollMillis?: number | undefined
}

const problem = (status: number, code: string, message: string) =>
  HttpServerResponse.jsonUnsafe({ error: { code, message } }, { status })

const PAGE_FILES: Readonly<Record<string, string>> = {
  "/": "index.html",
  "/index.html": "index.html",
  "/app.js": "app.js",
  "/app.css": "app.css"
}
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8"
}

/** Compares in time independent of where the strings differ. */
const sameSecret = (given: string, token: string): boolean => {
  let diff = given.length ^ token.length
  for (let i = 0; i < token.length; i++) diff |= (given.charCodeAt(i) | 0) ^ token.charCodeAt(i)
  return diff === 0
}

/** Whether `request` carries the token (bearer header, or `?token=` for the live feed). */
const hasToken = (request: HttpServerRequest.HttpServerRequest, token: string): boolean => {
  const header = request.headers.authorization ?? ""
  if (header.startsWith("Bearer ") && sameSecret(header.slice(7), token)) return true
  const query = new URL(request.url, "http://dashboard").searchParams.get("token")
  return query !== null && sameSecret(query, token)
}

const sse = (e: { readonly event: string; readonly data: unknown }, id: number) =>
  `event: ${e.event}\nid: ${id}\ndata: ${JSON.stringify(e.data)}\n\n`

/** The dashboard's routes over `Dashboard` (reads) and `DashboardActions` (actions). */
export const DashboardRoutes = (options: DashboardOptions) => {
  const read = HttpApiBuilder.group(
    DashboardApi,
    "read",
    Effect.fn(function* (handlers) {
      const dashboard = yield* Dashboard
      return handlers.handleAll({
        state: () => dashboard.state,
        attention: () => dashboard.attention,
        run: ({ params }) =>
          Effect.flatMap(dashboard.run(params.runId), (run) =>
            run === undefined
              ? Effect.fail({
                  error: {
                    code: "run_not_found" as const,
                    message: `no run ${params.runId} in this project's run store (GET /api/v1/state lists them)`
                  }
                })
              : Effect.succeed(run)
          ),
        daemon: () => dashboard.daemon,
        stats: () => dashboard.stats,
        evolution: () => dashboard.evolution,
        metrics: ({ query }) => dashboard.metrics({ by: query.by ?? "adapter", bucket: query.bucket ?? "day" }),
        missions: () => dashboard.missions,
        mission: ({ params }) =>
          dashboard.mission(params.missionId).pipe(
            Effect.mapError((e) =>
              e._tag === "FileMissing"
                ? {
                    error: {
                      code: "mission_not_found" as const,
                      message: `no mission ${params.missionId}: ${e.message} (GET /api/v1/missions lists them)`
                    }
                  }
                : { error: { code: "mission_invalid" as const, message: e.message } }
            )
          ),
        issue: ({ params }) =>
          Effect.flatMap(dashboard.issue(params.issue), (issue) =>
            issue === undefined
              ? Effect.fail({
                  error: {
                    code: "issue_not_found" as const,
                    message: `no runs of ${params.issue} in this project's run store; start one with \`spec-orch run ${params.issue}\``
                  }
                })
              : Effect.succeed(issue)
          ),
        // Every read already comes from the store, so there is nothing to reconcile: say so, Symphony's way.
        refresh: () =>
          Effect.map(
            Effect.clockWith((c) => c.currentTimeMillis),
            (ms) => ({ queued: true, coalesced: true, requested_at: new Date(ms).toISOString(), operations: [] })
          )
      })
    })
  )

  const act = HttpApiBuilder.group(
    DashboardApi,
    "act",
    Effect.fn(function* (handlers) {
      const actions = yield* DashboardActions
      const refused = (e: ActionFailure) => ({ error: { code: "action_refused" as const, message: e.message } })
      return handlers.handleAll({
        review: ({ params, payload }) => Effect.mapError(actions.review({ issue: params.issue, ...payload }), refused),
        accept: ({ params, payload }) => Effect.mapError(actions.accept({ issue: params.issue, ...payload }), refused),
        answer: ({ params, payload }) => Effect.mapError(actions.answer({ issue: params.issue, ...payload }), refused),
        release: ({ params }) => Effect.mapError(actions.release({ issue: params.issue }), refused),
        proposal: ({ params, payload }) => Effect.mapError(actions.proposal({ ...params, ...payload }), refused),
        retry: ({ params, payload }) =>
          Effect.mapError(actions.retry({ issue: params.issue, newAttempt: payload.newAttempt ?? false }), refused)
      })
    })
  )

  const api = HttpApiBuilder.layer(DashboardApi).pipe(Layer.provide([read, act]))

  const events = HttpRouter.add(
    "GET",
    "/api/v1/events",
    Effect.gen(function* () {
      const dashboard = yield* Dashboard
      let id = 0
      const body = Stream.concat(
        Stream.make(": spec-orch dashboard\n\n"),
        // A comment every 15 s keeps an idle feed open through proxies and finds clients that left.
        Stream.merge(
          dashboard.changes({ pollMillis: options.pollMillis }).pipe(Stream.map((e) => sse(e, ++id))),
          Stream.tick("15 seconds").pipe(Stream.drop(1), Stream.as(": ping\n\n"))
        )
      ).pipe(Stream.encodeText)
      return HttpServerResponse.stream(body, {
        contentType: "text/event-stream",
        headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
      })
    })
  )

  const page = HttpRouter.addAll(
    Object.keys(PAGE_FILES).map((route) =>
      HttpRouter.route(
        "GET",
        route as `/${string}`,
        Effect.gen(function* () {
          const fs = yield* FileSystem.FileSystem
          const path = yield* Path.Path
          const file = PAGE_FILES[route]!
          const text = yield* fs.readFileString(path.join(options.pageDir, file)).pipe(Effect.option)
          if (text._tag === "None")
            return problem(
              500,
              "page_missing",
              `the dashboard page is missing (${path.join(options.pageDir, file)}); rebuild spec-orch`
            )
          return HttpServerResponse.text(text.value, {
            contentType: CONTENT_TYPES[file.split(".").pop()!]!,
            headers: {
              "cache-control": "no-store",
              // Nothing but this page's own files: a hostile issue title or agent output can never load or run script.
              "content-security-policy":
                "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
              "x-content-type-options": "nosniff",
              "referrer-policy": "no-referrer"
            }
          })
        })
      )
    )
  )

  const guard = HttpRouter.middleware(
    (httpEffect) =>
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const url = new URL(request.url, "http://dashboard")
        const isApi = url.pathname.startsWith("/api/")
        const acts = request.method !== "GET" && url.pathname !== "/api/v1/refresh"
        if (isApi && (acts || options.tokenForReads === true) && !hasToken(request, options.token)) {
          return problem(
            401,
            "unauthorized",
            "this needs the dashboard's token: send `Authorization: Bearer <token>` with the token `spec-orch dashboard` printed when it started (the page takes it from the printed URL)"
          )
        }
        const response = yield* httpEffect.pipe(
          Effect.catchCause((cause) => {
            if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause)
            const error = Cause.squash(cause)
            if (HttpApiError.HttpApiSchemaError.is(error)) {
              const where =
                error.kind === "Payload" || error.kind === "Body" ? "the JSON body" : `the ${error.kind.toLowerCase()}`
              return Effect.succeed(
                problem(
                  400,
                  "bad_request",
                  `${request.method} ${url.pathname}: ${where} does not match the API (docs/dashboard.md): ${error.cause.message}`
                )
              )
            }
            if (error instanceof HttpServerError.HttpServerError && error.reason._tag === "RouteNotFound") {
              return Effect.succeed(
                problem(
                  404,
                  "not_found",
                  `no route ${request.method} ${url.pathname}; the API is under /api/v1 (docs/dashboard.md)`
                )
              )
            }
            return Effect.as(
              Effect.logError("dashboard: request failed", cause),
              problem(500, "internal", "the dashboard failed to answer this request; its log (stderr) has the details")
            )
          })
        )
        // The API's own refusals of malformed requests come as text: give them the API's error shape.
        const body = response.body
        if (isApi && response.status >= 400 && body._tag === "Uint8Array" && !body.contentType.includes("json")) {
          return problem(
            response.status,
            response.status < 500 ? "bad_request" : "http_error",
            `${request.method} ${url.pathname}: ${new TextDecoder().decode(body.body) || `HTTP ${response.status}`}`
          )
        }
        if (isApi && response.status >= 400 && body._tag === "Empty") {
          return problem(
            response.status,
            response.status === 400 ? "bad_request" : response.status === 404 ? "not_found" : "http_error",
            `${request.method} ${url.pathname}: HTTP ${response.status}${response.status === 400 ? " (check the JSON body against docs/dashboard.md)" : ""}`
          )
        }
        return response
      }),
    { global: true }
  )

  return Layer.mergeAll(api, events, page, guard)
}
