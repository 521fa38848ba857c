/**
 * A loopback Linear: `POST /graphql` answering the subset of Linear's GraphQL API spec-orch uses,
 * executed by graphql-js against a schema written with Linear's own type, field and argument names,
 * so an invalid document is rejected the way Linear rejects it (HTTP 400,
 * `GRAPHQL_VALIDATION_FAILED`). Errors, rate limiting and headers follow Linear's documented shapes.
 * State lives in memory; tests seed and inspect it through the helper methods.
 */
import {
  buildSchema,
  execute,
  GraphQLError,
  type GraphQLFormattedError,
  Kind,
  type OperationDefinitionNode,
  parse,
  validate
} from "graphql"
import { Effect, type Scope } from "effect"
import { FakeHttpServer, type Fault, FixedWindow, type Incoming, type RecordedRequest, type Reply } from "./FakeHttp.js"

/** The schema subset: names, nullability and argument types as in Linear's public schema. */
const SDL = /* GraphQL */ `
scalar DateTime
scalar JSON

enum PaginationOrderBy { createdAt updatedAt }

type PageInfo { startCursor: String endCursor: String hasNextPage: Boolean! hasPreviousPage: Boolean! }

type User {
  id: ID!
  name: String!
  displayName: String!
  email: String!
  active: Boolean!
  guest: Boolean!
  app: Boolean!
  isMe: Boolean!
  url: String!
}

type Team {
  id: ID!
  key: String!
  name: String!
  states(after: String, before: String, filter: WorkflowStateFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): WorkflowStateConnection!
  labels(after: String, before: String, filter: IssueLabelFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): IssueLabelConnection!
  issues(after: String, before: String, filter: IssueFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): IssueConnection!
}

type WorkflowState {
  id: ID!
  name: String!
  type: String!
  position: Float!
  color: String!
  description: String
  team: Team!
}

type IssueLabel {
  id: ID!
  name: String!
  color: String!
  description: String
  isGroup: Boolean!
  team: Team
}

type Comment {
  id: ID!
  body: String!
  createdAt: DateTime!
  updatedAt: DateTime!
  editedAt: DateTime
  url: String!
  user: User
  issue: Issue
}

type Issue {
  id: ID!
  identifier: String!
  number: Float!
  title: String!
  description: String
  priority: Float!
  url: String!
  branchName: String!
  createdAt: DateTime!
  updatedAt: DateTime!
  archivedAt: DateTime
  completedAt: DateTime
  state: WorkflowState!
  team: Team!
  assignee: User
  creator: User
  parent: Issue
  labels(after: String, before: String, filter: IssueLabelFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): IssueLabelConnection!
  children(after: String, before: String, filter: IssueFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): IssueConnection!
  comments(after: String, before: String, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): CommentConnection!
}

enum IssueRelationType { blocks duplicate related similar }
type IssueRelation { id: ID! type: String! issue: Issue! relatedIssue: Issue! createdAt: DateTime! }
type IssueRelationPayload { lastSyncId: Float! issueRelation: IssueRelation! success: Boolean! }

type IssueEdge { node: Issue! cursor: String! }
type IssueConnection { edges: [IssueEdge!]! nodes: [Issue!]! pageInfo: PageInfo! }
type TeamEdge { node: Team! cursor: String! }
type TeamConnection { edges: [TeamEdge!]! nodes: [Team!]! pageInfo: PageInfo! }
type WorkflowStateEdge { node: WorkflowState! cursor: String! }
type WorkflowStateConnection { edges: [WorkflowStateEdge!]! nodes: [WorkflowState!]! pageInfo: PageInfo! }
type IssueLabelEdge { node: IssueLabel! cursor: String! }
type IssueLabelConnection { edges: [IssueLabelEdge!]! nodes: [IssueLabel!]! pageInfo: PageInfo! }
type CommentEdge { node: Comment! cursor: String! }
type CommentConnection { edges: [CommentEdge!]! nodes: [Comment!]! pageInfo: PageInfo! }

type CommentPayload { lastSyncId: Float! comment: Comment! success: Boolean! }
type IssuePayload { lastSyncId: Float! issue: Issue success: Boolean! }
type IssueLabelPayload { lastSyncId: Float! issueLabel: IssueLabel! success: Boolean! }

input StringComparator {
  eq: String neq: String in: [String!] nin: [String!]
  eqIgnoreCase: String neqIgnoreCase: String
  contains: String containsIgnoreCase: String notContains: String notContainsIgnoreCase: String
  startsWith: String startsWithIgnoreCase: String notStartsWith: String endsWith: String notEndsWith: String
}
input NullableStringComparator {
  eq: String neq: String in: [String!] nin: [String!] null: Boolean
  eqIgnoreCase: String neqIgnoreCase: String
  contains: String containsIgnoreCase: String notContains: String notContainsIgnoreCase: String
  startsWith: String startsWithIgnoreCase: String notStartsWith: String endsWith: String notEndsWith: String
}
input IDComparator { eq: ID neq: ID in: [ID!] nin: [ID!] }
input IssueIDComparator { eq: ID neq: ID in: [ID!] nin: [ID!] }
input NumberComparator { eq: Float neq: Float in: [Float!] nin: [Float!] gt: Float gte: Float lt: Float lte: Float }
input BooleanComparator { eq: Boolean neq: Boolean }
input DateComparator { eq: DateTime neq: DateTime in: [DateTime!] nin: [DateTime!] gt: DateTime gte: DateTime lt: DateTime lte: DateTime }

input TeamFilter { and: [TeamFilter!] or: [TeamFilter!] id: IDComparator key: StringComparator name: StringComparator }
input NullableTeamFilter { and: [NullableTeamFilter!] or: [NullableTeamFilter!] id: IDComparator key: StringComparator name: StringComparator null: Boolean }
input WorkflowStateFilter { and: [WorkflowStateFilter!] or: [WorkflowStateFilter!] id: IDComparator name: StringComparator type: StringComparator position: NumberComparator team: TeamFilter }
input NullableUserFilter {
  and: [NullableUserFilter!] or: [NullableUserFilter!]
  id: IDComparator name: StringComparator displayName: StringComparator email: StringComparator
  isMe: BooleanComparator active: BooleanComparator null: Boolean
}
input IssueLabelFilter { and: [IssueLabelFilter!] or: [IssueLabelFilter!] id: IDComparator name: StringComparator team: NullableTeamFilter }
input IssueLabelCollectionFilter {
  and: [IssueLabelCollectionFilter!] or: [IssueLabelCollectionFilter!]
  id: IDComparator name: StringComparator null: Boolean length: NumberComparator
  some: IssueLabelFilter every: IssueLabelFilter
}
input IssueFilter {
  and: [IssueFilter!] or: [IssueFilter!]
  id: IssueIDComparator number: NumberComparator title: StringComparator description: NullableStringComparator
  createdAt: DateComparator updatedAt: DateComparator
  team: TeamFilter state: WorkflowStateFilter assignee: NullableUserFilter creator: NullableUserFilter
  labels: IssueLabelCollectionFilter parent: NullableIssueFilter children: IssueCollectionFilter
}
input NullableIssueFilter {
  and: [NullableIssueFilter!] or: [NullableIssueFilter!]
  id: IssueIDComparator number: NumberComparator title: StringComparator null: Boolean
  team: TeamFilter state: WorkflowStateFilter labels: IssueLabelCollectionFilter
}
input IssueCollectionFilter {
  and: [IssueCollectionFilter!] or: [IssueCollectionFilter!]
  id: IssueIDComparator null: Boolean length: NumberComparator
  state: WorkflowStateFilter labels: IssueLabelCollectionFilter
  some: IssueFilter every: IssueFilter
}

input CommentCreateInput { id: String body: String bodyData: JSON issueId: String parentId: String createAsUser: String doNotSubscribeToIssue: Boolean createdAt: DateTime }
input CommentUpdateInput { body: String bodyData: JSON doNotSubscribeToIssue: Boolean }
input IssueUpdateInput {
  title: String description: String stateId: String assigneeId: String parentId: String priority: Int
  labelIds: [String!] addedLabelIds: [String!] removedLabelIds: [String!]
}
input IssueCreateInput {
  id: String title: String description: String teamId: String! stateId: String assigneeId: String parentId: String priority: Int labelIds: [String!]
}
input IssueRelationCreateInput { id: String issueId: String! relatedIssueId: String! type: IssueRelationType! }
input IssueLabelCreateInput { id: String name: String! color: String description: String teamId: String parentId: String isGroup: Boolean }

type Query {
  viewer: User!
  issue(id: String!): Issue!
  issues(after: String, before: String, filter: IssueFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): IssueConnection!
  team(id: String!): Team!
  teams(after: String, before: String, filter: TeamFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): TeamConnection!
  workflowStates(after: String, before: String, filter: WorkflowStateFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): WorkflowStateConnection!
  issueLabels(after: String, before: String, filter: IssueLabelFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): IssueLabelConnection!
  comment(hash: String, id: String, issueId: String): Comment!
}

type Mutation {
  commentCreate(input: CommentCreateInput!): CommentPayload!
  commentUpdate(id: String!, input: CommentUpdateInput!, skipEditedAt: Boolean): CommentPayload!
  issueCreate(input: IssueCreateInput!): IssuePayload!
  issueUpdate(id: String!, input: IssueUpdateInput!): IssuePayload!
  issueRelationCreate(input: IssueRelationCreateInput!): IssueRelationPayload!
  issueAddLabel(id: String!, labelId: String!): IssuePayload!
  issueRemoveLabel(id: String!, labelId: String!): IssuePayload!
  issueLabelCreate(input: IssueLabelCreateInput!, replaceTeamLabels: Boolean): IssueLabelPayload!
}
`

