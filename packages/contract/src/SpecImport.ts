/**
 * `spec import`: turns a spec written in another tool's format (spec-kit, OpenSpec, EARS, Gherkin)
 * into an unapproved mission draft, `docs/specs/<mission-id>/{spec.md, mission.json}`. The format is
 * detected from the files present unless given. Every acceptance criterion ends with a source note,
 * `(source: <file>:<line>)`. A draft is written into a hidden directory and renamed into place, so a
 * failed import leaves nothing behind. Re-importing the same source updates the same mission and says
 * what changed; an approved mission is replaced only with `force` (and goes back to drafting).
 */
import { randomBytes } from "node:crypto"
import { Context, Effect, FileSystem, Layer, Path, Schema } from "effect"
import { InvalidFile } from "./FileProblem.js"
import { makeMissionId } from "./Ids.js"
import { importEars, looksLikeEars } from "./imports/Ears.js"
import { importGherkin } from "./imports/Gherkin.js"
import {
  type ImportedSpec,
  type ImportResult,
  SPEC_FORMATS,
  type SourceFile,
  type SpecFormat
} from "./imports/Imported.js"
import { importOpenSpec, looksLikeOpenSpecDelta } from "./imports/OpenSpec.js"
import { importSpecKit, looksLikeSpecKit } from "./imports/SpecKit.js"
import { nowIso, sha256 } from "./Files.js"
import { Mission } from "./Mission.js"
import { missionFileText, Missions, type MissionsError, type MissionView } from "./Missions.js"
import { Project } from "./Project.js"

export { SPEC_FORMATS, type SpecFormat } from "./imports/Imported.js"

/** The path given to `spec import` cannot be read as any supported format. */
export class SpecSourceUnusable extends Schema.TaggedError<SpecSourceUnusable>()("SpecSourceUnusable", {
  path: Schema.String,
  reason: Schema.String,
  hint: Schema.optionalKey(Schema.String)
}) {
  override get message(): string {
    return `cannot import ${this.path}: ${this.reason}${this.hint !== undefined ? ` (${this.hint})` : ""}`
  }
}

/** The import would overwrite a mission it must not. */
export class SpecImportRefused extends Schema.TaggedError<SpecImportRefused>()("SpecImportRefused", {
  missionId: Schema.String,
  reason: Schema.String,
  hint: Schema.String
}) {
  override get message(): string {
    return `mission ${this.missionId}: ${this.reason} (${this.hint})`
  }
}

export type SpecImportError = SpecSourceUnusable | SpecImportRefused | InvalidFile | MissionsError

/** What an import did. */
export interface SpecImportOutcome {
  readonly action: "created" | "updated" | "unchanged"
  readonly format: SpecFormat
  /** The source as shown in source notes (repository-relative when inside the project). */
  readonly source: string
  readonly view: MissionView
  readonly criteria: number
  readonly taskGroups: number
  /**
   * For an update (without source notes): criteria added, removed, and changed (same label, such as
   * `FR-003` or a scenario's name, new text), how many only moved in the source, sections whose text changed.
   */
  readonly changes: {
    readonly added: ReadonlyArray<string>
    readonly removed: ReadonlyArray<string>
    readonly changed: ReadonlyArray<{ readonly from: string; readonly to: string }>
    readonly sections: ReadonlyArray<string>
    readonly moved: number
  }
  /** An approved mission replaced with `force` (now drafting again). */
  readonly unapproved: boolean
  /** Nothing was written (`dryRun`); `specText` is what spec.md would be. */
  readonly dryRun: boolean
  readonly specText: string
}

/** The label of a criterion (`FR-003`, `auth / Login / Wrong code`): the text before its first ": ". */
const labelOf = (criterion: string): string | undefined => {
  const i = criterion.indexOf(": ")
  return i > 0 ? criterion.slice(0, i) : undefined
}

