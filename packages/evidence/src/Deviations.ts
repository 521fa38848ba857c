/**
 * Deviations: changed files outside the declared footprint, with a severity. Detection is pure and
 * deterministic (same files, same deviations, same ids); which severities block is the policy's
 * `deviations.block_on` rule, never the detector's.
 *
 * Severity rule: a file matching a `forbidden` entry is `blocking`; a file outside a non-empty
 * `allowed` list is `major`, except incidental files (lockfiles, `.changeset/*`, CHANGELOG) which
 * are `minor`. An empty `allowed` list means no footprint was declared: only `forbidden` applies.
 */
import { Deviation, type Footprint, sha256 } from "@spec-orch/contract"
import { Glob } from "effect"

/** How severe a deviation is. */
export type DeviationSeverity = Deviation["severity"]

/** Every severity, mildest first. */
export const DEVIATION_SEVERITIES: ReadonlyArray<DeviationSeverity> = ["minor", "major", "blocking"]

/** The default `deviations.block_on`: major and blocking deviations block; minor ones are advisory. */
export const DEFAULT_BLOCK_ON: ReadonlyArray<DeviationSeverity> = ["major", "blocking"]

/** Who the detector says found a deviation (the original's name for it). */
export const SCOPE_DETECTOR = "gate/scope_check"

const LOCKFILES = new Set([
  "pnpm-lock.yaml",
  "package-lock.json",
  "npm-shrinkwrap.json",
  "yarn.lock",
  "bun.lockb",
  "bun.lock",
  "Cargo.lock",
  "go.sum",
  "poetry.lock",
  "uv.lock",
  "Pipfile.lock",
  "Gemfile.lock",
  "composer.lock"
])

/** Normalizes a repository-relative path: forward slashes, no leading `./`. */
export const normalizePath = (p: string): string => {
  let s = p.replace(/\\/g, "/")
  while (s.startsWith("./")) s = s.slice(2)
  return s
}

const GLOB_CHARS = /[*?[{]/

/** Compiled globs and their answers per path, bounded: the same files are matched many times per verdict. */
const globs = new Map<string, { readonly glob: Glob.Glob; readonly answers: Map<string, boolean> }>()
const globMatch = (pattern: string, file: string): boolean => {
  let g = globs.get(pattern)
  if (g === undefined) {
    if (globs.size > 500) globs.clear()
    g = { glob: Glob.make(pattern, { dot: true }), answers: new Map() }
    globs.set(pattern, g)
  }
  let answer = g.answers.get(file)
  if (answer === undefined) {
    if (g.answers.size > 2000) g.answers.clear()
    answer = Glob.match(g.glob, file)
    g.answers.set(file, answer)
  }
  return answer
}

/**
 * Whether `file` is covered by one footprint entry: a glob (`src/**\/*.ts`), a directory prefix
 * (`src/api/`), or a path that names the file itself or a directory containing it.
 */
export const matchesEntry = (entry: string, file: string): boolean => {
  const e = normalizePath(entry)
  const f = normalizePath(file)
  if (e === "" || e === "." || e === "**") return true
  if (GLOB_CHARS.test(e)) return globMatch(e, f)
  if (e.endsWith("/")) return f.startsWith(e)
  return f === e || f.startsWith(`${e}/`)
}

/** Whether `file` is covered by any of `entries`. */
export const matchesAny = (entries: ReadonlyArray<string>, file: string): boolean =>
  entries.some((e) => matchesEntry(e, file))

/** Whether a changed file is incidental bookkeeping (a lockfile, a changeset, a changelog). */
export const isIncidental = (file: string): boolean => {
  const f = normalizePath(file)
  const base = f.slice(f.lastIndexOf("/") + 1)
  return LOCKFILES.has(base) || f.startsWith(".changeset/") || /^CHANGELOG(\.md)?$/i.test(base)
}

/** Where one changed file stands against the footprint: inside, forbidden, or outside. */
export const placeFile = (footprint: Footprint, file: string): "inside" | "forbidden" | "outside" => {
  if (matchesAny(footprint.forbidden, file)) return "forbidden"
  if (footprint.allowed.length === 0 || matchesAny(footprint.allowed, file)) return "inside"
  return "outside"
}

const list = (entries: ReadonlyArray<string>) =>
  entries.length <= 4 ? entries.join(", ") : `${entries.slice(0, 4).join(", ")} and ${entries.length - 4} more`

/** The deviations of `changedFiles` against `footprint`, one per offending file, in input order. */
export const detectDeviations = (changedFiles: ReadonlyArray<string>, footprint: Footprint): Array<Deviation> => {
  const out: Array<Deviation> = []
  const seen = new Set<string>()
  for (const raw of changedFiles) {
    const file = normalizePath(raw)
    if (seen.has(file)) continue
    seen.add(file)
    const place = placeFile(footprint, file)
    if (place === "inside") continue
    const severity: DeviationSeverity = place === "forbidden" ? "blocking" : isIncidental(file) ? "minor" : "major"
    const description =
      place === "forbidden"
        ? `${file} is a forbidden path for this change (forbidden: ${list(footprint.forbidden)})`
        : `${file} changed outside the declared footprint (allowed: ${list(footprint.allowed)})${severity === "minor" ? "; incidental file" : ""}`
    out.push(
      new Deviation({
        id: `dev-${sha256(`${file}\n${severity}`).slice(0, 8)}`,
        description,
        severity,
        resolution: "pending",
        detectedBy: SCOPE_DETECTOR,
        filePath: file
      })
    )
  }
  return out
}

/** Whether a deviation blocks under a `block_on` rule: its severity is listed and it is still pending. */
export const deviationBlocks = (d: Deviation, blockOn: ReadonlyArray<DeviationSeverity>): boolean =>
  d.resolution === "pending" && blockOn.includes(d.severity)