const schema = buildSchema(SDL)

/** Root operations the fake answers (for documentation and the lead's report). */
export const FAKE_LINEAR_OPERATIONS = {
  queries: ["viewer", "issue", "issues", "team", "teams", "workflowStates", "issueLabels", "comment"],
  mutations: [
    "commentCreate",
    "commentUpdate",
    "issueCreate",
    "issueUpdate",
    "issueRelationCreate",
    "issueAddLabel",
    "issueRemoveLabel",
    "issueLabelCreate"
  ]
} as const

/** A workflow state of a team (`type` is Linear's: backlog, unstarted, started, completed, canceled, triage). */
export interface FakeLinearStateInput {
  readonly name: string
  readonly type: string
}

/** Linear's default workflow for a new team, plus the `Ready` and `In Review` states spec-orch uses. */
export const DEFAULT_LINEAR_STATES: ReadonlyArray<FakeLinearStateInput> = [
  { name: "Backlog", type: "backlog" },
  { name: "Todo", type: "unstarted" },
  { name: "Ready", type: "unstarted" },
  { name: "In Progress", type: "started" },
  { name: "In Review", type: "started" },
  { name: "Done", type: "completed" },
  { name: "Canceled", type: "canceled" }
]

/** A user of the workspace; `token` is the API key that authenticates as them. */
export interface FakeLinearUser {
  readonly id: string
  readonly name: string
  readonly displayName: string
  readonly email: string
  readonly token: string | undefined
  /** A guest: limited to the teams they were invited to. */
  readonly guest: boolean
  /** An app's user (an integration or agent), not a person. */
  readonly app: boolean
}

interface TeamRow {
  id: string
  key: string
  name: string
  nextNumber: number
}
interface StateRow {
  id: string
  teamId: string
  name: string
  type: string
  position: number
  color: string
}
interface LabelRow {
  id: string
  teamId: string | undefined
  name: string
  color: string
}
interface IssueRow {
  id: string
  teamId: string
  number: number
  title: string
  description: string | undefined
  priority: number
  stateId: string
  labelIds: Array<string>
  assigneeId: string | undefined
  creatorId: string | undefined
  parentId: string | undefined
  createdAt: string
  updatedAt: string
  seq: number
}
interface CommentRow {
  id: string
  issueId: string
  body: string
  userId: string | undefined
  createdAt: string
  updatedAt: string
  editedAt: string | undefined
  seq: number
}

/** What a test passes to `addIssue`. */
export interface FakeLinearIssueInput {
  /** Team key; the first team when absent. */
  readonly team?: string
  readonly title: string
  readonly description?: string
  /** State name; `Todo` when absent. */
  readonly state?: string
  /** Label names; missing labels are created in the team. */
  readonly labels?: ReadonlyArray<string>
  /** `"me"` (the default viewer), a user's email, or absent for unassigned. */
  readonly assignee?: string
  /** Who created it: a user's email; `null` as for an issue an integration created; the default viewer when absent. */
  readonly creator?: string | null
  /** Identifier of the parent issue (`SON-1`). */
  readonly parent?: string
  readonly priority?: number
}

/** A read-only snapshot of an issue for assertions. */
export interface FakeLinearIssue {
  readonly id: string
  readonly identifier: string
  readonly title: string
  readonly description: string | undefined
  readonly state: string
  readonly labels: ReadonlyArray<string>
  readonly assignee: string | undefined
  readonly parent: string | undefined
  readonly updatedAt: string
}

/** A read-only snapshot of a comment for assertions. */
export interface FakeLinearComment {
  readonly id: string
  readonly body: string
  readonly user: string | undefined
  readonly createdAt: string
  readonly updatedAt: string
  readonly editedAt: string | undefined
}

/** Options for `startFakeLinear`. */
export interface FakeLinearOptions {
  /** API key of the default viewer (default `lin_api_test_viewer`). */
  readonly token?: string
  /** Teams created up front by key (default `["SON"]`). */
  readonly teams?: ReadonlyArray<string>
  /** Request budget per window (Linear: 2,500 per hour for an API key). */
  readonly requestsLimit?: number
  readonly windowMs?: number
  /**
   * The fake's clock in epoch milliseconds (default the wall clock): the request budget, its reset
   * headers and requests' `at` follow it. A test whose client runs on `fastForwardClock` passes its `now`.
   */
  readonly now?: () => number
}

