/**
 * What a run uses besides the builder's prompt that spec-orch learned and a person approved: compliance
 * rules the run's agent events are also judged by, and Agent Skills (`SKILL.md`) offered to agents that
 * read skills. Declared here, implemented by `@spec-orch/evolution` (approved proposals); the default
 * knows nothing, so a run never depends on evolution.
 *
 * The shapes are parsed and checked here, not trusted: a learned compliance rule is exactly one pattern
 * contract in the `compliance.contracts.yaml` format (no built-in, at least one pattern), and a skill's
 * name is a plain directory name, so an approved proposal can add one rule or one skill file, nothing else.
 */
import type { Issue } from "@spec-orch/contract"
import { Context, Effect, Layer } from "effect"
import { type ComplianceContract, loadComplianceContracts } from "./Compliance.js"

/** A learned compliance rule in use: the contract (its id is the proposal's id) and where it came from. */
export interface LearnedComplianceRule {
  readonly proposalId: string
  readonly contentHash: string
  readonly contract: ComplianceContract
}

/** A learned skill in use: its directory name and the `SKILL.md` text. */
export interface LearnedSkill {
  readonly proposalId: string
  readonly contentHash: string
  readonly name: string
  readonly skillMd: string
}

/** What an issue's run uses. */
export interface LearnedForIssue {
  readonly compliance: ReadonlyArray<LearnedComplianceRule>
  readonly skills: ReadonlyArray<LearnedSkill>
}

/** Where agents look for project skills, relative to the worktree (Claude Code and opencode; Codex and others). */
export const SKILL_DIRS: ReadonlyArray<string> = [".claude/skills", ".agents/skills"]

/** A skill's name as the Agent Skills format allows it: lowercase letters, digits and hyphens, at most 64. */
export const SKILL_NAME = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/

/**
 * The one contract a learned compliance rule's text holds (pure), with the proposal's id as its id so
 * violations name the proposal; a reason instead when the text is not exactly one pattern contract.
 */
export const parseLearnedComplianceRule = (
  proposalId: string,
  content: string
): { readonly contract: ComplianceContract } | { readonly problem: string } => {
  const loaded = loadComplianceContracts(content, `proposal ${proposalId}`)
  if (loaded.contracts === undefined)
    return { problem: loaded.problems.map((p) => p.message).join("; ") || "not a compliance contracts file" }
  if (loaded.contracts.length !== 1)
    return { problem: `a learned rule holds exactly one contract, this one has ${loaded.contracts.length}` }
  const c = loaded.contracts[0]!
  if (c.builtin) return { problem: "a learned rule cannot be a built-in contract" }
  if (c.patterns.length === 0) return { problem: "a learned rule needs at least one pattern" }
  return { contract: { ...c, id: proposalId } }
}

/**
 * A learned skill's name from its `SKILL.md` frontmatter (pure); a reason when there is no frontmatter
 * with a valid `name` and a `description`.
 */
export const parseLearnedSkill = (content: string): { readonly name: string } | { readonly problem: string } => {
  const fm = /^---\n([\s\S]*?)\n---\n/.exec(content)
  if (fm === null) return { problem: "a SKILL.md starts with YAML frontmatter between --- lines" }
  const name = /^name:\s*(\S+)\s*$/m.exec(fm[1]!)?.[1]
  if (name === undefined || !SKILL_NAME.test(name))
    return { problem: "its frontmatter needs a name of lowercase letters, digits and hyphens (at most 64)" }
  if (!/^description:\s*\S/m.test(fm[1]!)) return { problem: "its frontmatter needs a description" }
  return { name }
}

/** Learned rules and skills for an issue's run. */
export class LearnedRules extends Context.Service<
  LearnedRules,
  {
    /** The approved (or promoted, or canary-drawn active) compliance rules and skills whose scope covers the issue. */
    readonly forIssue: (issue: Issue) => Effect.Effect<LearnedForIssue>
  }
>()("@spec-orch/harness/LearnedRules") {
  /** Knows nothing. */
  static readonly layerNone: Layer.Layer<LearnedRules> = Layer.succeed(
    LearnedRules,
    LearnedRules.of({ forIssue: () => Effect.succeed({ compliance: [], skills: [] }) })
  )
}
