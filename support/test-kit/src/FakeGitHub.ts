/**
 * A loopback GitHub REST API: the endpoints @octokit/rest calls for issues, issue comments,
 * labels, pull requests, merges, commit statuses, repositories and team memberships, with GitHub's
 * JSON shapes (an author's `author_association` with the repository included),
 * error bodies (401 `Bad credentials`, 403, 404 `Not Found`, 422 `Validation Failed`), `Link`
 * pagination and primary/secondary rate-limit headers. A repository can be backed by a real bare
 * git repository, so pull requests and statuses see the branches and commits a test pushed.
 */
import { execFileSync } from "node:child_process"
import { Effect, type Scope } from "effect"
import { FakeHttpServer, type Fault, FixedWindow, type Incoming, type RecordedRequest, type Reply } from "./FakeHttp.js"

/** Routes the fake answers, as `METHOD /path/{param}` (the names used for faults and recorded requests). */
export const FAKE_GITHUB_ROUTES = [
  "GET /user",
  "GET /rate_limit",
  "GET /repos/{owner}/{repo}",
  "GET /repos/{owner}/{repo}/issues",
  "POST /repos/{owner}/{repo}/issues",
  "GET /repos/{owner}/{repo}/issues/comments/{comment_id}",
  "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}",
  "GET /repos/{owner}/{repo}/issues/{issue_number}",
  "PATCH /repos/{owner}/{repo}/issues/{issue_number}",
  "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
  "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
  "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
  "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
  "GET /repos/{owner}/{repo}/labels",
  "POST /repos/{owner}/{repo}/labels",
  "GET /repos/{owner}/{repo}/pulls",
  "POST /repos/{owner}/{repo}/pulls",
  "GET /repos/{owner}/{repo}/pulls/{pull_number}",
  "PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/merge",
  "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge",
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews",
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/comments",
  "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
  "POST /repos/{owner}/{repo}/statuses/{sha}",
  "GET /repos/{owner}/{repo}/commits/{ref}/statuses",
  "GET /repos/{owner}/{repo}/commits/{ref}/status",
  "GET /orgs/{org}/teams/{team_slug}/memberships/{username}"
] as const

const DOCS = "https://docs.github.com/rest"
const NUMERIC = new Set(["issue_number", "pull_number", "comment_id"])

const compiled = FAKE_GITHUB_ROUTES.map((route) => {
  const [method, pattern] = route.split(" ") as [string, string]
  const names: Array<string> = []
  const source = pattern.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name)
    return NUMERIC.has(name) ? "(\\d+)" : name === "ref" || name === "name" ? "(.+?)" : "([^/]+)"
  })
  return { route, method, regex: new RegExp(`^${source}$`), names }
})

const match = (method: string, pathname: string): { route: string; params: Record<string, string> } | undefined => {
  for (const c of compiled) {
    if (c.method !== method) continue
    const m = c.regex.exec(pathname)
    if (m)
      return { route: c.route, params: Object.fromEntries(c.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])) }
  }
  return undefined
}

/** GitHub's `author_association`: how the author of an issue or comment relates to the repository. */
export type FakeAuthorAssociation =
  | "OWNER"
  | "MEMBER"
  | "COLLABORATOR"
  | "CONTRIBUTOR"
  | "FIRST_TIME_CONTRIBUTOR"
  | "FIRST_TIMER"
  | "MANNEQUIN"
  | "NONE"

/** A GitHub account the fake knows; `token` authenticates as it. */
export interface FakeGitHubUser {
  readonly id: number
  readonly login: string
  readonly token: string
}

interface LabelRow {
  id: number
  name: string
  color: string
  description: string | null
}
interface IssueRow {
  id: number
  number: number
  title: string
  body: string | null
  state: "open" | "closed"
  stateReason: string | null
  labels: Array<number>
  userId: number
  assignee: string | null
  createdAt: string
  updatedAt: string
  closedAt: string | null
  pull?: PullRow
}
interface PullRow {
  head: string
  base: string
  headSha: string
  draft: boolean
  merged: boolean
  mergedAt: string | null
  mergeCommitSha: string | null
  mergeable: boolean
}
interface CommentRow {
  id: number
  issueNumber: number
  body: string
  userId: number
  createdAt: string
  updatedAt: string
}
interface StatusRow {
  id: number
  sha: string
  state: string
  description: string | null
  targetUrl: string | null
  context: string
  createdAt: string
  userId: number
}
interface ReviewRow {
  id: number
  number: number
  userId: number
  state: string
  body: string
  commitId: string
  submittedAt: string
}
interface ReviewCommentRow {
  id: number
  number: number
  userId: number
  body: string
  path: string
  line: number | null
  commitId: string
  reviewId: number | null
  createdAt: string
}
interface CheckRunRow {
  id: number
  sha: string
  name: string
  status: string
  conclusion: string | null
  startedAt: string
  completedAt: string | null
  appSlug: string
}
interface RepoRow {
  id: number
  owner: string
  name: string
  defaultBranch: string
  gitDir: string | undefined
  branches: Map<string, string>
  issues: Map<number, IssueRow>
  nextNumber: number
  labels: Array<LabelRow>
  comments: Array<CommentRow>
  statuses: Array<StatusRow>
  reviews: Array<ReviewRow>
  reviewComments: Array<ReviewCommentRow>
  checkRuns: Array<CheckRunRow>
  /** `author_association` of each account with this repository (absent: `NONE`). */
  associations: Map<number, FakeAuthorAssociation>
}

/** A read-only view of a pull request for assertions. */
export interface FakePullRequest {
  readonly number: number
  readonly title: string
  readonly body: string | null
  readonly state: "open" | "closed"
  readonly draft: boolean
  readonly head: string
  readonly base: string
  readonly headSha: string
  readonly merged: boolean
}

/** Options for `startFakeGitHub`. */
export interface FakeGitHubOptions {
  /** Token of the default user `spec-orch-bot` (default `ghp_test_token`). */
  readonly token?: string
  /** Primary rate limit: requests per window (GitHub: 5,000 per hour for a token). */
  readonly requestsLimit?: number
  readonly windowMs?: number
  /** Status used when the primary limit is exhausted (GitHub uses 403 or 429). */
  readonly rateLimitStatus?: 403 | 429
  /**
   * The fake's clock in epoch milliseconds (default the wall clock): rate-limit windows, reset headers
   * and requests' `at` follow it. A test whose client runs on `fastForwardClock` passes its `now`.
   */
  readonly now?: () => number
}