const uuid = (prefix: string, n: number) => {
  const hex = (prefix.charCodeAt(0).toString(16) + n.toString(16)).padStart(12, "0").slice(-12)
  return `00000000-0000-4000-8000-${hex}`
}
const cursorOf = (id: string) => Buffer.from(`cursor:${id}`).toString("base64")
const idOfCursor = (cursor: string) =>
  Buffer.from(cursor, "base64")
    .toString("utf8")
    .replace(/^cursor:/, "")
const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 40)

/** Linear's error body for a GraphQL error, with the extension fields the SDK reads. */
const linearError = (
  message: string,
  ext: { type: string; code: string; statusCode: number; userPresentableMessage?: string }
) => ({
  message,
  extensions: {
    type: ext.type,
    code: ext.code,
    statusCode: ext.statusCode,
    userError: true,
    ...(ext.userPresentableMessage ? { userPresentableMessage: ext.userPresentableMessage } : {})
  }
})

const notFound = (entity: string) =>
  new GraphQLError(`Entity not found: ${entity}`, {
    extensions: {
      type: "invalid input",
      code: "INPUT_ERROR",
      statusCode: 400,
      userError: true,
      userPresentableMessage: `Could not find referenced ${entity}.`
    }
  })

const invalidInput = (message: string) =>
  new GraphQLError(message, {
    extensions: {
      type: "invalid input",
      code: "INPUT_ERROR",
      statusCode: 400,
      userError: true,
      userPresentableMessage: message
    }
  })

type Comparator = Record<string, unknown>

const cmpString = (value: string | undefined | null, c: Comparator | undefined): boolean => {
  if (c === undefined || c === null) return true
  const v = value ?? null
  const lower = (s: unknown) => String(s).toLowerCase()
  for (const [op, arg] of Object.entries(c)) {
    if (arg === undefined || arg === null) continue
    const ok = (() => {
      switch (op) {
        case "eq":
          return v === arg
        case "neq":
          return v !== arg
        case "in":
          return (arg as Array<string>).includes(v as string)
        case "nin":
          return !(arg as Array<string>).includes(v as string)
        case "null":
          return (v === null) === arg
        case "eqIgnoreCase":
          return v !== null && lower(v) === lower(arg)
        case "neqIgnoreCase":
          return v === null || lower(v) !== lower(arg)
        case "contains":
          return v !== null && v.includes(String(arg))
        case "containsIgnoreCase":
          return v !== null && lower(v).includes(lower(arg))
        case "notContains":
          return v === null || !v.includes(String(arg))
        case "notContainsIgnoreCase":
          return v === null || !lower(v).includes(lower(arg))
        case "startsWith":
          return v !== null && v.startsWith(String(arg))
        case "startsWithIgnoreCase":
          return v !== null && lower(v).startsWith(lower(arg))
        case "notStartsWith":
          return v === null || !v.startsWith(String(arg))
        case "endsWith":
          return v !== null && v.endsWith(String(arg))
        case "notEndsWith":
          return v === null || !v.endsWith(String(arg))
        default:
          return true
      }
    })()
    if (!ok) return false
  }
  return true
}

const cmpNumber = (value: number, c: Comparator | undefined): boolean => {
  if (c === undefined || c === null) return true
  for (const [op, arg] of Object.entries(c)) {
    if (arg === undefined || arg === null) continue
    const a = arg as number
    const ok =
      op === "eq"
        ? value === a
        : op === "neq"
          ? value !== a
          : op === "gt"
            ? value > a
            : op === "gte"
              ? value >= a
              : op === "lt"
                ? value < a
                : op === "lte"
                  ? value <= a
                  : op === "in"
                    ? (arg as Array<number>).includes(value)
                    : op === "nin"
                      ? !(arg as Array<number>).includes(value)
                      : true
    if (!ok) return false
  }
  return true
}

const cmpBoolean = (value: boolean, c: Comparator | undefined): boolean =>
  c === undefined ||
  c === null ||
  ((c.eq === undefined || c.eq === null || c.eq === value) &&
    (c.neq === undefined || c.neq === null || c.neq !== value))

const cmpDate = (value: string, c: Comparator | undefined): boolean => {
  if (c === undefined || c === null) return true
  const t = Date.parse(value)
  const mapped: Comparator = {}
  for (const [op, arg] of Object.entries(c)) {
    if (arg === undefined || arg === null) continue
    mapped[op] = Array.isArray(arg) ? arg.map((a) => Date.parse(String(a))) : Date.parse(String(arg))
  }
  return cmpNumber(t, mapped)
}

/** A running fake Linear. */
export class FakeLinear {
  /** The GraphQL endpoint (`http://127.0.0.1:<port>/graphql`), for `[linear] api_url`. */
  url = ""
  /** The default viewer's API key. */
  readonly token: string
  private readonly http: FakeHttpServer
  private readonly window: FixedWindow
  private readonly users: Array<FakeLinearUser> = []
  private readonly teams: Array<TeamRow> = []
  private readonly states: Array<StateRow> = []
  private readonly labels: Array<LabelRow> = []
  private readonly issues: Array<IssueRow> = []
  private readonly relationRows: Array<{
    id: string
    issueId: string
    relatedIssueId: string
    type: string
    createdAt: string
  }> = []
  private readonly commentRows: Array<CommentRow> = []
  private seq = 0
  private lastSyncId = 1000
  private clock = Date.parse("2026-01-01T00:00:00.000Z")

  constructor(options: FakeLinearOptions = {}) {
    this.token = options.token ?? "lin_api_test_viewer"
    this.window = new FixedWindow(options.requestsLimit ?? 2500, options.windowMs ?? 3_600_000, options.now)
    this.addUser({ name: "Ada Lovelace", email: "ada@example.com", token: this.token })
    for (const key of options.teams ?? ["SON"]) this.addTeam({ key })
    this.http = new FakeHttpServer(
      (incoming) => this.routeOf(incoming),
      (incoming, route) => this.handle(incoming, route),
      (status) => this.faultBody(status),
      () => this.rateHeaders(),
      options.now
    )
  }

  /** Every request received, oldest first; `route` is the operation's first root field (`issues`, `commentCreate`). */
  get requests(): ReadonlyArray<RecordedRequest> {
    return this.http.requests
  }

  /** Requests whose first root field is `operation`. */
  requestsTo(operation: string): ReadonlyArray<RecordedRequest> {
    return this.http.requestsTo(operation)
  }

  /** Injects a fault on an operation (root field name) or `*`; a status-only fault answers with Linear's error body for it. */
  fail(operation: string, fault: Fault): void {
    this.http.fail(operation, fault)
  }

  /** Sets the request budget: `limit` requests per `windowMs`, after which Linear's `RATELIMITED` answer is returned. */
  rateLimit(limit: number, windowMs: number): void {
    this.window.limit = limit
    this.window.windowMs = windowMs
  }

