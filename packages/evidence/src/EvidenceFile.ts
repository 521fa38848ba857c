/**
 * Evidence bundles as plain JSON: how a third-party pipeline (or `gate evaluate --evidence`) hands
 * evidence to the gate. Decoding names the file, line and key of every problem; keys the schema
 * does not know are dropped (they cannot sneak data past the gate).
 */
import {
  describeValue,
  EvidenceBundle,
  FileProblem,
  InvalidFile,
  positionOf,
  valueAt,
  yamlLocator
} from "@spec-orch/contract"
import { Result, Schema } from "effect"

const standard = Schema.toStandardSchemaV1(EvidenceBundle)
const encode = Schema.encodeSync(EvidenceBundle)

/** Decodes an already parsed JSON value into a bundle; `file` and `text` are used to locate problems. */
export const decodeEvidence = (
  raw: unknown,
  file: string,
  text?: string
): Result.Result<EvidenceBundle, InvalidFile> => {
  const r = standard["~standard"].validate(raw)
  if (r instanceof Promise) throw new TypeError("EvidenceBundle decoding is synchronous")
  if (r.issues === undefined) return Result.succeed(r.value)
  const locate = text !== undefined ? yamlLocator(text) : () => undefined
  const problems = r.issues.map((issue) => {
    const path = (issue.path ?? []).map((p) => (typeof p === "object" ? p.key : p))
    const pos = locate(path)
    const found = valueAt(raw, path)
    const message =
      issue.message === "Missing key"
        ? "is required"
        : `${issue.message.replace(/^Expected/, "expected")}, found ${describeValue(found)}`
    return new FileProblem({
      file,
      ...(pos ? { line: pos.line, column: pos.column } : {}),
      key: path.map(String).join("."),
      severity: "error",
      message
    })
  })
  return Result.fail(new InvalidFile({ file, problems }))
}

/** Parses JSON text into a bundle, naming file, line and key of every problem. */
export const parseEvidence = (text: string, file: string): Result.Result<EvidenceBundle, InvalidFile> => {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e)
    const at = /position (\d+)/.exec(msg)
    const pos = at ? positionOf(text, Number(at[1])) : undefined
    return Result.fail(
      new InvalidFile({
        file,
        problems: [
          new FileProblem({
            file,
            ...(pos ? { line: pos.line, column: pos.column } : {}),
            key: "",
            severity: "error",
            message: `not valid JSON: ${msg.replace(/ in JSON at position \d+.*$/, "")}`
          })
        ]
      })
    )
  }
  return decodeEvidence(raw, file, text)
}

/** The bundle as plain JSON data (the schema's encoded form), for files and the ledger. */
export const evidenceJson = (bundle: EvidenceBundle): typeof EvidenceBundle.Encoded => encode(bundle)
