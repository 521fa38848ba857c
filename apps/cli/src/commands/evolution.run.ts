/** Handlers for `spec-orch evolution`. */
import type { Project } from "@spec-orch/contract"
import {
  type Actor,
  backtestSummary,
  decidePromotion,
  Memory,
  type Proposal,
  type ProposalState,
  ProposalStates,
  Proposals,
  proposePromptVariants,
  supportSummary
} from "@spec-orch/evolution"
import { Models, type Redactor } from "@spec-orch/harness"
import type { EvidenceLedger } from "@spec-orch/evidence"
import { Effect, type FileSystem, Layer, Option, type Path, Schema } from "effect"
import { LanguageModel } from "effect/ai"
import type { SqlClient } from "effect/sql"
import { runEvolvers } from "../Evolvers.js"
import { emit, ExitCode, setExitCode, table, usageError } from "../Output.js"
import { ModelsLive, withPlanes } from "../Planes.js"
import { validateByReplay } from "./evolution.replay.run.js"
import { whoAmI } from "../Who.js"

/** Why an evolution command could not do what it was asked (no model to ask, the model failed). */
export class EvolutionCommandError extends Schema.TaggedError<EvolutionCommandError>()("EvolutionCommandError", {
  reason: Schema.String
}) {
  override get message(): string {
    return this.reason
  }
}

export const withProposals = <A, E>(
  effect: Effect.Effect<
    A,
    E,
    Proposals | Memory | SqlClient.SqlClient | Project | Redactor | EvidenceLedger | FileSystem.FileSystem | Path.Path
  >
) => withPlanes(Effect.provide(effect, Layer.mergeAll(Proposals.layer, Memory.layer)))

const short = (text: string, n = 80) => {
  const t = text.replace(/\s+/g, " ").trim()
  return t.length <= n ? t : `${t.slice(0, n - 1)}…`
}
export const rows = (ps: ReadonlyArray<Proposal>) =>
  table(
    ["ID", "KIND", "STATE", "SCOPE", "CONTENT"],
    ps.map((p) => [p.id, p.kind, p.state === "active" ? `active ${p.canaryShare}` : p.state, p.scope, short(p.content)])
  )

export const human = (byFlag: Option.Option<string>) =>
  Effect.map(whoAmI(byFlag), (id): Actor => ({ type: "human", id }))

export const status = (input: { json: boolean }) =>
  withProposals(
    Effect.gen(function* () {
      const all = yield* (yield* Proposals).list()
      const counts = Object.fromEntries(ProposalStates.map((s) => [s, all.filter((p) => p.state === s).length]))
      const inUse = all.filter((p) => p.state === "approved" || p.state === "active" || p.state === "promoted")
      yield* emit(
        input.json,
        {
          counts,
          inUse: inUse.map((p) => ({
            id: p.id,
            contentHash: p.contentHash,
            state: p.state,
            canaryShare: p.canaryShare
          }))
        },
        () => [
          `Proposals: ${ProposalStates.map((s) => `${counts[s]} ${s}`).join(", ")}.`,
          inUse.length === 0 ? "Runs use no proposal." : `Runs use: ${inUse.map((p) => p.id).join(", ")}.`
        ]
      )
    })
  )

export const proposals = (input: { state: Option.Option<string>; json: boolean }) =>
  Effect.gen(function* () {
    const state = Option.getOrUndefined(input.state)
    if (state !== undefined && !(ProposalStates as ReadonlyArray<string>).includes(state)) {
      return yield* usageError(`--state: expected one of ${ProposalStates.join(", ")}, got ${JSON.stringify(state)}`)
    }
    yield* withProposals(
      Effect.gen(function* () {
        const ps = yield* (yield* Proposals).list(state !== undefined ? { states: [state as ProposalState] } : {})
        yield* emit(input.json, ps, () =>
          ps.length === 0 ? "No proposals: `spec-orch evolution run` proposes learnings from failed runs." : rows(ps)
        )
      })
    )
  })

export const show = (input: { id: string; json: boolean }) =>
  withProposals(
    Effect.gen(function* () {
      const store = yield* Proposals
      const found = yield* store.get(input.id)
      if (Option.isNone(found))
        return yield* usageError(`no proposal ${input.id}; \`spec-orch evolution proposals\` lists them`)
      const p = found.value
      const history = yield* store.history(p.id)
      yield* emit(input.json, { ...p, history }, () => [
        `${p.id}  ${p.kind}  ${p.state}  scope ${p.scope}`,
        `sha256 ${p.contentHash}`,
        `from runs ${p.sources.runIds.join(", ") || "-"}`,
        "",
        p.content,
        "",
        ...history.map((t) => `${t.at}  ${t.from ?? "-"} → ${t.to}  by ${t.actor.type}:${t.actor.id}  ${t.why}`)
      ])
    })
  )

