/**
 * The issue files people write: the original spec-orch's `fixtures/issues/<ID>.json`, loaded
 * unchanged, and Markdown issues (`<ID>.md`) with YAML front matter. Parsing is pure; errors name
 * the file, line and field.
 */
import { parse as parseYaml } from "yaml"
import * as z from "zod/mini"
import { FileProblem } from "./FileProblem.js"
import { makeIssueId } from "./Ids.js"
import { AcceptanceCriterion, Issue, IssueOrigin, MissionRef, RunClass, VerificationStep } from "./Issue.js"
import { positionOf, yamlLocator } from "./Locations.js"
import { validateWith } from "./Validation.js"
import { CommandSpec } from "./ConfigFile.js"
import { Schema } from "effect"

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

const verificationCommands = z.union([
  z.record(
    z.string(),
    z.union([
      CommandSpec,
      z.object({ command: CommandSpec, timeout_seconds: z.optional(z.number().check(z.positive())) })
    ])
  ),
  /** A plain list of shell strings (seen in the original's SPC-D1); steps are named `step-1`, `step-2`, … */
  z.array(z.string())
])

const context = z.object({
  files_to_read: z._default(z.array(z.string()), []),
  target_files: z._default(z.array(z.string()), []),
  architecture_notes: z.optional(z.string()),
  constraints: z._default(z.array(z.string()), [])
})

/** The fixture JSON format (snake_case, as the original writes it). */
export const IssueFixture = z.object({
  issue_id: z
    .string()
    .check(z.regex(ID_PATTERN, "an issue id is letters, digits, '_', '-' or '.', starting with a letter or digit")),
  title: z.string().check(z.minLength(1, "must not be empty")),
  summary: z.string(),
  builder_prompt: z.optional(z.nullable(z.string())),
  verification_commands: z.optional(verificationCommands),
  acceptance_criteria: z._default(z.array(z.string()), []),
  context: z.prefault(context, {}),
  labels: z._default(z.array(z.string()), []),
  run_class: z.optional(z.enum(RunClass.literals)),
  mission_id: z.optional(z.string()),
  packet_id: z.optional(z.string()),
  spec_section: z.optional(z.string())
})
export type IssueFixture = z.output<typeof IssueFixture>

/** Front matter of a Markdown issue: the fixture keys, with `id` accepted for `issue_id`. */
const MarkdownFrontMatter = z.extend(IssueFixture, {
  issue_id: z.optional(IssueFixture.shape.issue_id),
  id: z.optional(IssueFixture.shape.issue_id),
  summary: z.optional(z.string()),
  files_to_read: z.optional(z.array(z.string())),
  target_files: z.optional(z.array(z.string())),
  constraints: z.optional(z.array(z.string()))
})

const toSteps = (v: IssueFixture["verification_commands"]): ReadonlyArray<VerificationStep> | undefined => {
  if (v === undefined) return undefined
  if (Array.isArray(v)) return v.map((command, i) => new VerificationStep({ name: `step-${i + 1}`, command }))
  return Object.entries(v).map(([name, entry]) =>
    typeof entry === "string" || Array.isArray(entry)
      ? new VerificationStep({ name, command: entry })
      : new VerificationStep({
          name,
          command: entry.command,
          ...(entry.timeout_seconds !== undefined ? { timeoutSeconds: entry.timeout_seconds } : {})
        })
  )
}

const criteria = (texts: ReadonlyArray<string>) =>
  texts.map((text, i) => new AcceptanceCriterion({ id: `AC-${i + 1}`, text }))

const missionRef = (f: {
  mission_id?: string | undefined
  packet_id?: string | undefined
  spec_section?: string | undefined
}): MissionRef | undefined => {
  if (f.mission_id === undefined) return undefined
  const decoded = Schema.decodeUnknownOption(MissionRef)({
    missionId: f.mission_id,
    ...(f.packet_id !== undefined ? { packetId: f.packet_id } : {}),
    ...(f.spec_section !== undefined ? { specSection: f.spec_section } : {})
  })
  return decoded._tag === "Some" ? decoded.value : undefined
}

/** Builds an Issue from a validated fixture. */
export const issueFromFixture = (f: IssueFixture, origin: IssueOrigin): Issue => {
  const steps = toSteps(f.verification_commands)
  const mission = missionRef(f)
  return new Issue({
    id: makeIssueId(f.issue_id),
    title: f.title,
    summary: f.summary,
    ...(typeof f.builder_prompt === "string" ? { builderPrompt: f.builder_prompt } : {}),
    acceptanceCriteria: criteria(f.acceptance_criteria),
    constraints: f.context.constraints,
    filesToRead: f.context.files_to_read,
    targetFiles: f.context.target_files,
    ...(f.context.architecture_notes ? { architectureNotes: f.context.architecture_notes } : {}),
    ...(steps !== undefined ? { verification: steps } : {}),
    labels: f.labels,
    ...(f.run_class !== undefined ? { runClass: f.run_class } : {}),
    ...(mission !== undefined ? { mission } : {}),
    origin
  })
}

export interface ParsedIssue {
  readonly issue?: Issue
  readonly problems: ReadonlyArray<FileProblem>
}

const fail = (file: string, message: string, key = "", at?: { line: number; column: number }): ParsedIssue => ({
  problems: [new FileProblem({ file, key, severity: "error", message, ...(at ?? {}) })]
})

/**
 * Parses a fixture JSON text. `expectedId` is the file's base name: a file named `SPC-1.json` must
 * hold `"issue_id": "SPC-1"`.
 */