  /** Adds a user; with a `token`, requests with that API key act as this user. */
  addUser(input: { name: string; email: string; token?: string; guest?: boolean; app?: boolean }): FakeLinearUser {
    const user: FakeLinearUser = {
      id: uuid("u", this.users.length + 1),
      name: input.name,
      displayName: input.name.split(" ")[0]!.toLowerCase(),
      email: input.email,
      token: input.token,
      guest: input.guest ?? false,
      app: input.app ?? false
    }
    this.users.push(user)
    return user
  }

  /** Adds a team with a workflow (default: `DEFAULT_LINEAR_STATES`). */
  addTeam(input: { key: string; name?: string; states?: ReadonlyArray<FakeLinearStateInput> }): void {
    const team: TeamRow = {
      id: uuid("t", this.teams.length + 1),
      key: input.key,
      name: input.name ?? `${input.key} team`,
      nextNumber: 1
    }
    this.teams.push(team)
    ;(input.states ?? DEFAULT_LINEAR_STATES).forEach((s, i) => {
      this.states.push({
        id: uuid("s", this.states.length + 1),
        teamId: team.id,
        name: s.name,
        type: s.type,
        position: i,
        color: "#bec2c8"
      })
    })
  }

  /** Relations made through `issueRelationCreate`, as identifiers: `{ issue: "SON-2", type: "blocks", related: "SON-3" }`. */
  relations(): ReadonlyArray<{ readonly issue: string; readonly type: string; readonly related: string }> {
    const ident = (id: string) => {
      const row = this.issues.find((i) => i.id === id)!
      return `${this.teams.find((t) => t.id === row.teamId)!.key}-${row.number}`
    }
    return this.relationRows.map((r) => ({ issue: ident(r.issueId), type: r.type, related: ident(r.relatedIssueId) }))
  }

  /** Adds an issue and returns its snapshot (identifiers count up per team: `SON-1`, `SON-2`, …). */
  addIssue(input: FakeLinearIssueInput): FakeLinearIssue {
    const team = input.team !== undefined ? this.teamByKey(input.team) : this.teams[0]!
    const stateName = input.state ?? "Todo"
    const state = this.states.find((s) => s.teamId === team.id && s.name === stateName)
    if (state === undefined) throw new Error(`fake linear: team ${team.key} has no state "${stateName}"`)
    const parent = input.parent !== undefined ? this.issueRow(input.parent) : undefined
    if (input.parent !== undefined && parent === undefined)
      throw new Error(`fake linear: no parent issue ${input.parent}`)
    const assignee =
      input.assignee === undefined
        ? undefined
        : input.assignee === "me"
          ? this.users[0]
          : this.users.find((u) => u.email === input.assignee)
    if (input.assignee !== undefined && assignee === undefined)
      throw new Error(`fake linear: no user ${input.assignee}`)
    const creator =
      input.creator === undefined
        ? this.users[0]
        : input.creator === null
          ? undefined
          : this.users.find((u) => u.email === input.creator)
    if (typeof input.creator === "string" && creator === undefined)
      throw new Error(`fake linear: no user ${input.creator}`)
    const now = this.tick()
    const row: IssueRow = {
      id: uuid("i", this.issues.length + 1),
      teamId: team.id,
      number: team.nextNumber++,
      title: input.title,
      description: input.description,
      priority: input.priority ?? 0,
      stateId: state.id,
      labelIds: (input.labels ?? []).map((name) => this.ensureLabel(team.id, name).id),
      assigneeId: assignee?.id,
      creatorId: creator?.id,
      parentId: parent?.id,
      createdAt: now,
      updatedAt: now,
      seq: ++this.seq
    }
    this.issues.push(row)
    return this.snapshot(row)
  }

  /** Moves an issue to another state of its team, as a person would in the Linear UI. */
  moveIssue(identifier: string, stateName: string): void {
    const row = this.mustIssue(identifier)
    const state = this.states.find((s) => s.teamId === row.teamId && s.name === stateName)
    if (state === undefined) throw new Error(`fake linear: no state "${stateName}"`)
    row.stateId = state.id
    row.updatedAt = this.tick()
  }

  /** Replaces an issue's labels (names; created when missing). */
  setLabels(identifier: string, names: ReadonlyArray<string>): void {
    const row = this.mustIssue(identifier)
    row.labelIds = names.map((n) => this.ensureLabel(row.teamId, n).id)
    row.updatedAt = this.tick()
  }

  /** The current state of an issue. */
  issue(identifier: string): FakeLinearIssue {
    return this.snapshot(this.mustIssue(identifier))
  }

  /** The comments of an issue, oldest first. */
  comments(identifier: string): ReadonlyArray<FakeLinearComment> {
    const row = this.mustIssue(identifier)
    return this.commentRows
      .filter((c) => c.issueId === row.id)
      .sort((a, b) => a.seq - b.seq)
      .map((c) => ({
        id: c.id,
        body: c.body,
        user: this.users.find((u) => u.id === c.userId)?.email,
        createdAt: c.createdAt,
        updatedAt: c.updatedAt,
        editedAt: c.editedAt
      }))
  }

  /** Adds a comment as a person (by email; the viewer when absent). */
  addComment(identifier: string, body: string, email?: string): FakeLinearComment {
    const row = this.mustIssue(identifier)
    const user = email === undefined ? this.users[0]! : this.users.find((u) => u.email === email)
    if (user === undefined) throw new Error(`fake linear: no user ${email}`)
    const c = this.createComment(row, body, user.id)
    return this.comments(identifier).find((x) => x.id === c.id)!
  }

  /** Starts listening on 127.0.0.1. */
  async start(): Promise<this> {
    await this.http.start()
    this.url = `${this.http.origin}/graphql`
    return this
  }

  /** Stops the server. */
  close(): Promise<void> {
    return this.http.close()
  }

  // ---------------------------------------------------------------------------------------------

  private tick(): string {
    this.clock += 1000
    return new Date(this.clock).toISOString()
  }

  private teamByKey(key: string): TeamRow {
    const team = this.teams.find((t) => t.key === key)
    if (team === undefined) throw new Error(`fake linear: no team ${key}`)
    return team
  }

  private ensureLabel(teamId: string, name: string): LabelRow {
    const found = this.labels.find((l) => l.name === name && (l.teamId === teamId || l.teamId === undefined))
    if (found) return found
    const label: LabelRow = { id: uuid("l", this.labels.length + 1), teamId, name, color: "#5e6ad2" }
    this.labels.push(label)
    return label
  }

  private issueRow(idOrIdentifier: string): IssueRow | undefined {
    return this.issues.find((i) => i.id === idOrIdentifier || this.identifierOf(i) === idOrIdentifier)
  }

  private mustIssue(identifier: string): IssueRow {
    const row = this.issueRow(identifier)
    if (row === undefined) throw new Error(`fake linear: no issue ${identifier}`)
    return row
  }

