/**
 * OpenSpec changes: `openspec/changes/<change-id>/` with `proposal.md` (Why, What Changes, Impact),
 * `tasks.md` (numbered task sections) and delta specs `specs/<capability>/spec.md` whose
 * `## ADDED|MODIFIED|REMOVED|RENAMED Requirements` sections hold `### Requirement: <name>` blocks, each
 * with `#### Scenario: <name>` blocks of WHEN/THEN bullets. One acceptance criterion per scenario of
 * an added or modified requirement, and one per removed requirement (it must be gone).
 */
import type { FileProblem } from "../FileProblem.js"
import { slugify } from "../Ids.js"
import {
  heading,
  type ImportedCriterion,
  type ImportResult,
  listItem,
  type MdLine,
  mdLines,
  paragraphs,
  plain,
  problemAt,
  type SourceFile,
  type TaskGroup,
  tickPaths
} from "./Imported.js"

const DELTAS = ["added", "modified", "removed", "renamed"] as const
type Delta = (typeof DELTAS)[number]
const DELTA_HINT =
  "requirements go under `## ADDED Requirements`, `## MODIFIED Requirements`, `## REMOVED Requirements` or `## RENAMED Requirements`"
const SCENARIO_HINT = "add `#### Scenario: <name>` with `- **WHEN** \u2026` and `- **THEN** \u2026` bullets"

/** Whether a delta spec reads as OpenSpec. */
export const looksLikeOpenSpecDelta = (text: string): boolean =>
  /^##\s+(ADDED|MODIFIED|REMOVED|RENAMED)\s+Requirements\s*$/m.test(text)

interface Requirement {
  readonly name: string
  readonly line: number
  readonly delta: Delta
  readonly body: Array<MdLine>
  readonly scenarios: Array<{
    name: string
    line: number
    steps: Array<{ keyword: string; text: string; line: number }>
    other: Array<MdLine>
  }>
}

