/**
 * Proposals: every learned thing (a builder prompt variant, a scoper hint, a compliance rule, a skill, a
 * learning from reviews and findings, a distilled policy) is a typed proposal in the state database
 * (SQLite or Postgres, through `effect/sql`'s SqlClient), identified by the hash of what it says.
 *
 * A proposal moves `proposed → validated → approved → active (canary share) → promoted`, or ends
 * `rejected`, `retired` or `rolled-back`. Every move is an append-only row (who, why, when); the
 * proposal's current state is the last of them. A move the machine does not allow is refused with the
 * state the proposal is in and the moves it allows. Prompts, policies, gate-affecting rules and skills are
 * approved only by a person.
 */
import { policySecretProblem, Redactor } from "@spec-orch/harness"
import { Clock, Context, Effect, Layer, Option, Schema } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import { createHash } from "node:crypto"

export const ProposalKinds = [
  "prompt-variant",
  "scoper-hint",
  "compliance-rule",
  "skill",
  "review-learning",
  "policy"
] as const
export type ProposalKind = (typeof ProposalKinds)[number]

export const ProposalStates = [
  "proposed",
  "validated",
  "approved",
  "active",
  "promoted",
  "rejected",
  "retired",
  "rolled-back"
] as const
export type ProposalState = (typeof ProposalStates)[number]

/** The moves each state allows. `rejected`, `retired` and `rolled-back` are final. */
export const TRANSITIONS: Readonly<Record<ProposalState, ReadonlyArray<ProposalState>>> = {
  proposed: ["validated", "rejected"],
  validated: ["approved", "rejected"],
  approved: ["active", "promoted", "rejected", "rolled-back"],
  active: ["promoted", "rolled-back", "retired"],
  promoted: ["rolled-back", "retired"],
  rejected: [],
  retired: [],
  "rolled-back": []
}

/** Kinds a machine may not approve: they change what the builder (or its agent) is told or what the gate decides. */
export const HUMAN_APPROVAL_KINDS: ReadonlyArray<ProposalKind> = [
  "prompt-variant",
  "policy",
  "compliance-rule",
  "skill"
]

/** States in which a proposal reaches runs (an `active` one only for its canary share of issues). */
export const IN_USE_STATES: ReadonlyArray<ProposalState> = ["approved", "active", "promoted"]

/** Who moved a proposal: a person (by name) or a part of spec-orch (e.g. `evolver:review-learning`). */
export interface Actor {
  readonly type: "human" | "system"
  readonly id: string
}

/** Where a proposal came from. */
export interface ProposalSources {
  readonly runIds: ReadonlyArray<string>
  readonly findingIds: ReadonlyArray<string>
  readonly reviewIds: ReadonlyArray<string>
}

/** What to propose. */
export interface ProposalInput {
  readonly kind: ProposalKind
  /** What it applies to: `project`, `issue:<id>`, `file:<path>`, … */
  readonly scope: string
  readonly sources?: Partial<ProposalSources> | undefined
  /** What it says (for a review learning: the text the builder is offered). */
  readonly content: string
}

export interface Proposal {
  readonly id: string
  /** sha256 of kind, scope and content (hex). */
  readonly contentHash: string
  readonly kind: ProposalKind
  readonly scope: string
  readonly sources: ProposalSources
  readonly content: string
  readonly state: ProposalState
  /** The share of issues an `active` proposal reaches (0 < share ≤ 1); null in other states. */
  readonly canaryShare: number | null
  readonly createdAt: string
  readonly updatedAt: string
}

/** One recorded move. `from` is null for the proposal's creation. */
export interface ProposalTransition {
  readonly proposalId: string
  readonly from: ProposalState | null
  readonly to: ProposalState
  readonly actor: Actor
  readonly why: string
  readonly at: string
  /** What backed the move (e.g. the promotion rule's decision), when something did. */
  readonly detail: unknown
}

/** The proposal store could not be read or written. */
export class ProposalError extends Schema.TaggedError<ProposalError>()("ProposalError", {
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `proposals: ${this.operation} failed: ${this.reason}`
  }
}

/** No proposal has this id. */
export class ProposalNotFound extends Schema.TaggedError<ProposalNotFound>()("ProposalNotFound", {
  id: Schema.String
}) {
  override get message(): string {
    return `proposals: no proposal ${this.id}; \`spec-orch evolution proposals\` lists them`
  }
}

/** A proposal to record was malformed. */
export class InvalidProposal extends Schema.TaggedError<InvalidProposal>()("InvalidProposal", {
  reason: Schema.String
}) {
  override get message(): string {
    return `proposals: invalid proposal: ${this.reason}`
  }
}