/** What changed between two lists of criteria (source notes removed). */
export const criteriaChanges = (before: ReadonlyArray<string>, after: ReadonlyArray<string>) => {
  const count = (list: ReadonlyArray<string>, label: string) => list.filter((c) => labelOf(c) === label).length
  let added = after.filter((c) => !before.includes(c))
  let removed = before.filter((c) => !after.includes(c))
  const changed: Array<{ from: string; to: string }> = []
  for (const to of [...added]) {
    const label = labelOf(to)
    if (label === undefined || count(before, label) !== 1 || count(after, label) !== 1) continue
    const from = removed.find((c) => labelOf(c) === label)
    if (from === undefined) continue
    changed.push({ from, to })
    added = added.filter((c) => c !== to)
    removed = removed.filter((c) => c !== from)
  }
  return { added, removed, changed }
}

/** "2 criteria added, 1 changed" for messages. */
export const describeCriteriaChanges = (c: SpecImportOutcome["changes"]): string =>
  [
    c.added.length > 0 ? `${c.added.length} ${c.added.length === 1 ? "criterion" : "criteria"} added` : "",
    c.removed.length > 0 ? `${c.removed.length} removed` : "",
    c.changed.length > 0 ? `${c.changed.length} changed` : "",
    c.sections.length > 0 ? `${c.sections.join(", ")} changed` : ""
  ]
    .filter((s) => s !== "")
    .join(", ")

const SOURCE_NOTE = /\s*\(source: [^()]*:\d+\)$/
/** A criterion without its source note. */
export const withoutSourceNote = (criterion: string): string => criterion.replace(SOURCE_NOTE, "")

const MARKER = /^<!-- spec-orch import: format=(\S+) source=(.*?) sha256=([0-9a-f]{12}) -->$/m
const MARKER_LINE = /^<!-- spec-orch import: .* -->\n/m

/** The hash an import records for its spec.md: of the text without the marker line. */
const draftHash = (text: string): string => sha256(text.replace(MARKER_LINE, "")).slice(0, 12)

const bullets = (items: ReadonlyArray<string>) => items.map((i) => `- ${i}`)

/** The mission spec.md for an imported draft. */
export const renderImportedSpec = (spec: ImportedSpec, source: string): { text: string; criteria: Array<string> } => {
  const criteria = spec.criteria.map((c) => `${c.text} (source: ${c.file}:${c.line})`)
  const section = (title: string, body: ReadonlyArray<string>) =>
    body.length === 0 ? [] : [`## ${title}`, "", ...body, ""]
  const lines = [
    `# ${spec.title}`,
    "",
    "<!-- marker -->",
    `Imported from ${source} (${spec.format}). Edit the source and import it again to update this draft; approve it with spec-orch mission approve.`,
    "",
    ...section(
      "Intent",
      spec.intent.length > 0
        ? spec.intent.flatMap((p, i) => (i === 0 ? [p] : ["", p]))
        : [`Implement ${spec.title} as specified in ${source}.`]
    ),
    ...section("Acceptance Criteria", bullets(criteria)),
    ...section("Constraints", bullets(spec.constraints)),
    ...section("Success Criteria", bullets(spec.successCriteria)),
    ...section("Context", bullets(spec.context)),
    ...section("Tasks", spec.tasks.flatMap((g) => [`### ${g.title}`, "", ...bullets(g.tasks), ""]).slice(0, -1)),
    ...section("Notes", bullets(spec.notes))
  ]
  const body = `${lines.join("\n").trimEnd()}\n`
  const hash = draftHash(body.replace("<!-- marker -->\n", ""))
  return {
    text: body.replace(
      "<!-- marker -->",
      `<!-- spec-orch import: format=${spec.format} source=${source} sha256=${hash} -->`
    ),
    criteria
  }
}

