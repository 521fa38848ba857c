/**
 * Why a tracker (Linear, GitHub) could not do what was asked. A negative answer (no such pull
 * request yet, no comment with our marker) is data, not one of these; these mean the tracker could
 * not be asked, refused, or is throttling us for longer than we are willing to wait. Messages name
 * the environment variable, the reset time or the config key a person has to act on.
 */
import { Schema } from "effect"

/** The trackers spec-orch talks to. */
export const TrackerName = Schema.Literals(["linear", "github"])
export type TrackerName = typeof TrackerName.Type

const shown = (tracker: TrackerName) => (tracker === "linear" ? "Linear" : "GitHub")

/** Whether a tracker can be used, decided locally (token, repository); `reason` says what is missing. */
export type TrackerAvailability =
  | { readonly available: true; readonly detail: string }
  | { readonly available: false; readonly reason: string }

/** No token in any of the environment variables the config names. */
export class TrackerTokenMissing extends Schema.TaggedError<TrackerTokenMissing>()("TrackerTokenMissing", {
  tracker: TrackerName,
  /** The variables that were read, in order; the first is the configured one. */
  envNames: Schema.Array(Schema.String)
}) {
  override get message(): string {
    const [first, ...rest] = this.envNames
    return `no ${shown(this.tracker)} token: set ${first}${rest.length > 0 ? ` (also read: ${rest.join(", ")})` : ""}`
  }
}

/** The tracker rejected the token (HTTP 401). */
export class TrackerAuthFailed extends Schema.TaggedError<TrackerAuthFailed>()("TrackerAuthFailed", {
  tracker: TrackerName,
  envName: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `${shown(this.tracker)} rejected the token in ${this.envName} (401 ${this.detail}): check that it is valid and not expired, then export it as ${this.envName}`
  }
}

/** The token is valid but may not do this (HTTP 403 that is not a rate limit). */
export class TrackerForbidden extends Schema.TaggedError<TrackerForbidden>()("TrackerForbidden", {
  tracker: TrackerName,
  envName: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `${shown(this.tracker)} refused the request (403 ${this.detail}): the token in ${this.envName} lacks access to this resource`
  }
}

/** The tracker is throttling us until `resetAt`, later than spec-orch waits on its own. */
export class TrackerRateLimited extends Schema.TaggedError<TrackerRateLimited>()("TrackerRateLimited", {
  tracker: TrackerName,
  /** ISO time when requests are allowed again. */
  resetAt: Schema.String,
  waitedSeconds: Schema.optionalKey(Schema.Number)
}) {
  override get message(): string {
    return `${shown(this.tracker)} rate limit reached; requests are allowed again at ${this.resetAt}${this.waitedSeconds !== undefined ? ` (already waited ${Math.round(this.waitedSeconds)} s)` : ""}: retry after that, or lower [daemon] request_budget_per_minute`
  }
}

/** What was asked for does not exist (HTTP 404, Linear `Entity not found`). */
export class TrackerNotFound extends Schema.TaggedError<TrackerNotFound>()("TrackerNotFound", {
  tracker: TrackerName,
  what: Schema.String
}) {
  override get message(): string {
    return `${shown(this.tracker)}: ${this.what} not found`
  }
}

/** The tracker refused the request as invalid (HTTP 400/405/409/422, GraphQL validation). */
export class TrackerRejected extends Schema.TaggedError<TrackerRejected>()("TrackerRejected", {
  tracker: TrackerName,
  status: Schema.Number,
  detail: Schema.String
}) {
  override get message(): string {
    return `${shown(this.tracker)} rejected the request (${this.status}): ${this.detail}`
  }
}

/** The tracker could not be reached or failed on its side (network, timeout, 5xx). */
export class TrackerUnreachable extends Schema.TaggedError<TrackerUnreachable>()("TrackerUnreachable", {
  tracker: TrackerName,
  url: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `cannot reach ${shown(this.tracker)} at ${this.url}: ${this.detail}`
  }
}

/** The configuration does not say enough to ask the tracker (no repository, unknown team or state). */
export class TrackerMisconfigured extends Schema.TaggedError<TrackerMisconfigured>()("TrackerMisconfigured", {
  tracker: TrackerName,
  key: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.detail} (spec-orch.toml ${this.key})`
  }
}

/** The tracker answered with data that is not what its API documents (a proxy's page, a changed API). */
export class TrackerAnswerInvalid extends Schema.TaggedError<TrackerAnswerInvalid>()("TrackerAnswerInvalid", {
  tracker: TrackerName,
  endpoint: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `${shown(this.tracker)} answered ${this.endpoint} with data spec-orch does not understand (check [${this.tracker}] api_url points at the API): ${this.detail}`
  }
}

/** Every reason a tracker call can fail. */
export const TrackerFailure = Schema.Union([
  TrackerTokenMissing,
  TrackerAuthFailed,
  TrackerForbidden,
  TrackerRateLimited,
  TrackerNotFound,
  TrackerRejected,
  TrackerUnreachable,
  TrackerMisconfigured,
  TrackerAnswerInvalid
])
export type TrackerFailure = typeof TrackerFailure.Type

/** A tracker call could not be done; `reason` says why and `operation` what was attempted. */
export class TrackerError extends Schema.TaggedError<TrackerError>()("TrackerError", {
  operation: Schema.String,
  reason: TrackerFailure
}) {
  override get message(): string {
    return `${this.operation}: ${this.reason.message}`
  }
}