  private identifierOf(row: IssueRow): string {
    return `${this.teams.find((t) => t.id === row.teamId)!.key}-${row.number}`
  }

  private snapshot(row: IssueRow): FakeLinearIssue {
    return {
      id: row.id,
      identifier: this.identifierOf(row),
      title: row.title,
      description: row.description,
      state: this.states.find((s) => s.id === row.stateId)!.name,
      labels: row.labelIds.map((id) => this.labels.find((l) => l.id === id)!.name),
      assignee: this.users.find((u) => u.id === row.assigneeId)?.email,
      parent: row.parentId !== undefined ? this.identifierOf(this.issueRow(row.parentId)!) : undefined,
      updatedAt: row.updatedAt
    }
  }

  private createComment(issue: IssueRow, body: string, userId: string | undefined, id?: string): CommentRow {
    const now = this.tick()
    const c: CommentRow = {
      id: id ?? uuid("c", this.commentRows.length + 1),
      issueId: issue.id,
      body,
      userId,
      createdAt: now,
      updatedAt: now,
      editedAt: undefined,
      seq: ++this.seq
    }
    this.commentRows.push(c)
    issue.updatedAt = now
    return c
  }

  private rateHeaders(): Record<string, string> {
    return {
      "x-ratelimit-requests-limit": String(this.window.limit),
      "x-ratelimit-requests-remaining": String(this.window.remaining()),
      "x-ratelimit-requests-reset": String(this.window.resetAt())
    }
  }

  private faultBody(status: number): unknown {
    if (status === 401) {
      return {
        errors: [
          linearError("Authentication required, not authenticated", {
            type: "authentication error",
            code: "AUTHENTICATION_ERROR",
            statusCode: 401,
            userPresentableMessage: "You need to authenticate to access this operation."
          })
        ]
      }
    }
    if (status === 403)
      return {
        errors: [
          linearError("Forbidden", {
            type: "forbidden",
            code: "FORBIDDEN",
            statusCode: 403,
            userPresentableMessage: "You don't have access to this resource."
          })
        ]
      }
    if (status === 400) return this.ratelimitedBody()
    return {
      errors: [
        linearError(`Internal server error (${status})`, {
          type: "internal error",
          code: "INTERNAL_SERVER_ERROR",
          statusCode: status
        })
      ]
    }
  }

  private ratelimitedBody() {
    return {
      errors: [
        linearError(
          `Rate limit exceeded. Only ${this.window.limit} requests are allowed per ${Math.round(this.window.windowMs / 1000)} seconds.`,
          {
            type: "ratelimited",
            code: "RATELIMITED",
            statusCode: 429,
            userPresentableMessage: "Too many requests. Please try again later."
          }
        )
      ]
    }
  }

  private routeOf(incoming: Incoming): string {
    const body = incoming.body as { query?: unknown; operationName?: unknown } | undefined
    if (typeof body?.query !== "string") return "graphql"
    const doc = parse(body.query)
    const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
    const op = typeof body.operationName === "string" ? ops.find((o) => o.name?.value === body.operationName) : ops[0]
    const first = op?.selectionSet.selections.find((s) => s.kind === Kind.FIELD)
    return first !== undefined && first.kind === Kind.FIELD ? first.name.value : "graphql"
  }

  private viewerFor(headers: Incoming["headers"]): FakeLinearUser | undefined {
    const auth = headers.authorization
    if (auth === undefined || auth === "") return undefined
    const token = auth.startsWith("Bearer ") ? auth.slice("Bearer ".length) : auth
    return this.users.find((u) => u.token !== undefined && u.token === token)
  }

  private async handle(incoming: Incoming, _route: string): Promise<Reply> {
    if (incoming.method !== "POST" || incoming.url.pathname !== "/graphql") {
      return { status: 404, body: "Not Found" }
    }
    const viewer = this.viewerFor(incoming.headers)
    if (viewer === undefined) return { status: 401, body: this.faultBody(401) }
    if (!this.window.take()) return { status: 400, body: this.ratelimitedBody() }

    const body = incoming.body as { query?: unknown; variables?: unknown; operationName?: unknown } | undefined
    if (typeof body?.query !== "string") {
      return {
        status: 400,
        body: {
          errors: [
            linearError("Must provide query string.", { type: "graphql error", code: "BAD_REQUEST", statusCode: 400 })
          ]
        }
      }
    }
    let document: ReturnType<typeof parse>
    try {
      document = parse(body.query)
    } catch (error) {
      const e = error as GraphQLError
      return {
        status: 400,
        body: {
          errors: [
            {
              message: e.message,
              locations: e.locations,
              extensions: { code: "GRAPHQL_PARSE_FAILED", type: "graphql error", userError: true }
            }
          ]
        }
      }
    }
    const invalid = validate(schema, document)
    if (invalid.length > 0) {
      return {
        status: 400,
        body: {
          errors: invalid.map((e) => ({
            message: e.message,
            locations: e.locations,
            extensions: { code: "GRAPHQL_VALIDATION_FAILED", type: "graphql error", userError: true }
          }))
        }
      }
    }
    const result = await execute({
      schema,
      document,
      rootValue: this.root(viewer),
      variableValues: (body.variables ?? {}) as Record<string, unknown>,
      operationName: typeof body.operationName === "string" ? body.operationName : undefined
    })
    if (result.errors !== undefined && result.data === undefined) {
      // Variable coercion failed: the operation never ran.
      return {
        status: 400,
        body: {
          errors: result.errors.map((e) => ({
            message: e.message,
            locations: e.locations,
            extensions: { code: "BAD_USER_INPUT", type: "graphql error", userError: true }
          }))
        }
      }
    }
    const errors: Array<GraphQLFormattedError> | undefined = result.errors?.map((e) => e.toJSON())
    return { status: 200, body: { ...(errors ? { errors } : {}), data: result.data ?? null } }
  }

  // --- resolvers --------------------------------------------------------------------------------

  private page<T extends { id: string }>(
    rows: ReadonlyArray<T>,
    args: { first?: number | null; after?: string | null; last?: number | null; before?: string | null },
    toNode: (row: T) => unknown
  ) {
    if (args.first !== undefined && args.first !== null && (args.first < 0 || args.first > 250)) {
      throw invalidInput("first must be between 0 and 250")
    }
    let start = 0
    if (args.after) {
      const id = idOfCursor(args.after)
      const at = rows.findIndex((r) => r.id === id)
      start = at >= 0 ? at + 1 : rows.length
    }
    let end = rows.length
    if (args.before) {
      const id = idOfCursor(args.before)
      const at = rows.findIndex((r) => r.id === id)
      if (at >= 0) end = at
    }
    let slice = rows.slice(start, end)
    const first = args.first ?? (args.last ? undefined : 50)
    if (first !== undefined && first !== null) slice = slice.slice(0, first)
    if (args.last) slice = slice.slice(-args.last)
    const nodes = slice.map(toNode)
    const firstIdx = slice.length > 0 ? rows.indexOf(slice[0]!) : start
    const lastIdx = slice.length > 0 ? rows.indexOf(slice[slice.length - 1]!) : start - 1
    return {
      nodes,
      edges: slice.map((row, i) => ({ node: nodes[i], cursor: cursorOf(row.id) })),
      pageInfo: {
        startCursor: slice.length > 0 ? cursorOf(slice[0]!.id) : null,
        endCursor: slice.length > 0 ? cursorOf(slice[slice.length - 1]!.id) : null,
        hasNextPage: lastIdx < end - 1,
        hasPreviousPage: firstIdx > 0
      }
    }
  }