/** `## ` sections of a spec.md by heading, source line numbers left out (for "what changed"; a line shift is no change). */
const sectionsOf = (text: string): Map<string, string> => {
  const out = new Map<string, string>()
  let current = ""
  for (const line of text.split("\n")) {
    const h = /^##\s+(.*)$/.exec(line)
    if (h) {
      current = h[1]!.trim()
      out.set(current, "")
    } else if (current !== "") out.set(current, `${out.get(current)! + line.replace(/:\d+\)/g, ")")}\n`)
  }
  return out
}

/** What to import and how. */
export interface SpecImportInput {
  readonly path: string
  /** Detected from the files present when not given. */
  readonly format?: SpecFormat | undefined
  readonly missionId?: string | undefined
  /** The mission's title instead of the source's. */
  readonly title?: string | undefined
  /** Replace an approved mission, or one not imported from this source. */
  readonly force?: boolean | undefined
  /** Convert and compare, write nothing. */
  readonly dryRun?: boolean | undefined
}

/** Imports specs into missions. */
export class SpecImports extends Context.Service<
  SpecImports,
  {
    /** Detects (unless `format` is given), converts and writes the draft. */
    readonly run: (input: SpecImportInput) => Effect.Effect<SpecImportOutcome, SpecImportError>
  }