/** The planner role's model for an evolver (`what` it makes), or an error saying where to configure one. */
export const plannerModelFor = (what: string) =>
  Effect.gen(function* () {
    const models = yield* Models
    const role = models.role("planner")
    if (role.problem !== undefined)
      return yield* new EvolutionCommandError({
        reason:
          `${what} come from the planner's model, and it cannot be called: ${role.problem.message}. ` +
          "Configure one in spec-orch.toml ([planner] model_chain or [llm] default_model_chain with [models.<id>]); " +
          "`spec-orch models` shows what each role resolves to"
      })
    return yield* models
      .forRole("planner")
      .pipe(Effect.mapError((e) => new EvolutionCommandError({ reason: `${what}: ${e.message}` })))
  }).pipe(Effect.provide(ModelsLive))

/** The planner role's model for the prompt-variant evolver. */
export const evolverModel = plannerModelFor("prompt variants")

/** The prompt-variant evolver with `model`; a model that fails is this command's error. */
export const promptVariants = (model: LanguageModel.LanguageModel) =>
  proposePromptVariants().pipe(
    Effect.provideService(LanguageModel.LanguageModel, model),
    Effect.catchTag("AiError", (e) =>
      Effect.fail(new EvolutionCommandError({ reason: `the planner's model did not propose variants: ${e.message}` }))
    )
  )

export const run = (input: {
  minRuns: number
  minBacktest: number
  minSupport: number
  promptVariants: boolean
  json: boolean
}) =>
  Effect.gen(function* () {
    if (input.minRuns < 1) return yield* usageError(`--min-runs: expected a positive number, got ${input.minRuns}`)
    if (input.minBacktest < 1)
      return yield* usageError(`--min-backtest: expected a positive number, got ${input.minBacktest}`)
    if (input.minSupport < 2) return yield* usageError(`--min-support: expected 2 or more, got ${input.minSupport}`)
    yield* withProposals(
      Effect.gen(function* () {
        // A model that cannot be called is found before any evolver runs.
        const model = input.promptVariants ? yield* evolverModel : undefined
        const { verification, compliance, skills, scoperHints } = yield* runEvolvers({
          minRuns: input.minRuns,
          compliance: { minBacktest: input.minBacktest },
          skills: { minSupport: input.minSupport }
        })
        const prompts = model !== undefined ? yield* promptVariants(model) : undefined
        const made = [
          ...verification.map((p) => ({ ...p, evolver: "verification-learning" })),
          ...(compliance?.made ?? []).map(({ proposal, candidate }) => ({
            ...proposal,
            evolver: "compliance-rule",
            evidence: {
              signature: candidate.signature,
              pattern: candidate.pattern,
              failedRuns: candidate.failedRuns,
              firedOnFailed: candidate.firedOnFailed,
              falsePositives: candidate.falsePositives
            }
          })),
          ...(skills?.made ?? []).map(({ proposal, skill }) => ({
            ...proposal,
            evolver: "skills",
            evidence: {
              name: skill.name,
              tools: skill.tools,
              runs: skill.runs,
              support: skill.support,
              inFailed: skill.inFailed
            }
          })),
          ...(prompts?.made ?? []).map(({ proposal, addresses }) => ({
            ...proposal,
            evolver: "prompt-variant",
            evidence: { answeredBy: prompts?.answeredBy ?? null, addresses, failedRuns: prompts?.failedRuns ?? 0 }
          })),
          ...(scoperHints ?? []).map(({ proposal, candidate }) => ({
            ...proposal,
            evolver: "scoper-hint",
            evidence: {
              file: candidate.file,
              runs: candidate.runs,
              issues: candidate.issues,
              alongside: candidate.alongside
            }
          }))
        ]
        yield* emit(input.json, made, () => [
          made.length === 0 ? "Nothing to propose." : rows(made),
          ...(compliance?.made ?? []).map(
            ({ proposal, candidate }) =>
              `${proposal.id}: \`${candidate.signature}\` in ${candidate.failedRuns.length} failed runs (${candidate.failedRuns.join(", ")}); ${backtestSummary(candidate)}`
          ),
          ...(compliance?.dropped ?? []).map(
            (c) =>
              `dropped: \`${c.signature}\` fired on ${c.successfulRuns.length} of ${c.falsePositives.n} successful runs (${c.successfulRuns.join(", ")})`
          ),
          ...(compliance?.skipped !== undefined
            ? [`compliance rules: nothing back-tested: ${compliance.skipped}`]
            : []),
          ...(skills?.made ?? []).map(
            ({ proposal, skill }) => `${proposal.id}: skill ${skill.name}, ${supportSummary(skill)}`
          ),
          ...(scoperHints ?? []).map(
            ({ proposal, candidate }) =>
              `${proposal.id}: scoper hint for ${candidate.file}, changed outside the declared scope in ${candidate.runs.length} runs of ${candidate.issues.length} issues (${candidate.issues.join(", ")})`
          ),
          ...(prompts?.skipped !== undefined ? [`prompt variants: the model was not asked: ${prompts.skipped}`] : []),
          ...(prompts?.made ?? []).map(
            ({ proposal, addresses }) =>
              `${proposal.id}: prompt variant from ${prompts?.answeredBy ?? "the model"} (${addresses}); validate it, then a person approves it`
          ),
          ...(prompts?.dropped ?? []).map((d) => `dropped prompt variant: ${d}`),
          ...(made.some((p) => p.state === "validated")
            ? ["Nothing is used before a person approves it: `spec-orch evolution approve <id>`."]
            : [])
        ])
      })
    )
  })

