/**
 * Findings: things a reviewer, a bot or CI noticed. Only blocking, in-spec, unresolved findings can
 * block a gate; the fingerprint lets the same finding from two sources be recorded once.
 */
import { Schema } from "effect"
import { sha256 } from "./Files.js"

/** A finding. */
export class Finding extends Schema.Class<Finding>("@spec-orch/contract/Finding")({
  id: Schema.String,
  source: Schema.String,
  severity: Schema.Literals(["blocking", "advisory"]),
  scope: Schema.Literals(["in_spec", "out_of_spec"]),
  confidence: Schema.Number,
  fingerprint: Schema.String,
  description: Schema.String,
  filePath: Schema.optionalKey(Schema.String),
  line: Schema.optionalKey(Schema.Number),
  suggestedAction: Schema.optionalKey(Schema.String),
  resolved: Schema.Boolean,
  resolvedBy: Schema.optionalKey(Schema.String),
  createdAt: Schema.String
}) {}

/** sha256 of `source:file:line:description`, first 16 hex characters (the original's scheme). */
export const findingFingerprint = (f: {
  source: string
  filePath?: string | undefined
  line?: number | undefined
  description: string
}): string => sha256(`${f.source}:${f.filePath ?? ""}:${f.line ?? ""}:${f.description}`).slice(0, 16)

/** Whether a finding blocks: blocking, in spec and not resolved. */
export const findingBlocks = (f: Finding): boolean => f.severity === "blocking" && f.scope === "in_spec" && !f.resolved
