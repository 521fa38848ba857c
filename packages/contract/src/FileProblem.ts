/**
 * Problems found in files people write (spec-orch.toml, fixtures, mission files, policies). Every
 * problem names the file, the line and the key, says what was expected and what was found, and
 * where possible how to fix it. Errors stop a load; warnings are reported and loading goes on.
 */
import { Schema } from "effect"

/** One problem at one place in one file. */
export class FileProblem extends Schema.Class<FileProblem>("@spec-orch/contract/FileProblem")({
  file: Schema.String,
  line: Schema.optionalKey(Schema.Number),
  column: Schema.optionalKey(Schema.Number),
  /** Dotted key path (`builder.timeout_seconds`, `conditions.review.required`), empty for the whole file. */
  key: Schema.String,
  severity: Schema.Literals(["error", "warning"]),
  message: Schema.String,
  hint: Schema.optionalKey(Schema.String)
}) {}

/** `file:line:col: severity: key: message (hint)`, the form editors and terminals link. */
export const formatProblem = (p: FileProblem): string => {
  const where = `${p.file}${p.line !== undefined ? `:${p.line}` : ""}${p.column !== undefined ? `:${p.column}` : ""}`
  const key = p.key === "" ? "" : `${p.key}: `
  return `${where}: ${p.severity}: ${key}${p.message}${p.hint !== undefined ? ` (${p.hint})` : ""}`
}

/** A file could not be used; `problems` lists every error found (and the warnings seen with them). */
export class InvalidFile extends Schema.TaggedError<InvalidFile>()("InvalidFile", {
  file: Schema.String,
  problems: Schema.Array(FileProblem)
}) {
  override get message(): string {
    const errors = this.problems.filter((p) => p.severity === "error")
    const head = `${this.file} has ${errors.length} problem${errors.length === 1 ? "" : "s"}:`
    return [head, ...errors.map((p) => `  ${formatProblem(p)}`)].join("\n")
  }
}

/** A file that must exist does not. */
export class FileMissing extends Schema.TaggedError<FileMissing>()("FileMissing", {
  file: Schema.String,
  what: Schema.String,
  hint: Schema.optionalKey(Schema.String)
}) {
  override get message(): string {
    return `${this.what} not found: ${this.file}${this.hint !== undefined ? ` (${this.hint})` : ""}`
  }
}

/** The closest candidate within a small edit distance, for "did you mean" hints. */
export const didYouMean = (input: string, candidates: ReadonlyArray<string>): string | undefined => {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(input.length / 3)) + 1
  for (const candidate of candidates) {
    const d = editDistance(input.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

const editDistance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = current
    }
  }
  return row[b.length]!
}