>()("@spec-orch/contract/SpecImports") {
  static readonly layer: Layer.Layer<SpecImports, never, Project | Missions | FileSystem.FileSystem | Path.Path> =
    Layer.effect(
      SpecImports,
      Effect.gen(function* () {
        const project = yield* Project
        const missions = yield* Missions
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const specsDir = project.resolve("docs/specs")
        const shown = (p: string) => {
          const rel = path.relative(project.root, p)
          return rel === "" ? "." : rel.startsWith("..") || path.isAbsolute(rel) ? p : rel
        }
        const typeOf = (p: string) =>
          fs.stat(p).pipe(
            Effect.map((s) => s.type),
            Effect.orElseSucceed(() => undefined)
          )
        const list = (dir: string) =>
          fs.readDirectory(dir).pipe(
            Effect.map((n) => n.sort()),
            Effect.orElseSucceed(() => [] as Array<string>)
          )
        const readSource = (p: string) =>
          fs.readFileString(p).pipe(
            Effect.map((text): SourceFile => ({ file: shown(p), text })),
            Effect.mapError(() => new SpecSourceUnusable({ path: shown(p), reason: "the file cannot be read" }))
          )
        const optional = (p: string) =>
          Effect.flatMap(typeOf(p), (t) =>
            t === "File" ? Effect.map(readSource(p), (s) => s as SourceFile | undefined) : Effect.succeed(undefined)
          )

        const loadSpecKit = Effect.fnUntraced(function* (dir: string) {
          const spec = yield* optional(path.join(dir, "spec.md"))
          if (spec === undefined)
            return yield* new SpecSourceUnusable({
              path: shown(dir),
              reason: "a spec-kit feature needs spec.md",
              hint: "point at specs/<feature>/ (the folder with spec.md, plan.md and tasks.md)"
            })
          return importSpecKit({
            feature: path.basename(dir),
            spec,
            plan: yield* optional(path.join(dir, "plan.md")),
            tasks: yield* optional(path.join(dir, "tasks.md"))
          })
        })
        const loadOpenSpec = Effect.fnUntraced(function* (dir: string) {
          const deltas: Array<{ capability: string; file: SourceFile }> = []
          for (const cap of yield* list(path.join(dir, "specs"))) {
            const f = yield* optional(path.join(dir, "specs", cap, "spec.md"))
            if (f !== undefined) deltas.push({ capability: cap, file: f })
          }
          const proposal = yield* optional(path.join(dir, "proposal.md"))
          if (deltas.length === 0 && proposal === undefined) {
            return yield* new SpecSourceUnusable({
              path: shown(dir),
              reason: "an OpenSpec change needs proposal.md and specs/<capability>/spec.md",
              hint: "point at openspec/changes/<change-id>/"
            })
          }
          return importOpenSpec({
            change: path.basename(dir),
            proposal,
            tasks: yield* optional(path.join(dir, "tasks.md")),
            deltas
          })
        })
        const loadGherkin = Effect.fnUntraced(function* (p: string, isDir: boolean) {
          const files = isDir ? (yield* list(p)).filter((n) => n.endsWith(".feature")).map((n) => path.join(p, n)) : [p]
          if (files.length === 0)
            return yield* new SpecSourceUnusable({ path: shown(p), reason: "no .feature files found" })
          const sources: Array<SourceFile> = []
          for (const f of files) sources.push(yield* readSource(f))
          return importGherkin(sources, path.basename(p).replace(/\.feature$/, ""))
        })
        const loadEars = Effect.fnUntraced(function* (p: string) {
          return importEars(yield* readSource(p), path.basename(p).replace(/\.(md|markdown|txt)$/, ""))
        })

        /** Which format, and the folder or file to read, for a path. */
        const detect = Effect.fnUntraced(function* (
          p: string,
          format: SpecFormat | undefined
        ): Effect.fn.Return<{ format: SpecFormat; at: string; isDir: boolean }, SpecSourceUnusable> {
          const type = yield* typeOf(p)
          if (type === undefined)
            return yield* new SpecSourceUnusable({ path: shown(p), reason: "no such file or directory" })
          const isDir = type === "Directory"
          const names = isDir ? yield* list(p) : []
          const has = (n: string) => names.includes(n)
          const base = path.basename(p)
          const text = isDir ? "" : yield* fs.readFileString(p).pipe(Effect.orElseSucceed(() => ""))
          if (format !== undefined) {
            if (format === "spec-kit" || format === "openspec") {
              const dir = isDir
                ? p
                : format === "openspec" && path.basename(path.dirname(path.dirname(p))) === "specs"
                  ? path.dirname(path.dirname(path.dirname(p)))
                  : path.dirname(p)
              if (format === "openspec" && isDir) {
                const change = yield* pickOne(p, names, "openspec")
                return { format, at: change, isDir: true }
              }
              if (format === "spec-kit" && isDir && !has("spec.md") && has("specs"))
                return { format, at: yield* pickOne(p, names, "spec-kit"), isDir: true }
              return { format, at: dir, isDir: true }
            }
            return { format, at: p, isDir }
          }
          if (isDir) {
            if (has("spec.md")) return { format: "spec-kit", at: p, isDir }
            if (has("proposal.md") || (has("specs") && (yield* deltaCount(path.join(p, "specs"))) > 0))
              return { format: "openspec", at: p, isDir }
            if (has("changes") || has("openspec") || base === "changes")
              return { format: "openspec", at: yield* pickOne(p, names, "openspec"), isDir: true }
            if (has("specs")) return { format: "spec-kit", at: yield* pickOne(p, names, "spec-kit"), isDir: true }
            if (names.some((n) => n.endsWith(".feature"))) return { format: "gherkin", at: p, isDir }
            const md = names.filter((n) => /\.(md|markdown|txt)$/.test(n))
            const ears: Array<string> = []
            for (const n of md)
              if (looksLikeEars(yield* fs.readFileString(path.join(p, n)).pipe(Effect.orElseSucceed(() => ""))))
                ears.push(n)
            if (ears.length === 1) return { format: "ears", at: path.join(p, ears[0]!), isDir: false }
            return yield* new SpecSourceUnusable({
              path: shown(p),
              reason:
                ears.length > 1
                  ? `several files hold EARS requirements (${ears.join(", ")})`
                  : "no spec found: expected spec.md (spec-kit), proposal.md or specs/<capability>/spec.md (OpenSpec), *.feature (Gherkin) or a Markdown file of EARS requirements",
              hint:
                ears.length > 1
                  ? "import one file at a time"
                  : `or name the format with --format ${SPEC_FORMATS.join("|")}`
            })
          }
          if (p.endsWith(".feature")) return { format: "gherkin", at: p, isDir }
          if (looksLikeOpenSpecDelta(text) && path.basename(path.dirname(path.dirname(p))) === "specs")
            return { format: "openspec", at: path.dirname(path.dirname(path.dirname(p))), isDir: true }
          if (
            base === "proposal.md" ||
            (base === "tasks.md" && (yield* typeOf(path.join(path.dirname(p), "proposal.md"))) === "File")
          )
            return { format: "openspec", at: path.dirname(p), isDir: true }
          if (
            ["spec.md", "plan.md", "tasks.md"].includes(base) &&
            (yield* typeOf(path.join(path.dirname(p), "spec.md"))) === "File"
          )
            return { format: "spec-kit", at: path.dirname(p), isDir: true }
          if (looksLikeSpecKit(text)) return { format: "spec-kit", at: path.dirname(p), isDir: true }
          if (looksLikeEars(text)) return { format: "ears", at: p, isDir }
          return yield* new SpecSourceUnusable({
            path: shown(p),
            reason:
              'not a format spec import reads: no Given/When/Then acceptance scenarios or FR-nnn requirements (spec-kit), no ADDED/MODIFIED/REMOVED Requirements (OpenSpec), no "shall" requirements (EARS), not a .feature file (Gherkin)',
            hint: `name the format with --format ${SPEC_FORMATS.join("|")} to see what is wrong with it`
          })
        })
        const deltaCount = (specs: string) =>
          Effect.gen(function* () {
            let n = 0
            for (const cap of yield* list(specs))
              if (
                looksLikeOpenSpecDelta(
                  yield* fs.readFileString(path.join(specs, cap, "spec.md")).pipe(Effect.orElseSucceed(() => ""))
                )
              )
                n++
            return n
          })
        /** The one change (OpenSpec) or feature (spec-kit) under a root folder. */
        const pickOne = Effect.fnUntraced(function* (
          p: string,
          names: ReadonlyArray<string>,
          format: "openspec" | "spec-kit"
        ) {
          if (format === "openspec") {
            if (
              names.includes("proposal.md") ||
              (names.includes("specs") && !names.includes("changes") && !names.includes("openspec"))
            )
              return p
            const changes = names.includes("openspec")
              ? path.join(p, "openspec", "changes")
              : names.includes("changes")
                ? path.join(p, "changes")
                : p
            const ids = (yield* list(changes)).filter((n) => n !== "archive" && !n.startsWith("."))
            if (ids.length === 1) return path.join(changes, ids[0]!)
            return yield* new SpecSourceUnusable({
              path: shown(p),
              reason:
                ids.length === 0
                  ? `no OpenSpec change in ${shown(changes)}`
                  : `${ids.length} OpenSpec changes in ${shown(changes)}: ${ids.join(", ")}`,
              hint: "import one change: spec-orch spec import <path>/changes/<change-id>"
            })
          }
          const specs = path.join(p, "specs")
          const features: Array<string> = []
          for (const n of yield* list(specs))
            if ((yield* typeOf(path.join(specs, n, "spec.md"))) === "File") features.push(n)
          if (features.length === 1) return path.join(specs, features[0]!)
          return yield* new SpecSourceUnusable({
            path: shown(p),
            reason:
              features.length === 0
                ? `no spec-kit feature (specs/<feature>/spec.md) in ${shown(specs)}`
                : `${features.length} spec-kit features in ${shown(specs)}: ${features.join(", ")}`,
            hint: "import one feature: spec-orch spec import specs/<feature>"
          })
        })

        const parse = (
          format: SpecFormat,
          at: string,
          isDir: boolean
        ): Effect.Effect<ImportResult, SpecSourceUnusable> =>
          format === "spec-kit"
            ? loadSpecKit(at)
            : format === "openspec"
              ? loadOpenSpec(at)
              : format === "gherkin"
                ? loadGherkin(at, isDir)
                : isDir
                  ? Effect.fail(
                      new SpecSourceUnusable({
                        path: shown(at),
                        reason: "EARS requirements are read from one file",
                        hint: "point at the Markdown or text file"
                      })
                    )
                  : loadEars(at)

        /** Writes spec.md and mission.json into a hidden folder next to the mission and renames it into place. */
        const writeDraft = Effect.fnUntraced(function* (
          id: string,
          specText: string,
          mission: Mission,
          existing: boolean
        ) {
          const dir = path.join(specsDir, id)
          const tmp = path.join(specsDir, `.import-${id}-${randomBytes(4).toString("hex")}`)
          const old = `${tmp}.old`
          yield* Effect.gen(function* () {
            yield* fs.makeDirectory(tmp, { recursive: true })
            if (existing) {
              for (const n of yield* fs.readDirectory(dir)) {
                if (n !== "spec.md" && n !== "mission.json") yield* fs.copy(path.join(dir, n), path.join(tmp, n))
              }
            }
            yield* fs.writeFileString(path.join(tmp, "spec.md"), specText)
            yield* fs.writeFileString(path.join(tmp, "mission.json"), missionFileText(mission))
            if ((yield* typeOf(dir)) !== undefined) yield* fs.rename(dir, old)
            yield* fs.rename(tmp, dir)
            yield* fs.remove(old, { recursive: true }).pipe(Effect.ignore)
          }).pipe(
            // put the previous draft back if it was moved aside and the new one did not take its place
            Effect.onError(() =>
              Effect.gen(function* () {
                if ((yield* typeOf(dir)) === undefined && (yield* typeOf(old)) !== undefined) yield* fs.rename(old, dir)
                yield* fs.remove(tmp, { recursive: true })
              }).pipe(Effect.ignore)
            ),
            Effect.orDie
          )
        })

        /** Removes hidden folders an interrupted import of `id` left behind. */
        const sweep = (id: string) =>
          Effect.gen(function* () {
            for (const n of yield* list(specsDir))
              if (n.startsWith(`.import-${id}-`))
                yield* fs.remove(path.join(specsDir, n), { recursive: true }).pipe(Effect.ignore)
          })

        const run = Effect.fn("SpecImports.run")(function* (input: SpecImportInput) {
          const abs = path.resolve(project.root, input.path)
          const found = yield* detect(abs, input.format)
          const result = yield* parse(found.format, found.at, found.isDir)
          if (result.problems !== undefined)
            return yield* new InvalidFile({ file: result.problems[0]!.file, problems: result.problems })
          const spec =
            input.title !== undefined && input.title.trim() !== ""
              ? { ...result.spec, title: input.title.trim() }
              : result.spec
          const source = shown(found.at)
          const rawId = input.missionId ?? spec.suggestedId
          const idCheck = /^[a-z0-9][a-z0-9-]{0,127}$/.test(rawId)
          if (!idCheck)
            return yield* new SpecImportRefused({
              missionId: rawId,
              reason: "not a valid mission id (a lowercase slug: a-z, 0-9, '-')",
              hint: "choose one with --mission <id>"
            })
          const id = makeMissionId(rawId)
          const rendered = renderImportedSpec(spec, source)
          const dir = path.join(specsDir, id)
          const hasMission = (yield* typeOf(path.join(dir, "mission.json"))) === "File"
          const now = yield* nowIso
          const specPath = path.relative(project.root, path.join(dir, "spec.md"))
          const draft = (createdAt: string) =>
            new Mission({
              id,
              title: spec.title,
              status: "drafting",
              specPath,
              acceptanceCriteria: rendered.criteria,
              constraints: [...spec.constraints],
              interfaceContracts: [],
              createdAt
            })
          const base = {
            format: spec.format,
            source,
            criteria: rendered.criteria.length,
            taskGroups: spec.tasks.length,
            dryRun: input.dryRun === true,
            specText: rendered.text
          }
          const noChanges = { added: [], removed: [], changed: [], sections: [], moved: 0 }
          const write = (mission: Mission, existing: boolean) =>
            input.dryRun === true
              ? Effect.void
              : Effect.andThen(sweep(id), writeDraft(id, rendered.text, mission, existing))
          const viewAfter = (mission: Mission) =>
            input.dryRun === true
              ? Effect.succeed({ mission, dir, specState: "unapproved" } satisfies MissionView)
              : missions.get(id)
          if (!hasMission) {
            const mission = draft(now)
            yield* write(mission, (yield* typeOf(dir)) === "Directory")
            return {
              ...base,
              action: "created",
              view: yield* viewAfter(mission),
              changes: noChanges,
              unapproved: false
            } satisfies SpecImportOutcome
          }
          const current = yield* missions.get(id)
          const oldText = yield* fs
            .readFileString(path.join(project.root, current.mission.specPath))
            .pipe(Effect.orElseSucceed(() => ""))
          const marker = MARKER.exec(oldText)
          if (marker === null && input.force !== true) {
            return yield* new SpecImportRefused({
              missionId: id,
              reason: `it exists and was not imported (${current.mission.specPath} has no import marker)`,
              hint: "import under another id with --mission <id>, or pass --force to replace it"
            })
          }
          if (marker !== null && marker[2] !== source && input.force !== true) {
            return yield* new SpecImportRefused({
              missionId: id,
              reason: `it was imported from ${marker[2]}, not ${source}`,
              hint: "import under another id with --mission <id>, or pass --force to replace it"
            })
          }
          const edited = marker !== null && draftHash(oldText) !== marker[3]
          if (edited && input.force !== true) {
            return yield* new SpecImportRefused({
              missionId: id,
              reason: `${current.mission.specPath} was edited after it was imported; importing again would lose those edits`,
              hint: "make the edits in the source and pass --force, or import under another id with --mission <id>"
            })
          }
          const oldCriteria = current.mission.acceptanceCriteria.map(withoutSourceNote)
          const newCriteria = rendered.criteria.map(withoutSourceNote)
          const oldSections = sectionsOf(oldText)
          const newSections = sectionsOf(rendered.text)
          const changes = {
            ...criteriaChanges(oldCriteria, newCriteria),
            sections: [...new Set([...oldSections.keys(), ...newSections.keys()])].filter(
              (s) => s !== "Acceptance Criteria" && oldSections.get(s) !== newSections.get(s)
            ),
            moved: rendered.criteria.filter(
              (c, i) => oldCriteria.includes(newCriteria[i]!) && !current.mission.acceptanceCriteria.includes(c)
            ).length
          }
          const same =
            oldText === rendered.text &&
            current.mission.title === spec.title &&
            JSON.stringify(current.mission.acceptanceCriteria) === JSON.stringify(rendered.criteria) &&
            JSON.stringify(current.mission.constraints) === JSON.stringify(spec.constraints)
          if (same)
            return {
              ...base,
              action: "unchanged",
              view: current,
              changes,
              unapproved: false
            } satisfies SpecImportOutcome
          const status = current.mission.status
          if (status !== "drafting") {
            const what =
              describeCriteriaChanges(changes) || (changes.moved > 0 ? "source lines moved" : "the spec text changed")
            if (status !== "approved") {
              return yield* new SpecImportRefused({
                missionId: id,
                reason: `it is ${status}; an import cannot replace its spec (${what})`,
                hint: "import the new version under another id with --mission <id>"
              })
            }
            if (input.force !== true) {
              return yield* new SpecImportRefused({
                missionId: id,
                reason: `it is approved and the source changed (${what})`,
                hint: "pass --force to replace the draft and approve it again, or import under another id with --mission <id>"
              })
            }
          }
          const mission = draft(current.mission.createdAt)
          yield* write(mission, true)
          return {
            ...base,
            action: "updated",
            view: yield* viewAfter(mission),
            changes,
            unapproved: status === "approved"
          } satisfies SpecImportOutcome
        })

        return SpecImports.of({ run })
      })
    )
}