  private order<T extends { seq: number; updatedAt?: string }>(
    rows: Array<T>,
    orderBy: string | null | undefined
  ): Array<T> {
    return orderBy === "updatedAt"
      ? rows.sort((a, b) => (b.updatedAt ?? "").localeCompare(a.updatedAt ?? "") || a.seq - b.seq)
      : rows.sort((a, b) => a.seq - b.seq)
  }

  private userNode(user: FakeLinearUser | undefined, viewer: FakeLinearUser) {
    if (user === undefined) return null
    return {
      id: user.id,
      name: user.name,
      displayName: user.displayName,
      email: user.email,
      active: true,
      guest: user.guest,
      app: user.app,
      isMe: user.id === viewer.id,
      url: `https://linear.app/fake/profiles/${user.displayName}`
    }
  }

  private teamNode(team: TeamRow, viewer: FakeLinearUser): Record<string, unknown> {
    return {
      id: team.id,
      key: team.key,
      name: team.name,
      states: (args: Record<string, any>) =>
        this.page(
          this.states
            .filter((s) => s.teamId === team.id && this.matchState(s, args.filter))
            .sort((a, b) => a.position - b.position),
          args,
          (s) => this.stateNode(s, viewer)
        ),
      labels: (args: Record<string, any>) =>
        this.page(
          this.labels.filter(
            (l) => (l.teamId === team.id || l.teamId === undefined) && this.matchLabel(l, args.filter)
          ),
          args,
          (l) => this.labelNode(l, viewer)
        ),
      issues: (args: Record<string, any>) =>
        this.issueConnection(
          this.issues.filter((i) => i.teamId === team.id),
          args,
          viewer
        )
    }
  }

  private stateNode(s: StateRow, viewer: FakeLinearUser) {
    return {
      id: s.id,
      name: s.name,
      type: s.type,
      position: s.position,
      color: s.color,
      description: null,
      team: () => this.teamNode(this.teams.find((t) => t.id === s.teamId)!, viewer)
    }
  }

  private labelNode(l: LabelRow, viewer: FakeLinearUser) {
    const team = this.teams.find((t) => t.id === l.teamId)
    return {
      id: l.id,
      name: l.name,
      color: l.color,
      description: null,
      isGroup: false,
      team: team ? () => this.teamNode(team, viewer) : null
    }
  }

  private commentNode(c: CommentRow, viewer: FakeLinearUser): Record<string, unknown> {
    const issue = this.issues.find((i) => i.id === c.issueId)!
    return {
      id: c.id,
      body: c.body,
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
      editedAt: c.editedAt ?? null,
      url: `https://linear.app/fake/issue/${this.identifierOf(issue)}#comment-${c.id.slice(-8)}`,
      user: () =>
        this.userNode(
          this.users.find((u) => u.id === c.userId),
          viewer
        ),
      issue: () => this.issueNode(issue, viewer)
    }
  }

  private issueNode(row: IssueRow, viewer: FakeLinearUser): Record<string, unknown> {
    const identifier = this.identifierOf(row)
    const team = this.teams.find((t) => t.id === row.teamId)!
    const state = this.states.find((s) => s.id === row.stateId)!
    return {
      id: row.id,
      identifier,
      number: row.number,
      title: row.title,
      description: row.description ?? null,
      priority: row.priority,
      url: `https://linear.app/fake/issue/${identifier}/${slug(row.title)}`,
      branchName: `${viewer.displayName}/${identifier.toLowerCase()}-${slug(row.title)}`,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      archivedAt: null,
      completedAt: state.type === "completed" ? row.updatedAt : null,
      state: () => this.stateNode(state, viewer),
      team: () => this.teamNode(team, viewer),
      assignee: () =>
        this.userNode(
          this.users.find((u) => u.id === row.assigneeId),
          viewer
        ),
      creator: () =>
        this.userNode(
          this.users.find((u) => u.id === row.creatorId),
          viewer
        ),
      parent: () => (row.parentId !== undefined ? this.issueNode(this.issueRow(row.parentId)!, viewer) : null),
      labels: (args: Record<string, any>) =>
        this.page(
          row.labelIds
            .map((id) => this.labels.find((l) => l.id === id)!)
            .filter((l) => this.matchLabel(l, args.filter)),
          args,
          (l) => this.labelNode(l, viewer)
        ),
      children: (args: Record<string, any>) =>
        this.issueConnection(
          this.issues.filter((i) => i.parentId === row.id),
          args,
          viewer
        ),
      comments: (args: Record<string, any>) =>
        this.page(
          this.order(
            this.commentRows.filter((c) => c.issueId === row.id),
            args.orderBy
          ),
          args,
          (c) => this.commentNode(c, viewer)
        )
    }
  }

  private issueConnection(rows: ReadonlyArray<IssueRow>, args: Record<string, any>, viewer: FakeLinearUser) {
    const matched = this.order(
      rows.filter((i) => this.matchIssue(i, args.filter, viewer)),
      args.orderBy
    )
    return this.page(matched, args, (i) => this.issueNode(i, viewer))
  }

  private matchTeam(team: TeamRow | undefined, f: Record<string, any> | undefined | null): boolean {
    if (f === undefined || f === null) return true
    if (team === undefined) return f.null === true
    if (f.null === true) return false
    if (f.and && !f.and.every((g: any) => this.matchTeam(team, g))) return false
    if (f.or && !f.or.some((g: any) => this.matchTeam(team, g))) return false
    return cmpString(team.id, f.id) && cmpString(team.key, f.key) && cmpString(team.name, f.name)
  }

  private matchState(s: StateRow, f: Record<string, any> | undefined | null): boolean {
    if (f === undefined || f === null) return true
    if (f.and && !f.and.every((g: any) => this.matchState(s, g))) return false
    if (f.or && !f.or.some((g: any) => this.matchState(s, g))) return false
    return (
      cmpString(s.id, f.id) &&
      cmpString(s.name, f.name) &&
      cmpString(s.type, f.type) &&
      cmpNumber(s.position, f.position) &&
      this.matchTeam(
        this.teams.find((t) => t.id === s.teamId),
        f.team
      )
    )
  }

