/**
 * The secret scan of a run's diff: the lines the diff adds, per file, go through secretlint's
 * recommended rule set (maintained upstream, not a home-made list), and every added line that holds
 * the value of a secret environment variable is a finding too. A finding names the file, the line
 * in the new file and the rule; it never carries the secret. Comments in the change cannot turn
 * the scan off: secretlint's `secretlint-disable` filter is not loaded.
 */
import { SecretFinding } from "@spec-orch/contract"
import { Context, Effect, Layer, Schema } from "effect"
import { Redactor } from "./Redaction.js"

/** The lines a unified diff adds to one file, with their line numbers in the new file. */
export interface AddedLines {
  readonly file: string
  readonly lines: ReadonlyArray<{ readonly line: number; readonly text: string }>
}

/** Undoes git's C-style quoting of a path (`"a/caf\303\251.txt"`). */
const unquote = (path: string): string => {
  if (!path.startsWith('"') || !path.endsWith('"')) return path
  const bytes: Array<number> = []
  const body = path.slice(1, -1)
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, "\\": 92, a: 7, b: 8, f: 12, v: 11 }
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!
    if (c !== "\\") {
      bytes.push(...Buffer.from(c, "utf8"))
      continue
    }
    const next = body[i + 1] ?? ""
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8))
      i += 3
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0))
      i += 1
    }
  }
  return Buffer.from(bytes).toString("utf8")
}

const HUNK = /^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/

/**
 * The added lines of a unified diff (`git diff` output), per file, in diff order. Deleted files and
 * binary files have none. Hunk line counts decide where a hunk ends, so an added line that itself
 * starts with `++ ` is not taken for a file header.
 */
