/**
 * EARS requirements (Easy Approach to Requirements Syntax) in a Markdown or text file, one per list
 * item or line, optionally with an id (`REQ-1:`):
 * - ubiquitous: `The <system> shall <response>`
 * - event-driven: `When <trigger>, the <system> shall <response>`
 * - state-driven: `While <state>, the <system> shall <response>`
 * - unwanted behaviour: `If <trigger>, then the <system> shall <response>`
 * - optional feature: `Where <feature>, the <system> shall <response>`
 * - complex: the keywords combined (`While ..., when ..., the <system> shall ...`).
 * Upper-case variants (`WHEN ... THEN the system SHALL ...`, as in Kiro's requirements.md) are read too.
 * One acceptance criterion per requirement. Everything else is intent (prose) or notes (other lists).
 */
import type { FileProblem } from "../FileProblem.js"
import { slugify } from "../Ids.js"
import {
  heading,
  type ImportedCriterion,
  type ImportResult,
  listItem,
  mdLines,
  paragraphs,
  plain,
  problemAt,
  type SourceFile
} from "./Imported.js"

const KEYWORD = /^(when|while|if|where)\b/i
const ID = /^\*{0,2}([A-Za-z][A-Za-z0-9]*[-_.]?\d+(?:\.\d+)*)\*{0,2}\s*[:.)\u2013-]\s+/
const PATTERNS =
  "`When <trigger>, the <system> shall <response>` (also While, If \u2026 then, Where, or `The <system> shall <response>`)"

/** The kind of an EARS requirement, or why the text is not one. */
export const earsKind = (
  text: string
):
  | { kind: "ubiquitous" | "event-driven" | "state-driven" | "unwanted-behaviour" | "optional-feature" | "complex" }
  | { error: string } => {
  const t = text.trim()
  const shall = /\bshall\b/i.exec(t)
  const lead = KEYWORD.exec(t)?.[1]?.toLowerCase()
  if (!shall)
    return {
      error:
        lead !== undefined
          ? `"${lead[0]!.toUpperCase()}${lead.slice(1)}" requirement has no "shall"`
          : `no "shall" found`
    }
  const before = t.slice(0, shall.index).trim()
  if (lead === undefined) {
    if (before.split(/\s+/).length < 1 || before === "") return { error: `nothing names the system before "shall"` }
    return { kind: "ubiquitous" }
  }
  // the system is named after the last clause separator (a comma or "then") before "shall"
  const sep = Math.max(before.lastIndexOf(","), ...[...before.matchAll(/\bthen\b/gi)].map((m) => m.index + 4))
  const subject =
    sep > 0
      ? before
          .slice(sep + 1)
          .replace(/^\s*then\b/i, "")
          .trim()
      : ""
  if (subject === "")
    return {
      error: `the ${lead} clause must end with a comma (or "then") followed by the system: "<system> shall \u2026"`
    }
  if (lead === "if" && !/\bthen\b/i.test(before))
    return { error: `an "If" requirement needs "then": "If <trigger>, then the <system> shall <response>"` }
  const keywords = new Set([...before.matchAll(/(?:^|,\s*)(when|while|if|where)\b/gi)].map((m) => m[1]!.toLowerCase()))
  if (keywords.size > 1) return { kind: "complex" }
  return {
    kind:
      lead === "when"
        ? "event-driven"
        : lead === "while"
          ? "state-driven"
          : lead === "if"
            ? "unwanted-behaviour"
            : "optional-feature"
  }
}

/** Whether a file reads as EARS requirements (at least one line with "shall" in a requirement shape). */
export const looksLikeEars = (text: string): boolean =>
  mdLines(text).some(
    (l) => !l.inFence && /\bshall\b/i.test(l.text) && "kind" in earsKind((listItem(l)?.text ?? l.text).replace(ID, ""))
  )

/** Converts a file of EARS requirements (see the module comment). */
export const importEars = (src: SourceFile, name: string): ImportResult => {
  const problems: Array<FileProblem> = []
  const criteria: Array<ImportedCriterion> = []
  const notes: Array<string> = []
  const prose: Array<ReturnType<typeof mdLines>[number]> = []
  let title = ""
  let requirementSection = false
  for (const l of mdLines(src.text)) {
    const h = heading(l)
    if (h !== undefined) {
      if (h.level === 1 && title === "") title = plain(h.text)
      else requirementSection = /requirement|acceptance/i.test(h.text)
      continue
    }
    if (l.inFence) continue
    const item = listItem(l)
    const raw = plain(item?.text ?? l.text)
    if (raw === "") continue
    const id = ID.exec(raw)?.[1]
    const text = raw.replace(ID, "").trim()
    const candidate = /\bshall\b/i.test(text) || KEYWORD.test(text) || (item !== undefined && requirementSection)
    if (!candidate) {
      if (item !== undefined) notes.push(raw)
      else prose.push(l)
      continue
    }
    const kind = earsKind(text)
    if ("error" in kind) {
      problems.push(
        problemAt(
          src.file,
          l.n,
          `not an EARS requirement: ${kind.error}: ${JSON.stringify(text.slice(0, 70))}`,
          `write it as ${PATTERNS}`
        )
      )
      continue
    }
    criteria.push({ text: `${id !== undefined ? `${id}: ` : ""}${text}`, file: src.file, line: l.n })
  }
  if (problems.length > 0) return { problems }
  if (criteria.length === 0)
    return {
      problems: [
        problemAt(src.file, 1, "no EARS requirements found", `write one requirement per list item, e.g. ${PATTERNS}`)
      ]
    }
  const finalTitle = title !== "" ? title : name
  return {
    spec: {
      format: "ears",
      title: finalTitle,
      suggestedId: slugify(title !== "" ? title : name, 80) || "ears-requirements",
      intent: paragraphs(prose).map(plain),
      criteria,
      constraints: [],
      context: [],
      successCriteria: [],
      notes,
      tasks: []
    }
  }
}
