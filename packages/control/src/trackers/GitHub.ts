/**
 * GitHub's REST API through @octokit/rest: issues, issue comments, labels, pull requests, merges
 * and commit statuses of one repository (`[github] repo`, or the `origin` remote's URL), and team
 * memberships of its organization. Every
 * request, including each page of a listing, goes through the shared `RequestBudget`; rate-limit
 * answers (403/429 with `x-ratelimit-remaining: 0` or `retry-after`) make the call wait and retry.
 * Octokit is loaded and the token read on first use.
 */
import type { Octokit } from "@octokit/rest"
import { Project } from "@spec-orch/contract"
import { Context, Effect, Layer, Option, Redacted, Schema } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { type Attempt, call, numberHeader, type Token } from "./internal/call.js"
import { repoFromRemoteUrl, runGit } from "./internal/git.js"
import { readToken, tokenEnvNames } from "./internal/tokens.js"
import { RequestBudget } from "./RequestBudget.js"
import {
  TrackerAnswerInvalid,
  type TrackerAvailability,
  TrackerAuthFailed,
  TrackerError,
  TrackerForbidden,
  TrackerMisconfigured,
  TrackerNotFound,
  TrackerRejected,
  type TrackerTokenMissing
} from "./TrackerError.js"

/** Token variables read after `[github] token_env` (the `gh` CLI's conventions). */
export const GITHUB_TOKEN_FALLBACKS = ["GITHUB_TOKEN", "GH_TOKEN"] as const

/** A repository as `owner/name`. */
export interface RepoRef {
  readonly owner: string
  readonly name: string
}

/** An issue (or, with `isPullRequest`, a pull request listed as an issue). */
export interface GitHubIssue {
  readonly number: number
  readonly title: string
  readonly body: string | null
  readonly state: string
  readonly url: string
  readonly labels: ReadonlyArray<string>
  readonly assignee: string | null
  /** The author's login (`ghost` for a deleted account). */
  readonly author: string | null
  /** How the author relates to the repository (`OWNER`, `MEMBER`, `COLLABORATOR`, `CONTRIBUTOR`, `NONE`, …). */
  readonly authorAssociation: string | null
  readonly updatedAt: string
  readonly isPullRequest: boolean
}

/** An issue or pull request comment. */
export interface GitHubComment {
  readonly id: number
  readonly body: string
  readonly user: string | null
  readonly updatedAt: string
  readonly url: string
}

/** A pull request. */
export interface GitHubPull {
  readonly number: number
  readonly title: string
  readonly body: string | null
  readonly state: string
  readonly draft: boolean
  readonly merged: boolean
  readonly url: string
  readonly head: string
  readonly headSha: string
  readonly base: string
  /** Whether GitHub can merge it (null while GitHub is still computing, or when listed rather than read). */
  readonly mergeable: boolean | null
  /** GitHub's mergeable_state (clean, dirty, blocked, unstable, draft, …), when read. */
  readonly mergeableState: string | null
}

/** A pull request review. */
export interface GitHubReview {
  readonly id: number
  readonly user: string | null
  /** APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING. */
  readonly state: string
  readonly body: string
  readonly submittedAt: string | null
  readonly commitId: string | null
  readonly url: string
}

/** A review comment on a line of a pull request's diff. */
export interface GitHubReviewComment {
  readonly id: number
  readonly user: string | null
  readonly body: string
  readonly path: string
  readonly line: number | null
  readonly commitId: string | null
  readonly url: string
}

/** A check run (GitHub Actions or another CI app) on a commit. */
export interface GitHubCheckRun {
  readonly id: number
  readonly name: string
  /** queued, in_progress or completed. */
  readonly status: string
  /** success, failure, neutral, cancelled, skipped, timed_out, action_required; null until completed. */
  readonly conclusion: string | null
  readonly url: string | null
  readonly app: string | null
}

/** A commit status. */
export interface GitHubStatus {
  readonly state: string
  readonly context: string
  readonly description: string | null
  readonly targetUrl: string | null
}

