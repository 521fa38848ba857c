/**
 * The skills miner (deterministic): sequences of tool calls that several succeeded runs made in the same
 * order become Agent Skills (`SKILL.md`: YAML frontmatter with `name` and `description`, then
 * instructions), proposed as `skill` proposals. Once a person approves one, runs write it where agents
 * look for skills in the worktree (`.claude/skills/<name>/SKILL.md`, `.agents/skills/<name>/SKILL.md`)
 * before the agent's turn and take it away before the commit.
 *
 * Tool names come from agents, so they are untrusted: a name is used only when it is a plain identifier
 * (letters, digits and `_.:-`, at most 64) that the redactor leaves alone; anything else breaks the
 * sequence. The skill's text is generated from those names alone.
 */
import { Redactor, SKILL_NAME } from "@spec-orch/harness"
import { Effect } from "effect"
import { type Rate, wilson } from "./internal/stats.js"
import { type Actor, type Proposal, Proposals } from "./Proposals.js"
import { finishedRuns, type RunEvidence } from "./RunEvidence.js"

export interface SkillsMinerOptions {
  /** A sequence must appear in at least this many succeeded runs. */
  readonly minSupport: number
  /** Shortest and longest sequences (in tool calls, repeats of one tool counted once). */
  readonly minLength: number
  readonly maxLength: number
  /** At most this many skills proposed at once. */
  readonly maxSkills: number
}

export const SKILLS_MINER_DEFAULTS: SkillsMinerOptions = { minSupport: 3, minLength: 3, maxLength: 6, maxSkills: 3 }

/** A mined sequence with its numbers. */
export interface MinedSkill {
  readonly name: string
  readonly tools: ReadonlyArray<string>
  /** The SKILL.md text. */
  readonly content: string
  /** The succeeded runs that made it. */
  readonly runs: ReadonlyArray<string>
  /** Succeeded runs that made it, out of the succeeded runs, with the 95% Wilson interval. */
  readonly support: Rate
  /** Failed runs that made it too, out of the failed runs (for comparison). */
  readonly inFailed: Rate
}

const TOOL = /^[A-Za-z0-9_.:-]{1,64}$/

/** A run's tool calls in order, repeats of one tool collapsed, split where a name is not plain (pure). */
const toolRuns = (run: RunEvidence, keep: (name: string) => boolean): Array<Array<string>> => {
  const parts: Array<Array<string>> = [[]]
  for (const e of run.events) {
    if (e._tag !== "tool_call") continue
    const current = parts.at(-1)!
    if (!TOOL.test(e.name) || !keep(e.name)) {
      if (current.length > 0) parts.push([])
      continue
    }
    if (current.at(-1) !== e.name) current.push(e.name)
  }
  return parts.filter((p) => p.length > 0)
}

const contains = (longer: ReadonlyArray<string>, shorter: ReadonlyArray<string>) => {
  for (let i = 0; i + shorter.length <= longer.length; i++)
    if (shorter.every((t, j) => longer[i + j] === t)) return true
  return false
}

/** The skill's directory name for a sequence (pure). */
export const skillName = (tools: ReadonlyArray<string>): string => {
  const slug = `learned-${tools.join("-")}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .slice(0, 64)
    .replace(/-+$/, "")
  return SKILL_NAME.test(slug) ? slug : "learned-sequence"
}

/** The SKILL.md of a sequence (pure); it names no run, so the same sequence is the same proposal. */
export const skillContent = (tools: ReadonlyArray<string>): string => {
  const name = skillName(tools)
  const chain = tools.join(" → ")
  return [
    "---",
    `name: ${name}`,
    `description: ${JSON.stringify(`A tool-call sequence (${chain}) that successful spec-orch runs of this project followed. Use it when your task is like theirs.`)}`,
    "---",
    "",
    `# Learned workflow: ${chain}`,
    "",
    "Runs of this project that passed verification and the gate made these tool calls in this order:",
    "",
    ...tools.map((t, i) => `${i + 1}. \`${t}\``),
    "",
    "Follow the same order when your task is like theirs. spec-orch's skills miner found it in recorded runs,",
    "and a person approved it; it is offered, not required.",
    ""
  ].join("\n")
}