const parseArm = (flag: string, text: string): { successes: number; trials: number } | string => {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim())
  if (m === null || Number(m[1]) > Number(m[2]))
    return `--${flag}: expected successes/trials such as 9/10, got ${JSON.stringify(text)}`
  return { successes: Number(m[1]), trials: Number(m[2]) }
}

export const validate = (input: {
  id: string
  candidate: Option.Option<string>
  baseline: Option.Option<string>
  replay: boolean
  issues: Option.Option<string>
  heldOut: number
  concurrency: number
  metric: string
  minSample: number
  by: Option.Option<string>
  json: boolean
}) =>
  Effect.gen(function* () {
    if (input.replay) {
      if (Option.isSome(input.candidate) || Option.isSome(input.baseline))
        return yield* usageError(
          "--replay measures the counts itself: give either --replay or --candidate and --baseline, not both"
        )
      return yield* validateByReplay(input)
    }
    if (Option.isSome(input.issues)) return yield* usageError("--issues names the issues to replay: it needs --replay")
    if (Option.isNone(input.candidate) || Option.isNone(input.baseline))
      return yield* usageError(
        "give the counts you measured (--candidate K/N --baseline K/N), or --replay to measure them by re-running held-out past issues"
      )
    const candidate = parseArm("candidate", input.candidate.value)
    const baseline = parseArm("baseline", input.baseline.value)
    if (typeof candidate === "string") return yield* usageError(candidate)
    if (typeof baseline === "string") return yield* usageError(baseline)
    if (input.minSample < 1)
      return yield* usageError(`--min-sample: expected a positive number, got ${input.minSample}`)
    const actor = yield* human(input.by)
    yield* withProposals(
      Effect.gen(function* () {
        const store = yield* Proposals
        const found = yield* store.get(input.id)
        if (Option.isNone(found))
          return yield* usageError(`no proposal ${input.id}; \`spec-orch evolution proposals\` lists them`)
        const decision = decidePromotion(
          { metric: input.metric, minSamplePerArm: input.minSample },
          candidate,
          baseline,
          found.value.kind
        )
        const moved =
          decision.decision === "promote"
            ? yield* store.transition(input.id, "validated", { actor, why: decision.reason, detail: decision })
            : found.value
        yield* emit(
          input.json,
          { proposal: moved, decision },
          () =>
            `${decision.decision === "promote" ? `${input.id} is validated` : `${input.id} stays ${moved.state}`}: ${decision.reason}.`
        )
        if (decision.decision !== "promote") yield* setExitCode(ExitCode.failure)
      })
    )
  })

const move =
  (to: ProposalState, verb: string, after: (p: Proposal) => string) =>
  (input: { id: string; why: Option.Option<string>; by: Option.Option<string>; json: boolean }) =>
    Effect.gen(function* () {
      const actor = yield* human(input.by)
      yield* withProposals(
        Effect.gen(function* () {
          const p = yield* (yield* Proposals).transition(input.id, to, {
            actor,
            why: Option.getOrElse(input.why, () => `${verb} by ${actor.id}`)
          })
          yield* emit(input.json, p, () => after(p))
        })
      )
    })

export const approve = move(
  "approved",
  "approved",
  (p) =>
    `Approved ${p.id}: the next runs in scope ${p.scope} are offered it (\`spec-orch evolution rollback ${p.id}\` stops that).`
)
export const reject = move("rejected", "rejected", (p) => `Rejected ${p.id}.`)
export const rollback = move("rolled-back", "rolled back", (p) => `Rolled back ${p.id}: the next run is without it.`)