/** A running fake GitHub. */
export class FakeGitHub {
  /** The API base URL, for `[github] api_url` / Octokit's `baseUrl`. */
  url = ""
  readonly token: string
  private readonly http: FakeHttpServer
  private readonly window: FixedWindow
  private readonly rateLimitStatus: 403 | 429
  private readonly users: Array<FakeGitHubUser> = []
  private readonly repos = new Map<string, RepoRow>()
  /** Team memberships: `org/slug` (lower case) → login (lower case) → state. */
  private readonly teams = new Map<
    string,
    Map<string, { readonly role: "member" | "maintainer"; readonly state: "active" | "pending" }>
  >()
  private ids = 100
  private clock = Date.parse("2026-01-01T00:00:00Z")

  constructor(options: FakeGitHubOptions = {}) {
    this.token = options.token ?? "ghp_test_token"
    this.window = new FixedWindow(options.requestsLimit ?? 5000, options.windowMs ?? 3_600_000, options.now)
    this.rateLimitStatus = options.rateLimitStatus ?? 403
    this.users.push({ id: 1, login: "spec-orch-bot", token: this.token })
    this.http = new FakeHttpServer(
      (incoming) =>
        match(incoming.method, incoming.url.pathname)?.route ?? `${incoming.method} ${incoming.url.pathname}`,
      (incoming, route) => this.handle(incoming, route),
      (status) => this.errorBody(status),
      (route, reply) => (reply.status === 401 || route === "GET /rate_limit" ? {} : this.rateHeaders()),
      options.now
    )
  }

  /** Every request received, oldest first; `route` is the matched route (`POST /repos/{owner}/{repo}/pulls`). */
  get requests(): ReadonlyArray<RecordedRequest> {
    return this.http.requests
  }

  /** Requests to one route. */
  requestsTo(route: string): ReadonlyArray<RecordedRequest> {
    return this.http.requestsTo(route)
  }

  /** Injects a fault on a route (`*` for every route); a status-only fault answers with GitHub's error body for it. */
  fail(route: string, fault: Fault): void {
    this.http.fail(route, fault)
  }

  /** Makes the next `times` requests to `route` (with `query`, if given) hit a secondary rate limit (403 with `retry-after`). */
  secondaryLimit(route: string, retryAfterSeconds: number, times = 1, query?: Readonly<Record<string, string>>): void {
    this.http.fail(route, {
      status: 403,
      times,
      ...(query !== undefined ? { query } : {}),
      headers: { "retry-after": String(retryAfterSeconds) },
      body: {
        message:
          "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.",
        documentation_url:
          "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        status: "403"
      }
    })
  }

  /** Sets the primary rate limit: `limit` requests per `windowMs`. */
  rateLimit(limit: number, windowMs: number): void {
    this.window.limit = limit
    this.window.windowMs = windowMs
  }

  /** Adds a repository; with `gitDir` (a bare repository) branches and commits are read from it. */
  addRepo(fullName: string, options: { defaultBranch?: string; gitDir?: string } = {}): void {
    const [owner, name] = fullName.split("/") as [string, string]
    this.repos.set(fullName.toLowerCase(), {
      id: this.nextId(),
      owner,
      name,
      defaultBranch: options.defaultBranch ?? "main",
      gitDir: options.gitDir,
      branches: new Map(),
      issues: new Map(),
      nextNumber: 1,
      labels: [],
      comments: [],
      statuses: [],
      reviews: [],
      reviewComments: [],
      checkRuns: [],
      associations: new Map([[1, "MEMBER"]])
    })
  }

  /** Sets how an account relates to a repository (its `author_association`); an unknown login gets an account. */
  setAssociation(fullName: string, login: string, association: FakeAuthorAssociation): void {
    const user = this.users.find((u) => u.login === login) ?? this.addUser(login)
    this.repo(fullName).associations.set(user.id, association)
  }

  /** Adds a team of an organization with its members (`pending`: invited, not yet accepted). */
  addTeam(
    org: string,
    slug: string,
    members: ReadonlyArray<string>,
    options: { readonly maintainers?: ReadonlyArray<string>; readonly pending?: ReadonlyArray<string> } = {}
  ): void {
    const rows = new Map<string, { readonly role: "member" | "maintainer"; readonly state: "active" | "pending" }>()
    for (const login of members) rows.set(login.toLowerCase(), { role: "member", state: "active" })
    for (const login of options.maintainers ?? [])
      rows.set(login.toLowerCase(), { role: "maintainer", state: "active" })
    for (const login of options.pending ?? []) rows.set(login.toLowerCase(), { role: "member", state: "pending" })
    this.teams.set(`${org}/${slug}`.toLowerCase(), rows)
  }

  /** Declares a branch head for a repository without a git directory. */
  setBranch(fullName: string, branch: string, sha: string): void {
    this.repo(fullName).branches.set(branch, sha)
  }

  /**
   * Adds an issue and returns its number: by the default user (a `MEMBER`) unless `author` is given; an
   * unknown author gets an account, `association` sets theirs with the repository (default `NONE`).
   */
  addIssue(
    fullName: string,
    input: {
      title: string
      body?: string
      labels?: ReadonlyArray<string>
      state?: "open" | "closed"
      assignee?: string
      author?: string
      association?: FakeAuthorAssociation
    }
  ): number {
    const repo = this.repo(fullName)
    const author =
      input.author === undefined
        ? this.users[0]!
        : (this.users.find((u) => u.login === input.author) ?? this.addUser(input.author))
    if (input.association !== undefined) repo.associations.set(author.id, input.association)
    const now = this.tick()
    const row: IssueRow = {
      id: this.nextId(),
      number: repo.nextNumber++,
      title: input.title,
      body: input.body ?? null,
      state: input.state ?? "open",
      stateReason: input.state === "closed" ? "completed" : null,
      labels: (input.labels ?? []).map((n) => this.ensureLabel(repo, n).id),
      userId: author.id,
      assignee: input.assignee ?? null,
      createdAt: now,
      updatedAt: now,
      closedAt: input.state === "closed" ? now : null
    }
    repo.issues.set(row.number, row)
    return row.number
  }

  /** Adds a comment as some user (a new account is made for an unknown login). */
  addComment(fullName: string, issueNumber: number, body: string, login = "spec-orch-bot"): number {
    const repo = this.repo(fullName)
    const user = this.users.find((u) => u.login === login) ?? this.addUser(login)
    const now = this.tick()
    const c: CommentRow = { id: this.nextId(), issueNumber, body, userId: user.id, createdAt: now, updatedAt: now }
    repo.comments.push(c)
    return c.id
  }

