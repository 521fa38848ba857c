/**
 * Linear through @linear/sdk: reads with a few tight GraphQL documents sent by the SDK's transport
 * (the SDK's model queries fetch every field and then one request per relation), writes with the
 * SDK's own mutations. Every call goes through the shared `RequestBudget`. The SDK is loaded and the
 * token read on first use, so building this layer costs nothing and needs no token.
 */
import type { LinearClient } from "@linear/sdk"
import { Project } from "@spec-orch/contract"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import { type Attempt, call, describeNetworkError, numberHeader, type Token } from "./internal/call.js"
import { readToken, tokenEnvNames } from "./internal/tokens.js"
import { RequestBudget } from "./RequestBudget.js"
import {
  type TrackerAvailability,
  TrackerAuthFailed,
  TrackerError,
  TrackerForbidden,
  TrackerNotFound,
  TrackerRejected,
  type TrackerTokenMissing
} from "./TrackerError.js"

/** Token variables read after `[linear] token_env`, as the original spec-orch does. */
export const LINEAR_TOKEN_FALLBACKS = ["LINEAR_TOKEN", "LINEAR_API_TOKEN"] as const

/** A workflow state of a team. */
export interface LinearState {
  readonly id: string
  readonly name: string
  /** backlog, unstarted, started, completed, canceled or triage. */
  readonly type: string
}

/** A team with its workflow states. */
export interface LinearTeam {
  readonly id: string
  readonly key: string
  readonly name: string
  readonly states: ReadonlyArray<LinearState>
}

/** An issue as spec-orch reads it from Linear. */
export interface LinearIssue {
  readonly id: string
  readonly identifier: string
  readonly title: string
  readonly description: string | null
  readonly url: string
  readonly priority: number
  readonly createdAt: string
  readonly updatedAt: string
  readonly state: LinearState
  readonly team: { readonly id: string; readonly key: string }
  readonly assignee: {
    readonly id: string
    readonly name: string
    readonly email: string
    readonly isMe: boolean
  } | null
  /** Who created it; null when an integration or a system process did, or the account was deleted. */
  readonly creator: {
    readonly id: string
    readonly name: string
    readonly email: string
    readonly guest: boolean
    readonly app: boolean
  } | null
  readonly parent: { readonly id: string; readonly identifier: string } | null
  readonly labels: ReadonlyArray<{ readonly id: string; readonly name: string }>
  /** True when the issue has sub-issues. */
  readonly hasChildren: boolean
}

/** A comment on an issue. */
export interface LinearComment {
  readonly id: string
  readonly body: string
  readonly createdAt: string
  readonly updatedAt: string
  readonly user: { readonly id: string; readonly name: string; readonly email: string; readonly isMe: boolean } | null
}

/** A label of a team (or of the workspace when `teamId` is null). */
export interface LinearLabel {
  readonly id: string
  readonly name: string
  readonly teamId: string | null
}

/** Which issues to list; every field narrows the result. */
export interface LinearIssueFilter {
  readonly teamKey: string
  /** State names (any of). */
  readonly states?: ReadonlyArray<string> | undefined
  /** State types to leave out (`completed`, `canceled`) when no state names are given. */
  readonly excludeStateTypes?: ReadonlyArray<string> | undefined
  /** Every one of these labels. */
  readonly labels?: ReadonlyArray<string> | undefined
  /** None of these labels. */
  readonly excludeLabels?: ReadonlyArray<string> | undefined
  /** Only issues assigned to the token's user. */
  readonly assignedToMe?: boolean | undefined
  /** Only issues updated at or after this ISO time. */
  readonly updatedSince?: string | undefined
}

const ISSUE_FIELDS = /* GraphQL */ `
  id identifier title description url priority createdAt updatedAt
  state { id name type }
  team { id key }
  assignee { id name email isMe }
  creator { id name email guest app }
  parent { id identifier }
  labels(first: 50) { nodes { id name } }
  children(first: 1) { nodes { id } }
`

