/**
 * The inverse of planning: a mission's spec.md refreshed from its plan.json. The acceptance criteria of
 * every packet that the spec does not list yet are appended to `## Acceptance Criteria` (criteria already
 * there keep their text, order and formatting), and a `## Work Packets` section lists the plan's packets
 * (wave, run class, files, dependencies, criteria), replaced as a whole each time. Pure and deterministic:
 * the same spec and plan give the same text, and applying it to its own result changes nothing.
 * Plan text is data: every item is written on one line and never as a heading.
 */
import type { Plan } from "@spec-orch/contract"
import { bulletItems, parseMissionSpec } from "./MissionSpec.js"

/** The heading of the section `plan-to-spec` owns (the planners treat it as a description, not work). */
export const WORK_PACKETS_HEADING = "Work Packets"

/** What refreshing a spec from a plan changes. */
export interface PlanToSpec {
  /** The spec's new text. */
  readonly text: string
  /** Criteria appended to `## Acceptance Criteria`, in plan order. */
  readonly criteriaAdded: ReadonlyArray<string>
  /** How many packets `## Work Packets` lists. */
  readonly packets: number
  /** Whether the text differs from the spec given. */
  readonly changed: boolean
}

const oneLine = (s: string) =>
  s
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^#+\s*/, "")
const key = (s: string) => oneLine(s).toLowerCase()
const FENCE = /^\s{0,3}(```|~~~)/

/** The `[start, end)` line range of the `##` section named `heading` (from its heading line), if any. */
const sectionRange = (lines: ReadonlyArray<string>, heading: string): [number, number] | undefined => {
  let open: string | undefined
  let start: number | undefined
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const fence = FENCE.exec(line)
    if (fence) {
      if (open === undefined) open = fence[1]
      else if (fence[1] === open) open = undefined
      continue
    }
    if (open !== undefined) continue
    const h = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line)
    if (h === null) continue
    if (start !== undefined && h[1]!.length <= 2) return [start, i]
    if (start === undefined && h[1]!.length === 2 && h[2]!.toLowerCase() === heading.toLowerCase()) start = i
  }
  return start === undefined ? undefined : [start, lines.length]
}

const trimBlankEnd = (lines: Array<string>) => {
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === "") lines.pop()
  return lines
}

/** The `## Work Packets` section for `plan`. */
const packetSection = (plan: Plan): Array<string> => {
  const out = [
    `## ${WORK_PACKETS_HEADING}`,
    "",
    `<!-- written by \`spec-orch plan-to-spec\` from plan.json (plan ${oneLine(plan.id)}); it is replaced each time -->`
  ]
  for (const wave of plan.waves) {
    for (const p of wave.packets) {
      out.push("", `### ${oneLine(p.id)}: ${oneLine(p.title)}`, "")
      out.push(`- wave ${wave.index}, ${oneLine(p.runClass)}`)
      out.push(
        `- files: ${p.filesInScope.length > 0 ? p.filesInScope.map((f) => `\`${oneLine(f).replace(/`/g, "")}\``).join(", ") : "(none listed)"}`
      )
      if (p.dependsOn.length > 0) out.push(`- after: ${p.dependsOn.map(oneLine).join(", ")}`)
      for (const c of p.acceptanceCriteria) if (oneLine(c) !== "") out.push(`- criterion: ${oneLine(c)}`)
    }
  }
  return out
}

/** The spec `spec` refreshed from `plan` (see the module comment). */
export const specFromPlan = (spec: string, plan: Plan): PlanToSpec => {
  const existing = new Set(parseMissionSpec(spec).acceptanceCriteria.map(key))
  const added: Array<string> = []
  for (const wave of plan.waves) {
    for (const p of wave.packets) {
      for (const c of p.acceptanceCriteria) {
        const k = key(c)
        if (k === "" || existing.has(k)) continue
        existing.add(k)
        added.push(oneLine(c))
      }
    }
  }
  let lines = spec.replace(/\r\n/g, "\n").split("\n")
  if (added.length > 0) {
    const range = sectionRange(lines, "Acceptance Criteria")
    if (range === undefined) {
      lines = [...trimBlankEnd([...lines]), "", "## Acceptance Criteria", "", ...added.map((c) => `- ${c}`), ""]
    } else {
      const [start, end] = range
      const body = trimBlankEnd(lines.slice(start + 1, end))
      // A skeleton's empty bullets give way to the criteria.
      const kept =
        bulletItems(body.join("\n")).length === 0
          ? body.filter((l) => !/^\s*(?:[-*+]|\d+[.)])(?:\s+\[[ xX]\])?\s*$/.test(l))
          : body
      const section = [...trimBlankEnd(kept.length > 0 ? kept : [""]), ...added.map((c) => `- ${c}`)]
      if (section[0]!.trim() !== "") section.unshift("")
      lines = [...lines.slice(0, start + 1), ...section, ...(end < lines.length ? ["", ...lines.slice(end)] : [""])]
    }
  }
  const packets = packetSection(plan)
  const range = sectionRange(lines, WORK_PACKETS_HEADING)
  if (range === undefined) lines = [...trimBlankEnd([...lines]), "", ...packets, ""]
  else {
    const [start, end] = range
    lines = [...lines.slice(0, start), ...packets, ...(end < lines.length ? ["", ...lines.slice(end)] : [""])]
  }
  const text = `${trimBlankEnd(lines).join("\n")}\n`
  return {
    text,
    criteriaAdded: added,
    packets: plan.waves.reduce((n, w) => n + w.packets.length, 0),
    changed: text !== spec
  }
}
