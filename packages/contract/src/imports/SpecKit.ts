/**
 * GitHub spec-kit features: `specs/<feature>/spec.md` (user stories with "Acceptance Scenarios" written
 * Given/When/Then, functional requirements `FR-001`, success criteria `SC-001`), and optionally
 * `plan.md` (summary, technical context) and `tasks.md` (phases of tasks `T001 [P] [US1] ...`).
 * One acceptance criterion per acceptance scenario and per functional requirement.
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

const SCENARIO_HINT = "write it as `1. **Given** <state>, **When** <action>, **Then** <outcome>`"
const FR_HINT = "write it as `- **FR-001**: System MUST \u2026`"
const CLARIFY = /\[NEEDS CLARIFICATION:\s*([^\]]*)\]/g

/** Whether a spec.md reads as a spec-kit feature spec. */
export const looksLikeSpecKit = (text: string): boolean =>
  /^#\s+Feature Specification\b/m.test(text) ||
  /^##\s+User Scenarios\b/m.test(text) ||
  /\*\*FR-\d+\*\*/.test(text) ||
  /^\s*\d+\.\s+\*\*Given\*\*/m.test(text)

/** Splits "Given ..., When ..., Then ..." into its parts, or says which part is missing. */
const gwt = (text: string): { ok: true; text: string } | { ok: false; missing: string } => {
  const t = plain(text)
  const g = /\bgiven\b/i.exec(t)
  const w = /\bwhen\b/i.exec(t)
  const th = /\bthen\b/i.exec(t)
  if (!w) return { ok: false, missing: "When" }
  if (!th) return { ok: false, missing: "Then" }
  if (th.index < w.index || (g && g.index > w.index)) return { ok: false, missing: "Given/When/Then in that order" }
  return { ok: true, text: t.replace(/\bWhen\b/, "when").replace(/\bThen\b/, "then") }
}

const parseSpec = (src: SourceFile, problems: Array<FileProblem>) => {
  const lines = mdLines(src.text)
  let title = ""
  const intent: Array<string> = []
  const criteria: Array<ImportedCriterion> = []
  const context: Array<string> = []
  const successCriteria: Array<string> = []
  const notes: Array<string> = []
  let h2 = ""
  let h3 = ""
  let story: { label: string; title: string } | undefined
  let inScenarios = false
  let storyCount = 0
  let scenarioNo = 0
  const frIds = new Map<string, number>()
  let storyText: Array<MdLine> = []
  const flushStory = () => {
    if (story !== undefined) {
      const first = paragraphs(storyText).find((p) => !/^\*\*(Why this priority|Independent Test)/.test(p))
      intent.push(`${story.label}: ${story.title}${first ? ` \u2014 ${plain(first)}` : ""}`)
    }
    storyText = []
  }

  for (const l of lines) {
    for (const m of l.inFence ? [] : l.text.matchAll(CLARIFY))
      notes.push(`Open question (${src.file}:${l.n}): ${m[1]!.trim() || "needs clarification"}`)
    const h = heading(l)
    if (h !== undefined) {
      if (h.level === 1 && title === "") title = h.text.replace(/^Feature Specification:\s*/i, "").trim()
      if (h.level <= 3) flushStory()
      if (h.level === 2) {
        h2 = plain(h.text)
          .replace(/\(mandatory\)|\(optional\)/gi, "")
          .trim()
          .toLowerCase()
        h3 = ""
        story = undefined
      }
      if (h.level === 3) {
        h3 = plain(h.text).toLowerCase()
        const s = /^User Story\s+(\d+)\s*[-\u2013\u2014:]\s*(.*?)\s*(?:\(Priority:\s*(P\d+)\)\s*)?$/i.exec(
          plain(h.text)
        )
        story = s
          ? { label: `US${s[1]}${s[3] ? ` (${s[3]})` : ""}`, title: s[2]! }
          : h3 === "primary user story"
            ? { label: "Primary user story", title: "" }
            : undefined
        if (s) storyCount++
        scenarioNo = 0
      }
      inScenarios = h.level === 3 && /acceptance scenarios/.test(h3)
      continue
    }
    if (l.inFence) continue
    if (/^\s*\*\*Input\*\*:/.test(l.text)) {
      const input = plain(l.text.replace(/^\s*\*\*Input\*\*:\s*/, ""))
        .replace(/^User description:\s*/i, "")
        .replace(/^"(.*)"$/, "$1")
      if (input !== "" && !input.includes("$ARGUMENTS")) intent.unshift(input)
      continue
    }
    if (/^\s*\*\*Acceptance Scenarios\*\*:?\s*$/.test(l.text) || /^\s*Acceptance Scenarios:?\s*$/.test(l.text)) {
      inScenarios = true
      continue
    }
    if (story !== undefined && !inScenarios) storyText.push(l)
    const item = listItem(l)
    if (/^\s*\*\*[^*]+\*\*:/.test(l.text) && item === undefined && story !== undefined) inScenarios = false
    if (item === undefined) continue

    if (inScenarios && /^\s*\d+[.)]/.test(l.text)) {
      scenarioNo++
      const r = gwt(item.text)
      const where = story !== undefined ? `${story.label.replace(/ \(P\d+\)$/, "")}` : "the spec"
      if (!r.ok) {
        problems.push(
          problemAt(
            src.file,
            l.n,
            `acceptance scenario ${scenarioNo} of ${where} has no ${r.missing}: ${JSON.stringify(plain(item.text).slice(0, 60))}`,
            SCENARIO_HINT
          )
        )
        continue
      }
      criteria.push({
        text: `${story !== undefined && story.title !== "" ? `${where} ${story.title}: ` : ""}${r.text.replace(CLARIFY, "$1")}`,
        file: src.file,
        line: l.n
      })
      continue
    }
    if (h3 === "functional requirements") {
      const fr = /^\*{0,2}(FR-\d+)\*{0,2}\s*:?\s*(.*)$/.exec(item.text)
      if (!fr || plain(fr[2]!) === "") {
        problems.push(
          problemAt(
            src.file,
            l.n,
            `functional requirement without an id: ${JSON.stringify(plain(item.text).slice(0, 60))}`,
            FR_HINT
          )
        )
        continue
      }
      const earlier = frIds.get(fr[1]!)
      if (earlier !== undefined) {
        problems.push(
          problemAt(
            src.file,
            l.n,
            `${fr[1]} is defined twice (first at line ${earlier})`,
            "give each requirement its own id"
          )
        )
        continue
      }
      frIds.set(fr[1]!, l.n)
      criteria.push({
        text: `${fr[1]}: ${plain(fr[2]!)
          .replace(/\*\*:?/g, "")
          .replace(CLARIFY, "[needs clarification: $1]")}`,
        file: src.file,
        line: l.n
      })
      continue
    }
    if (h3 === "edge cases") notes.push(`Edge case: ${plain(item.text)}`)
    else if (h3 === "key entities") context.push(`Entity ${plain(item.text)}`)
    else if (h2 === "success criteria") successCriteria.push(plain(item.text))
  }
  flushStory()
  if (criteria.length === 0 && problems.length === 0) {
    const at = lines.find((l) => /^##\s+User Scenarios/.test(l.text))?.n
    problems.push(
      problemAt(
        src.file,
        at ?? 1,
        "no acceptance scenarios and no functional requirements found",
        `add \`**Acceptance Scenarios**:\` under a \`### User Story\` (${SCENARIO_HINT}) or \`### Functional Requirements\` (${FR_HINT})`
      )
    )
  }
  return { title, intent, criteria, context, successCriteria, notes, storyCount }
}