/** GitHub's REST API for the project's repository. */
export class GitHub extends Context.Service<
  GitHub,
  {
    /** The environment variables the token is read from, in order. */
    readonly tokenEnvNames: ReadonlyArray<string>
    /** The repository (`[github] repo`, else parsed from the configured remote's URL). */
    readonly repo: Effect.Effect<RepoRef, TrackerError>
    /** Whether GitHub can be asked at all (a token is set, the repository is known), decided without a request. */
    readonly availability: Effect.Effect<TrackerAvailability>
    /** Issues (pull requests included, marked) with all of `labels`, newest first, at most `limit`. */
    readonly listIssues: (options: {
      readonly state: "open" | "closed" | "all"
      readonly labels?: ReadonlyArray<string>
      readonly limit?: number
    }) => Effect.Effect<ReadonlyArray<GitHubIssue>, TrackerError>
    /** One issue; `None` when the repository has no such issue. */
    readonly getIssue: (number: number) => Effect.Effect<Option.Option<GitHubIssue>, TrackerError>
    /** Opens an issue (not retried after a network failure or 5xx: the caller finds what it made before trying again). */
    readonly createIssue: (input: {
      readonly title: string
      readonly body: string
      readonly labels?: ReadonlyArray<string>
    }) => Effect.Effect<GitHubIssue, TrackerError>
    /** Changes an issue's title or body. */
    readonly updateIssue: (
      number: number,
      input: { readonly title?: string; readonly body?: string }
    ) => Effect.Effect<GitHubIssue, TrackerError>
    /** Every comment of an issue or pull request, oldest first. */
    readonly listComments: (number: number) => Effect.Effect<ReadonlyArray<GitHubComment>, TrackerError>
    /** Adds a comment as the token's user. */
    readonly createComment: (number: number, body: string) => Effect.Effect<GitHubComment, TrackerError>
    /** Replaces a comment's body. */
    readonly updateComment: (commentId: number, body: string) => Effect.Effect<GitHubComment, TrackerError>
    /** Adds labels to an issue (GitHub creates labels that do not exist yet). */
    readonly addLabels: (number: number, labels: ReadonlyArray<string>) => Effect.Effect<void, TrackerError>
    /** Removes a label; removing a label the issue does not have is not an error. */
    readonly removeLabel: (number: number, label: string) => Effect.Effect<void, TrackerError>
    /** Pull requests whose head is `branch` of this repository, newest first. */
    readonly pullsForHead: (
      branch: string,
      state: "open" | "closed" | "all"
    ) => Effect.Effect<ReadonlyArray<GitHubPull>, TrackerError>
    /** One pull request; `None` when there is no such pull request. */
    readonly getPull: (number: number) => Effect.Effect<Option.Option<GitHubPull>, TrackerError>
    /** Creates a pull request; GitHub's 422 (duplicate, no commits, unknown branch) comes back as `TrackerRejected`. */
    readonly createPull: (input: {
      readonly head: string
      readonly base: string
      readonly title: string
      readonly body: string
      readonly draft: boolean
    }) => Effect.Effect<GitHubPull, TrackerError>
    /** Changes a pull request's title, body or base (GitHub's REST API cannot change the draft flag). */
    readonly updatePull: (
      number: number,
      input: { readonly title?: string; readonly body?: string; readonly base?: string }
    ) => Effect.Effect<GitHubPull, TrackerError>
    /** Merges a pull request; refusals (405 not mergeable/draft, 409 head moved) come back as `TrackerRejected`. */
    readonly mergePull: (
      number: number,
      input: { readonly method: "merge" | "squash" | "rebase"; readonly sha?: string | undefined }
    ) => Effect.Effect<{ readonly sha: string }, TrackerError>
    /** Adds a commit status (GitHub keeps every status; the newest per context counts). */
    readonly createStatus: (
      sha: string,
      input: {
        readonly state: "success" | "failure" | "pending" | "error"
        readonly context: string
        readonly description?: string | undefined
        readonly targetUrl?: string | undefined
      }
    ) => Effect.Effect<void, TrackerError>
    /** Statuses of a commit, newest first. */
    readonly listStatuses: (ref: string) => Effect.Effect<ReadonlyArray<GitHubStatus>, TrackerError>
    /** Reviews of a pull request, oldest first. */
    readonly listReviews: (number: number) => Effect.Effect<ReadonlyArray<GitHubReview>, TrackerError>
    /** Review comments (on diff lines) of a pull request, oldest first. */
    readonly listReviewComments: (number: number) => Effect.Effect<ReadonlyArray<GitHubReviewComment>, TrackerError>
    /** Check runs on a commit, newest first. */
    readonly listCheckRuns: (ref: string) => Effect.Effect<ReadonlyArray<GitHubCheckRun>, TrackerError>
    /**
     * Whether `login` is an active member of the team `org/teamSlug` (false for a pending invitation, and
     * for a team the token cannot see: GitHub answers 404 to both; reading it needs the `read:org` scope).
     */
    readonly isTeamMember: (org: string, teamSlug: string, login: string) => Effect.Effect<boolean, TrackerError>
  }