/** The read documents spec-orch sends (the operation names show in Linear's logs). */
export const LINEAR_DOCUMENTS = {
  issues: `query SpecOrchIssues($filter: IssueFilter, $first: Int, $after: String) {
  issues(filter: $filter, first: $first, after: $after, orderBy: createdAt) { nodes { ${ISSUE_FIELDS} } pageInfo { hasNextPage endCursor } }
}`,
  issue: `query SpecOrchIssue($id: String!) { issue(id: $id) { ${ISSUE_FIELDS} } }`,
  team: `query SpecOrchTeam($key: String!) {
  teams(filter: { key: { eq: $key } }, first: 1) { nodes { id key name states(first: 100) { nodes { id name type position } } } }
}`,
  issueTeam: `query SpecOrchIssueTeam($id: String!) {
  issue(id: $id) { id identifier state { id name type } team { id key name states(first: 100) { nodes { id name type position } } } }
}`,
  comments: `query SpecOrchComments($id: String!, $first: Int, $after: String) {
  issue(id: $id) { comments(first: $first, after: $after) { nodes { id body createdAt updatedAt user { id name email isMe } } pageInfo { hasNextPage endCursor } } }
}`,
  labels: `query SpecOrchLabels($name: String!) {
  issueLabels(filter: { name: { eqIgnoreCase: $name } }, first: 50) { nodes { id name team { id } } }
}`
} as const

interface RawIssue extends Omit<LinearIssue, "labels" | "hasChildren"> {
  readonly labels: { readonly nodes: ReadonlyArray<{ id: string; name: string }> }
  readonly children: { readonly nodes: ReadonlyArray<{ id: string }> }
}
interface PageInfo {
  readonly hasNextPage: boolean
  readonly endCursor: string | null
}
interface IssuesPage {
  readonly issues: { readonly nodes: ReadonlyArray<RawIssue>; readonly pageInfo: PageInfo }
}
interface CommentsPage {
  readonly issue: { readonly comments: { readonly nodes: ReadonlyArray<LinearComment>; readonly pageInfo: PageInfo } }
}

const toIssue = (raw: RawIssue): LinearIssue => ({
  id: raw.id,
  identifier: raw.identifier,
  title: raw.title,
  description: raw.description,
  url: raw.url,
  priority: raw.priority,
  createdAt: raw.createdAt,
  updatedAt: raw.updatedAt,
  state: raw.state,
  team: raw.team,
  assignee: raw.assignee,
  creator: raw.creator ?? null,
  parent: raw.parent,
  labels: raw.labels.nodes,
  hasChildren: raw.children.nodes.length > 0
})

/** Linear's GraphQL filter for a `LinearIssueFilter` (field names as in Linear's schema). */
export const linearIssueFilter = (f: LinearIssueFilter): Record<string, unknown> => {
  const and: Array<Record<string, unknown>> = [{ team: { key: { eq: f.teamKey } } }]
  if (f.states !== undefined && f.states.length > 0) and.push({ state: { name: { in: [...f.states] } } })
  else if (f.excludeStateTypes !== undefined && f.excludeStateTypes.length > 0)
    and.push({ state: { type: { nin: [...f.excludeStateTypes] } } })
  for (const label of f.labels ?? []) and.push({ labels: { some: { name: { eqIgnoreCase: label } } } })
  if (f.excludeLabels !== undefined && f.excludeLabels.length > 0)
    and.push({ labels: { every: { name: { nin: [...f.excludeLabels] } } } })
  if (f.assignedToMe === true) and.push({ assignee: { isMe: { eq: true } } })
  if (f.updatedSince !== undefined) and.push({ updatedAt: { gte: f.updatedSince } })
  return { and }
}

