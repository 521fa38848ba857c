/** Handlers for `spec-orch prompt|strategy|harness|skills|policy` (groups.ts): views and evolvers over proposals. */
import {
  COMPLIANCE_EVOLVER,
  distillPolicy,
  findPolicyCandidates,
  type Proposal,
  type ProposalKind,
  Proposals,
  proposeComplianceRules,
  proposeScoperHints,
  proposeSkills,
  supportSummary
} from "@spec-orch/evolution"
import { Effect, Option } from "effect"
import { LanguageModel } from "effect/ai"
import { emit, ExitCode, setExitCode, usageError } from "../Output.js"
import { withPlanes } from "../Planes.js"
import {
  EvolutionCommandError,
  evolverModel,
  human,
  plannerModelFor,
  promptVariants,
  rows,
  withProposals
} from "./evolution.run.js"
import { plannerLearnings } from "./plan.run.js"

const IN_USE = new Set(["approved", "active", "promoted"])

/** The proposals of one kind, and a line naming those runs use. */
const ofKind = (kind: ProposalKind, none: string) => (input: { json: boolean }) =>
  withProposals(
    Effect.gen(function* () {
      const ps = yield* (yield* Proposals).list({ kinds: [kind] })
      const inUse = ps.filter((p) => IN_USE.has(p.state))
      yield* emit(input.json, ps, () =>
        ps.length === 0
          ? none
          : [rows(ps), inUse.length === 0 ? "None in use." : `In use: ${inUse.map((p) => p.id).join(", ")}.`]
      )
    })
  )

const made = (ps: ReadonlyArray<Proposal>, none: string) => (ps.length === 0 ? none : rows(ps))

export const promptStatus = ofKind(
  "prompt-variant",
  "No prompt variants: `spec-orch prompt evolve` asks the planner's model for some."
)

export const promptEvolve = (input: { json: boolean }) =>
  withProposals(
    Effect.gen(function* () {
      const result = yield* promptVariants(yield* evolverModel)
      yield* emit(input.json, result, () => [
        result.skipped !== undefined
          ? `The model was not asked: ${result.skipped}.`
          : made(
              result.made.map((m) => m.proposal),
              "The model proposed nothing usable."
            ),
        ...result.dropped.map((d) => `dropped: ${d}`)
      ])
    })
  )

export const strategyStatus = ofKind(
  "scoper-hint",
  "No scoper hints: `spec-orch strategy analyze` proposes them from files changed outside their scope."
)

export const strategyAnalyze = (input: { json: boolean }) =>
  withProposals(
    Effect.gen(function* () {
      const hints = yield* proposeScoperHints()
      yield* emit(input.json, hints, () => [
        made(
          hints.map((h) => h.proposal),
          "No file was changed outside the declared scope in runs of two or more issues."
        ),
        ...hints.map(
          (h) =>
            `${h.proposal.id}: ${h.candidate.file}, outside the scope in ${h.candidate.runs.length} runs of ${h.candidate.issues.join(", ")}`
        )
      ])
    })
  )

export const strategyPreview = (input: { mission: string; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const learnings = yield* plannerLearnings(input.mission)
      yield* emit(input.json, learnings, () =>
        learnings.length === 0
          ? `The planner would be told nothing learned for ${input.mission}.`
          : [
              `The planner would be told ${learnings.length} learning${learnings.length === 1 ? "" : "s"} for ${input.mission}:`,
              ...learnings.map((l) => `- [${l.id}] ${l.text} (from ${l.source})`)
            ]
      )
    })
  )

export const harnessSynthesize = (input: { minRuns: number; minBacktest: number; json: boolean }) =>
  Effect.gen(function* () {
    if (input.minRuns < 1) return yield* usageError(`--min-runs: expected a positive number, got ${input.minRuns}`)
    if (input.minBacktest < 1)
      return yield* usageError(`--min-backtest: expected a positive number, got ${input.minBacktest}`)
    yield* withProposals(
      Effect.gen(function* () {
        const r = yield* proposeComplianceRules({ minRuns: input.minRuns, minBacktest: input.minBacktest })
        yield* emit(input.json, r, () => [
          r.skipped !== undefined
            ? `Nothing back-tested: ${r.skipped}.`
            : made(
                r.made.map((m) => m.proposal),
                "No command ran in enough failed runs and in no successful one."
              ),
          ...r.dropped.map(
            (c) =>
              `dropped: \`${c.signature}\` fired on ${c.successfulRuns.length} of ${c.falsePositives.n} successful runs`
          ),
          ...(r.made.length > 0 ? ["A person applies a rule: `spec-orch harness apply <id>`."] : [])
        ])
      })
    )
  })

