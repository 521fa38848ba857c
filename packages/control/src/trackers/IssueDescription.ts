/**
 * Reads the work out of a tracker issue's Markdown description, in the shapes the original
 * spec-orch accepts: the legacy sections (`## Builder Prompt`, `## Acceptance Criteria`, `## Context`,
 * files), the intake document (`## Problem`, `## Goal`, `## Acceptance` with `### Success
 * Conditions`, …) and the description `promote` writes. The text is untrusted data: it becomes
 * prompt material and criteria, never commands, verification steps, gate or policy settings.
 */

/** What a description says about the work; every field is plain text from the tracker. */
export interface DescribedWork {
  readonly summary: string
  readonly builderPrompt: string
  readonly acceptanceCriteria: ReadonlyArray<string>
  readonly constraints: ReadonlyArray<string>
  readonly filesToRead: ReadonlyArray<string>
  readonly targetFiles: ReadonlyArray<string>
  readonly architectureNotes: string | undefined
  /** `Mission: <id>` / `Packet: <id>` / `Spec Section: <s>` header lines written by `promote`. */
  readonly mission: { readonly missionId: string; readonly packetId?: string; readonly specSection?: string } | undefined
  /** Which shape was recognised. */
  readonly shape: "legacy" | "intake" | "free"
}

interface Section {
  readonly level: number
  readonly name: string
  readonly body: string
}

const SUMMARY_CHARS = 200