export const parseIssueJson = (text: string, file: string, expectedId?: string): ParsedIssue => {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (e) {
    const message = String((e as Error).message)
    const offset = /position (\d+)/.exec(message)
    return fail(
      file,
      `not valid JSON: ${message.replace(/ in JSON at position \d+.*$/, "")}`,
      "",
      offset ? positionOf(text, Number(offset[1])) : undefined
    )
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    return fail(file, "an issue file must hold one JSON object", "", { line: 1, column: 1 })
  const { value, problems } = validateWith(IssueFixture, raw, file, yamlLocator(text))
  if (value === undefined) return { problems }
  if (expectedId !== undefined && value.issue_id !== expectedId) {
    const pos = yamlLocator(text)(["issue_id"])
    return {
      problems: [
        ...problems,
        new FileProblem({
          file,
          key: "issue_id",
          severity: "error",
          message: `is "${value.issue_id}" but the file is named ${expectedId}`,
          hint: `rename the file to ${value.issue_id}.json or change issue_id`,
          ...(pos ?? {})
        })
      ]
    }
  }
  return { issue: issueFromFixture(value, new IssueOrigin({ kind: "fixture", ref: file })), problems }
}

/** Splits Markdown into its sections by `## ` headings (lowercased names); `""` is the text before the first. */
const sections = (body: string): Map<string, string> => {
  const out = new Map<string, string>()
  let name = ""
  let buf: Array<string> = []
  const flush = () =>
    out.set(name, [...(out.get(name) ? [out.get(name)!] : []), buf.join("\n").trim()].filter(Boolean).join("\n\n"))
  for (const line of body.split(/\r?\n/)) {
    const h = /^##\s+(.+?)\s*#*\s*$/.exec(line)
    if (h) {
      flush()
      name = h[1]!.toLowerCase()
      buf = []
    } else buf.push(line)
  }
  flush()
  return out
}

/** The items of a bullet list, as written: an item's inline code keeps its backticks. */
const bullets = (text: string | undefined): Array<string> =>
  (text ?? "")
    .split(/\r?\n/)
    .map((l) => /^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(.*)$/.exec(l)?.[1]?.trim())
    .filter((l): l is string => l !== undefined && l !== "")

/** The items of a list of paths: an item that is one code span (`` `src/a.ts` ``) is the path inside it. */
const paths = (text: string | undefined): Array<string> => bullets(text).map((l) => l.replace(/^`([^`]+)`$/, "$1"))

/**
 * Parses a Markdown issue: YAML front matter between `---` lines, then a body whose first paragraph
 * is the summary (unless front matter has one). Sections `## Acceptance Criteria`, `## Constraints`,
 * `## Files to Read` and `## Target Files` are bullet lists; `## Builder Prompt` (or `## Task`) is the
 * prompt; with neither, the whole body is the prompt.
 */
export const parseIssueMarkdown = (text: string, file: string, expectedId?: string): ParsedIssue => {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(text)
  if (!m)
    return fail(
      file,
      "a Markdown issue starts with YAML front matter between two '---' lines (at least `id` and `title`)",
      "",
      { line: 1, column: 1 }
    )
  let front: unknown
  try {
    front = parseYaml(m[1]!) ?? {}
  } catch (e) {
    const err = e as { linePos?: Array<{ line: number; col: number }>; message: string }
    const at = err.linePos?.[0]
    return fail(
      file,
      `front matter is not valid YAML: ${err.message.split("\n")[0]}`,
      "",
      at ? { line: at.line + 1, column: at.col } : undefined
    )
  }
  const locateFront = yamlLocator(m[1]!)
  const locate = (path: ReadonlyArray<PropertyKey>) => {
    const p = locateFront(path)
    return p ? { line: p.line + 1, column: p.column } : undefined
  }
  const { value, problems } = validateWith(MarkdownFrontMatter, front, file, locate)
  if (value === undefined) return { problems }
  const id = value.issue_id ?? value.id ?? expectedId
  if (id === undefined)
    return {
      problems: [...problems, ...fail(file, "is required in the front matter", "id", { line: 2, column: 1 }).problems]
    }
  if (expectedId !== undefined && id !== expectedId) {
    return {
      problems: [
        ...problems,
        ...fail(file, `is "${id}" but the file is named ${expectedId}.md`, "id", locate(["id"]) ?? locate(["issue_id"]))
          .problems
      ]
    }
  }
  const s = sections(m[2]!)
  const lead = s.get("") ?? ""
  const summary = value.summary ?? s.get("summary") ?? lead.split(/\n\s*\n/)[0]?.trim() ?? ""
  const prompt = value.builder_prompt ?? s.get("builder prompt") ?? s.get("task") ?? (m[2]!.trim() || undefined)
  const fixture: IssueFixture = {
    ...value,
    issue_id: id,
    summary,
    builder_prompt: prompt ?? null,
    acceptance_criteria:
      value.acceptance_criteria.length > 0 ? value.acceptance_criteria : bullets(s.get("acceptance criteria")),
    context: {
      files_to_read:
        value.files_to_read ??
        (value.context.files_to_read.length > 0 ? value.context.files_to_read : paths(s.get("files to read"))),
      target_files:
        value.target_files ??
        (value.context.target_files.length > 0 ? value.context.target_files : paths(s.get("target files"))),
      constraints:
        value.constraints ??
        (value.context.constraints.length > 0 ? value.context.constraints : bullets(s.get("constraints"))),
      ...(value.context.architecture_notes !== undefined
        ? { architecture_notes: value.context.architecture_notes }
        : {})
    }
  }
  return { issue: issueFromFixture(fixture, new IssueOrigin({ kind: "markdown", ref: file })), problems }
}