export const harnessValidate = (input: { json: boolean }) =>
  withProposals(
    Effect.gen(function* () {
      const store = yield* Proposals
      const ps = yield* store.list({ kinds: ["compliance-rule"] })
      const out: Array<{ proposal: Proposal; backtest: string | null }> = []
      for (const p of ps) {
        const history = yield* store.history(p.id)
        const checked = history.find((t) => t.to === "validated" && t.actor.id === COMPLIANCE_EVOLVER.id)
        out.push({ proposal: p, backtest: checked?.why ?? null })
      }
      yield* emit(input.json, out, () =>
        out.length === 0
          ? "No compliance rules: `spec-orch harness synthesize` proposes them from failed runs."
          : out.map((o) => `${o.proposal.id} ${o.proposal.state}: ${o.backtest ?? "not back-tested"}`)
      )
    })
  )

export const harnessApply = (input: {
  id: string
  why: Option.Option<string>
  by: Option.Option<string>
  json: boolean
}) =>
  Effect.gen(function* () {
    const actor = yield* human(input.by)
    yield* withProposals(
      Effect.gen(function* () {
        const store = yield* Proposals
        const found = yield* store.get(input.id)
        if (Option.isNone(found))
          return yield* usageError(`no proposal ${input.id}; \`spec-orch harness validate\` lists the compliance rules`)
        if (found.value.kind !== "compliance-rule")
          return yield* usageError(
            `${input.id} is a ${found.value.kind}, not a compliance rule; approve it with \`spec-orch evolution approve ${input.id}\``
          )
        const p = yield* store.transition(input.id, "approved", {
          actor,
          why: Option.getOrElse(input.why, () => `applied by ${actor.id}`)
        })
        yield* emit(input.json, p, () => `Applied ${p.id}: the gate judges the next runs by it.`)
      })
    )
  })

export const skillsList = ofKind(
  "skill",
  "No skills: `spec-orch skills mine` proposes them from repeated tool-call sequences."
)

export const skillsMine = (input: { minSupport: number; json: boolean }) =>
  Effect.gen(function* () {
    if (input.minSupport < 2) return yield* usageError(`--min-support: expected 2 or more, got ${input.minSupport}`)
    yield* withProposals(
      Effect.gen(function* () {
        const r = yield* proposeSkills({ minSupport: input.minSupport })
        yield* emit(input.json, r, () => [
          made(
            r.made.map((m) => m.proposal),
            "No tool-call sequence repeated in enough succeeded runs."
          ),
          ...r.made.map(({ proposal, skill }) => `${proposal.id}: skill ${skill.name}, ${supportSummary(skill)}`)
        ])
      })
    )
  })

export const policyList = ofKind(
  "policy",
  "No policies: `spec-orch policy candidates` lists classes of issue to distill one from."
)

/** With the proposals and every plane (the distiller reads issues from the issue source). */
const withPolicies = <A, E, R>(effect: Effect.Effect<A, E, R>) => withPlanes(Effect.provide(effect, Proposals.layer))

/** `--min` of `policy candidates|distill`: a class of issue is two issues at least. */
const badMin = (min: number) => (min < 2 ? usageError(`--min: expected 2 or more, got ${min}`) : undefined)

export const policyCandidates = (input: { min: number; json: boolean }) =>
  Effect.gen(function* () {
    const bad = badMin(input.min)
    if (bad !== undefined) return yield* bad
    yield* withPolicies(
      Effect.gen(function* () {
        const cs = yield* findPolicyCandidates({ min: input.min })
        yield* emit(input.json, cs, () =>
          cs.length === 0
            ? `No class of issue (the same labels) has ${input.min} or more issues whose latest run passed.`
            : [
                ...cs.map(
                  (c) =>
                    `${c.key}: ${c.issues.length} issues passed (${c.issues.map((i) => `${i.issueId} ${i.runId}`).join(", ")})`
                ),
                "Distill one with `spec-orch policy distill <labels>` (asks the planner's model once)."
              ]
        )
      })
    )
  })

export const policyDistill = (input: { candidate: string; min: number; json: boolean }) =>
  Effect.gen(function* () {
    const bad = badMin(input.min)
    if (bad !== undefined) return yield* bad
    yield* withPolicies(
      Effect.gen(function* () {
        // A model that cannot be called is found before anything is read.
        const model = yield* plannerModelFor("policies")
        const r = yield* distillPolicy(input.candidate, { min: input.min }).pipe(
          Effect.provideService(LanguageModel.LanguageModel, model),
          Effect.catchTag("AiError", (e) =>
            Effect.fail(
              new EvolutionCommandError({ reason: `the planner's model did not distill a policy: ${e.message}` })
            )
          )
        )
        yield* emit(input.json, r, () =>
          r.proposal !== undefined
            ? [
                rows([r.proposal]),
                `Proposed ${r.proposal.id} for issues labelled ${r.candidate.labels.join(", ")} (answered by ${r.answeredBy ?? "the model"}).`,
                `Validate it (\`spec-orch evolution validate ${r.proposal.id} --replay\`); a person then approves it.`
              ]
            : `The answer of ${r.answeredBy ?? "the model"} was refused, nothing was proposed: ${r.refused}. Ask again with \`spec-orch policy distill ${r.candidate.key}\`.`
        )
        if (r.proposal === undefined) yield* setExitCode(ExitCode.failure)
      })
    )
  })