/** Mines repeated tool-call sequences from finished runs (pure). */
export const mineSkills = (
  runs: ReadonlyArray<RunEvidence>,
  options: Partial<SkillsMinerOptions> = {},
  keep: (name: string) => boolean = () => true
): { readonly succeededRuns: number; readonly skills: ReadonlyArray<MinedSkill> } => {
  const o = { ...SKILLS_MINER_DEFAULTS, ...options }
  const succeeded = runs.filter((r) => r.outcome === "succeeded")
  const failed = runs.filter((r) => r.outcome === "failed")
  const grams = (run: RunEvidence) => {
    const out = new Set<string>()
    for (const part of toolRuns(run, keep))
      for (let n = o.minLength; n <= o.maxLength; n++)
        for (let i = 0; i + n <= part.length; i++) out.add(part.slice(i, i + n).join("\u0000"))
    return out
  }
  const support = new Map<string, Array<string>>()
  for (const run of succeeded) for (const g of grams(run)) support.set(g, [...(support.get(g) ?? []), run.runId])
  const frequent = [...support]
    .filter(([, rs]) => rs.length >= o.minSupport)
    .map(([g, rs]) => ({ tools: g.split("\u0000"), runs: [...rs].sort() }))
  // Only maximal sequences: one inside a longer sequence made by as many runs says nothing more.
  const maximal = frequent.filter(
    (s) =>
      !frequent.some(
        (t) => t.tools.length > s.tools.length && t.runs.length >= s.runs.length && contains(t.tools, s.tools)
      )
  )
  const failedGrams = failed.map(grams)
  const skills = maximal
    .sort(
      (a, b) =>
        b.runs.length - a.runs.length ||
        b.tools.length - a.tools.length ||
        a.tools.join(" ").localeCompare(b.tools.join(" "))
    )
    .slice(0, o.maxSkills)
    .map(
      (s): MinedSkill => ({
        name: skillName(s.tools),
        tools: s.tools,
        content: skillContent(s.tools),
        runs: s.runs,
        support: wilson(s.runs.length, succeeded.length),
        inFailed: wilson(failedGrams.filter((g) => g.has(s.tools.join("\u0000"))).length, failed.length)
      })
    )
  return { succeededRuns: succeeded.length, skills }
}

/** The miner's actor in a proposal's history. */
export const SKILLS_MINER: Actor = { type: "system", id: "evolver:skills" }

const pct = (x: number | null) => (x === null ? "-" : `${(100 * x).toFixed(1)}%`)

/** A mined skill's numbers in one sentence a person can check. */
export const supportSummary = (s: MinedSkill): string =>
  `made by ${s.support.k} of ${s.support.n} succeeded runs (${pct(s.support.rate)}, 95% Wilson ${pct(s.support.low)}–${pct(s.support.high)}) and by ${s.inFailed.k} of ${s.inFailed.n} failed runs`

export interface ProposedSkill {
  readonly proposal: Proposal
  readonly skill: MinedSkill
}

/**
 * Runs the skills miner over the recorded runs now: each sequence with enough support is proposed and,
 * its support being its validation, moved to `validated`; no agent is offered it before a person approves it.
 */
export const proposeSkills = (options: Partial<SkillsMinerOptions> = {}) =>
  Effect.gen(function* () {
    const store = yield* Proposals
    const redactor = yield* Redactor
    const mined = mineSkills(yield* finishedRuns(), options, (t) => redactor.redact(t) === t)
    const made: Array<ProposedSkill> = []
    for (const skill of mined.skills) {
      const detail = {
        name: skill.name,
        tools: skill.tools,
        runs: skill.runs,
        support: skill.support,
        inFailed: skill.inFailed
      }
      let proposal = yield* store.propose(
        { kind: "skill", scope: "project", sources: { runIds: skill.runs }, content: skill.content },
        SKILLS_MINER,
        `the tool-call sequence ${skill.tools.join(" → ")} repeated in ${skill.runs.length} succeeded runs`,
        detail
      )
      if (proposal.state === "proposed")
        proposal = yield* store.transition(proposal.id, "validated", {
          actor: SKILLS_MINER,
          why: supportSummary(skill),
          detail
        })
      made.push({ proposal, skill })
    }
    return { ...mined, made }
  }).pipe(Effect.withSpan("SkillsMiner.proposeSkills"))
