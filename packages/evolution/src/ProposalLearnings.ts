/**
 * `Learnings` that offer the builder the proposals in use for an issue (approved and promoted ones, and
 * active ones whose canary share draws the issue) before what an underlying source (memory) gives.
 * A mission's planner is offered the scoper hints in use (`scoper-hint` proposals over the project, the
 * mission's issues or the files its packets name) before what memory gives it; the builder never sees them.
 * Each is identified by the proposal's id and content hash (`prop-…@<sha256>`), which the run's
 * `context.json` lists; a rolled-back proposal is gone from the next run. A proposal-store problem
 * gives only the underlying learnings (logged): a run never depends on evolution.
 */
import type { Issue } from "@spec-orch/contract"
import {
  type Learning,
  Learnings,
  LearningsOverride,
  type MissionScope,
  parseLearnedPolicy,
  policyMatches
} from "@spec-orch/harness"
import { Effect, Layer, Option } from "effect"
import { type Proposal, type ProposalError, type ProposalKind, Proposals } from "./Proposals.js"

/**
 * Kinds the builder is not told: rules reach a run as what they are (a compliance contract, a skill file,
 * a policy's script run instead of the builder; `ProposalRules`), and scoper hints are for the planner
 * (the builder cannot change its scope).
 */
const NOT_FOR_BUILDER: ReadonlyArray<ProposalKind> = ["compliance-rule", "skill", "scoper-hint", "policy"]

/** At most this many proposals per prompt. */
export const MAX_PROPOSAL_LEARNINGS = 5

/** The learning id of a proposal: its id and content hash, so a run's artifacts say exactly which text it was given. */
export const proposalLearningId = (p: Proposal): string => `${p.id}@${p.contentHash}`

/** The learning a proposal gives (pure). */
export const proposalLearning = (p: Proposal): Learning => ({
  id: proposalLearningId(p),
  text: `learned rule (${p.kind}, ${p.state}): ${p.content.replace(/\s+/g, " ").trim()}`,
  source: `proposal ${p.id}`
})

/** Whether a proposal's scope covers a mission's plan: `project`, one of its issues, or a file its packets name. */
export const appliesToMission = (p: Proposal, scope: MissionScope): boolean =>
  p.scope === "project" ||
  (p.scope.startsWith("issue:") && scope.issueIds.includes(p.scope.slice("issue:".length))) ||
  (p.scope.startsWith("file:") && scope.files.includes(p.scope.slice("file:".length)))

/** Whether a proposal's scope covers an issue: `project`, `issue:<id>` of it, or `file:<path>` of a file it names. */
export const appliesTo = (p: Proposal, issue: Issue): boolean =>
  p.scope === "project" ||
  p.scope === `issue:${issue.id}` ||
  (p.scope.startsWith("file:") && [...issue.targetFiles, ...issue.filesToRead].includes(p.scope.slice("file:".length)))

/** Whether a proposal reaches an issue's run: its scope covers the issue and, for a policy, its match rule applies. */
export const reachesIssue = (p: Proposal, issue: Issue): boolean => {
  if (!appliesTo(p, issue)) return false
  if (p.kind !== "policy") return true
  const parsed = parseLearnedPolicy(p.content)
  return !("problem" in parsed) && policyMatches(parsed.labels, issue)
}

/**
 * The proposals a run of this issue is offered: those in use, less the override's `exclude`, plus its
 * `include` (by id, in whatever state: a replay's candidate arm offers a proposal not yet approved exactly as
 * an approved one would be). Scope and kind are still checked by the caller.
 */
export const proposalsFor = (
  proposals: Proposals["Service"],
  issueId: string
): Effect.Effect<ReadonlyArray<Proposal>, ProposalError> =>
  Effect.gen(function* () {
    const override = yield* LearningsOverride
    const inUse = (yield* proposals.inUseFor(issueId)).filter((p) => !override.exclude.includes(p.id))
    const extra: Array<Proposal> = []
    for (const id of override.include) {
      if (inUse.some((p) => p.id === id) || override.exclude.includes(id)) continue
      const found = yield* proposals.get(id)
      if (Option.isSome(found)) extra.push(found.value)
    }
    return [...inUse, ...extra]
  })

/** Proposals in use first, then the learnings of the `Learnings` it is built over. */
export const ProposalLearnings: Layer.Layer<Learnings, never, Learnings | Proposals> = Layer.effect(
  Learnings,
  Effect.gen(function* () {
    const base = yield* Learnings
    const proposals = yield* Proposals
    return Learnings.of({
      forIssue: (issue, audience) =>
        Effect.gen(function* () {
          // Proposals are offered to the builder only (the evolver learns from verification the builder must pass).
          if (audience !== undefined && audience !== "builder") return yield* base.forIssue(issue, audience)
          const inUse = yield* proposalsFor(proposals, issue.id).pipe(
            Effect.catch((e) =>
              Effect.as(Effect.logWarning(`evolution: no proposals for ${issue.id}: ${e.message}`), [])
            )
          )
          const own = inUse
            .filter((p) => appliesTo(p, issue) && !NOT_FOR_BUILDER.includes(p.kind))
            .slice(0, MAX_PROPOSAL_LEARNINGS)
            .map(proposalLearning)
          return [...own, ...(yield* base.forIssue(issue, audience))]
        }).pipe(Effect.withSpan("ProposalLearnings.forIssue")),
      // The planner is told the scoper hints in use for the mission, then what memory learned.
      forMission: (scope) =>
        Effect.gen(function* () {
          const inUse = yield* proposalsFor(proposals, scope.missionId).pipe(
            Effect.catch((e) =>
              Effect.as(Effect.logWarning(`evolution: no scoper hints for ${scope.missionId}: ${e.message}`), [])
            )
          )
          const hints = inUse
            .filter((p) => p.kind === "scoper-hint" && appliesToMission(p, scope))
            .slice(0, MAX_PROPOSAL_LEARNINGS)
            .map(proposalLearning)
          return [...hints, ...(yield* base.forMission(scope))]
        }).pipe(Effect.withSpan("ProposalLearnings.forMission"))
    })
  })
)