/** Linear's API, as spec-orch uses it. */
export class Linear extends Context.Service<
  Linear,
  {
    /** The environment variables the token is read from, in order. */
    readonly tokenEnvNames: ReadonlyArray<string>
    /** Whether Linear can be asked at all (a token is set), decided without a request. */
    readonly availability: Effect.Effect<TrackerAvailability>
    /** Issues matching `filter`, oldest first, at most `limit` (paging through Linear's 100-issue pages). */
    readonly listIssues: (
      filter: LinearIssueFilter,
      limit?: number
    ) => Effect.Effect<ReadonlyArray<LinearIssue>, TrackerError>
    /** One issue by identifier (`SON-12`) or id; `None` when Linear has no such issue. */
    readonly getIssue: (id: string) => Effect.Effect<Option.Option<LinearIssue>, TrackerError>
    /** A team and its workflow states by key; `None` when no team has this key. */
    readonly team: (key: string) => Effect.Effect<Option.Option<LinearTeam>, TrackerError>
    /** The team (with states) and current state of an issue. */
    readonly issueTeam: (
      id: string
    ) => Effect.Effect<
      { readonly issueId: string; readonly identifier: string; readonly state: LinearState; readonly team: LinearTeam },
      TrackerError
    >
    /** Every comment of an issue, oldest first. */
    readonly listComments: (issueId: string) => Effect.Effect<ReadonlyArray<LinearComment>, TrackerError>
    /** Adds a comment as the token's user; returns the new comment's id. With `id` (a UUID v4) a repeated create is refused instead of duplicated. */
    readonly createComment: (
      issueId: string,
      body: string,
      id?: string | undefined
    ) => Effect.Effect<string, TrackerError>
    /** Replaces a comment's body. */
    readonly updateComment: (commentId: string, body: string) => Effect.Effect<void, TrackerError>
    /** Moves an issue to a workflow state (by state id). */
    /** Creates an issue in a team (not retried after a network failure or 5xx: the caller finds what it made first). */
    readonly createIssue: (input: {
      readonly teamId: string
      readonly title: string
      readonly description: string
      readonly parentId?: string | undefined
    }) => Effect.Effect<LinearIssue, TrackerError>
    /** Replaces an issue's description. */
    readonly updateDescription: (issueId: string, description: string) => Effect.Effect<void, TrackerError>
    /** Relates two issues: `issueId` blocks `relatedIssueId` (Linear's `blocks` relation). */
    readonly createRelation: (
      issueId: string,
      relatedIssueId: string,
      type: "blocks" | "related"
    ) => Effect.Effect<void, TrackerError>
    readonly setState: (issueId: string, stateId: string) => Effect.Effect<void, TrackerError>
    /** Labels named `name` (case-insensitive) visible to the token. */
    readonly findLabels: (name: string) => Effect.Effect<ReadonlyArray<LinearLabel>, TrackerError>
    /** Creates a team label; returns its id. */
    readonly createLabel: (teamId: string, name: string) => Effect.Effect<string, TrackerError>
    /** Adds a label to an issue. */
    readonly addLabel: (issueId: string, labelId: string) => Effect.Effect<void, TrackerError>
    /** Removes a label from an issue. */
    readonly removeLabel: (issueId: string, labelId: string) => Effect.Effect<void, TrackerError>
  }
>()("@spec-orch/control/Linear") {
  /** Linear from `[linear] api_url` and the token in `[linear] token_env` (then `LINEAR_TOKEN`, `LINEAR_API_TOKEN`). */
  static readonly layer: Layer.Layer<Linear, never, Project | RequestBudget> = Layer.effect(
    Linear,
    Effect.gen(function* () {
      const project = yield* Project
      const budget = yield* RequestBudget
      return makeLinear({
        apiUrl: project.config.linear.api_url,
        envNames: tokenEnvNames(project.config.linear.token_env, LINEAR_TOKEN_FALLBACKS),
        budget
      })
    })
  )
}

