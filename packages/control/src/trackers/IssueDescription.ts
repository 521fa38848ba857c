/**
 * Reads the work out of a tracker issue's Markdown description, in the shapes the original
 * spec-orch accepts: the legacy sections (`## Builder Prompt`, `## Acceptance Criteria`, `## Context`,
 * files), the intake document (`## Problem`, `## Goal`, `## Acceptance` with `### Success
 * Conditions`, …) and the description `promote` writes. The text is untrusted data: it becomes
 * prompt material and criteria, never commands, verification steps, gate or policy settings. Every
 * pattern here runs in time linear in the text (a tracker issue is read before anyone vetted it).
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
  readonly mission:
    | { readonly missionId: string; readonly packetId?: string; readonly specSection?: string }
    | undefined
  /** Which shape was recognised. */
  readonly shape: "legacy" | "intake" | "free"
}

interface Section {
  readonly level: number
  readonly name: string
  readonly body: string
}

const SUMMARY_CHARS = 200

/** Whitespace as `\s` sees it, without a regex for the common ASCII cases. */
const isSpace = (c: string | undefined): boolean =>
  c !== undefined &&
  (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v" || (c > "\x7f" && /\s/.test(c)))

/** Removes `<!-- spec-orch:… -->` markers in one scan (a lazy regex rescans the rest of the text for every unclosed marker). */
const stripMarkers = (text: string): string => {
  const out: Array<string> = []
  let from = 0
  let at = 0
  for (;;) {
    const open = text.indexOf("<!--", at)
    if (open < 0) break
    let k = open + 4
    while (isSpace(text[k])) k++
    if (!text.startsWith("spec-orch:", k)) {
      at = k
      continue
    }
    const close = text.indexOf("-->", k)
    if (close < 0) break // no later marker can be closed either
    out.push(text.slice(from, open))
    from = at = close + 3
  }
  out.push(text.slice(from))
  return out.join("")
}

/** Removes machine blocks the daemon writes into descriptions (`## SpecOrch Mirror` and its fenced JSON). */
const stripMachineBlocks = (text: string): string =>
  stripMarkers(text.replace(/^#{1,3}[ \t]*SpecOrch Mirror[ \t]*\r?\n\s*```[\s\S]*?```\s*/gim, ""))

/** A heading line's level and name (levels 1–4), without a closing `#` sequence; `undefined` for any other line. */
const headingOf = (line: string): { readonly level: number; readonly name: string } | undefined => {
  const m = /^(#{1,4})[ \t]+(.*)$/.exec(line)
  if (!m) return undefined
  let name = m[2]!.trimEnd()
  let end = name.length
  while (end > 0 && name[end - 1] === "#") end--
  if (end === 0 || /\s/.test(name[end - 1]!)) name = name.slice(0, end).trimEnd()
  return name === "" ? undefined : { level: m[1]!.length, name }
}

/** Splits Markdown into the text before the first heading and its headed sections (levels 1–4). */
const splitSections = (text: string): { lead: string; sections: ReadonlyArray<Section> } => {
  const lines = text.split(/\r?\n/)
  const sections: Array<{ level: number; name: string; lines: Array<string> }> = []
  const lead: Array<string> = []
  let inFence = false
  for (const line of lines) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence
    const heading = inFence ? undefined : headingOf(line)
    if (heading) {
      sections.push({
        level: heading.level,
        name: heading.name
          .replace(/[:\uFF1A]$/, "")
          .replace(/\*\*/g, "")
          .trim()
          .toLowerCase(),
        lines: []
      })
    } else if (sections.length === 0) lead.push(line)
    else sections[sections.length - 1]!.lines.push(line)
  }
  return {
    lead: lead.join("\n").trim(),
    sections: sections.map((s) => ({ level: s.level, name: s.name, body: s.lines.join("\n").trim() }))
  }
}

/** Only the section's own text (no subsections). */
const ownText = (sections: ReadonlyArray<Section>, names: ReadonlyArray<string>): string | undefined =>
  sections.find((s) => names.includes(s.name))?.body

// `(.*)` then trim rather than `(.*\S)\s*$`: the latter backtracks quadratically on a long run of spaces.
const BULLET = /^\s*(?:[-*+]|\d+[.)])[ \t]+(?:\[[ xX]\][ \t]+)?(.*)$/
const CHECKBOX = /^\s*[-*+][ \t]+\[[ xX]\][ \t]+(.*)$/

/** The trimmed item of a bullet (or checkbox) line; `undefined` for other lines and empty items. */
const itemOf = (pattern: RegExp, line: string): string | undefined => {
  const item = pattern.exec(line)?.[1]?.trim()
  return item === undefined || item === "" ? undefined : item
}

/** Bullet (and checkbox) items of a text, without surrounding backticks. */
const bullets = (text: string | undefined): Array<string> =>
  (text ?? "")
    .split(/\r?\n/)
    .map((l) => itemOf(BULLET, l))
    .filter((l): l is string => l !== undefined)

const unquote = (s: string) => s.replace(/^`([^`]+)`$/, "$1")

/** The text before the first ` - `, ` – `, ` — `, ` : ` or ` (` separator (one scan; a regex with `\s+` on both sides is quadratic). */
const beforeSeparator = (item: string): string => {
  let i = 0
  while (i < item.length) {
    if (!isSpace(item[i])) {
      i++
      continue
    }
    let j = i
    while (isSpace(item[j])) j++
    const next = item[j]
    if (
      next === "(" ||
      ((next === "-" || next === "\u2013" || next === "\u2014" || next === ":") && isSpace(item[j + 1]))
    )
      return item.slice(0, i)
    i = j
  }
  return item
}

/** A path-looking item: contains `/` or a file extension, no spaces (after removing backticks). */
const looksLikePath = (item: string): boolean => {
  const first = /`([^`]+)`/.exec(item)?.[1] ?? beforeSeparator(item)
  return !/\s/.test(first.trim()) && (/\//.test(first) || /\.[A-Za-z0-9]{1,8}$/.test(first))
}

const pathOf = (item: string): string => (/`([^`]+)`/.exec(item)?.[1] ?? beforeSeparator(item)).trim()

const firstParagraph = (text: string): string =>
  text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .find((p) => p !== "" && !p.startsWith("#")) ?? ""

const clip = (text: string, max: number): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`
}

/** A `Key: value` header line of the lead (`**Key**: value`, `` Key: `value` ``); the value has no backticks inside. */
const headerValue = (lead: string, key: string): string | undefined => {
  const pattern = new RegExp(`^[ \\t]*(?:\\*\\*)?${key}(?:\\*\\*)?[ \\t]*:(.*)$`, "i")
  for (const line of lead.split(/\r?\n/)) {
    const m = pattern.exec(line)
    if (!m) continue
    let value = m[1]!.trim()
    if (value.startsWith("**")) value = value.slice(2).trim()
    if (value.startsWith("`")) value = value.slice(1)
    if (value.endsWith("`")) value = value.slice(0, -1)
    value = value.trim()
    if (value !== "" && !value.includes("`")) return value
  }
  return undefined
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
  if (criteria.length === 0)
    criteria = text
      .split(/\r?\n/)
      .map((l) => itemOf(CHECKBOX, l))
      .filter((l): l is string => l !== undefined)
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
  const contextNotes = (ownText(sections, ["context"]) ?? "")
    .split(/\r?\n/)
    .filter((l) => {
      const item = itemOf(BULLET, l)
      return l.trim() !== "" && (item === undefined || !looksLikePath(item))
    })
    .map((l) => itemOf(BULLET, l) ?? l.trim())

  const filesToRead = [
    ...new Set([
      ...bullets(ownText(sections, ["files to read", "files", "relevant files", "references"]))
        .filter(looksLikePath)
        .map(pathOf),
      ...contextFiles
    ])
  ]
  const targetFiles = [
    ...new Set(
      bullets(ownText(sections, ["target files", "files in scope", "files to change"]))
        .filter(looksLikePath)
        .map(pathOf)
    )
  ]

  const notes = [
    ...(contextNotes.length > 0 ? [contextNotes.join("\n")] : []),
    ...[
      ownText(sections, ["architecture notes", "architecture"]),
      ownText(sections, ["current system understanding"])
    ].filter((x): x is string => x !== undefined && x !== "")
  ]
    .join("\n\n")
    .trim()

  const goal = ownText(sections, ["goal"])
  const problem = ownText(sections, ["problem"])
  const explicitPrompt = ownText(sections, ["builder prompt", "task", "instructions"])
  let builderPrompt: string
  if (explicitPrompt !== undefined && explicitPrompt !== "") builderPrompt = explicitPrompt
  else if (intake)
    builderPrompt = [goal, problem !== undefined && problem !== "" ? `Problem:\n${problem}` : undefined]
      .filter((x) => x !== undefined && x !== "")
      .join("\n\n")
  else if (goal !== undefined && goal !== "") builderPrompt = goal
  else builderPrompt = text
  if (builderPrompt.trim() === "") builderPrompt = title

  const summarySource =
    ownText(sections, ["summary"]) ??
    (intake ? problem : undefined) ??
    (firstParagraph(lead) || firstParagraph(text) || title)
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
    mission:
      missionId !== undefined
        ? {
            missionId,
            ...(packetId !== undefined ? { packetId } : {}),
            ...(specSection !== undefined ? { specSection } : {})
          }
        : undefined,
    shape: intake ? "intake" : has("builder prompt", "acceptance criteria", "context", "goal") ? "legacy" : "free"
  }
}