export const addedLines = (diff: string): ReadonlyArray<AddedLines> => {
  const out: Array<{ file: string; lines: Array<{ line: number; text: string }> }> = []
  let current: { file: string; lines: Array<{ line: number; text: string }> } | undefined
  let oldLeft = 0
  let newLeft = 0
  let newLine = 0
  for (const raw of diff.split("\n")) {
    if (oldLeft > 0 || newLeft > 0) {
      const kind = raw[0]
      if (kind === "+") {
        current?.lines.push({ line: newLine, text: raw.slice(1) })
        newLine++
        newLeft--
      } else if (kind === "-") {
        oldLeft--
      } else if (kind === "\\") {
        // "\ No newline at end of file"
      } else {
        newLine++
        newLeft--
        oldLeft--
      }
      continue
    }
    if (raw.startsWith("diff --git ")) {
      current = undefined
    } else if (raw.startsWith("+++ ")) {
      const target = unquote(raw.slice(4).replace(/\t.*$/, ""))
      if (target === "/dev/null") current = undefined
      else {
        current = { file: target.replace(/^b\//, ""), lines: [] }
        out.push(current)
      }
    } else {
      const hunk = HUNK.exec(raw)
      if (hunk !== null) {
        oldLeft = hunk[1] !== undefined ? Number(hunk[1]) : 1
        newLine = Number(hunk[2])
        newLeft = hunk[3] !== undefined ? Number(hunk[3]) : 1
      }
    }
  }
  return out.filter((f) => f.lines.length > 0)
}

/** The rule id of findings for values of secret environment variables. */
export const ENV_VALUE_RULE = "spec-orch/env-value"

const FILTER_COMMENTS = "@secretlint/secretlint-rule-filter-comments"
const AWS = "@secretlint/secretlint-rule-aws"

interface LintMessage {
  readonly ruleId: string
  readonly message: string
  readonly loc: { readonly start: { readonly line: number } }
}

type Lint = (file: string, content: string) => Promise<ReadonlyArray<LintMessage>>

// secretlint is ESM and weighs 200 kB: loaded on the first scan, not when the CLI starts.
let linter: Promise<Lint> | undefined
const loadLinter = (): Promise<Lint> =>
  (linter ??= Promise.all([import("@secretlint/core"), import("@secretlint/secretlint-rule-preset-recommend")]).then(
    ([core, preset]) => {
      // Rules one by one rather than the preset: a preset ignores per-rule `disabled`, and the comment
      // filter must not load (it would let the change switch the scan off with a comment).
      const rules = (preset.rules as ReadonlyArray<{ readonly meta: { readonly id: string } }>)
        .filter((rule) => rule.meta.id !== FILTER_COMMENTS)
        .map((rule) => ({
          id: rule.meta.id,
          rule,
          ...(rule.meta.id === AWS ? { options: { enableIDScanRule: true } } : {})
        }))
      return async (file: string, content: string) => {
        const result = await core.lintSource({
          source: { filePath: file, content, contentType: "text" },
          options: { config: { rules: rules as never }, maskSecrets: true, noPhysicFilePath: true }
        })
        return result.messages as ReadonlyArray<LintMessage>
      }
    }
  ))

/** `found GitHub Token(****): ****` → `found GitHub Token`: secretlint's message without the masked data. */
const cleanMessage = (message: string): string =>
  message
    .replace(/\(?\*{3,}\)?/g, "")
    .replace(/[\s:]+$/, "")
    .replace(/\s{2,}/g, " ")
    .trim()

/** The secret scan could not run (the rule set failed on this input). */
export class SecretScanFailed extends Schema.TaggedError<SecretScanFailed>()("SecretScanFailed", {
  file: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `the secret scan of ${this.file} failed (${this.detail}); the secrets condition cannot be judged until a scan runs`
  }
}

/** Finds secrets on the lines a diff adds. */
export class SecretScan extends Context.Service<
  SecretScan,
  {
    /** Findings on the added lines of `diff`, sorted by file and line; never the secret itself. */
    readonly scan: (diff: string) => Effect.Effect<ReadonlyArray<SecretFinding>, SecretScanFailed>
  }
>()("@spec-orch/harness/SecretScan") {
  /** secretlint's recommended rules plus the `Redactor`'s secret environment values. */
  static readonly layer: Layer.Layer<SecretScan, never, Redactor> = Layer.effect(
    SecretScan,
    Effect.gen(function* () {
      const redactor = yield* Redactor
      const scan = Effect.fn("SecretScan.scan")(function* (diff: string) {
        const findings = new Map<string, SecretFinding>()
        const add = (f: SecretFinding) => findings.set(`${f.file}\0${f.line}\0${f.rule}`, f)
        for (const { file, lines } of addedLines(diff)) {
          // Added lines as one text, a blank line where the diff skips lines, so a rule never joins
          // lines that are apart in the file; `at[i]` is the new-file line of text line i + 1.
          const text: Array<string> = []
          const at: Array<number | undefined> = []
          lines.forEach(({ line, text: t }, i) => {
            if (i > 0 && lines[i - 1]!.line !== line - 1) {
              text.push("")
              at.push(undefined)
            }
            text.push(t)
            at.push(line)
            for (const name of redactor.envNamesIn(t)) {
              add(
                new SecretFinding({
                  file,
                  line,
                  rule: ENV_VALUE_RULE,
                  message: `adds the value of the secret environment variable ${name}`
                })
              )
            }
          })
          const messages = yield* Effect.tryPromise({
            try: () => loadLinter().then((lint) => lint(file, text.join("\n"))),
            catch: (e) =>
              new SecretScanFailed({ file, detail: redactor.redact(e instanceof Error ? e.message : String(e)) })
          })
          for (const m of messages) {
            const line =
              at[m.loc.start.line - 1] ?? at.slice(m.loc.start.line - 1).find((l) => l !== undefined) ?? lines[0]!.line
            add(new SecretFinding({ file, line, rule: m.ruleId, message: redactor.redact(cleanMessage(m.message)) }))
          }
        }
        return [...findings.values()].sort((a, b) =>
          a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || (a.rule < b.rule ? -1 : 1)
        )
      })
      return SecretScan.of({ scan })
    })
  )
}