/** Classifies an error thrown by the SDK. */
const classify = (error: unknown, envName: string, apiUrl: string): Attempt => {
  const e = error as {
    type?: string
    status?: number
    message?: string
    errors?: ReadonlyArray<{ message?: string; type?: string }>
    retryAfter?: number
    requestsRemaining?: number
    requestsResetAt?: number
  }
  if (e?.type === undefined) return { _tag: "Transient", detail: describeNetworkError(error) }
  const first = e.errors?.[0]?.message ?? e.message ?? "unknown error"
  switch (e.type) {
    case "Ratelimited":
      return {
        _tag: "RateLimited",
        info: {
          remaining: e.requestsRemaining ?? 0,
          resetAtMs: e.requestsResetAt,
          retryAfterMs: e.retryAfter !== undefined ? e.retryAfter * 1000 : undefined
        }
      }
    case "AuthenticationError":
      // The SDK calls any bare 4xx an authentication error; only a 401 or an error Linear typed so is one.
      if (e.status === 401 || (e.errors ?? []).some((x) => x.type === "AuthenticationError")) {
        return { _tag: "Final", reason: new TrackerAuthFailed({ tracker: "linear", envName, detail: first }) }
      }
      return {
        _tag: "Final",
        reason: new TrackerRejected({
          tracker: "linear",
          status: e.status ?? 400,
          detail: `unexpected answer from ${apiUrl}: ${first} (check [linear] api_url)`
        })
      }
    case "Forbidden":
      return { _tag: "Final", reason: new TrackerForbidden({ tracker: "linear", envName, detail: first }) }
    case "InvalidInput": {
      const texts = [e.message ?? "", ...(e.errors ?? []).map((x) => x.message ?? "")].join("\n")
      const missing = /Entity not found: (\w+)|Could not find referenced (\w+)/.exec(texts)
      if (missing)
        return { _tag: "Final", reason: new TrackerNotFound({ tracker: "linear", what: missing[1] ?? missing[2]! }) }
      return {
        _tag: "Final",
        reason: new TrackerRejected({ tracker: "linear", status: e.status ?? 400, detail: first })
      }
    }
    case "NetworkError":
    case "InternalError":
    case "LockTimeout":
      return { _tag: "Transient", detail: `${first}${e.status ? ` (HTTP ${e.status})` : ""}` }
    default:
      if ((e.status ?? 0) >= 500) return { _tag: "Transient", detail: `${first} (HTTP ${e.status})` }
      return {
        _tag: "Final",
        reason: new TrackerRejected({ tracker: "linear", status: e.status ?? 400, detail: first })
      }
  }
}