>()("@spec-orch/control/GitHub") {
  /** GitHub from `[github]`: `api_url`, `repo` (or the `remote`'s URL) and the token in `token_env` (then `GITHUB_TOKEN`, `GH_TOKEN`). */
  static readonly layer: Layer.Layer<GitHub, never, Project | RequestBudget | ChildProcessSpawner.ChildProcessSpawner> =
    Layer.effect(
      GitHub,
      Effect.gen(function* () {
        const project = yield* Project
        const budget = yield* RequestBudget
        const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
        const gh = project.config.github
        const configured = gh.repo !== undefined ? parseRepo(gh.repo) : undefined
        const repo: Effect.Effect<RepoRef, TrackerError> = yield* Effect.cached(
          configured !== undefined
            ? Effect.succeed(configured)
            : gh.repo !== undefined
              ? Effect.fail(
                  new TrackerError({
                    operation: "read [github] repo",
                    reason: new TrackerMisconfigured({
                      tracker: "github",
                      key: "[github] repo",
                      detail: `"${gh.repo}" is not owner/name`
                    })
                  })
                )
              : runGit(project.root, ["remote", "get-url", gh.remote]).pipe(
                  Effect.provideService(ChildProcessSpawner.ChildProcessSpawner, spawner),
                  Effect.flatMap((r) => {
                    const parsed = r.exitCode === 0 ? repoFromRemoteUrl(r.stdout) : undefined
                    return parsed !== undefined
                      ? Effect.succeed(parsed)
                      : Effect.fail(
                          new TrackerError({
                            operation: "find the GitHub repository",
                            reason: new TrackerMisconfigured({
                              tracker: "github",
                              key: "[github] repo",
                              detail:
                                r.exitCode === 0
                                  ? `the ${gh.remote} remote (${r.stdout.trim()}) is not a GitHub URL; set repo = "owner/name"`
                                  : `no ${gh.remote} remote to read the repository from; set repo = "owner/name"`
                            })
                          })
                        )
                  })
                )
        )
        return makeGitHub({
          apiUrl: gh.api_url.replace(/\/+$/, ""),
          envNames: tokenEnvNames(gh.token_env, GITHUB_TOKEN_FALLBACKS),
          repo,
          budget
        })
      })
    )
}

const parseRepo = (text: string): RepoRef | undefined => {
  const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(text.trim())
  return m ? { owner: m[1]!, name: m[2]!.replace(/\.git$/, "") } : undefined
}

interface OctokitError {
  readonly status?: number
  readonly message?: string
  readonly response?: { readonly headers?: Record<string, string | undefined>; readonly data?: unknown }
}

/** GitHub's error detail: the `message`, plus the messages or codes of `errors[]`. */
const detailOf = (e: OctokitError): string => {
  const data = e.response?.data as
    | {
        message?: string
        errors?: ReadonlyArray<{ message?: string; code?: string; field?: string; resource?: string }>
      }
    | undefined
  const base = data?.message ?? e.message ?? "error"
  const extra = (data?.errors ?? [])
    .map((x) => x.message ?? [x.resource, x.field, x.code].filter(Boolean).join(" "))
    .filter(Boolean)
  return extra.length > 0 ? `${base}: ${extra.join("; ")}` : base
}

/** Classifies an error thrown by Octokit. */
const classify = (error: unknown, envName: string, what: string): Attempt => {
  const e = error as OctokitError
  const status = e?.status
  if (status === undefined || e.response === undefined) {
    return { _tag: "Transient", detail: e?.message ?? String(error) }
  }
  const headers = e.response.headers ?? {}
  const detail = detailOf(e)
  const remaining = numberHeader(headers["x-ratelimit-remaining"])
  const retryAfter = numberHeader(headers["retry-after"])
  const reset = numberHeader(headers["x-ratelimit-reset"])
  if (
    (status === 403 || status === 429) &&
    (remaining === 0 || retryAfter !== undefined || /rate limit/i.test(detail))
  ) {
    return {
      _tag: "RateLimited",
      info: {
        remaining: remaining ?? 0,
        ...(reset !== undefined && remaining === 0 ? { resetAtMs: reset * 1000 } : {}),
        ...(retryAfter !== undefined ? { retryAfterMs: retryAfter * 1000 } : {})
      }
    }
  }
  if (status === 401) return { _tag: "Final", reason: new TrackerAuthFailed({ tracker: "github", envName, detail }) }
  if (status === 403) return { _tag: "Final", reason: new TrackerForbidden({ tracker: "github", envName, detail }) }
  if (status === 404) return { _tag: "Final", reason: new TrackerNotFound({ tracker: "github", what }) }
  if (status >= 500) return { _tag: "Transient", detail: `${detail} (HTTP ${status})` }
  return { _tag: "Final", reason: new TrackerRejected({ tracker: "github", status, detail }) }
}