/** The state machine does not allow this move. */
export class IllegalTransition extends Schema.TaggedError<IllegalTransition>()("IllegalTransition", {
  id: Schema.String,
  from: Schema.String,
  to: Schema.String,
  allowed: Schema.Array(Schema.String)
}) {
  override get message(): string {
    const next =
      this.allowed.length === 0
        ? `${this.from} is final: nothing may follow it`
        : `from ${this.from} it may only become ${this.allowed.join(" or ")}`
    return `proposals: ${this.id} is ${this.from} and cannot become ${this.to}; ${next}`
  }
}

/** A kind a machine may not approve was approved by one. */
export class HumanApprovalRequired extends Schema.TaggedError<HumanApprovalRequired>()("HumanApprovalRequired", {
  id: Schema.String,
  kind: Schema.String,
  actor: Schema.String
}) {
  override get message(): string {
    return `proposals: ${this.id} is a ${this.kind}, which only a person may approve (${this.actor} is not one); run \`spec-orch evolution approve ${this.id}\``
  }
}

/** The content hash of a proposal (pure): sha256 over kind, scope and content. */
export const contentHash = (kind: string, scope: string, content: string): string =>
  createHash("sha256").update(`${kind}\u0000${scope}\u0000${content}`).digest("hex")

/** Whether an `active` proposal reaches this issue: a stable draw from the proposal and issue ids (pure). */
export const inCanary = (proposalId: string, issueId: string, share: number): boolean => {
  if (share >= 1) return true
  if (share <= 0) return false
  const draw = createHash("sha256").update(`${proposalId}\u0000${issueId}`).digest().readUInt32BE(0) / 0x1_0000_0000
  return draw < share
}