const makeLinear = (options: {
  readonly apiUrl: string
  readonly envNames: ReadonlyArray<string>
  readonly budget: RequestBudget["Service"]
}): Linear["Service"] => {
  const { apiUrl, envNames, budget } = options
  let client: { readonly sdk: LinearClient; readonly token: Token } | undefined

  const connect: Effect.Effect<{ readonly sdk: LinearClient; readonly token: Token }, TrackerTokenMissing> =
    Effect.suspend(() => {
      if (client !== undefined) return Effect.succeed(client)
      return Effect.gen(function* () {
        const token = yield* readToken("linear", envNames)
        // Loaded on first use: the SDK is large and most commands never talk to Linear.
        const { LinearClient } = yield* Effect.promise(() => import("@linear/sdk"))
        const sdk = new LinearClient({ apiKey: Redacted.value(token.value), apiUrl })
        client = { sdk, token }
        return client
      })
    })

  /** One SDK call; `headers` from a raw request feed the budget. */
  const run = <A>(
    operation: string,
    idempotent: boolean,
    f: (sdk: LinearClient) => Promise<A>,
    headersOf?: (a: A) => Headers | undefined
  ) =>
    Effect.gen(function* () {
      const { sdk, token } = yield* connect.pipe(Effect.mapError((reason) => new TrackerError({ operation, reason })))
      return yield* call({
        budget,
        tracker: "linear",
        operation,
        url: apiUrl,
        idempotent,
        once: Effect.tryPromise({ try: () => f(sdk), catch: (error) => classify(error, token.envName, apiUrl) }).pipe(
          Effect.tap((a) => {
            const headers = headersOf?.(a)
            if (headers === undefined) return Effect.void
            return budget.observe("linear", {
              remaining: numberHeader(headers.get("x-ratelimit-requests-remaining")),
              resetAtMs: numberHeader(headers.get("x-ratelimit-requests-reset"))
            })
          })
        )
      })
    })

  const query = <A>(operation: string, document: string, variables: Record<string, unknown>) =>
    run(
      operation,
      true,
      (sdk) => sdk.client.rawRequest<A, Record<string, unknown>>(document, variables),
      (r) => r.headers
    ).pipe(Effect.map((r) => r.data as A))

  const notFoundToNone = <A>(effect: Effect.Effect<A, TrackerError>): Effect.Effect<Option.Option<A>, TrackerError> =>
    effect.pipe(
      Effect.map(Option.some),
      Effect.catchTag("TrackerError", (e) =>
        e.reason._tag === "TrackerNotFound" ? Effect.succeed(Option.none<A>()) : Effect.fail(e)
      )
    )

  const listIssues = Effect.fn("Linear.listIssues")(function* (
    filter: LinearIssueFilter,
    limit = Number.POSITIVE_INFINITY
  ) {
    const out: Array<LinearIssue> = []
    let after: string | null = null
    for (;;) {
      const first = Math.max(1, Math.min(100, limit - out.length))
      const page: IssuesPage = yield* query<IssuesPage>("list Linear issues", LINEAR_DOCUMENTS.issues, {
        filter: linearIssueFilter(filter),
        first,
        ...(after !== null ? { after } : {})
      })
      out.push(...page.issues.nodes.map(toIssue))
      if (!page.issues.pageInfo.hasNextPage || out.length >= limit || page.issues.pageInfo.endCursor === null) break
      after = page.issues.pageInfo.endCursor
    }
    return out.slice(0, limit)
  })

  const getIssue = Effect.fn("Linear.getIssue")(function* (id: string) {
    return yield* notFoundToNone(
      query<{ issue: RawIssue }>(`read Linear issue ${id}`, LINEAR_DOCUMENTS.issue, { id }).pipe(
        Effect.map((r) => toIssue(r.issue))
      )
    )
  })

  const toTeam = (t: {
    id: string
    key: string
    name: string
    states: { nodes: ReadonlyArray<LinearState & { position?: number }> }
  }): LinearTeam => ({
    id: t.id,
    key: t.key,
    name: t.name,
    states: t.states.nodes.map((s) => ({ id: s.id, name: s.name, type: s.type }))
  })

  const team = Effect.fn("Linear.team")(function* (key: string) {
    const r = yield* query<{ teams: { nodes: ReadonlyArray<Parameters<typeof toTeam>[0]> } }>(
      `read Linear team ${key}`,
      LINEAR_DOCUMENTS.team,
      { key }
    )
    const t = r.teams.nodes[0]
    return t === undefined ? Option.none<LinearTeam>() : Option.some(toTeam(t))
  })

  const issueTeam = Effect.fn("Linear.issueTeam")(function* (id: string) {
    const r = yield* query<{
      issue: { id: string; identifier: string; state: LinearState; team: Parameters<typeof toTeam>[0] }
    }>(`read Linear issue ${id}`, LINEAR_DOCUMENTS.issueTeam, { id })
    return {
      issueId: r.issue.id,
      identifier: r.issue.identifier,
      state: { id: r.issue.state.id, name: r.issue.state.name, type: r.issue.state.type },
      team: toTeam(r.issue.team)
    }
  })

  const listComments = Effect.fn("Linear.listComments")(function* (issueId: string) {
    const out: Array<LinearComment> = []
    let after: string | null = null
    for (;;) {
      const r: CommentsPage = yield* query<CommentsPage>(
        `read comments of Linear issue ${issueId}`,
        LINEAR_DOCUMENTS.comments,
        {
          id: issueId,
          first: 100,
          ...(after !== null ? { after } : {})
        }
      )
      out.push(...r.issue.comments.nodes)
      if (!r.issue.comments.pageInfo.hasNextPage || r.issue.comments.pageInfo.endCursor === null) break
      after = r.issue.comments.pageInfo.endCursor
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  })

  const createComment = Effect.fn("Linear.createComment")(function* (
    issueId: string,
    body: string,
    id?: string | undefined
  ) {
    // With a client-chosen id the create is idempotent, so it may be retried after a lost answer.
    const payload = yield* run(`comment on Linear issue ${issueId}`, id !== undefined, (sdk) =>
      sdk.createComment({ issueId, body, ...(id !== undefined ? { id } : {}) })
    )
    return payload.commentId ?? ""
  })

  const updateComment = Effect.fn("Linear.updateComment")(function* (commentId: string, body: string) {
    yield* run(`update Linear comment ${commentId}`, true, (sdk) => sdk.updateComment(commentId, { body }))
  })

  const createIssue = Effect.fn("Linear.createIssue")(function* (input: {
    readonly teamId: string
    readonly title: string
    readonly description: string
    readonly parentId?: string | undefined
  }) {
    const r = yield* run(
      "create a Linear issue",
      false,
      (sdk) =>
        sdk.client.rawRequest<{ issueCreate: { issue: RawIssue | null } }, Record<string, unknown>>(
          `mutation SpecOrchIssueCreate($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { ${ISSUE_FIELDS} } } }`,
          {
            input: {
              teamId: input.teamId,
              title: input.title,
              description: input.description,
              ...(input.parentId !== undefined ? { parentId: input.parentId } : {})
            }
          }
        ),
      (x) => x.headers
    )
    const issue = r.data?.issueCreate.issue
    if (issue === undefined || issue === null)
      return yield* new TrackerError({
        operation: "create a Linear issue",
        reason: new TrackerRejected({ tracker: "linear", status: 200, detail: "Linear answered without the issue" })
      })
    return toIssue(issue)
  })

  const updateDescription = Effect.fn("Linear.updateDescription")(function* (issueId: string, description: string) {
    yield* query(
      `update Linear issue ${issueId}`,
      `mutation SpecOrchIssueDescription($id: String!, $input: IssueUpdateInput!) { issueUpdate(id: $id, input: $input) { success } }`,
      { id: issueId, input: { description } }
    )
  })

  const createRelation = Effect.fn("Linear.createRelation")(function* (
    issueId: string,
    relatedIssueId: string,
    type: "blocks" | "related"
  ) {
    yield* run(
      `relate Linear issues ${issueId} and ${relatedIssueId}`,
      false,
      (sdk) =>
        sdk.client.rawRequest<unknown, Record<string, unknown>>(
          `mutation SpecOrchRelation($input: IssueRelationCreateInput!) { issueRelationCreate(input: $input) { success issueRelation { id } } }`,
          { input: { issueId, relatedIssueId, type } }
        ),
      (x) => x.headers
    )
  })

  const setState = Effect.fn("Linear.setState")(function* (issueId: string, stateId: string) {
    yield* run(`move Linear issue ${issueId}`, true, (sdk) => sdk.updateIssue(issueId, { stateId }))
  })

  const findLabels = Effect.fn("Linear.findLabels")(function* (name: string) {
    const r = yield* query<{
      issueLabels: { nodes: ReadonlyArray<{ id: string; name: string; team: { id: string } | null }> }
    }>(`find Linear label ${name}`, LINEAR_DOCUMENTS.labels, { name })
    return r.issueLabels.nodes.map((l) => ({ id: l.id, name: l.name, teamId: l.team?.id ?? null }))
  })

  const createLabel = Effect.fn("Linear.createLabel")(function* (teamId: string, name: string) {
    const payload = yield* run(`create Linear label ${name}`, false, (sdk) => sdk.createIssueLabel({ name, teamId }))
    return payload.issueLabelId ?? ""
  })

  const addLabel = Effect.fn("Linear.addLabel")(function* (issueId: string, labelId: string) {
    yield* run(`label Linear issue ${issueId}`, true, (sdk) => sdk.issueAddLabel(issueId, labelId))
  })

  const removeLabel = Effect.fn("Linear.removeLabel")(function* (issueId: string, labelId: string) {
    yield* run(`unlabel Linear issue ${issueId}`, true, (sdk) => sdk.issueRemoveLabel(issueId, labelId))
  })

  const availability: Effect.Effect<TrackerAvailability> = readToken("linear", envNames).pipe(
    Effect.map((): TrackerAvailability => ({ available: true, detail: apiUrl })),
    Effect.catch((e) => Effect.succeed<TrackerAvailability>({ available: false, reason: e.message }))
  )

  return Linear.of({
    tokenEnvNames: envNames,
    availability,
    listIssues,
    getIssue,
    team,
    issueTeam,
    listComments,
    createComment,
    updateComment,
    createIssue,
    updateDescription,
    createRelation,
    setState,
    findLabels,
    createLabel,
    addLabel,
    removeLabel
  })
}