const parseDelta = (capability: string, src: SourceFile, problems: Array<FileProblem>) => {
  const reqs: Array<Requirement> = []
  let delta: Delta | undefined
  let req: Requirement | undefined
  const renamed: Array<string> = []
  for (const l of mdLines(src.text)) {
    const h = heading(l)
    if (h !== undefined) {
      if (h.level <= 2) {
        req = undefined
        if (h.level === 1) continue
        const d = /^(\w+)\s+Requirements$/i.exec(h.text.trim())
        const name = d?.[1]?.toLowerCase()
        if (name !== undefined && (DELTAS as ReadonlyArray<string>).includes(name)) delta = name as Delta
        else {
          delta = undefined
          if (d !== null) problems.push(problemAt(src.file, l.n, `unknown delta section "${h.text}"`, DELTA_HINT))
        }
        continue
      }
      const r = /^Requirement:\s*(.+)$/i.exec(h.text.trim())
      const s = /^Scenario:\s*(.+)$/i.exec(h.text.trim())
      if (r) {
        if (h.level !== 3) {
          problems.push(
            problemAt(
              src.file,
              l.n,
              `a requirement heading has ${h.level} '#', expected 3`,
              "write `### Requirement: <name>`"
            )
          )
          continue
        }
        if (delta === undefined) {
          problems.push(problemAt(src.file, l.n, `requirement "${r[1]}" is outside a delta section`, DELTA_HINT))
          continue
        }
        req = { name: r[1]!.trim(), line: l.n, delta, body: [], scenarios: [] }
        reqs.push(req)
        continue
      }
      if (s) {
        if (h.level !== 4) {
          problems.push(
            problemAt(
              src.file,
              l.n,
              `a scenario heading has ${h.level} '#', expected 4`,
              "write `#### Scenario: <name>` (OpenSpec finds scenarios by four hashes)"
            )
          )
          continue
        }
        if (req === undefined) {
          problems.push(
            problemAt(
              src.file,
              l.n,
              `scenario "${s[1]}" is not inside a requirement`,
              "put it under a `### Requirement: <name>` heading"
            )
          )
          continue
        }
        req.scenarios.push({ name: s[1]!.trim(), line: l.n, steps: [], other: [] })
      }
      continue
    }
    if (delta === "renamed") {
      const item = listItem(l)
      if (item !== undefined) renamed.push(plain(item.text).replace(/`/g, ""))
      continue
    }
    if (req === undefined) continue
    const scenario = req.scenarios.at(-1)
    if (scenario === undefined) {
      req.body.push(l)
      continue
    }
    const item = listItem(l)
    const step = item !== undefined ? /^\*{0,2}(WHEN|THEN|AND|GIVEN|BUT)\*{0,2}\s+(.*)$/i.exec(item.text) : null
    if (step) scenario.steps.push({ keyword: step[1]!.toUpperCase(), text: plain(step[2]!), line: l.n })
    else if (l.text.trim() !== "") scenario.other.push(l)
  }
  const criteria: Array<ImportedCriterion> = []
  const context: Array<string> = []
  const notes: Array<string> = []
  if (renamed.length > 0) notes.push(`Renamed in ${capability}: ${renamed.join("; ")}`)
  for (const r of reqs) {
    const statement = paragraphs(r.body)
      .filter((p) => !/^\*\*(Reason|Migration)\*\*/.test(p))
      .map(plain)
      .join(" ")
    if (r.delta === "removed") {
      const reason = r.body.map((l) => /^\s*\*\*Reason\*\*:\s*(.*)$/.exec(l.text)?.[1]).find((x) => x !== undefined)
      const migration = r.body
        .map((l) => /^\s*\*\*Migration\*\*:\s*(.*)$/.exec(l.text)?.[1])
        .find((x) => x !== undefined)
      criteria.push({
        text: `${capability}: requirement "${r.name}" is removed${reason ? ` (${plain(reason)})` : ""}`,
        file: src.file,
        line: r.line
      })
      if (migration) notes.push(`Migration for "${r.name}": ${plain(migration)}`)
      continue
    }
    if (r.delta === "renamed") continue
    if (statement !== "")
      context.push(`${capability} / ${r.name}${r.delta === "modified" ? " (modified)" : ""}: ${statement}`)
    if (r.scenarios.length === 0) {
      problems.push(problemAt(src.file, r.line, `requirement "${r.name}" has no scenario`, SCENARIO_HINT))
      continue
    }
    for (const s of r.scenarios) {
      const when = s.steps.findIndex((x) => x.keyword === "WHEN")
      const then = s.steps.findIndex((x) => x.keyword === "THEN")
      if (when < 0 || then < 0 || then < when) {
        problems.push(
          problemAt(
            src.file,
            s.line,
            `scenario "${s.name}" needs a WHEN bullet followed by a THEN bullet${s.steps.length === 0 && s.other.length > 0 ? ` (found text that is not a bullet at line ${s.other[0]!.n})` : ""}`,
            "write `- **WHEN** <condition>` then `- **THEN** <outcome>`"
          )
        )
        continue
      }
      const steps = s.steps.map((x) => `${x.keyword} ${x.text}`).join("; ")
      criteria.push({
        text: `${capability} / ${r.name}${r.delta === "modified" ? " (modified)" : ""} / ${s.name}: ${steps}`,
        file: src.file,
        line: s.line
      })
    }
  }
  return { criteria, context, notes }
}

const proposalParts = (src: SourceFile) => {
  let title = ""
  let h2 = ""
  const why: Array<MdLine> = []
  const changes: Array<string> = []
  const impact: Array<string> = []
  for (const l of mdLines(src.text)) {
    const h = heading(l)
    if (h !== undefined) {
      if (h.level === 1 && title === "") title = h.text.replace(/^Change:\s*/i, "").trim()
      if (h.level === 2) h2 = h.text.trim().toLowerCase()
      continue
    }
    const item = listItem(l)
    if (h2 === "why") why.push(l)
    else if (h2 === "what changes" && item !== undefined) changes.push(plain(item.text))
    else if (h2 === "impact" && item !== undefined) impact.push(plain(item.text))
  }
  return { title, why: paragraphs(why).map(plain), changes, impact }
}

const parseTasks = (src: SourceFile): Array<TaskGroup> => {
  const groups: Array<{ title: string; tasks: Array<string> }> = []
  for (const l of mdLines(src.text)) {
    const h = heading(l)
    if (h !== undefined && h.level === 2) {
      groups.push({ title: plain(h.text).replace(/^\d+\.\s*/, ""), tasks: [] })
      continue
    }
    const item = listItem(l)
    if (item?.checkbox === undefined) continue
    if (groups.length === 0) groups.push({ title: "Tasks", tasks: [] })
    groups
      .at(-1)!
      .tasks.push(
        `${tickPaths(item.text)}${item.checkbox === "done" ? " (done in the source)" : ""} (${src.file}:${l.n})`
      )
  }
  return groups.filter((g) => g.tasks.length > 0)
}

/** Converts an OpenSpec change (see the module comment); `deltas` are its `specs/<capability>/spec.md` files. */
export const importOpenSpec = (input: {
  change: string
  proposal?: SourceFile | undefined
  tasks?: SourceFile | undefined
  deltas: ReadonlyArray<{ capability: string; file: SourceFile }>
}): ImportResult => {
  const problems: Array<FileProblem> = []
  const criteria: Array<ImportedCriterion> = []
  const context: Array<string> = []
  const notes: Array<string> = []
  for (const d of input.deltas) {
    const r = parseDelta(d.capability, d.file, problems)
    criteria.push(...r.criteria)
    context.push(...r.context)
    notes.push(...r.notes)
  }
  if (problems.length > 0) return { problems }
  if (criteria.length === 0) {
    const where = input.deltas[0]?.file.file ?? input.proposal?.file ?? input.change
    return {
      problems: [
        problemAt(
          where,
          input.deltas.length > 0 ? 1 : undefined,
          `change ${input.change} has no requirements with scenarios`,
          `add \`specs/<capability>/spec.md\` with \`## ADDED Requirements\`, \`### Requirement: <name>\` and ${SCENARIO_HINT.replace(/^add /, "")}`
        )
      ]
    }
  }
  const p =
    input.proposal !== undefined ? proposalParts(input.proposal) : { title: "", why: [], changes: [], impact: [] }
  const title = p.title !== "" ? p.title : input.change.replace(/-/g, " ").replace(/^./, (c) => c.toUpperCase())
  return {
    spec: {
      format: "openspec",
      title,
      suggestedId: slugify(input.change, 80),
      intent: [...p.why, ...p.changes.map((c) => `Change: ${c}`)],
      criteria,
      constraints: [],
      context: [...context, ...p.impact.map((i) => `Impact: ${i}`)],
      successCriteria: [],
      notes,
      tasks: input.tasks !== undefined ? parseTasks(input.tasks) : []
    }
  }
}