  /** Adds an account with its own token (`ghp_<login>`). */
  addUser(login: string): FakeGitHubUser {
    const user = { id: this.users.length + 1, login, token: `ghp_${login}` }
    this.users.push(user)
    return user
  }

  /** Submits a review on a pull request (state APPROVED, CHANGES_REQUESTED or COMMENTED) on its current head; returns its id. */
  addReview(
    fullName: string,
    number: number,
    input: { login: string; state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED"; body?: string }
  ): number {
    const repo = this.repo(fullName)
    const i = repo.issues.get(number)
    if (i?.pull === undefined) throw new Error(`fake github: no pull request #${number}`)
    const user = this.users.find((u) => u.login === input.login) ?? this.addUser(input.login)
    const row: ReviewRow = {
      id: this.nextId(),
      number,
      userId: user.id,
      state: input.state,
      body: input.body ?? "",
      commitId: this.resolve(repo, i.pull.head) ?? i.pull.headSha,
      submittedAt: this.tick()
    }
    repo.reviews.push(row)
    return row.id
  }

  /** Adds a review comment on a line of a pull request's diff; returns its id. */
  addReviewComment(
    fullName: string,
    number: number,
    input: { login: string; body: string; path: string; line?: number }
  ): number {
    const repo = this.repo(fullName)
    const i = repo.issues.get(number)
    if (i?.pull === undefined) throw new Error(`fake github: no pull request #${number}`)
    const user = this.users.find((u) => u.login === input.login) ?? this.addUser(input.login)
    const row: ReviewCommentRow = {
      id: this.nextId(),
      number,
      userId: user.id,
      body: input.body,
      path: input.path,
      line: input.line ?? null,
      commitId: this.resolve(repo, i.pull.head) ?? i.pull.headSha,
      reviewId: null,
      createdAt: this.tick()
    }
    repo.reviewComments.push(row)
    return row.id
  }

  /** Adds a check run (as a CI app would) on a commit; returns its id. */
  addCheckRun(
    fullName: string,
    sha: string,
    input: {
      name: string
      status?: "queued" | "in_progress" | "completed"
      conclusion?: "success" | "failure" | "neutral" | "cancelled" | "skipped" | "timed_out" | "action_required"
      app?: string
    }
  ): number {
    const repo = this.repo(fullName)
    const status = input.status ?? "completed"
    const now = this.tick()
    const row: CheckRunRow = {
      id: this.nextId(),
      sha,
      name: input.name,
      status,
      conclusion: status === "completed" ? (input.conclusion ?? "success") : null,
      startedAt: now,
      completedAt: status === "completed" ? now : null,
      appSlug: input.app ?? "github-actions"
    }
    repo.checkRuns.push(row)
    return row.id
  }

  /** Marks a draft pull request ready for review (or back to draft), as a person does in the web UI. */
  setDraft(fullName: string, number: number, draft: boolean): void {
    const pr = this.repo(fullName).issues.get(number)?.pull
    if (pr === undefined) throw new Error(`fake github: no pull request #${number}`)
    pr.draft = draft
  }

  /** Marks a pull request as (not) mergeable. */
  setMergeable(fullName: string, number: number, mergeable: boolean): void {
    const pr = this.repo(fullName).issues.get(number)?.pull
    if (pr === undefined) throw new Error(`fake github: no pull request #${number}`)
    pr.mergeable = mergeable
  }

  /** The pull requests of a repository, by number. */
  pulls(fullName: string): ReadonlyArray<FakePullRequest> {
    return [...this.repo(fullName).issues.values()]
      .filter((i) => i.pull !== undefined)
      .map((i) => ({
        number: i.number,
        title: i.title,
        body: i.body,
        state: i.state,
        draft: i.pull!.draft,
        head: i.pull!.head,
        base: i.pull!.base,
        headSha: i.pull!.headSha,
        merged: i.pull!.merged
      }))
  }

  /** The comments on an issue or pull request, oldest first. */
  comments(
    fullName: string,
    number: number
  ): ReadonlyArray<{ id: number; body: string; user: string; updatedAt: string }> {
    return this.repo(fullName)
      .comments.filter((c) => c.issueNumber === number)
      .map((c) => ({
        id: c.id,
        body: c.body,
        user: this.users.find((u) => u.id === c.userId)!.login,
        updatedAt: c.updatedAt
      }))
  }

  /** Commit statuses for a sha, newest first. */
  statuses(
    fullName: string,
    sha: string
  ): ReadonlyArray<{ state: string; context: string; description: string | null; targetUrl: string | null }> {
    return this.repo(fullName)
      .statuses.filter((s) => s.sha === sha)
      .reverse()
      .map((s) => ({ state: s.state, context: s.context, description: s.description, targetUrl: s.targetUrl }))
  }

  /** Label names on an issue. */
  labelsOf(fullName: string, number: number): ReadonlyArray<string> {
    const repo = this.repo(fullName)
    return (repo.issues.get(number)?.labels ?? []).map((id) => repo.labels.find((l) => l.id === id)!.name)
  }

  /** Starts listening on 127.0.0.1. */
  async start(): Promise<this> {
    await this.http.start()
    this.url = this.http.origin
    return this
  }

  /** Stops the server. */
  close(): Promise<void> {
    return this.http.close()
  }

  // ---------------------------------------------------------------------------------------------

  private nextId(): number {
    return ++this.ids
  }

  private tick(): string {
    this.clock += 1000
    return new Date(this.clock).toISOString().replace(/\.\d{3}Z$/, "Z")
  }

  private repo(fullName: string): RepoRow {
    const repo = this.repos.get(fullName.toLowerCase())
    if (repo === undefined) throw new Error(`fake github: no repository ${fullName}`)
    return repo
  }

  private ensureLabel(repo: RepoRow, name: string): LabelRow {
    const found = repo.labels.find((l) => l.name.toLowerCase() === name.toLowerCase())
    if (found) return found
    const label: LabelRow = { id: this.nextId(), name, color: "ededed", description: null }
    repo.labels.push(label)
    return label
  }

  /** The commit a ref (branch or sha) names, from the bare repository or the declared branches. */
  private resolve(repo: RepoRow, ref: string): string | undefined {
    if (repo.gitDir !== undefined) {
      for (const candidate of [`refs/heads/${ref}`, ref]) {
        try {
          return execFileSync(
            "git",
            ["--git-dir", repo.gitDir, "rev-parse", "--verify", "--quiet", `${candidate}^{commit}`],
            { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }
          ).trim()
        } catch {
          // try the next spelling
        }
      }
      return undefined
    }
    if (repo.branches.has(ref)) return repo.branches.get(ref)
    return [...repo.branches.values()].find((sha) => sha === ref || (ref.length >= 7 && sha.startsWith(ref)))
  }

  private rateHeaders(): Record<string, string> {
    return {
      "x-ratelimit-limit": String(this.window.limit),
      "x-ratelimit-remaining": String(this.window.remaining()),
      "x-ratelimit-reset": String(Math.ceil(this.window.resetAt() / 1000)),
      "x-ratelimit-used": String(this.window.usedCount()),
      "x-ratelimit-resource": "core",
      "x-github-api-version-selected": "2022-11-28"
    }
  }

  private errorBody(status: number, message?: string, docs = DOCS): Record<string, unknown> {
    const text =
      message ??
      (status === 401
        ? "Bad credentials"
        : status === 403
          ? "Resource not accessible by personal access token"
          : status === 404
            ? "Not Found"
            : status === 422
              ? "Validation Failed"
              : status === 409
                ? "Conflict"
                : status >= 500
                  ? "Server Error"
                  : "Error")
    return { message: text, documentation_url: docs, status: String(status) }
  }

  private error(status: number, message?: string, extra: Record<string, unknown> = {}): Reply {
    return { status, body: { ...this.errorBody(status, message), ...extra } }
  }

  private validation(errors: Array<Record<string, unknown>>, message = "Validation Failed"): Reply {
    return this.error(422, message, { errors })
  }

  private associationOf(repo: RepoRow, userId: number): FakeAuthorAssociation {
    return repo.associations.get(userId) ?? "NONE"
  }

  private userJson(userId: number) {
    const u = this.users.find((x) => x.id === userId)!
    return {
      login: u.login,
      id: u.id,
      node_id: `U_${u.id}`,
      avatar_url: `https://avatars.githubusercontent.com/u/${u.id}?v=4`,
      url: `${this.url}/users/${u.login}`,
      html_url: `https://github.com/${u.login}`,
      type: u.login.endsWith("[bot]") ? "Bot" : "User",
      site_admin: false
    }
  }

  private repoJson(repo: RepoRow) {
    const full = `${repo.owner}/${repo.name}`
    return {
      id: repo.id,
      node_id: `R_${repo.id}`,
      name: repo.name,
      full_name: full,
      private: true,
      owner: {
        login: repo.owner,
        id: 9000 + repo.id,
        node_id: `O_${repo.id}`,
        type: "Organization",
        site_admin: false,
        url: `${this.url}/users/${repo.owner}`,
        html_url: `https://github.com/${repo.owner}`
      },
      html_url: `https://github.com/${full}`,
      url: `${this.url}/repos/${full}`,
      default_branch: repo.defaultBranch,
      visibility: "private",
      permissions: { admin: false, maintain: false, push: true, triage: true, pull: true }
    }
  }

  private labelJson(repo: RepoRow, l: LabelRow) {
    return {
      id: l.id,
      node_id: `LA_${l.id}`,
      url: `${this.url}/repos/${repo.owner}/${repo.name}/labels/${encodeURIComponent(l.name)}`,
      name: l.name,
      color: l.color,
      default: false,
      description: l.description
    }
  }

  private issueJson(repo: RepoRow, i: IssueRow) {
    const full = `${repo.owner}/${repo.name}`
    const api = `${this.url}/repos/${full}/issues/${i.number}`
    return {
      url: api,
      repository_url: `${this.url}/repos/${full}`,
      labels_url: `${api}/labels{/name}`,
      comments_url: `${api}/comments`,
      events_url: `${api}/events`,
      html_url: `https://github.com/${full}/${i.pull ? "pull" : "issues"}/${i.number}`,
      id: i.id,
      node_id: `I_${i.id}`,
      number: i.number,
      title: i.title,
      user: this.userJson(i.userId),
      labels: i.labels.map((id) => this.labelJson(repo, repo.labels.find((l) => l.id === id)!)),
      state: i.state,
      locked: false,
      assignee: i.assignee ? { login: i.assignee, id: 5000, type: "User" } : null,
      assignees: i.assignee ? [{ login: i.assignee, id: 5000, type: "User" }] : [],
      milestone: null,
      comments: repo.comments.filter((c) => c.issueNumber === i.number).length,
      created_at: i.createdAt,
      updated_at: i.updatedAt,
      closed_at: i.closedAt,
      author_association: this.associationOf(repo, i.userId),
      active_lock_reason: null,
      body: i.body,
      state_reason: i.stateReason,
      ...(i.pull
        ? {
            draft: i.pull.draft,
            pull_request: {
              url: `${this.url}/repos/${full}/pulls/${i.number}`,
              html_url: `https://github.com/${full}/pull/${i.number}`,
              diff_url: `https://github.com/${full}/pull/${i.number}.diff`,
              patch_url: `https://github.com/${full}/pull/${i.number}.patch`,
              merged_at: i.pull.mergedAt
            }
          }
        : {})
    }
  }

  private pullJson(repo: RepoRow, i: IssueRow, full = false) {
    const p = i.pull!
    const repoJson = this.repoJson(repo)
    const name = `${repo.owner}/${repo.name}`
    const baseSha = this.resolve(repo, p.base) ?? "0000000000000000000000000000000000000000"
    return {
      url: `${this.url}/repos/${name}/pulls/${i.number}`,
      id: i.id,
      node_id: `PR_${i.id}`,
      html_url: `https://github.com/${name}/pull/${i.number}`,
      diff_url: `https://github.com/${name}/pull/${i.number}.diff`,
      patch_url: `https://github.com/${name}/pull/${i.number}.patch`,
      issue_url: `${this.url}/repos/${name}/issues/${i.number}`,
      number: i.number,
      state: i.state,
      locked: false,
      title: i.title,
      user: this.userJson(i.userId),
      body: i.body,
      created_at: i.createdAt,
      updated_at: i.updatedAt,
      closed_at: i.closedAt,
      merged_at: p.mergedAt,
      merge_commit_sha: p.mergeCommitSha,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      labels: i.labels.map((id) => this.labelJson(repo, repo.labels.find((l) => l.id === id)!)),
      milestone: null,
      draft: p.draft,
      head: { label: `${repo.owner}:${p.head}`, ref: p.head, sha: p.headSha, user: repoJson.owner, repo: repoJson },
      base: { label: `${repo.owner}:${p.base}`, ref: p.base, sha: baseSha, user: repoJson.owner, repo: repoJson },
      author_association: this.associationOf(repo, i.userId),
      auto_merge: null,
      active_lock_reason: null,
      ...(full
        ? {
            merged: p.merged,
            mergeable: i.state === "open" ? p.mergeable : null,
            rebaseable: p.mergeable,
            mergeable_state: p.draft ? "draft" : p.mergeable ? "clean" : "dirty",
            merged_by: p.merged ? this.userJson(1) : null,
            comments: repo.comments.filter((c) => c.issueNumber === i.number).length,
            review_comments: 0,
            maintainer_can_modify: false,
            commits: 1,
            additions: 1,
            deletions: 0,
            changed_files: 1
          }
        : {})
    }
  }

  private commentJson(repo: RepoRow, c: CommentRow) {
    const name = `${repo.owner}/${repo.name}`
    return {
      url: `${this.url}/repos/${name}/issues/comments/${c.id}`,
      html_url: `https://github.com/${name}/issues/${c.issueNumber}#issuecomment-${c.id}`,
      issue_url: `${this.url}/repos/${name}/issues/${c.issueNumber}`,
      id: c.id,
      node_id: `IC_${c.id}`,
      user: this.userJson(c.userId),
      created_at: c.createdAt,
      updated_at: c.updatedAt,
      author_association: this.associationOf(repo, c.userId),
      body: c.body
    }
  }

  private statusJson(repo: RepoRow, s: StatusRow) {
    return {
      url: `${this.url}/repos/${repo.owner}/${repo.name}/statuses/${s.sha}`,
      avatar_url: "https://avatars.githubusercontent.com/u/1?v=4",
      id: s.id,
      node_id: `SC_${s.id}`,
      state: s.state,
      description: s.description,
      target_url: s.targetUrl,
      context: s.context,
      created_at: s.createdAt,
      updated_at: s.createdAt,
      creator: this.userJson(s.userId)
    }
  }

  /** Pages `items` with `per_page`/`page` and adds GitHub's `Link` header. */
  private paged<T>(incoming: Incoming, items: ReadonlyArray<T>): Reply {
    const perPage = Math.min(100, Math.max(1, Number(incoming.url.searchParams.get("per_page") ?? 30) || 30))
    const page = Math.max(1, Number(incoming.url.searchParams.get("page") ?? 1) || 1)
    const last = Math.max(1, Math.ceil(items.length / perPage))
    const link = (p: number) => {
      const u = new URL(incoming.url.pathname + incoming.url.search, this.url)
      u.searchParams.set("per_page", String(perPage))
      u.searchParams.set("page", String(p))
      return u.toString()
    }
    const rels: Array<string> = []
    if (page > 1) rels.push(`<${link(page - 1)}>; rel="prev"`)
    if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`)
    if (page > 1) rels.push(`<${link(1)}>; rel="first"`)
    return {
      status: 200,
      body: items.slice((page - 1) * perPage, page * perPage),
      ...(rels.length > 0 ? { headers: { link: rels.join(", ") } } : {})
    }
  }

  private handle(incoming: Incoming, _route: string): Reply {
    const matched = match(incoming.method, incoming.url.pathname)
    const auth = incoming.headers.authorization
    const token = auth?.replace(/^(token|bearer)\s+/i, "")
    const user = token !== undefined ? this.users.find((u) => u.token === token) : undefined
    if (auth !== undefined && user === undefined) return this.error(401, "Bad credentials")
    if (user === undefined)
      return this.error(401, "Requires authentication", {
        documentation_url: `${DOCS}/overview/authenticating-to-the-rest-api`
      })
    if (matched?.route === "GET /rate_limit") {
      const core = {
        limit: this.window.limit,
        remaining: this.window.remaining(),
        reset: Math.ceil(this.window.resetAt() / 1000),
        used: this.window.usedCount(),
        resource: "core"
      }
      return { status: 200, body: { resources: { core }, rate: core } }
    }
    if (!this.window.take()) {
      return this.error(
        this.rateLimitStatus,
        `API rate limit exceeded for user ID ${user.id}. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.`,
        {
          documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
        }
      )
    }
    if (matched === undefined) return this.error(404)
    const { route, params } = matched
    if (route === "GET /user") return { status: 200, body: this.userJson(user.id) }
    if (route === "GET /orgs/{org}/teams/{team_slug}/memberships/{username}") {
      // GitHub answers 404 both for "not a member" and for a team the token cannot see.
      const membership = this.teams
        .get(`${params.org}/${params.team_slug}`.toLowerCase())
        ?.get(params.username!.toLowerCase())
      if (membership === undefined)
        return this.error(404, "Not Found", {
          documentation_url: `${DOCS}/teams/members#get-team-membership-for-a-user`
        })
      return {
        status: 200,
        body: {
          url: `${this.url}/organizations/1/team/1/memberships/${params.username}`,
          role: membership.role,
          state: membership.state
        }
      }
    }
    const repo = this.repos.get(`${params.owner}/${params.repo}`.toLowerCase())
    if (repo === undefined)
      return this.error(404, "Not Found", { documentation_url: `${DOCS}/repos/repos#get-a-repository` })
    const body = (incoming.body ?? {}) as Record<string, any>
    const q = incoming.url.searchParams
    const num = (name: string) => Number(params[name])
    switch (route) {
      case "GET /repos/{owner}/{repo}":
        return { status: 200, body: this.repoJson(repo) }

      case "GET /repos/{owner}/{repo}/issues": {
        const state = q.get("state") ?? "open"
        const wanted = (q.get("labels") ?? "")
          .split(",")
          .map((s) => s.trim().toLowerCase())
          .filter(Boolean)
        const since = q.get("since")
        const sort = q.get("sort") ?? "created"
        const direction = q.get("direction") ?? "desc"
        let items = [...repo.issues.values()].filter(
          (i) =>
            (state === "all" || i.state === state) &&
            wanted.every((w) =>
              i.labels.some((id) => repo.labels.find((l) => l.id === id)!.name.toLowerCase() === w)
            ) &&
            (since === null || i.updatedAt >= since) &&
            (q.get("assignee") === null || q.get("assignee") === "*"
              ? q.get("assignee") !== "*" || i.assignee !== null
              : i.assignee === q.get("assignee"))
        )
        const key = (i: IssueRow) =>
          sort === "updated"
            ? i.updatedAt
            : sort === "comments"
              ? String(repo.comments.filter((c) => c.issueNumber === i.number).length).padStart(8, "0")
              : i.createdAt
        items = items.sort((a, b) => key(a).localeCompare(key(b)) || a.number - b.number)
        if (direction === "desc") items.reverse()
        return this.paged(
          incoming,
          items.map((i) => this.issueJson(repo, i))
        )
      }

      case "POST /repos/{owner}/{repo}/issues": {
        if (typeof body.title !== "string" || body.title === "")
          return this.validation([{ resource: "Issue", code: "missing_field", field: "title" }])
        const n = this.addIssue(`${repo.owner}/${repo.name}`, {
          title: body.title,
          body: body.body,
          labels: body.labels,
          author: user.login
        })
        return { status: 201, body: this.issueJson(repo, repo.issues.get(n)!) }
      }

      case "GET /repos/{owner}/{repo}/issues/{issue_number}": {
        const issue = repo.issues.get(num("issue_number"))
        return issue
          ? { status: 200, body: this.issueJson(repo, issue) }
          : this.error(404, "Not Found", { documentation_url: `${DOCS}/issues/issues#get-an-issue` })
      }

      case "PATCH /repos/{owner}/{repo}/issues/{issue_number}": {
        const issue = repo.issues.get(num("issue_number"))
        if (!issue) return this.error(404, "Not Found", { documentation_url: `${DOCS}/issues/issues#update-an-issue` })
        if (typeof body.title === "string") issue.title = body.title
        if (typeof body.body === "string" || body.body === null) issue.body = body.body
        if (body.state === "open" || body.state === "closed") {
          issue.state = body.state
          issue.closedAt = body.state === "closed" ? this.tick() : null
          issue.stateReason = body.state === "closed" ? (body.state_reason ?? "completed") : "reopened"
        }
        if (Array.isArray(body.labels))
          issue.labels = body.labels.map(
            (n: unknown) => this.ensureLabel(repo, typeof n === "string" ? n : String((n as any)?.name)).id
          )
        issue.updatedAt = this.tick()
        return { status: 200, body: this.issueJson(repo, issue) }
      }

      case "GET /repos/{owner}/{repo}/issues/{issue_number}/comments": {
        if (!repo.issues.has(num("issue_number")))
          return this.error(404, "Not Found", { documentation_url: `${DOCS}/issues/comments#list-issue-comments` })
        const since = q.get("since")
        return this.paged(
          incoming,
          repo.comments
            .filter((c) => c.issueNumber === num("issue_number") && (since === null || c.updatedAt >= since))
            .map((c) => this.commentJson(repo, c))
        )
      }

      case "POST /repos/{owner}/{repo}/issues/{issue_number}/comments": {
        const issue = repo.issues.get(num("issue_number"))
        if (!issue)
          return this.error(404, "Not Found", { documentation_url: `${DOCS}/issues/comments#create-an-issue-comment` })
        if (typeof body.body !== "string" || body.body === "")
          return this.validation([{ resource: "IssueComment", code: "missing_field", field: "body" }])
        const id = this.addComment(`${repo.owner}/${repo.name}`, issue.number, body.body, user.login)
        issue.updatedAt = this.tick()
        return { status: 201, body: this.commentJson(repo, repo.comments.find((c) => c.id === id)!) }
      }

      case "GET /repos/{owner}/{repo}/issues/comments/{comment_id}": {
        const c = repo.comments.find((x) => x.id === num("comment_id"))
        return c ? { status: 200, body: this.commentJson(repo, c) } : this.error(404)
      }

      case "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}": {
        const c = repo.comments.find((x) => x.id === num("comment_id"))
        if (!c)
          return this.error(404, "Not Found", { documentation_url: `${DOCS}/issues/comments#update-an-issue-comment` })
        if (typeof body.body !== "string" || body.body === "")
          return this.validation([{ resource: "IssueComment", code: "missing_field", field: "body" }])
        c.body = body.body
        c.updatedAt = this.tick()
        return { status: 200, body: this.commentJson(repo, c) }
      }

      case "GET /repos/{owner}/{repo}/labels":
        return this.paged(
          incoming,
          repo.labels.map((l) => this.labelJson(repo, l))
        )

      case "POST /repos/{owner}/{repo}/labels": {
        if (typeof body.name !== "string" || body.name === "")
          return this.validation([{ resource: "Label", code: "missing_field", field: "name" }])
        if (repo.labels.some((l) => l.name.toLowerCase() === body.name.toLowerCase()))
          return this.validation([{ resource: "Label", code: "already_exists", field: "name" }])
        const l = this.ensureLabel(repo, body.name)
        if (typeof body.color === "string") l.color = body.color
        if (typeof body.description === "string") l.description = body.description
        return { status: 201, body: this.labelJson(repo, l) }
      }

      case "POST /repos/{owner}/{repo}/issues/{issue_number}/labels": {
        const issue = repo.issues.get(num("issue_number"))
        if (!issue) return this.error(404)
        const names: Array<string> = Array.isArray(body)
          ? body
          : Array.isArray(body.labels)
            ? body.labels.map((n: any) => (typeof n === "string" ? n : n?.name))
            : []
        if (names.length === 0) return this.validation([{ resource: "Label", code: "missing_field", field: "labels" }])
        for (const n of names) {
          const l = this.ensureLabel(repo, n)
          if (!issue.labels.includes(l.id)) issue.labels.push(l.id)
        }
        issue.updatedAt = this.tick()
        return {
          status: 200,
          body: issue.labels.map((id) => this.labelJson(repo, repo.labels.find((l) => l.id === id)!))
        }
      }

      case "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}": {
        const issue = repo.issues.get(num("issue_number"))
        if (!issue) return this.error(404)
        const l = repo.labels.find((x) => x.name.toLowerCase() === params.name!.toLowerCase())
        if (!l || !issue.labels.includes(l.id))
          return this.error(404, "Label does not exist", {
            documentation_url: `${DOCS}/issues/labels#remove-a-label-from-an-issue`
          })
        issue.labels = issue.labels.filter((id) => id !== l.id)
        issue.updatedAt = this.tick()
        return {
          status: 200,
          body: issue.labels.map((id) => this.labelJson(repo, repo.labels.find((x) => x.id === id)!))
        }
      }

      case "GET /repos/{owner}/{repo}/pulls": {
        const state = q.get("state") ?? "open"
        const head = q.get("head")
        const base = q.get("base")
        let items = [...repo.issues.values()].filter(
          (i) =>
            i.pull !== undefined &&
            (state === "all" || i.state === state) &&
            (head === null ||
              `${repo.owner}:${i.pull.head}`.toLowerCase() === head.toLowerCase() ||
              (!head.includes(":") && i.pull.head === head)) &&
            (base === null || i.pull.base === base)
        )
        items = items.sort((a, b) => b.number - a.number)
        if ((q.get("direction") ?? "desc") === "asc") items.reverse()
        return this.paged(
          incoming,
          items.map((i) => this.pullJson(repo, i))
        )
      }

      case "POST /repos/{owner}/{repo}/pulls": {
        const missing = ["head", "base"].filter((f) => typeof body[f] !== "string" || body[f] === "")
        if (typeof body.title !== "string" && body.issue === undefined) missing.unshift("title")
        if (missing.length > 0)
          return this.validation(missing.map((field) => ({ resource: "PullRequest", code: "missing_field", field })))
        const headBranch = String(body.head).includes(":") ? String(body.head).split(":")[1]! : String(body.head)
        const headOwner = String(body.head).includes(":") ? String(body.head).split(":")[0]! : repo.owner
        const headSha =
          headOwner.toLowerCase() === repo.owner.toLowerCase() ? this.resolve(repo, headBranch) : undefined
        const baseSha = this.resolve(repo, body.base)
        const invalid = [...(baseSha === undefined ? ["base"] : []), ...(headSha === undefined ? ["head"] : [])]
        if (invalid.length > 0)
          return this.validation(invalid.map((field) => ({ resource: "PullRequest", field, code: "invalid" })))
        if (headSha === baseSha)
          return this.validation([
            { resource: "PullRequest", code: "custom", message: `No commits between ${body.base} and ${headBranch}` }
          ])
        const dup = [...repo.issues.values()].find(
          (i) => i.pull && i.state === "open" && i.pull.head === headBranch && i.pull.base === body.base
        )
        if (dup)
          return this.validation([
            {
              resource: "PullRequest",
              code: "custom",
              message: `A pull request already exists for ${repo.owner}:${headBranch}.`
            }
          ])
        const now = this.tick()
        const row: IssueRow = {
          id: this.nextId(),
          number: repo.nextNumber++,
          title: body.title,
          body: body.body ?? null,
          state: "open",
          stateReason: null,
          labels: [],
          userId: user.id,
          assignee: null,
          createdAt: now,
          updatedAt: now,
          closedAt: null,
          pull: {
            head: headBranch,
            base: body.base,
            headSha: headSha!,
            draft: body.draft === true,
            merged: false,
            mergedAt: null,
            mergeCommitSha: null,
            mergeable: true
          }
        }
        repo.issues.set(row.number, row)
        return {
          status: 201,
          headers: { location: `${this.url}/repos/${repo.owner}/${repo.name}/pulls/${row.number}` },
          body: this.pullJson(repo, row, true)
        }
      }

      case "GET /repos/{owner}/{repo}/pulls/{pull_number}": {
        const i = repo.issues.get(num("pull_number"))
        if (!i?.pull)
          return this.error(404, "Not Found", { documentation_url: `${DOCS}/pulls/pulls#get-a-pull-request` })
        const sha = this.resolve(repo, i.pull.head)
        if (sha !== undefined && i.state === "open") i.pull.headSha = sha
        return { status: 200, body: this.pullJson(repo, i, true) }
      }

      case "PATCH /repos/{owner}/{repo}/pulls/{pull_number}": {
        const i = repo.issues.get(num("pull_number"))
        if (!i?.pull)
          return this.error(404, "Not Found", { documentation_url: `${DOCS}/pulls/pulls#update-a-pull-request` })
        if (typeof body.title === "string") i.title = body.title
        if (typeof body.body === "string") i.body = body.body
        if (typeof body.base === "string") {
          if (this.resolve(repo, body.base) === undefined)
            return this.validation([{ resource: "PullRequest", field: "base", code: "invalid" }])
          i.pull.base = body.base
        }
        if (body.state === "closed" || body.state === "open") {
          i.state = body.state
          i.closedAt = body.state === "closed" ? this.tick() : null
        }
        const sha = this.resolve(repo, i.pull.head)
        if (sha !== undefined) i.pull.headSha = sha
        i.updatedAt = this.tick()
        return { status: 200, body: this.pullJson(repo, i, true) }
      }

      case "GET /repos/{owner}/{repo}/pulls/{pull_number}/merge": {
        const i = repo.issues.get(num("pull_number"))
        return i?.pull?.merged ? { status: 204 } : this.error(404)
      }

      case "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge": {
        const i = repo.issues.get(num("pull_number"))
        if (!i?.pull)
          return this.error(404, "Not Found", { documentation_url: `${DOCS}/pulls/pulls#merge-a-pull-request` })
        const method = body.merge_method ?? "merge"
        if (!["merge", "squash", "rebase"].includes(method))
          return this.validation([{ resource: "PullRequest", field: "merge_method", code: "invalid" }])
        if (i.pull.merged || i.state === "closed")
          return this.error(405, "Pull Request is not mergeable", {
            documentation_url: `${DOCS}/pulls/pulls#merge-a-pull-request`
          })
        if (i.pull.draft)
          return this.error(405, "Pull Request is still a draft", {
            documentation_url: `${DOCS}/pulls/pulls#merge-a-pull-request`
          })
        const current = this.resolve(repo, i.pull.head) ?? i.pull.headSha
        if (typeof body.sha === "string" && body.sha !== current)
          return this.error(409, "Head branch was modified. Review and try the merge again.", {
            documentation_url: `${DOCS}/pulls/pulls#merge-a-pull-request`
          })
        if (!i.pull.mergeable)
          return this.error(405, "Pull Request is not mergeable", {
            documentation_url: `${DOCS}/pulls/pulls#merge-a-pull-request`
          })
        const now = this.tick()
        i.pull.merged = true
        i.pull.mergedAt = now
        i.pull.mergeCommitSha = current
        i.state = "closed"
        i.closedAt = now
        i.updatedAt = now
        return { status: 200, body: { sha: current, merged: true, message: "Pull Request successfully merged" } }
      }

      case "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews": {
        const i = repo.issues.get(num("pull_number"))
        if (!i?.pull)
          return this.error(404, "Not Found", {
            documentation_url: `${DOCS}/pulls/reviews#list-reviews-for-a-pull-request`
          })
        const name = `${repo.owner}/${repo.name}`
        return this.paged(
          incoming,
          repo.reviews
            .filter((r) => r.number === i.number)
            .map((r) => ({
              id: r.id,
              node_id: `PRR_${r.id}`,
              user: this.userJson(r.userId),
              body: r.body,
              state: r.state,
              html_url: `https://github.com/${name}/pull/${r.number}#pullrequestreview-${r.id}`,
              pull_request_url: `${this.url}/repos/${name}/pulls/${r.number}`,
              author_association: this.associationOf(repo, r.userId),
              submitted_at: r.submittedAt,
              commit_id: r.commitId
            }))
        )
      }

      case "GET /repos/{owner}/{repo}/pulls/{pull_number}/comments": {
        const i = repo.issues.get(num("pull_number"))
        if (!i?.pull)
          return this.error(404, "Not Found", {
            documentation_url: `${DOCS}/pulls/comments#list-review-comments-on-a-pull-request`
          })
        const name = `${repo.owner}/${repo.name}`
        return this.paged(
          incoming,
          repo.reviewComments
            .filter((c) => c.number === i.number)
            .map((c) => ({
              url: `${this.url}/repos/${name}/pulls/comments/${c.id}`,
              id: c.id,
              node_id: `PRRC_${c.id}`,
              pull_request_review_id: c.reviewId,
              diff_hunk: "@@ -1 +1 @@",
              path: c.path,
              position: c.line,
              original_position: c.line,
              line: c.line,
              original_line: c.line,
              side: "RIGHT",
              commit_id: c.commitId,
              original_commit_id: c.commitId,
              user: this.userJson(c.userId),
              body: c.body,
              created_at: c.createdAt,
              updated_at: c.createdAt,
              html_url: `https://github.com/${name}/pull/${c.number}#discussion_r${c.id}`,
              pull_request_url: `${this.url}/repos/${name}/pulls/${c.number}`,
              author_association: this.associationOf(repo, c.userId)
            }))
        )
      }

      case "GET /repos/{owner}/{repo}/commits/{ref}/check-runs": {
        const sha = this.resolve(repo, params.ref!)
        if (sha === undefined) return this.error(422, `No commit found for SHA: ${params.ref}`)
        const runs = repo.checkRuns.filter((r) => r.sha === sha).reverse()
        const perPage = Math.min(100, Math.max(1, Number(incoming.url.searchParams.get("per_page") ?? 30) || 30))
        const page = Math.max(1, Number(incoming.url.searchParams.get("page") ?? 1) || 1)
        return {
          status: 200,
          body: {
            total_count: runs.length,
            check_runs: runs.slice((page - 1) * perPage, page * perPage).map((r) => ({
              id: r.id,
              name: r.name,
              head_sha: r.sha,
              node_id: `CR_${r.id}`,
              external_id: "",
              url: `${this.url}/repos/${repo.owner}/${repo.name}/check-runs/${r.id}`,
              html_url: `https://github.com/${repo.owner}/${repo.name}/runs/${r.id}`,
              details_url: `https://ci.example.test/runs/${r.id}`,
              status: r.status,
              conclusion: r.conclusion,
              started_at: r.startedAt,
              completed_at: r.completedAt,
              output: {
                title: r.conclusion === "failure" ? `${r.name} failed` : null,
                summary: null,
                text: null,
                annotations_count: 0
              },
              app: { id: 15368, slug: r.appSlug, name: r.appSlug },
              pull_requests: []
            }))
          }
        }
      }

      case "POST /repos/{owner}/{repo}/statuses/{sha}": {
        const states = ["error", "failure", "pending", "success"]
        if (!states.includes(body.state))
          return this.validation([
            { resource: "Status", code: "custom", field: "state", message: "state is not included in the list" }
          ])
        const sha = this.resolve(repo, params.sha!)
        if (sha === undefined || (params.sha!.length === 40 && sha !== params.sha))
          return this.error(422, `No commit found for SHA: ${params.sha}`, {
            documentation_url: `${DOCS}/commits/statuses#create-a-commit-status`
          })
        const row: StatusRow = {
          id: this.nextId(),
          sha,
          state: body.state,
          description: body.description ?? null,
          targetUrl: body.target_url ?? null,
          context: body.context ?? "default",
          createdAt: this.tick(),
          userId: user.id
        }
        repo.statuses.push(row)
        return { status: 201, body: this.statusJson(repo, row) }
      }

      case "GET /repos/{owner}/{repo}/commits/{ref}/statuses": {
        const sha = this.resolve(repo, params.ref!)
        if (sha === undefined) return this.error(404, "Not Found")
        return this.paged(
          incoming,
          repo.statuses
            .filter((s) => s.sha === sha)
            .reverse()
            .map((s) => this.statusJson(repo, s))
        )
      }

      case "GET /repos/{owner}/{repo}/commits/{ref}/status": {
        const sha = this.resolve(repo, params.ref!)
        if (sha === undefined) return this.error(404, `No commit found for SHA: ${params.ref}`)
        const latest = new Map<string, StatusRow>()
        for (const s of repo.statuses.filter((x) => x.sha === sha)) latest.set(s.context, s)
        const list = [...latest.values()]
        const state = list.some((s) => s.state === "error" || s.state === "failure")
          ? "failure"
          : list.length === 0 || list.some((s) => s.state === "pending")
            ? "pending"
            : "success"
        return {
          status: 200,
          body: {
            state,
            statuses: list.map((s) => this.statusJson(repo, s)),
            sha,
            total_count: list.length,
            repository: this.repoJson(repo)
          }
        }
      }
    }
    return this.error(404)
  }
}

/** Starts a fake GitHub on 127.0.0.1; call `close()` when done. */
export const startFakeGitHub = (options: FakeGitHubOptions = {}): Promise<FakeGitHub> => new FakeGitHub(options).start()

/** A fake GitHub for the current scope: started on 127.0.0.1, closed when the scope closes. */
export const fakeGitHub = (options: FakeGitHubOptions = {}): Effect.Effect<FakeGitHub, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => startFakeGitHub(options)),
    (fake) => Effect.promise(() => fake.close())
  )