  private matchUser(
    user: FakeLinearUser | undefined,
    f: Record<string, any> | undefined | null,
    viewer: FakeLinearUser
  ): boolean {
    if (f === undefined || f === null) return true
    if (f.null !== undefined && f.null !== null)
      return (
        (user === undefined) === f.null &&
        (user === undefined || this.matchUser(user, { ...f, null: undefined }, viewer))
      )
    if (user === undefined) return false
    if (f.and && !f.and.every((g: any) => this.matchUser(user, g, viewer))) return false
    if (f.or && !f.or.some((g: any) => this.matchUser(user, g, viewer))) return false
    return (
      cmpString(user.id, f.id) &&
      cmpString(user.name, f.name) &&
      cmpString(user.displayName, f.displayName) &&
      cmpString(user.email, f.email) &&
      cmpBoolean(user.id === viewer.id, f.isMe) &&
      cmpBoolean(true, f.active)
    )
  }

  private matchLabel(l: LabelRow, f: Record<string, any> | undefined | null): boolean {
    if (f === undefined || f === null) return true
    if (f.and && !f.and.every((g: any) => this.matchLabel(l, g))) return false
    if (f.or && !f.or.some((g: any) => this.matchLabel(l, g))) return false
    return (
      cmpString(l.id, f.id) &&
      cmpString(l.name, f.name) &&
      this.matchTeam(
        this.teams.find((t) => t.id === l.teamId),
        f.team
      )
    )
  }

  private matchLabels(labels: ReadonlyArray<LabelRow>, f: Record<string, any> | undefined | null): boolean {
    if (f === undefined || f === null) return true
    if (f.and && !f.and.every((g: any) => this.matchLabels(labels, g))) return false
    if (f.or && !f.or.some((g: any) => this.matchLabels(labels, g))) return false
    if (f.null !== undefined && f.null !== null && (labels.length === 0) !== f.null) return false
    if (!cmpNumber(labels.length, f.length)) return false
    // On a collection, a field comparator means "some element matches" (Linear's semantics).
    if ((f.id || f.name) && !labels.some((l) => cmpString(l.id, f.id) && cmpString(l.name, f.name))) return false
    if (f.some && !labels.some((l) => this.matchLabel(l, f.some))) return false
    if (f.every && !labels.every((l) => this.matchLabel(l, f.every))) return false
    return true
  }

  private matchIssues(
    rows: ReadonlyArray<IssueRow>,
    f: Record<string, any> | undefined | null,
    viewer: FakeLinearUser
  ): boolean {
    if (f === undefined || f === null) return true
    if (f.and && !f.and.every((g: any) => this.matchIssues(rows, g, viewer))) return false
    if (f.or && !f.or.some((g: any) => this.matchIssues(rows, g, viewer))) return false
    if (f.null !== undefined && f.null !== null && (rows.length === 0) !== f.null) return false
    if (!cmpNumber(rows.length, f.length)) return false
    if (f.id && !rows.some((r) => cmpString(r.id, f.id))) return false
    if (f.state && !rows.some((r) => this.matchState(this.states.find((s) => s.id === r.stateId)!, f.state)))
      return false
    if (
      f.labels &&
      !rows.some((r) =>
        this.matchLabels(
          r.labelIds.map((id) => this.labels.find((l) => l.id === id)!),
          f.labels
        )
      )
    )
      return false
    if (f.some && !rows.some((r) => this.matchIssue(r, f.some, viewer))) return false
    if (f.every && !rows.every((r) => this.matchIssue(r, f.every, viewer))) return false
    return true
  }

  private matchIssue(row: IssueRow, f: Record<string, any> | undefined | null, viewer: FakeLinearUser): boolean {
    if (f === undefined || f === null) return true
    if (f.and && !f.and.every((g: any) => this.matchIssue(row, g, viewer))) return false
    if (f.or && !f.or.some((g: any) => this.matchIssue(row, g, viewer))) return false
    const labels = row.labelIds.map((id) => this.labels.find((l) => l.id === id)!)
    const parent = row.parentId !== undefined ? this.issueRow(row.parentId) : undefined
    if (f.parent) {
      const p = f.parent
      if (p.null !== undefined && p.null !== null && (parent === undefined) !== p.null) return false
      if (parent === undefined && Object.keys(p).some((k) => k !== "null" && p[k] !== undefined && p[k] !== null))
        return false
      if (parent !== undefined && !this.matchIssue(parent, { ...p, null: undefined }, viewer)) return false
    }
    return (
      cmpString(row.id, f.id) &&
      cmpNumber(row.number, f.number) &&
      cmpString(row.title, f.title) &&
      cmpString(row.description, f.description) &&
      cmpDate(row.createdAt, f.createdAt) &&
      cmpDate(row.updatedAt, f.updatedAt) &&
      this.matchTeam(
        this.teams.find((t) => t.id === row.teamId),
        f.team
      ) &&
      (f.state === undefined ||
        f.state === null ||
        this.matchState(this.states.find((s) => s.id === row.stateId)!, f.state)) &&
      this.matchUser(
        this.users.find((u) => u.id === row.assigneeId),
        f.assignee,
        viewer
      ) &&
      this.matchUser(
        this.users.find((u) => u.id === row.creatorId),
        f.creator,
        viewer
      ) &&
      this.matchLabels(labels, f.labels) &&
      this.matchIssues(
        this.issues.filter((i) => i.parentId === row.id),
        f.children,
        viewer
      )
    )
  }

