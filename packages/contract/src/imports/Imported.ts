/**
 * What every spec importer produces: a format-neutral draft of a mission (title, intent, acceptance
 * criteria with the file and line each came from, constraints, notes and task groups), and the
 * small Markdown line helpers the importers share. Importers are pure: text in, draft or problems out.
 */
import { FileProblem } from "../FileProblem.js"

/** The formats `spec import` reads. */
export const SPEC_FORMATS = ["spec-kit", "openspec", "ears", "gherkin"] as const
export type SpecFormat = (typeof SPEC_FORMATS)[number]

/** One source file, as shown in messages and source notes (repository-relative when possible). */
export interface SourceFile {
  readonly file: string
  readonly text: string
}

/** One acceptance criterion and where it came from. */
export interface ImportedCriterion {
  readonly text: string
  readonly file: string
  readonly line: number
}

/** A group of tasks (a spec-kit phase, an OpenSpec task section). */
export interface TaskGroup {
  readonly title: string
  readonly tasks: ReadonlyArray<string>
}

/** A format-neutral mission draft. */
export interface ImportedSpec {
  readonly format: SpecFormat
  readonly title: string
  /** The mission id this source gets when `--mission` is not given (stable across re-imports). */
  readonly suggestedId: string
  readonly intent: ReadonlyArray<string>
  readonly criteria: ReadonlyArray<ImportedCriterion>
  readonly constraints: ReadonlyArray<string>
  /** Background a builder should know (plan summary, technical context, entities, requirement text). */
  readonly context: ReadonlyArray<string>
  /** Measurable outcomes that are not acceptance criteria (spec-kit SC-nnn). */
  readonly successCriteria: ReadonlyArray<string>
  /** Edge cases, open questions, removed or renamed requirements. */
  readonly notes: ReadonlyArray<string>
  readonly tasks: ReadonlyArray<TaskGroup>
}

/** A parse result: a draft, or the problems that stopped it. */
export type ImportResult =
  | { readonly spec: ImportedSpec; readonly problems?: undefined }
  | { readonly spec?: undefined; readonly problems: ReadonlyArray<FileProblem> }

/** An error at one line of one file. */
export const problemAt = (file: string, line: number | undefined, message: string, hint?: string): FileProblem =>
  new FileProblem({
    file,
    ...(line !== undefined ? { line } : {}),
    key: "",
    severity: "error",
    message,
    ...(hint !== undefined ? { hint } : {})
  })

/** A line of a Markdown file with its 1-based number and whether it sits inside a code fence. */
export interface MdLine {
  readonly text: string
  readonly n: number
  readonly inFence: boolean
}

const FENCE = /^\s{0,3}(```|~~~)/

const LIST_ITEM = /^\s*(?:[-*+]|\d+[.)])\s+/
const HEADING = /^#{1,6}\s/

/**
 * Splits Markdown into numbered lines, marking fenced ones (fence lines included). A list item wrapped
 * onto indented lines is joined into its first line (the continuation lines stay, empty, to keep the
 * numbering), so an item reads the same however it is wrapped.
 */
export const mdLines = (text: string): Array<MdLine> => {
  let open: string | undefined
  const lines = text.split(/\r?\n/).map((t, i) => {
    const m = FENCE.exec(t)
    if (m) {
      if (open === undefined) open = m[1]
      else if (m[1] === open) open = undefined
      return { text: t, n: i + 1, inFence: true }
    }
    return { text: t, n: i + 1, inFence: open !== undefined }
  })
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.inFence || !LIST_ITEM.test(lines[i]!.text)) continue
    for (let j = i + 1; j < lines.length; j++) {
      const next = lines[j]!
      if (next.inFence || !/^\s+\S/.test(next.text) || LIST_ITEM.test(next.text) || HEADING.test(next.text.trim()))
        break
      lines[i] = { ...lines[i]!, text: `${lines[i]!.text.trimEnd()} ${next.text.trim()}` }
      lines[j] = { ...next, text: "" }
    }
  }
  return lines
}

/** `{ level, text }` of an ATX heading outside fences. */
export const heading = (l: MdLine): { level: number; text: string } | undefined => {
  if (l.inFence) return undefined
  const m = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(l.text)
  return m ? { level: m[1]!.length, text: m[2]! } : undefined
}

/** The text of a bullet or numbered list item (checkbox kept), or undefined. */
export const listItem = (l: MdLine): { text: string; checkbox?: "open" | "done" } | undefined => {
  if (l.inFence) return undefined
  const m = /^\s*(?:[-*+]|\d+[.)])\s+(?:\[([ xX])\]\s+)?(.*)$/.exec(l.text)
  if (!m) return undefined
  return {
    text: m[2]!.trim(),
    ...(m[1] !== undefined ? { checkbox: m[1] === " " ? ("open" as const) : ("done" as const) } : {})
  }
}

/** Removes Markdown emphasis (`**x**`, `__x__`, `*x*`, `_x_`) and collapses whitespace. */
export const plain = (text: string): string =>
  text
    .replace(/\*\*(.+?)\*\*/g, "$1")
    .replace(/__(.+?)__/g, "$1")
    .replace(/(^|[\s(])[*_]([^*_\s][^*_]*?)[*_](?=[\s).,:;!?]|$)/g, "$1$2")
    .replace(/\s+/g, " ")
    .trim()

/** Wraps repository paths written bare (`src/albums/create.ts`) in backticks so planners see the footprint. */
export const tickPaths = (text: string): string =>
  text.replace(
    /(^|[\s(])((?:\.\/)?[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.*-]+)+\/?)(?=[\s),;:]|$)/g,
    (all, pre: string, p: string) =>
      /\.[A-Za-z0-9]{1,8}$/.test(p) || p.endsWith("/") ? `${pre}\`${p.replace(/^\.\//, "")}\`` : all
  )

/** Paragraphs of prose (non-heading, non-list, non-fenced lines) joined per blank-line block. */
export const paragraphs = (lines: ReadonlyArray<MdLine>): Array<string> => {
  const out: Array<string> = []
  let cur: Array<string> = []
  const flush = () => {
    if (cur.length > 0) out.push(cur.join(" "))
    cur = []
  }
  for (const l of lines) {
    if (
      l.inFence ||
      heading(l) !== undefined ||
      listItem(l) !== undefined ||
      l.text.trim() === "" ||
      /^\s*(---+|\*\*\*+)\s*$/.test(l.text) ||
      /^\s*<!--/.test(l.text)
    ) {
      flush()
      continue
    }
    cur.push(l.text.trim())
  }
  flush()
  return out
}
