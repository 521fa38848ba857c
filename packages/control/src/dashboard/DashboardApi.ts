/**
 * The dashboard's JSON API, compatible in shape with Symphony's (`GET /api/v1/state`,
 * `GET /api/v1/<issue>`, `POST /api/v1/refresh`) and extended with runs, stages, gate conditions and
 * the needs-attention queue. Errors are `{"error":{"code","message"}}`. Bodies are plain JSON views
 * (see `Dashboard.ts` for their fields); the live feed (`/api/v1/events`) and the page are plain routes
 * beside this API, in `DashboardServer.ts`.
 */
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "effect/http-api"

/** `{"error":{"code","message"}}` with `status`; `code` names what went wrong. */
const problem = <const Code extends string>(code: Code, status: number) =>
  Schema.Struct({ error: Schema.Struct({ code: Schema.Literal(code), message: Schema.String }) }).pipe(
    HttpApiSchema.status(status)
  )

/** An issue with no runs in this project's run store. */
export const IssueNotFound = problem("issue_not_found", 404)
/** A run id the run store does not know. */
export const RunNotFound = problem("run_not_found", 404)
/** A mission id with no mission under docs/specs/. */
export const MissionNotFound = problem("mission_not_found", 404)
/** A mission whose files (mission.json, plan.json) cannot be used as they are. */
export const MissionInvalid = problem("mission_invalid", 422)
/** An action could not be done (no evidence to review, nothing to accept, …). */
export const ActionRefused = problem("action_refused", 409)

/** A JSON body; its fields are documented by the views in `Dashboard.ts`. */
const Body = Schema.Unknown

/** The review verdicts a person can give from the page (as `spec-orch review-issue --verdict`). */
export const ReviewVerdictInput = Schema.Literals(["pass", "changes_requested", "uncertain"])

/** What a person can decide about a learned proposal from the page (as `spec-orch evolution approve|reject`). */
export const ProposalDecisionInput = Schema.Literals(["approve", "reject"])

/** The dashboard's endpoints. */
export class DashboardApi extends HttpApi.make("spec-orch-dashboard")
  .add(
    HttpApiGroup.make("read").add(
      HttpApiEndpoint.get("state", "/api/v1/state", { success: Body }),
      HttpApiEndpoint.get("attention", "/api/v1/attention", { success: Body }),
      HttpApiEndpoint.get("run", "/api/v1/runs/:runId", {
        params: { runId: Schema.String },
        success: Body,
        error: RunNotFound
      }),
      HttpApiEndpoint.get("daemon", "/api/v1/daemon", { success: Body }),
      HttpApiEndpoint.get("stats", "/api/v1/stats", { success: Body }),
      HttpApiEndpoint.get("metrics", "/api/v1/metrics", {
        query: {
          by: Schema.optional(Schema.Literals(["adapter", "profile"])),
          bucket: Schema.optional(Schema.Literals(["day", "week"]))
        },
        success: Body
      }),
      HttpApiEndpoint.get("evolution", "/api/v1/evolution", { success: Body }),
      HttpApiEndpoint.get("missions", "/api/v1/missions", { success: Body }),
      HttpApiEndpoint.get("mission", "/api/v1/missions/:missionId", {
        params: { missionId: Schema.String },
        success: Body,
        error: [MissionNotFound, MissionInvalid]
      }),
      HttpApiEndpoint.get("issue", "/api/v1/:issue", {
        params: { issue: Schema.String },
        success: Body,
        error: IssueNotFound
      }),
      HttpApiEndpoint.post("refresh", "/api/v1/refresh", { success: Body.pipe(HttpApiSchema.status(202)) })
    )
  )
  .add(
    HttpApiGroup.make("act").add(
      HttpApiEndpoint.post("review", "/api/v1/:issue/review", {
        params: { issue: Schema.String },
        payload: Schema.Struct({
          verdict: ReviewVerdictInput,
          reviewedBy: Schema.String,
          summary: Schema.optionalKey(Schema.String)
        }),
        success: Body,
        error: ActionRefused
      }),
      HttpApiEndpoint.post("accept", "/api/v1/:issue/accept", {
        params: { issue: Schema.String },
        payload: Schema.Struct({ acceptedBy: Schema.String, note: Schema.optionalKey(Schema.String) }),
        success: Body,
        error: ActionRefused
      }),
      HttpApiEndpoint.post("retry", "/api/v1/:issue/retry", {
        params: { issue: Schema.String },
        payload: Schema.Struct({ newAttempt: Schema.optionalKey(Schema.Boolean) }),
        success: Body.pipe(HttpApiSchema.status(202)),
        error: ActionRefused
      }),
      HttpApiEndpoint.post("release", "/api/v1/:issue/release", {
        params: { issue: Schema.String },
        success: Body,
        error: ActionRefused
      }),
      HttpApiEndpoint.post("proposal", "/api/v1/evolution/:id/:decision", {
        params: { id: Schema.String, decision: ProposalDecisionInput },
        payload: Schema.Struct({ decidedBy: Schema.String, why: Schema.optionalKey(Schema.String) }),
        success: Body,
        error: ActionRefused
      }),
      HttpApiEndpoint.post("answer", "/api/v1/:issue/answer", {
        params: { issue: Schema.String },
        payload: Schema.Struct({ questionId: Schema.String, answer: Schema.String, decidedBy: Schema.String }),
        success: Body,
        error: ActionRefused
      })
    )
  ) {}