  private root(viewer: FakeLinearUser): Record<string, unknown> {
    const mustIssue = (id: string) => {
      const row = this.issueRow(id)
      if (row === undefined) throw notFound("Issue")
      return row
    }
    const mustTeam = (id: string) => {
      const team = this.teams.find((t) => t.id === id || t.key === id)
      if (team === undefined) throw notFound("Team")
      return team
    }
    const issuePayload = (row: IssueRow) => ({
      lastSyncId: ++this.lastSyncId,
      success: true,
      issue: this.issueNode(row, viewer)
    })
    return {
      viewer: () => this.userNode(viewer, viewer),
      issue: ({ id }: { id: string }) => this.issueNode(mustIssue(id), viewer),
      issues: (args: Record<string, any>) => this.issueConnection(this.issues, args, viewer),
      team: ({ id }: { id: string }) => this.teamNode(mustTeam(id), viewer),
      teams: (args: Record<string, any>) =>
        this.page(
          this.teams.filter((t) => this.matchTeam(t, args.filter)),
          args,
          (t) => this.teamNode(t, viewer)
        ),
      workflowStates: (args: Record<string, any>) =>
        this.page(
          this.states.filter((s) => this.matchState(s, args.filter)),
          args,
          (s) => this.stateNode(s, viewer)
        ),
      issueLabels: (args: Record<string, any>) =>
        this.page(
          this.labels.filter((l) => this.matchLabel(l, args.filter)),
          args,
          (l) => this.labelNode(l, viewer)
        ),
      comment: ({ id }: { id?: string }) => {
        const c = this.commentRows.find((x) => x.id === id)
        if (c === undefined) throw notFound("Comment")
        return this.commentNode(c, viewer)
      },
      commentCreate: ({ input }: { input: { id?: string; issueId?: string; body?: string } }) => {
        if (input.issueId === undefined || input.issueId === null)
          throw invalidInput(
            "issueId, projectUpdateId, initiativeUpdateId, documentContentId, postId or parentId must be set"
          )
        const row = mustIssue(input.issueId)
        if (input.body === undefined || input.body === null || input.body.trim() === "")
          throw invalidInput("Comment body must not be empty")
        // A client-chosen id makes the create idempotent: the same id twice is refused.
        if (input.id !== undefined && input.id !== null) {
          if (!/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(input.id))
            throw invalidInput("id must be a UUID v4")
          if (this.commentRows.some((x) => x.id === input.id))
            throw invalidInput(`Comment with id ${input.id} already exists`)
        }
        const c = this.createComment(row, input.body, viewer.id, input.id ?? undefined)
        return { lastSyncId: ++this.lastSyncId, success: true, comment: this.commentNode(c, viewer) }
      },
      commentUpdate: ({
        id,
        input,
        skipEditedAt
      }: {
        id: string
        input: { body?: string }
        skipEditedAt?: boolean
      }) => {
        const c = this.commentRows.find((x) => x.id === id)
        if (c === undefined) throw notFound("Comment")
        if (c.userId !== viewer.id) {
          throw new GraphQLError("You can only edit your own comments", {
            extensions: { type: "forbidden", code: "FORBIDDEN", statusCode: 403, userError: true }
          })
        }
        if (input.body !== undefined && input.body !== null) c.body = input.body
        c.updatedAt = this.tick()
        if (skipEditedAt !== true) c.editedAt = c.updatedAt
        return { lastSyncId: ++this.lastSyncId, success: true, comment: this.commentNode(c, viewer) }
      },
      issueCreate: ({ input }: { input: Record<string, any> }) => {
        const team = mustTeam(input.teamId)
        if (typeof input.title !== "string" || input.title.trim() === "") throw invalidInput("title must not be empty")
        const state = input.stateId
          ? this.states.find((x) => x.id === input.stateId)
          : (this.states.find((x) => x.teamId === team.id && x.name === "Todo") ??
            this.states.find((x) => x.teamId === team.id))
        if (state === undefined) throw notFound("WorkflowState")
        const parent = input.parentId ? mustIssue(input.parentId) : undefined
        const now = this.tick()
        const row: IssueRow = {
          id: uuid("i", this.issues.length + 1),
          teamId: team.id,
          number: team.nextNumber++,
          title: input.title,
          description: input.description ?? undefined,
          priority: input.priority ?? 0,
          stateId: state.id,
          labelIds: (input.labelIds ?? []) as Array<string>,
          assigneeId: input.assigneeId ?? undefined,
          creatorId: viewer.id,
          parentId: parent?.id,
          createdAt: now,
          updatedAt: now,
          seq: ++this.seq
        }
        this.issues.push(row)
        return issuePayload(row)
      },
      issueRelationCreate: ({ input }: { input: { issueId: string; relatedIssueId: string; type: string } }) => {
        const a = mustIssue(input.issueId)
        const b = mustIssue(input.relatedIssueId)
        if (a.id === b.id) throw invalidInput("An issue cannot be related to itself")
        const rel = {
          id: uuid("r", this.relationRows.length + 1),
          issueId: a.id,
          relatedIssueId: b.id,
          type: input.type,
          createdAt: this.tick()
        }
        this.relationRows.push(rel)
        return {
          lastSyncId: ++this.lastSyncId,
          success: true,
          issueRelation: {
            id: rel.id,
            type: rel.type,
            createdAt: rel.createdAt,
            issue: this.issueNode(a, viewer),
            relatedIssue: this.issueNode(b, viewer)
          }
        }
      },
      issueUpdate: ({ id, input }: { id: string; input: Record<string, any> }) => {
        const row = mustIssue(id)
        if (input.stateId !== undefined && input.stateId !== null) {
          const state = this.states.find((s) => s.id === input.stateId)
          if (state === undefined) throw notFound("WorkflowState")
          if (state.teamId !== row.teamId) throw invalidInput("The workflow state does not belong to the issue's team")
          row.stateId = state.id
        }
        const labelById = (labelId: string) => {
          const l = this.labels.find((x) => x.id === labelId)
          if (l === undefined) throw notFound("IssueLabel")
          return l.id
        }
        if (input.labelIds) row.labelIds = (input.labelIds as Array<string>).map(labelById)
        if (input.addedLabelIds)
          for (const l of (input.addedLabelIds as Array<string>).map(labelById))
            if (!row.labelIds.includes(l)) row.labelIds.push(l)
        if (input.removedLabelIds)
          row.labelIds = row.labelIds.filter((l) => !(input.removedLabelIds as Array<string>).includes(l))
        if (typeof input.title === "string") row.title = input.title
        if (typeof input.description === "string") row.description = input.description
        if (typeof input.priority === "number") row.priority = input.priority
        if (input.assigneeId !== undefined) row.assigneeId = input.assigneeId ?? undefined
        row.updatedAt = this.tick()
        return issuePayload(row)
      },
      issueAddLabel: ({ id, labelId }: { id: string; labelId: string }) => {
        const row = mustIssue(id)
        if (!this.labels.some((l) => l.id === labelId)) throw notFound("IssueLabel")
        if (!row.labelIds.includes(labelId)) row.labelIds.push(labelId)
        row.updatedAt = this.tick()
        return issuePayload(row)
      },
      issueRemoveLabel: ({ id, labelId }: { id: string; labelId: string }) => {
        const row = mustIssue(id)
        if (!this.labels.some((l) => l.id === labelId)) throw notFound("IssueLabel")
        row.labelIds = row.labelIds.filter((l) => l !== labelId)
        row.updatedAt = this.tick()
        return issuePayload(row)
      },
      issueLabelCreate: ({ input }: { input: { name: string; teamId?: string; color?: string } }) => {
        const teamId = input.teamId ?? undefined
        if (this.labels.some((l) => l.name === input.name && (l.teamId === teamId || l.teamId === undefined))) {
          throw invalidInput("Duplicate label name")
        }
        const label: LabelRow = {
          id: uuid("l", this.labels.length + 1),
          teamId,
          name: input.name,
          color: input.color ?? "#5e6ad2"
        }
        this.labels.push(label)
        return { lastSyncId: ++this.lastSyncId, success: true, issueLabel: this.labelNode(label, viewer) }
      }
    }
  }
}

/** Starts a fake Linear on 127.0.0.1; call `close()` when done. */
export const startFakeLinear = (options: FakeLinearOptions = {}): Promise<FakeLinear> => new FakeLinear(options).start()

/** A fake Linear for the current scope: started on 127.0.0.1, closed when the scope closes. */
export const fakeLinear = (options: FakeLinearOptions = {}): Effect.Effect<FakeLinear, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => startFakeLinear(options)),
    (fake) => Effect.promise(() => fake.close())
  )