const Login = Schema.NullOr(Schema.Struct({ login: Schema.String }))
const RawIssue = Schema.Struct({
  number: Schema.Number,
  title: Schema.String,
  body: Schema.optional(Schema.NullOr(Schema.String)),
  state: Schema.String,
  html_url: Schema.String,
  labels: Schema.Array(
    Schema.Union([Schema.String, Schema.Struct({ name: Schema.optional(Schema.NullOr(Schema.String)) })])
  ),
  assignee: Schema.optional(Login),
  user: Schema.optional(Login),
  author_association: Schema.optional(Schema.String),
  updated_at: Schema.String,
  pull_request: Schema.optional(Schema.Unknown)
})
type RawIssue = typeof RawIssue.Type
const toIssue = (raw: RawIssue): GitHubIssue => ({
  number: raw.number,
  title: raw.title,
  body: raw.body ?? null,
  state: raw.state,
  url: raw.html_url,
  labels: raw.labels.map((l) => (typeof l === "string" ? l : (l.name ?? ""))).filter((l) => l !== ""),
  assignee: raw.assignee?.login ?? null,
  author: raw.user?.login ?? null,
  authorAssociation: raw.author_association ?? null,
  updatedAt: raw.updated_at,
  isPullRequest: raw.pull_request !== undefined && raw.pull_request !== null
})

const RawPull = Schema.Struct({
  mergeable: Schema.optional(Schema.NullOr(Schema.Boolean)),
  mergeable_state: Schema.optional(Schema.String),
  number: Schema.Number,
  title: Schema.String,
  body: Schema.NullOr(Schema.String),
  state: Schema.String,
  draft: Schema.optional(Schema.Boolean),
  merged: Schema.optional(Schema.Boolean),
  merged_at: Schema.NullOr(Schema.String),
  html_url: Schema.String,
  head: Schema.Struct({ ref: Schema.String, sha: Schema.String }),
  base: Schema.Struct({ ref: Schema.String })
})
type RawPull = typeof RawPull.Type
const toPull = (raw: RawPull): GitHubPull => ({
  number: raw.number,
  title: raw.title,
  body: raw.body,
  state: raw.state,
  draft: raw.draft === true,
  merged: raw.merged === true || raw.merged_at !== null,
  url: raw.html_url,
  head: raw.head.ref,
  headSha: raw.head.sha,
  base: raw.base.ref,
  mergeable: raw.mergeable ?? null,
  mergeableState: raw.mergeable_state ?? null
})

const RawComment = Schema.Struct({
  id: Schema.Number,
  body: Schema.optional(Schema.String),
  user: Login,
  updated_at: Schema.String,
  html_url: Schema.String
})
type RawComment = typeof RawComment.Type
const toComment = (raw: RawComment): GitHubComment => ({
  id: raw.id,
  body: raw.body ?? "",
  user: raw.user?.login ?? null,
  updatedAt: raw.updated_at,
  url: raw.html_url
})

/** The path GitHub answered on (no host, no query), for errors. */
const endpointOf = (url: string | undefined, operation: string): string => {
  return url === undefined ? operation : url.replace(/^[a-z]+:\/\/[^/]+/i, "").replace(/\?.*$/, "")
}

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

