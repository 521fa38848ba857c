/**
 * `LearnedRules` from the proposals in use for an issue (approved and promoted ones, and active ones whose
 * canary share draws the issue, in scope): `compliance-rule` proposals as compliance contracts the run's
 * agent events are judged by (the contract's id is the proposal's), `skill` proposals as SKILL.md files
 * offered to the agent, and the one `policy` proposal whose match rule applies to the issue as the script
 * that runs instead of the builder (the most specific: most labels, then the lowest id). A proposal whose text is not one pattern contract, or not a SKILL.md with a plain
 * name, is left out (logged): an approval adds exactly the typed rule, nothing else. A proposal-store
 * problem gives none (logged): a run never depends on evolution.
 */
import {
  type LearnedComplianceRule,
  type LearnedPolicy,
  LearnedRules,
  type LearnedSkill,
  parseLearnedComplianceRule,
  parseLearnedPolicy,
  parseLearnedSkill,
  policyMatches
} from "@spec-orch/harness"
import { Effect, Layer } from "effect"
import { appliesTo, proposalsFor } from "./ProposalLearnings.js"
import { Proposals } from "./Proposals.js"

export const ProposalRules: Layer.Layer<LearnedRules, never, Proposals> = Layer.effect(
  LearnedRules,
  Effect.gen(function* () {
    const proposals = yield* Proposals
    return LearnedRules.of({
      forIssue: (issue) =>
        Effect.gen(function* () {
          const inUse = yield* proposalsFor(proposals, issue.id).pipe(
            Effect.catch((e) =>
              Effect.as(Effect.logWarning(`evolution: no learned rules for ${issue.id}: ${e.message}`), [])
            )
          )
          const compliance: Array<LearnedComplianceRule> = []
          const skills: Array<LearnedSkill> = []
          const names = new Set<string>()
          const policies: Array<LearnedPolicy> = []
          for (const p of inUse.filter((p) => appliesTo(p, issue))) {
            if (p.kind === "compliance-rule") {
              const parsed = parseLearnedComplianceRule(p.id, p.content)
              if ("problem" in parsed) {
                yield* Effect.logWarning(`evolution: ${p.id} is not used: ${parsed.problem}`)
                continue
              }
              compliance.push({ proposalId: p.id, contentHash: p.contentHash, contract: parsed.contract })
            } else if (p.kind === "skill") {
              const parsed = parseLearnedSkill(p.content)
              if ("problem" in parsed) {
                yield* Effect.logWarning(`evolution: ${p.id} is not used: ${parsed.problem}`)
                continue
              }
              if (names.has(parsed.name)) continue
              names.add(parsed.name)
              skills.push({ proposalId: p.id, contentHash: p.contentHash, name: parsed.name, skillMd: p.content })
            } else if (p.kind === "policy") {
              const parsed = parseLearnedPolicy(p.content)
              if ("problem" in parsed) {
                yield* Effect.logWarning(`evolution: ${p.id} is not used: ${parsed.problem}`)
                continue
              }
              if (policyMatches(parsed.labels, issue))
                policies.push({ proposalId: p.id, contentHash: p.contentHash, ...parsed })
            }
          }
          const policy = policies.sort(
            (a, b) => b.labels.length - a.labels.length || a.proposalId.localeCompare(b.proposalId)
          )[0]
          return { compliance, skills, ...(policy !== undefined ? { policy } : {}) }
        }).pipe(Effect.withSpan("ProposalRules.forIssue"))
    })
  })
)