const migrations = Migrator.fromRecord({
  "0001_proposals": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE IF NOT EXISTS so_proposals (
      id TEXT PRIMARY KEY,
      content_hash TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL,
      scope TEXT NOT NULL,
      sources TEXT NOT NULL,
      content TEXT NOT NULL,
      state TEXT NOT NULL,
      canary_share DOUBLE PRECISION,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`
    yield* sql`CREATE INDEX IF NOT EXISTS so_proposals_state ON so_proposals (state)`
    yield* sql`CREATE TABLE IF NOT EXISTS so_proposal_transitions (
      seq ${sql.literal(sql.onDialectOrElse({ pg: () => "BIGSERIAL PRIMARY KEY", orElse: () => "INTEGER PRIMARY KEY AUTOINCREMENT" }))},
      proposal_id TEXT NOT NULL,
      from_state TEXT,
      to_state TEXT NOT NULL,
      actor_type TEXT NOT NULL,
      actor_id TEXT NOT NULL,
      why TEXT NOT NULL,
      at TEXT NOT NULL,
      detail TEXT
    )`
    yield* sql`CREATE INDEX IF NOT EXISTS so_proposal_transitions_by ON so_proposal_transitions (proposal_id, seq)`
  })
})

/** Runs the proposal tables' migrations (idempotent; their own migrations table). */
export const migrateProposals = Migrator.make({})({ loader: migrations, table: "so_proposal_migrations" })

interface ProposalRow {
  readonly id: string
  readonly content_hash: string
  readonly kind: string
  readonly scope: string
  readonly sources: string
  readonly content: string
  readonly state: string
  readonly canary_share: number | string | null
  readonly created_at: string
  readonly updated_at: string
}

interface TransitionRow {
  readonly proposal_id: string
  readonly from_state: string | null
  readonly to_state: string
  readonly actor_type: string
  readonly actor_id: string
  readonly why: string
  readonly at: string
  readonly detail: string | null
}

const toProposal = (r: ProposalRow): Proposal => ({
  id: r.id,
  contentHash: r.content_hash,
  kind: r.kind as ProposalKind,
  scope: r.scope,
  sources: JSON.parse(r.sources) as ProposalSources,
  content: r.content,
  state: r.state as ProposalState,
  canaryShare: r.canary_share === null ? null : Number(r.canary_share),
  createdAt: r.created_at,
  updatedAt: r.updated_at
})

const toTransition = (r: TransitionRow): ProposalTransition => ({
  proposalId: r.proposal_id,
  from: r.from_state as ProposalState | null,
  to: r.to_state as ProposalState,
  actor: { type: r.actor_type as Actor["type"], id: r.actor_id },
  why: r.why,
  at: r.at,
  detail: r.detail === null ? null : JSON.parse(r.detail)
})

const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())
const uniq = (xs: ReadonlyArray<string>) => [...new Set(xs)]

const validate = (input: ProposalInput): string | undefined => {
  if (!(ProposalKinds as ReadonlyArray<string>).includes(input.kind))
    return `kind must be one of ${ProposalKinds.join(", ")}, got ${JSON.stringify(input.kind)}`
  if (input.scope.trim() === "") return "its scope is empty (use `project` for the whole project)"
  if (input.content.trim() === "") return "its content is empty"
  return undefined
}

/** How to move a proposal. */
export interface TransitionRequest {
  readonly actor: Actor
  readonly why: string
  /** For `active`: the share of issues it reaches (default 1). */
  readonly canaryShare?: number | undefined
  readonly detail?: unknown
}

/** What to list. */
export interface ProposalQuery {
  readonly states?: ReadonlyArray<ProposalState> | undefined
  readonly kinds?: ReadonlyArray<ProposalKind> | undefined
}

/** Proposals in the state database. */
export class Proposals extends Context.Service<
  Proposals,
  {
    /** Records a proposal in state `proposed`; the same kind, scope and content again returns the proposal already recorded, in whatever state it is. */
    readonly propose: (
      input: ProposalInput,
      actor: Actor,
      why: string,
      /** What backed it (e.g. an evolver's back-test), kept in its history. */
      detail?: unknown
    ) => Effect.Effect<Proposal, ProposalError | InvalidProposal>
    /** Moves a proposal to another state, recording who and why. */
    readonly transition: (
      id: string,
      to: ProposalState,
      request: TransitionRequest
    ) => Effect.Effect<
      Proposal,
      ProposalError | ProposalNotFound | IllegalTransition | HumanApprovalRequired | InvalidProposal
    >
    readonly get: (id: string) => Effect.Effect<Option.Option<Proposal>, ProposalError>
    /** Proposals, newest first. */
    readonly list: (query?: ProposalQuery) => Effect.Effect<ReadonlyArray<Proposal>, ProposalError>
    /** Every move of a proposal, oldest first (its creation first). */
    readonly history: (id: string) => Effect.Effect<ReadonlyArray<ProposalTransition>, ProposalError>
    /** The proposals a run of this issue uses: approved and promoted ones, and active ones whose canary share draws it. */
    readonly inUseFor: (issueId: string) => Effect.Effect<ReadonlyArray<Proposal>, ProposalError>
  }
>()("@spec-orch/evolution/Proposals") {
  static readonly layer: Layer.Layer<Proposals, never, SqlClient.SqlClient | Redactor> = Layer.effect(
    Proposals,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const redactor = yield* Redactor
      yield* migrateProposals.pipe(Effect.orDie)
      const fail = (operation: string) => (cause: unknown) =>
        new ProposalError({ operation, reason: cause instanceof Error ? cause.message : String(cause) })

      const get = (id: string) =>
        sql<ProposalRow>`SELECT * FROM so_proposals WHERE id = ${id}`.pipe(
          Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toProposal)),
          Effect.mapError(fail("get"))
        )

      const record = (
        id: string,
        from: ProposalState | null,
        to: ProposalState,
        actor: Actor,
        why: string,
        at: string,
        detail: unknown
      ) =>
        sql`INSERT INTO so_proposal_transitions ${sql.insert({
          proposal_id: id,
          from_state: from,
          to_state: to,
          actor_type: actor.type,
          actor_id: redactor.redact(actor.id),
          why: redactor.redact(why),
          at,
          detail: detail === undefined || detail === null ? null : redactor.redact(JSON.stringify(detail))
        })}`

      const propose = (input: ProposalInput, actor: Actor, why: string, detail?: unknown) =>
        Effect.gen(function* () {
          const problem = validate(input)
          if (problem !== undefined) return yield* new InvalidProposal({ reason: problem })
          // Text is redacted before it is stored; a policy's script is refused instead (it would run changed).
          const secret = input.kind === "policy" ? policySecretProblem(redactor.redact, input.content) : undefined
          if (secret !== undefined) return yield* new InvalidProposal({ reason: `its ${secret}` })
          const content = redactor.redact(input.content)
          const scope = redactor.redact(input.scope)
          const hash = contentHash(input.kind, scope, content)
          const existing = yield* sql<ProposalRow>`SELECT * FROM so_proposals WHERE content_hash = ${hash}`
          if (existing[0] !== undefined) return toProposal(existing[0])
          const at = yield* now
          const proposal: Proposal = {
            id: `prop-${hash.slice(0, 12)}`,
            contentHash: hash,
            kind: input.kind,
            scope,
            sources: {
              runIds: uniq(input.sources?.runIds ?? []),
              findingIds: uniq(input.sources?.findingIds ?? []),
              reviewIds: uniq(input.sources?.reviewIds ?? [])
            },
            content,
            state: "proposed",
            canaryShare: null,
            createdAt: at,
            updatedAt: at
          }
          yield* sql`INSERT INTO so_proposals ${sql.insert({
            id: proposal.id,
            content_hash: proposal.contentHash,
            kind: proposal.kind,
            scope: proposal.scope,
            sources: JSON.stringify(proposal.sources),
            content: proposal.content,
            state: proposal.state,
            canary_share: null,
            created_at: at,
            updated_at: at
          })}`
          yield* record(proposal.id, null, "proposed", actor, why, at, detail)
          return proposal
        }).pipe(
          sql.withTransaction,
          Effect.catchTag("SqlError", (e) => Effect.fail(fail("propose")(e))),
          Effect.withSpan("Proposals.propose")
        )

      const transition = (id: string, to: ProposalState, request: TransitionRequest) =>
        Effect.gen(function* () {
          if (!(ProposalStates as ReadonlyArray<string>).includes(to)) {
            return yield* new InvalidProposal({
              reason: `state must be one of ${ProposalStates.join(", ")}, got ${JSON.stringify(to)}`
            })
          }
          if (request.why.trim() === "")
            return yield* new InvalidProposal({ reason: `moving ${id} to ${to} needs a reason (why is empty)` })
          const share = to === "active" ? (request.canaryShare ?? 1) : null
          if (share !== null && !(share > 0 && share <= 1)) {
            return yield* new InvalidProposal({
              reason: `the canary share of ${id} must be above 0 and at most 1, got ${share}`
            })
          }
          const rows = yield* sql<ProposalRow>`SELECT * FROM so_proposals WHERE id = ${id}`
          if (rows[0] === undefined) return yield* new ProposalNotFound({ id })
          const current = toProposal(rows[0])
          const allowed = TRANSITIONS[current.state]
          if (!allowed.includes(to))
            return yield* new IllegalTransition({ id, from: current.state, to, allowed: [...allowed] })
          if (to === "approved" && request.actor.type !== "human" && HUMAN_APPROVAL_KINDS.includes(current.kind)) {
            return yield* new HumanApprovalRequired({
              id,
              kind: current.kind,
              actor: `${request.actor.type}:${request.actor.id}`
            })
          }
          const at = yield* now
          yield* sql`UPDATE so_proposals SET state = ${to}, canary_share = ${share}, updated_at = ${at} WHERE id = ${id}`
          yield* record(id, current.state, to, request.actor, request.why, at, request.detail)
          return { ...current, state: to, canaryShare: share, updatedAt: at }
        }).pipe(
          sql.withTransaction,
          Effect.catchTag("SqlError", (e) => Effect.fail(fail("transition")(e))),
          Effect.withSpan("Proposals.transition", { attributes: { id, to } })
        )

      const list = (query: ProposalQuery = {}) =>
        Effect.gen(function* () {
          const filters = []
          if (query.states !== undefined && query.states.length > 0) filters.push(sql`state IN ${sql.in(query.states)}`)
          if (query.kinds !== undefined && query.kinds.length > 0) filters.push(sql`kind IN ${sql.in(query.kinds)}`)
          const where = filters.length > 0 ? sql.and(filters) : sql`1 = 1`
          const rows = yield* sql<ProposalRow>`SELECT * FROM so_proposals WHERE ${where} ORDER BY created_at DESC, id`
          return rows.map(toProposal)
        }).pipe(Effect.mapError(fail("list")))

      const history = (id: string) =>
        sql<TransitionRow>`SELECT proposal_id, from_state, to_state, actor_type, actor_id, why, at, detail FROM so_proposal_transitions WHERE proposal_id = ${id} ORDER BY seq`.pipe(
          Effect.map((rows) => rows.map(toTransition)),
          Effect.mapError(fail("history"))
        )

      const inUseFor = (issueId: string) =>
        Effect.map(list({ states: IN_USE_STATES }), (ps) =>
          ps
            .filter((p) => p.state !== "active" || inCanary(p.id, issueId, p.canaryShare ?? 1))
            .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
        )

      return Proposals.of({ propose, transition, get, list, history, inUseFor })
    })
  )
}
