/**
 * What a run uses besides the builder's prompt that spec-orch learned and a person approved: compliance
 * rules the run's agent events are also judged by, Agent Skills (`SKILL.md`) offered to agents that
 * read skills, and a distilled policy (a POSIX sh script run as a `command` agent instead of the builder
 * for issues whose labels include all of the policy's). Declared here, implemented by `@spec-orch/evolution` (approved proposals); the default
 * knows nothing, so a run never depends on evolution.
 *
 * The shapes are parsed and checked here, not trusted: a learned compliance rule is exactly one pattern
 * contract in the `compliance.contracts.yaml` format (no built-in, at least one pattern), and a skill's
 * name is a plain directory name, so an approved proposal can add one rule or one skill file, nothing else.
 */
import type { Issue } from "@spec-orch/contract"
import { Context, Effect, Layer, Option, Schema } from "effect"
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

/** A distilled policy in use: the script that runs instead of the builder, and the labels that chose it. */
export interface LearnedPolicy {
  readonly proposalId: string
  readonly contentHash: string
  /** The issue carries every one of these labels (compared without case). */
  readonly labels: ReadonlyArray<string>
  /** A POSIX sh script, run as `sh <file>` in the worktree, inside the agent's sandbox. */
  readonly script: string
}

/** What an issue's run uses. */
export interface LearnedForIssue {
  readonly compliance: ReadonlyArray<LearnedComplianceRule>
  readonly skills: ReadonlyArray<LearnedSkill>
  /** The policy that runs instead of the builder, when one in use matches the issue. */
  readonly policy?: LearnedPolicy | undefined
}

/** A policy's script is at most this many bytes (a longer one is refused, never cut). */
export const POLICY_SCRIPT_MAX_BYTES = 16_384

/** A label a policy may match on: printable, no comma or newline, at most 64 characters. */
const POLICY_LABEL = /^[^,\n\r\t]{1,64}$/

const POLICY_HEADER = "spec-orch policy: sh"
const decodeLabels = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Array(Schema.String)))

/**
 * A policy proposal's text (pure): a header, the match rule (the labels, as a JSON list) fixed when it was
 * distilled, a `---` line, then the script. The whole text is what the proposal's content hash covers.
 */
export const policyContent = (labels: ReadonlyArray<string>, script: string): string =>
  `${POLICY_HEADER}\nmatch-labels: ${JSON.stringify(normalizeLabels(labels))}\n---\n${script.endsWith("\n") ? script : `${script}\n`}`

/** Labels as a policy compares them: trimmed, lowercase, sorted, without repeats (pure). */
export const normalizeLabels = (labels: ReadonlyArray<string>): ReadonlyArray<string> =>
  [...new Set(labels.map((l) => l.trim().toLowerCase()).filter((l) => l !== ""))].sort()

/**
 * The match rule and script of a policy proposal's text (pure); a reason instead when it is not one
 * (`policyContent`'s shape, at least one label, a non-empty script within `POLICY_SCRIPT_MAX_BYTES`).
 */
export const parseLearnedPolicy = (
  content: string
): { readonly labels: ReadonlyArray<string>; readonly script: string } | { readonly problem: string } => {
  const m = /^spec-orch policy: sh\nmatch-labels: (.*)\n---\n([\s\S]*)$/.exec(content)
  if (m === null)
    return { problem: `a policy starts with "${POLICY_HEADER}", a "match-labels: [...]" line and a "---" line` }
  const parsed = Option.getOrUndefined(decodeLabels(m[1]!))
  if (parsed === undefined || parsed.length === 0 || !parsed.every((l) => POLICY_LABEL.test(l)))
    return { problem: "its match-labels line needs a JSON list of at least one label (no commas or newlines)" }
  const script = m[2]!
  const problem = policyScriptProblem(script)
  if (problem !== undefined) return { problem: `its ${problem}` }
  return { labels: normalizeLabels(parsed), script }
}

/** Why a policy script cannot be used (pure): empty, or over `POLICY_SCRIPT_MAX_BYTES`; undefined when it can. */
export const policyScriptProblem = (script: string): string | undefined => {
  if (script.trim() === "") return "script is empty"
  const bytes = Buffer.byteLength(script, "utf8")
  return bytes > POLICY_SCRIPT_MAX_BYTES ? `script is ${bytes} bytes, more than ${POLICY_SCRIPT_MAX_BYTES}` : undefined
}

/** A `[redacted:NAME]` mark, as `Redactor` writes it. */
const REDACTED_MARK = /\[redacted:[^\]\n]+\]/g

/**
 * Why a policy's script cannot be stored or run as it is (pure): it holds what `redact` hides (the value of
 * a secret variable, or a token shape), named by kind, never by value; undefined when it holds none. A
 * policy's script is never redacted instead: a changed script is not the one that was validated and approved.
 */
export const policySecretProblem = (redact: (text: string) => string, script: string): string | undefined => {
  const redacted = redact(script)
  if (redacted === script) return undefined
  const already = new Set(script.match(REDACTED_MARK) ?? [])
  const names = [...new Set((redacted.match(REDACTED_MARK) ?? []).filter((m) => !already.has(m)))].map((m) =>
    m.slice("[redacted:".length, -1)
  )
  return `script holds a secret (${names.join(", ") || "a redacted value"}); a policy is never stored or run with one, and never silently redacted: it runs with no credential and no network, so write it without the secret`
}

/** Whether a policy's match rule applies to an issue: the issue carries every one of its labels, without case (pure). */
export const policyMatches = (labels: ReadonlyArray<string>, issue: Pick<Issue, "labels">): boolean => {
  const own = new Set(normalizeLabels(issue.labels))
  return labels.length > 0 && normalizeLabels(labels).every((l) => own.has(l))
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
