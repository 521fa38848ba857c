/**
 * Reading a mission's `spec.md`: plain Markdown with `# Title`, `## Intent`, `## Acceptance Criteria`,
 * `## Constraints`, `## Interface Contracts` and any other sections. Pure and forgiving: a spec
 * always parses; headings inside code fences are text. Spec text is untrusted data.
 */

/** One `##` (or `###`) section of a spec. */
export interface SpecSection {
  readonly heading: string
  readonly level: 2 | 3
  /** The text under the heading, up to the next heading of the same or a higher level. */
  readonly body: string
  /** 1-based line of the heading. */
  readonly line: number
  /** `###` subsections of a `##` section. */
  readonly subsections: ReadonlyArray<SpecSection>
}

/** A parsed mission spec. */
export interface MissionSpec {
  readonly title: string
  readonly intent: string
  readonly acceptanceCriteria: ReadonlyArray<string>
  readonly constraints: ReadonlyArray<string>
  readonly interfaceContracts: string
  /** Every `##` section, in order. */
  readonly sections: ReadonlyArray<SpecSection>
}

/** Section names (lowercase) that describe the mission rather than work to do. */
export const NON_WORK_SECTIONS: ReadonlySet<string> = new Set([
  "intent",
  "goal",
  "goals",
  "summary",
  "overview",
  "background",
  "context",
  "motivation",
  "why",
  "problem",
  "acceptance criteria",
  "acceptance",
  "constraints",
  "non-goals",
  "non goals",
  "nongoals",
  "out of scope",
  "open questions",
  "questions",
  "references",
  "notes",
  "glossary",
  "risks",
  "assumptions",
  "success metrics",
  "success criteria",
  "definition of done",
  "interface contracts",
  "work packets"
])

const PLACEHOLDERS = new Set(["what this mission achieves and for whom."])

const FENCE = /^\s{0,3}(```|~~~)/

/** Splits Markdown into lines with a flag telling whether each is inside a code fence. */
const fenced = (text: string): Array<{ line: string; inFence: boolean }> => {
  let open: string | undefined
  return text.split(/\r?\n/).map((line) => {
    const m = FENCE.exec(line)
    if (m) {
      if (open === undefined) open = m[1]
      else if (m[1] === open) open = undefined
      return { line, inFence: true }
    }
    return { line, inFence: open !== undefined }
  })
}

const headingOf = (line: string): { level: number; text: string } | undefined => {
  const m = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line)
  return m ? { level: m[1]!.length, text: m[2]! } : undefined
}

const splitSections = (
  lines: ReadonlyArray<{ line: string; inFence: boolean }>,
  from: number,
  to: number,
  level: 2 | 3
): Array<SpecSection> => {
  const out: Array<SpecSection> = []
  let current: { heading: string; line: number; start: number } | undefined
  const close = (end: number) => {
    if (current === undefined) return
    const body = lines
      .slice(current.start, end)
      .map((l) => l.line)
      .join("\n")
      .trim()
    out.push({
      heading: current.heading,
      level,
      body,
      line: current.line,
      subsections: level === 2 ? splitSections(lines, current.start, end, 3) : []
    })
  }
  for (let i = from; i < to; i++) {
    const { line, inFence } = lines[i]!
    if (inFence) continue
    const h = headingOf(line)
    if (h === undefined || h.level > level) continue
    close(i)
    current = h.level === level ? { heading: h.text, line: i + 1, start: i + 1 } : undefined
  }
  close(to)
  return out
}

/** The items of Markdown bullet or numbered lists (checkboxes removed), ignoring empty ones. */
export const bulletItems = (body: string): Array<string> =>
  fenced(body)
    .filter((l) => !l.inFence)
    .map((l) => /^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(.*)$/.exec(l.line)?.[1]?.trim())
    .filter((l): l is string => l !== undefined && l !== "")

/** Whether a section holds real content (not just the skeleton's placeholders and empty bullets). */
export const hasContent = (body: string): boolean =>
  body
    .replace(/<!--[\s\S]*?-->/g, "")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .some((l) => l !== "" && !/^(?:[-*+]|\d+[.)])(?:\s+\[[ xX]\])?\s*$/.test(l) && !PLACEHOLDERS.has(l.toLowerCase()))

const EXTENSIONS = new Set([
  "ts",
  "tsx",
  "mts",
  "cts",
  "js",
  "jsx",
  "mjs",
  "cjs",
  "json",
  "jsonc",
  "md",
  "mdx",
  "py",
  "pyi",
  "go",
  "rs",
  "rb",
  "java",
  "kt",
  "kts",
  "scala",
  "swift",
  "c",
  "h",
  "cc",
  "cpp",
  "hpp",
  "cs",
  "fs",
  "php",
  "lua",
  "sh",
  "bash",
  "zsh",
  "ps1",
  "sql",
  "toml",
  "yaml",
  "yml",
  "xml",
  "html",
  "htm",
  "css",
  "scss",
  "sass",
  "less",
  "vue",
  "svelte",
  "astro",
  "txt",
  "csv",
  "lock",
  "env",
  "ini",
  "cfg",
  "conf",
  "proto",
  "graphql",
  "gql",
  "tf",
  "dart",
  "ex",
  "exs",
  "erl",
  "hs",
  "ml",
  "clj",
  "r",
  "jl",
  "zig",
  "nim"
])
const BARE_FILES = new Set([
  "makefile",
  "dockerfile",
  "license",
  "readme",
  "changelog",
  "procfile",
  "gemfile",
  "rakefile",
  "justfile"
])

/** Whether a backticked token reads as a repository path, directory or glob (not code or a command). */
export const looksLikePath = (token: string): boolean => {
  const t = token.trim()
  if (t === "" || /[\s()=:;,'"<>|$@!]/.test(t) || t.startsWith("-") || t.startsWith("~")) return false
  if (t.includes("/")) return /[A-Za-z0-9*]/.test(t)
  const ext = /\.([A-Za-z][A-Za-z0-9]{0,9})$/.exec(t)?.[1]
  if (ext !== undefined) return EXTENSIONS.has(ext.toLowerCase())
  return BARE_FILES.has(t.toLowerCase())
}

/** Repository paths mentioned in backticks, in order of first mention, without duplicates. */
export const mentionedPaths = (text: string): Array<string> => {
  const out: Array<string> = []
  for (const m of text.matchAll(/`([^`\n]+)`/g)) {
    const t = m[1]!.trim().replace(/^\.\//, "")
    if (looksLikePath(t) && !out.includes(t)) out.push(t)
  }
  return out
}

/** Parses a mission spec (see the module comment). */
export const parseMissionSpec = (text: string): MissionSpec => {
  const lines = fenced(text)
  const titleLine = lines.find((l) => !l.inFence && headingOf(l.line)?.level === 1)
  const sections = splitSections(lines, 0, lines.length, 2)
  const named = (...names: Array<string>) => sections.filter((s) => names.includes(s.heading.toLowerCase()))
  const body = (...names: Array<string>) =>
    named(...names)
      .map((s) => s.body)
      .join("\n\n")
  return {
    title: titleLine !== undefined ? headingOf(titleLine.line)!.text : "",
    intent: hasContent(body("intent", "goal", "goals", "summary")) ? body("intent", "goal", "goals", "summary") : "",
    acceptanceCriteria: bulletItems(body("acceptance criteria", "acceptance")),
    constraints: bulletItems(body("constraints")),
    interfaceContracts: hasContent(body("interface contracts")) ? body("interface contracts") : "",
    sections
  }
}