const makeGitHub = (options: {
  readonly apiUrl: string
  readonly envNames: ReadonlyArray<string>
  readonly repo: Effect.Effect<RepoRef, TrackerError>
  readonly budget: RequestBudget["Service"]
}): GitHub["Service"] => {
  const { apiUrl, envNames, repo, budget } = options
  let client: { readonly octokit: Octokit; readonly token: Token } | undefined

  const availability: Effect.Effect<TrackerAvailability> = Effect.gen(function* () {
    const token = yield* Effect.result(readToken("github", envNames))
    if (token._tag === "Failure") return { available: false, reason: token.failure.message }
    const r = yield* Effect.result(repo)
    if (r._tag === "Failure") return { available: false, reason: r.failure.reason.message }
    return { available: true, detail: `${r.success.owner}/${r.success.name}` }
  })

  const connect: Effect.Effect<{ readonly octokit: Octokit; readonly token: Token }, TrackerTokenMissing> =
    Effect.suspend(() => {
      if (client !== undefined) return Effect.succeed(client)
      return Effect.gen(function* () {
        const token = yield* readToken("github", envNames)
        const { Octokit } = yield* Effect.promise(() => import("@octokit/rest"))
        const octokit = new Octokit({
          auth: Redacted.value(token.value),
          baseUrl: apiUrl,
          userAgent: "spec-orch",
          log: quiet
        })
        client = { octokit, token }
        return client
      })
    })

  interface Response {
    readonly data: unknown
    readonly headers: Record<string, string | number | undefined>
    readonly url?: string | undefined
  }

  /** One Octokit call under the budget, its answer checked by `schema`; `what` names the thing a 404 means is missing. */
  const run = <A>(
    operation: string,
    what: string,
    idempotent: boolean,
    schema: Schema.Decoder<A>,
    f: (octokit: Octokit, r: RepoRef, signal: AbortSignal) => Promise<Response>
  ) =>
    Effect.gen(function* () {
      const r = yield* repo
      const { octokit, token } = yield* connect.pipe(
        Effect.mapError((reason) => new TrackerError({ operation, reason }))
      )
      const res = yield* call({
        budget,
        tracker: "github",
        operation,
        url: apiUrl,
        idempotent,
        once: Effect.tryPromise({
          try: (signal) => f(octokit, r, signal),
          catch: (error) =>
            classify(
              error,
              token.envName,
              what === "repository" ? `repository ${r.owner}/${r.name}` : `${what} in ${r.owner}/${r.name}`
            )
        }).pipe(
          Effect.tap((res) =>
            budget.observe("github", {
              remaining: numberHeader(res.headers["x-ratelimit-remaining"] as string | undefined),
              resetAtMs: (numberHeader(res.headers["x-ratelimit-reset"] as string | undefined) ?? 0) * 1000 || undefined
            })
          )
        )
      })
      return yield* Schema.decodeUnknownEffect(schema)(res.data).pipe(
        Effect.mapError(
          (issue) =>
            new TrackerError({
              operation,
              reason: new TrackerAnswerInvalid({
                tracker: "github",
                endpoint: endpointOf(res.url, operation),
                detail: issue.message
              })
            })
        )
      )
    })

  const noneOn404 = <A>(effect: Effect.Effect<A, TrackerError>): Effect.Effect<Option.Option<A>, TrackerError> =>
    effect.pipe(
      Effect.map(Option.some),
      Effect.catchTag("TrackerError", (e) =>
        e.reason._tag === "TrackerNotFound" ? Effect.succeed(Option.none<A>()) : Effect.fail(e)
      )
    )

  /**
   * Pages through a listing (`per_page=100`) with Octokit's `paginate.iterator`, which follows GitHub's
   * `Link` header; each page is one call under the budget (retried as any call), at most `limit` items.
   */
  const paged = <A>(
    operation: string,
    what: string,
    limit: number,
    item: Schema.Decoder<A>,
    pages: (octokit: Octokit, r: RepoRef, signal: AbortSignal) => AsyncIterable<Response>
  ) =>
    Effect.gen(function* () {
      const r = yield* repo
      const { octokit } = yield* connect.pipe(Effect.mapError((reason) => new TrackerError({ operation, reason })))
      // One signal for the listing's requests: ended when the listing ends, is interrupted or fails.
      const listing = yield* Effect.acquireRelease(
        Effect.sync(() => new AbortController()),
        (c) => Effect.sync(() => c.abort())
      )
      const iterator = pages(octokit, r, listing.signal)[Symbol.asyncIterator]()
      const page = Schema.NullOr(Schema.Array(item))
      const out: Array<A> = []
      while (out.length < limit) {
        // A failed page leaves the iterator where it was, so a retry asks for the same page again.
        const next = yield* run(operation, what, true, page, () =>
          iterator.next().then((step) => (step.done === true ? { data: null, headers: {} } : step.value))
        )
        if (next === null) break
        out.push(...next)
      }
      return out.slice(0, limit)
    }).pipe(Effect.scoped)

  const listIssues = Effect.fn("GitHub.listIssues")(function* (o: {
    readonly state: "open" | "closed" | "all"
    readonly labels?: ReadonlyArray<string>
    readonly limit?: number
  }) {
    const raw = yield* paged(
      "list GitHub issues",
      "repository",
      o.limit ?? Number.POSITIVE_INFINITY,
      RawIssue,
      (octokit, r, signal) =>
        octokit.paginate.iterator(octokit.rest.issues.listForRepo, {
          owner: r.owner,
          repo: r.name,
          state: o.state,
          ...(o.labels !== undefined && o.labels.length > 0 ? { labels: o.labels.join(",") } : {}),
          per_page: 100,
          request: { signal }
        })
    )
    return raw.map(toIssue)
  })

  const getIssue = Effect.fn("GitHub.getIssue")(function* (number: number) {
    return yield* noneOn404(
      run(`read GitHub issue #${number}`, `issue #${number}`, true, RawIssue, (octokit, r, signal) =>
        octokit.rest.issues.get({ owner: r.owner, repo: r.name, issue_number: number, request: { signal } })
      ).pipe(Effect.map(toIssue))
    )
  })

  const createIssue = Effect.fn("GitHub.createIssue")(function* (input: {
    readonly title: string
    readonly body: string
    readonly labels?: ReadonlyArray<string>
  }) {
    const raw = yield* run("open a GitHub issue", "repository", false, RawIssue, (octokit, r, signal) =>
      octokit.rest.issues.create({
        owner: r.owner,
        repo: r.name,
        title: input.title,
        body: input.body,
        ...(input.labels !== undefined && input.labels.length > 0 ? { labels: [...input.labels] } : {}),
        request: { signal }
      })
    )
    return toIssue(raw)
  })

  const updateIssue = Effect.fn("GitHub.updateIssue")(function* (
    number: number,
    input: { readonly title?: string; readonly body?: string }
  ) {
    const raw = yield* run(`update GitHub issue #${number}`, `issue #${number}`, true, RawIssue, (octokit, r, signal) =>
      octokit.rest.issues.update({ owner: r.owner, repo: r.name, issue_number: number, ...input, request: { signal } })
    )
    return toIssue(raw)
  })

  const listComments = Effect.fn("GitHub.listComments")(function* (number: number) {
    const raw = yield* paged(
      `read comments of GitHub #${number}`,
      `issue #${number}`,
      Number.POSITIVE_INFINITY,
      RawComment,
      (octokit, r, signal) =>
        octokit.paginate.iterator(octokit.rest.issues.listComments, {
          owner: r.owner,
          repo: r.name,
          issue_number: number,
          per_page: 100,
          request: { signal }
        })
    )
    return raw.map(toComment)
  })

  const createComment = Effect.fn("GitHub.createComment")(function* (number: number, body: string) {
    const raw = yield* run(
      `comment on GitHub #${number}`,
      `issue #${number}`,
      false,
      RawComment,
      (octokit, r, signal) =>
        octokit.rest.issues.createComment({
          owner: r.owner,
          repo: r.name,
          issue_number: number,
          body,
          request: { signal }
        })
    )
    return toComment(raw)
  })

  const updateComment = Effect.fn("GitHub.updateComment")(function* (commentId: number, body: string) {
    const raw = yield* run(
      `update GitHub comment ${commentId}`,
      `comment ${commentId}`,
      true,
      RawComment,
      (octokit, r, signal) =>
        octokit.rest.issues.updateComment({
          owner: r.owner,
          repo: r.name,
          comment_id: commentId,
          body,
          request: { signal }
        })
    )
    return toComment(raw)
  })

  const addLabels = Effect.fn("GitHub.addLabels")(function* (number: number, labels: ReadonlyArray<string>) {
    if (labels.length === 0) return
    yield* run(`label GitHub #${number}`, `issue #${number}`, true, Schema.Unknown, (octokit, r, signal) =>
      octokit.rest.issues.addLabels({
        owner: r.owner,
        repo: r.name,
        issue_number: number,
        labels: [...labels],
        request: { signal }
      })
    )
  })

  const removeLabel = Effect.fn("GitHub.removeLabel")(function* (number: number, label: string) {
    yield* noneOn404(
      run(`unlabel GitHub #${number}`, `label ${label} on #${number}`, true, Schema.Unknown, (octokit, r, signal) =>
        octokit.rest.issues.removeLabel({
          owner: r.owner,
          repo: r.name,
          issue_number: number,
          name: label,
          request: { signal }
        })
      )
    )
  })

  const pullsForHead = Effect.fn("GitHub.pullsForHead")(function* (branch: string, state: "open" | "closed" | "all") {
    const r = yield* repo
    const raw = yield* paged(`find pull requests for ${branch}`, "repository", 100, RawPull, (octokit, rr, signal) =>
      octokit.paginate.iterator(octokit.rest.pulls.list, {
        owner: rr.owner,
        repo: rr.name,
        head: `${r.owner}:${branch}`,
        state,
        per_page: 100,
        request: { signal }
      })
    )
    return raw.map(toPull).filter((p) => p.head === branch)
  })

  const getPull = Effect.fn("GitHub.getPull")(function* (number: number) {
    return yield* noneOn404(
      run(`read pull request #${number}`, `pull request #${number}`, true, RawPull, (octokit, r, signal) =>
        octokit.rest.pulls.get({ owner: r.owner, repo: r.name, pull_number: number, request: { signal } })
      ).pipe(Effect.map(toPull))
    )
  })

  const createPull = Effect.fn("GitHub.createPull")(function* (input: {
    readonly head: string
    readonly base: string
    readonly title: string
    readonly body: string
    readonly draft: boolean
  }) {
    const raw = yield* run(
      `open a pull request for ${input.head}`,
      "repository",
      false,
      RawPull,
      (octokit, r, signal) =>
        octokit.rest.pulls.create({
          owner: r.owner,
          repo: r.name,
          head: input.head,
          base: input.base,
          title: input.title,
          body: input.body,
          draft: input.draft,
          request: { signal }
        })
    )
    return toPull(raw)
  })

  const updatePull = Effect.fn("GitHub.updatePull")(function* (
    number: number,
    input: { readonly title?: string; readonly body?: string; readonly base?: string }
  ) {
    const raw = yield* run(
      `update pull request #${number}`,
      `pull request #${number}`,
      true,
      RawPull,
      (octokit, r, signal) =>
        octokit.rest.pulls.update({ owner: r.owner, repo: r.name, pull_number: number, ...input, request: { signal } })
    )
    return toPull(raw)
  })

  const mergePull = Effect.fn("GitHub.mergePull")(function* (
    number: number,
    input: { readonly method: "merge" | "squash" | "rebase"; readonly sha?: string | undefined }
  ) {
    const merged = yield* run(
      `merge pull request #${number}`,
      `pull request #${number}`,
      false,
      Schema.Struct({ sha: Schema.String }),
      (octokit, r, signal) =>
        octokit.rest.pulls.merge({
          owner: r.owner,
          repo: r.name,
          pull_number: number,
          merge_method: input.method,
          ...(input.sha !== undefined ? { sha: input.sha } : {}),
          request: { signal }
        })
    )
    return { sha: merged.sha }
  })

  const createStatus = Effect.fn("GitHub.createStatus")(function* (
    sha: string,
    input: {
      readonly state: "success" | "failure" | "pending" | "error"
      readonly context: string
      readonly description?: string | undefined
      readonly targetUrl?: string | undefined
    }
  ) {
    yield* run(
      `set status ${input.context} on ${sha.slice(0, 12)}`,
      `commit ${sha}`,
      true,
      Schema.Unknown,
      (octokit, r, signal) =>
        octokit.rest.repos.createCommitStatus({
          owner: r.owner,
          repo: r.name,
          sha,
          state: input.state,
          context: input.context,
          ...(input.description !== undefined ? { description: input.description.slice(0, 140) } : {}),
          ...(input.targetUrl !== undefined ? { target_url: input.targetUrl } : {}),
          request: { signal }
        })
    )
  })

  const RawStatus = Schema.Struct({
    state: Schema.String,
    context: Schema.String,
    description: Schema.NullOr(Schema.String),
    target_url: Schema.NullOr(Schema.String)
  })
  const listStatuses = Effect.fn("GitHub.listStatuses")(function* (ref: string) {
    const raw = yield* paged(
      `read statuses of ${ref.slice(0, 12)}`,
      `commit ${ref}`,
      300,
      RawStatus,
      (octokit, r, signal) =>
        octokit.paginate.iterator(octokit.rest.repos.listCommitStatusesForRef, {
          owner: r.owner,
          repo: r.name,
          ref,
          per_page: 100,
          request: { signal }
        })
    )
    return raw.map((s) => ({ state: s.state, context: s.context, description: s.description, targetUrl: s.target_url }))
  })

  const RawReview = Schema.Struct({
    id: Schema.Number,
    user: Login,
    state: Schema.String,
    body: Schema.optional(Schema.NullOr(Schema.String)),
    submitted_at: Schema.optional(Schema.NullOr(Schema.String)),
    commit_id: Schema.optional(Schema.NullOr(Schema.String)),
    html_url: Schema.String
  })
  const listReviews = Effect.fn("GitHub.listReviews")(function* (number: number) {
    const raw = yield* paged(
      `read reviews of pull request #${number}`,
      `pull request #${number}`,
      Number.POSITIVE_INFINITY,
      RawReview,
      (octokit, r, signal) =>
        octokit.paginate.iterator(octokit.rest.pulls.listReviews, {
          owner: r.owner,
          repo: r.name,
          pull_number: number,
          per_page: 100,
          request: { signal }
        })
    )
    return raw.map(
      (x): GitHubReview => ({
        id: x.id,
        user: x.user?.login ?? null,
        state: x.state,
        body: x.body ?? "",
        submittedAt: x.submitted_at ?? null,
        commitId: x.commit_id ?? null,
        url: x.html_url
      })
    )
  })

  const RawReviewComment = Schema.Struct({
    id: Schema.Number,
    user: Login,
    body: Schema.String,
    path: Schema.String,
    line: Schema.optional(Schema.NullOr(Schema.Number)),
    original_line: Schema.optional(Schema.NullOr(Schema.Number)),
    commit_id: Schema.optional(Schema.NullOr(Schema.String)),
    html_url: Schema.String
  })
  const listReviewComments = Effect.fn("GitHub.listReviewComments")(function* (number: number) {
    const raw = yield* paged(
      `read review comments of pull request #${number}`,
      `pull request #${number}`,
      Number.POSITIVE_INFINITY,
      RawReviewComment,
      (octokit, r, signal) =>
        octokit.paginate.iterator(octokit.rest.pulls.listReviewComments, {
          owner: r.owner,
          repo: r.name,
          pull_number: number,
          per_page: 100,
          request: { signal }
        })
    )
    return raw.map(
      (x): GitHubReviewComment => ({
        id: x.id,
        user: x.user?.login ?? null,
        body: x.body,
        path: x.path,
        line: x.line ?? x.original_line ?? null,
        commitId: x.commit_id ?? null,
        url: x.html_url
      })
    )
  })

  const RawCheckRuns = Schema.Struct({
    check_runs: Schema.Array(
      Schema.Struct({
        id: Schema.Number,
        name: Schema.String,
        status: Schema.String,
        conclusion: Schema.NullOr(Schema.String),
        details_url: Schema.optional(Schema.NullOr(Schema.String)),
        html_url: Schema.optional(Schema.NullOr(Schema.String)),
        app: Schema.optional(Schema.NullOr(Schema.Struct({ slug: Schema.optional(Schema.String) })))
      })
    )
  })
  const listCheckRuns = Effect.fn("GitHub.listCheckRuns")(function* (ref: string) {
    const res = yield* run(
      `read check runs of ${ref.slice(0, 12)}`,
      `commit ${ref}`,
      true,
      RawCheckRuns,
      (octokit, r, signal) =>
        octokit.rest.checks.listForRef({ owner: r.owner, repo: r.name, ref, per_page: 100, request: { signal } })
    )
    return res.check_runs.map(
      (x): GitHubCheckRun => ({
        id: x.id,
        name: x.name,
        status: x.status,
        conclusion: x.conclusion,
        url: x.details_url ?? x.html_url ?? null,
        app: x.app?.slug ?? null
      })
    )
  })

  const isTeamMember = Effect.fn("GitHub.isTeamMember")(function* (org: string, teamSlug: string, login: string) {
    const found = yield* noneOn404(
      run(
        `read the membership of @${login} in ${org}/${teamSlug}`,
        `team ${org}/${teamSlug}`,
        true,
        Schema.Struct({ state: Schema.optional(Schema.String) }),
        (octokit, _r, signal) =>
          octokit.rest.teams.getMembershipForUserInOrg({
            org,
            team_slug: teamSlug,
            username: login,
            request: { signal }
          })
      )
    )
    return Option.isSome(found) && found.value.state === "active"
  })

  return GitHub.of({
    tokenEnvNames: envNames,
    repo,
    availability,
    listIssues,
    getIssue,
    createIssue,
    updateIssue,
    listComments,
    createComment,
    updateComment,
    addLabels,
    removeLabel,
    pullsForHead,
    getPull,
    createPull,
    updatePull,
    mergePull,
    createStatus,
    listStatuses,
    listReviews,
    listReviewComments,
    listCheckRuns,
    isTeamMember
  })
}