/** Removes machine blocks the daemon writes into descriptions (`## SpecOrch Mirror` and its fenced JSON). */
const stripMachineBlocks = (text: string): string =>
  text.replace(/^#{1,3}\s*SpecOrch Mirror\s*\n+```[\s\S]*?```\s*/gim, "").replace(/<!--\s*spec-orch:[\s\S]*?-->/g, "")

/** Splits Markdown into the text before the first heading and its headed sections (levels 1–4). */
const splitSections = (text: string): { lead: string; sections: ReadonlyArray<Section> } => {
  const lines = text.split(/\r?\n/)
  const sections: Array<{ level: number; name: string; lines: Array<string> }> = []
  const lead: Array<string> = []
  let inFence = false
  for (const line of lines) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence
    const heading = inFence ? null : /^(#{1,4})\s+(.+?)\s*#*\s*$/.exec(line)
    if (heading) {
      sections.push({ level: heading[1]!.length, name: heading[2]!.replace(/[:\uFF1A]\s*$/, "").replace(/\*\*/g, "").trim().toLowerCase(), lines: [] })
    } else if (sections.length === 0) lead.push(line)
    else sections[sections.length - 1]!.lines.push(line)
  }
  return { lead: lead.join("\n").trim(), sections: sections.map((s) => ({ level: s.level, name: s.name, body: s.lines.join("\n").trim() })) }
}

/** Only the section's own text (no subsections). */
const ownText = (sections: ReadonlyArray<Section>, names: ReadonlyArray<string>): string | undefined => sections.find((s) => names.includes(s.name))?.body

const BULLET = /^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(.*\S)\s*$/
const CHECKBOX = /^\s*[-*+]\s+\[[ xX]\]\s+(.*\S)\s*$/

/** Bullet (and checkbox) items of a text, without surrounding backticks. */
const bullets = (text: string | undefined): Array<string> =>
  (text ?? "")
    .split(/\r?\n/)
    .map((l) => BULLET.exec(l)?.[1]?.trim())
    .filter((l): l is string => l !== undefined && l !== "")

const unquote = (s: string) => s.replace(/^`([^`]+)`$/, "$1")

/** A path-looking item: contains `/` or a file extension, no spaces (after removing backticks). */
const looksLikePath = (item: string): boolean => {
  const first = /`([^`]+)`/.exec(item)?.[1] ?? item.split(/\s+[-\u2013\u2014:]\s+|\s+\(/)[0]!
  return !/\s/.test(first.trim()) && (/\//.test(first) || /\.[A-Za-z0-9]{1,8}$/.test(first))
}

const pathOf = (item: string): string => (/`([^`]+)`/.exec(item)?.[1] ?? item.split(/\s+[-\u2013\u2014:]\s+|\s+\(/)[0]!).trim()

const firstParagraph = (text: string): string => text.split(/\n\s*\n/).map((p) => p.trim()).find((p) => p !== "" && !p.startsWith("#")) ?? ""

const clip = (text: string, max: number): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`
}

const headerValue = (lead: string, key: string): string | undefined => {
  const m = new RegExp(`^\\s*(?:\\*\\*)?${key}(?:\\*\\*)?\\s*:\\s*(?:\\*\\*)?\\s*\`?([^\`\\n]+?)\`?\\s*$`, "im").exec(lead)
  return m?.[1]?.trim()
}

/** Reads the work out of an issue's title and description. */
export const parseIssueDescription = (title: string, description: string | null | undefined): DescribedWork => {
  const text = stripMachineBlocks(description ?? "").trim()
  const { lead, sections } = splitSections(text)
  const has = (...names: Array<string>) => sections.some((s) => names.includes(s.name))
  const intake = has("problem") && (has("goal") || has("acceptance"))

  // Acceptance criteria: the legacy section, the intake's success conditions, or any checkbox.
  let criteria = bullets(ownText(sections, ["acceptance criteria", "acceptance", "definition of done"]))
  const success = bullets(ownText(sections, ["success conditions"]))
  if (criteria.length === 0 || intake) criteria = [...criteria, ...success]
  if (criteria.length === 0) criteria = text.split(/\r?\n/).map((l) => CHECKBOX.exec(l)?.[1]?.trim()).filter((l): l is string => l !== undefined)
  criteria = [...new Set(criteria.map(unquote))]

  const constraints = [
    ...bullets(ownText(sections, ["constraints"])),
    ...bullets(ownText(sections, ["non-goals", "non goals", "out of scope"])).map((x) => `Non-goal: ${x}`),
    ...bullets(ownText(sections, ["failure conditions"])).map((x) => `Must not: ${x}`),
    ...bullets(ownText(sections, ["files out of scope"])).map((x) => `Do not modify: ${unquote(pathOf(x))}`),
    ...bullets(ownText(sections, ["merge constraints"]))
  ]

  // Legacy `## Context`: bullets that look like paths are files to read, the rest are notes.
  const contextItems = bullets(ownText(sections, ["context"]))
  const contextFiles = contextItems.filter(looksLikePath).map(pathOf)
  const contextNotes = (ownText(sections, ["context"]) ?? "").split(/\r?\n/).filter((l) => {
    const item = BULLET.exec(l)?.[1]
    return l.trim() !== "" && (item === undefined || !looksLikePath(item))
  }).map((l) => l.replace(BULLET, "$1").trim())

  const filesToRead = [...new Set([
    ...bullets(ownText(sections, ["files to read", "files", "relevant files", "references"])).filter(looksLikePath).map(pathOf),
    ...contextFiles
  ])]
  const targetFiles = [...new Set(bullets(ownText(sections, ["target files", "files in scope", "files to change"])).filter(looksLikePath).map(pathOf))]

  const notes = [
    ...(contextNotes.length > 0 ? [contextNotes.join("\n")] : []),
    ...[ownText(sections, ["architecture notes", "architecture"]), ownText(sections, ["current system understanding"])].filter((x): x is string => x !== undefined && x !== "")
  ].join("\n\n").trim()

  const goal = ownText(sections, ["goal"])
  const problem = ownText(sections, ["problem"])
  const explicitPrompt = ownText(sections, ["builder prompt", "task", "instructions"])
  let builderPrompt: string
  if (explicitPrompt !== undefined && explicitPrompt !== "") builderPrompt = explicitPrompt
  else if (intake) builderPrompt = [goal, problem !== undefined && problem !== "" ? `Problem:\n${problem}` : undefined].filter((x) => x !== undefined && x !== "").join("\n\n")
  else if (goal !== undefined && goal !== "") builderPrompt = goal
  else builderPrompt = text
  if (builderPrompt.trim() === "") builderPrompt = title

  const summarySource = ownText(sections, ["summary"]) ?? (intake ? problem : undefined) ?? (firstParagraph(lead) || firstParagraph(text) || title)
  const missionId = headerValue(lead, "Mission")
  const packetId = headerValue(lead, "Packet")
  const specSection = headerValue(lead, "Spec Section")

  return {
    summary: clip(summarySource ?? title, SUMMARY_CHARS),
    builderPrompt: builderPrompt.trim(),
    acceptanceCriteria: criteria,
    constraints,
    filesToRead,
    targetFiles,
    architectureNotes: notes === "" ? undefined : notes,
    mission: missionId !== undefined ? { missionId, ...(packetId !== undefined ? { packetId } : {}), ...(specSection !== undefined ? { specSection } : {}) } : undefined,
    shape: intake ? "intake" : has("builder prompt", "acceptance criteria", "context", "goal") ? "legacy" : "free"
  }
}