const parsePlan = (src: SourceFile) => {
  const context: Array<string> = []
  const constraints: Array<string> = []
  let h2 = ""
  const summary: Array<MdLine> = []
  for (const l of mdLines(src.text)) {
    const h = heading(l)
    if (h !== undefined) {
      if (h.level === 2) h2 = h.text.toLowerCase()
      continue
    }
    if (l.inFence) continue
    if (h2 === "summary") summary.push(l)
    if (h2 === "technical context") {
      const kv = /^\s*\*\*([^*]+)\*\*:\s*(.+)$/.exec(l.text)
      if (kv === null || /NEEDS CLARIFICATION/.test(kv[2]!)) continue
      if (kv[1]!.trim().toLowerCase() === "constraints")
        constraints.push(
          ...kv[2]!
            .split(/;\s*/)
            .map((c) => plain(c))
            .filter((c) => c !== "")
        )
      else context.push(`${kv[1]!.trim()}: ${plain(kv[2]!)} (${src.file}:${l.n})`)
    }
  }
  return { context: [...paragraphs(summary).map((p) => `Plan: ${plain(p)}`), ...context], constraints }
}

const parseTasks = (src: SourceFile): Array<TaskGroup> => {
  const groups: Array<{ title: string; tasks: Array<string> }> = []
  let current: { title: string; tasks: Array<string> } | undefined
  for (const l of mdLines(src.text)) {
    const h = heading(l)
    if (h !== undefined && h.level === 2) {
      current = {
        title: plain(h.text)
          .replace(/\s*\u{1F3AF}.*$/u, "")
          .replace(/\s*\(Priority:\s*P\d+\)\s*$/i, ""),
        tasks: []
      }
      groups.push(current)
      continue
    }
    const item = listItem(l)
    if (item?.checkbox === undefined || current === undefined) continue
    current.tasks.push(
      `${tickPaths(item.text)}${item.checkbox === "done" ? " (done in the source)" : ""} (${src.file}:${l.n})`
    )
  }
  return groups.filter((g) => g.tasks.length > 0)
}

/** Converts a spec-kit feature (see the module comment); `feature` is the feature directory's name. */
export const importSpecKit = (input: {
  feature: string
  spec: SourceFile
  plan?: SourceFile | undefined
  tasks?: SourceFile | undefined
}): ImportResult => {
  const problems: Array<FileProblem> = []
  const spec = parseSpec(input.spec, problems)
  if (problems.length > 0) return { problems }
  const plan = input.plan !== undefined ? parsePlan(input.plan) : { context: [], constraints: [] }
  const title = spec.title !== "" && !spec.title.includes("[FEATURE") ? spec.title : input.feature
  return {
    spec: {
      format: "spec-kit",
      title,
      suggestedId: slugify(input.feature, 80) || slugify(title, 80),
      intent: spec.intent,
      criteria: spec.criteria,
      constraints: plan.constraints,
      context: [...plan.context, ...spec.context],
      successCriteria: spec.successCriteria,
      notes: spec.notes,
      tasks: input.tasks !== undefined ? parseTasks(input.tasks) : []
    }
  }
}
