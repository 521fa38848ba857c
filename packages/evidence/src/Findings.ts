/**
 * Findings: what a reviewer, a bot or CI noticed. Creation is deterministic (the id is derived
 * from the original's fingerprint, sha256 of `source:file:line:description`), so the same finding
 * reported twice is recorded once; a resolution is a human decision and survives re-reports.
 */
import { Finding, findingFingerprint } from "@spec-orch/contract"

/** What a caller knows when it reports a finding; the rest has documented defaults. */
export interface NewFinding {
  readonly source: string
  readonly description: string
  /** Default `advisory`. */
  readonly severity?: Finding["severity"] | undefined
  /** Default `in_spec`. */
  readonly scope?: Finding["scope"] | undefined
  /** 0..1, default 0.5. */
  readonly confidence?: number | undefined
  readonly filePath?: string | undefined
  readonly line?: number | undefined
  readonly suggestedAction?: string | undefined
}

/** The finding id for a fingerprint: `f-` and its first 8 hex characters. */
export const findingId = (fingerprint: string): string => `f-${fingerprint.slice(0, 8)}`

/** A new, unresolved finding created at `createdAt` (ISO time). */
export const makeFinding = (input: NewFinding, createdAt: string): Finding => {
  const fingerprint = findingFingerprint(input)
  const confidence = input.confidence ?? 0.5
  if (!(confidence >= 0 && confidence <= 1))
    throw new RangeError(`finding confidence must be between 0 and 1, got ${confidence}`)
  return new Finding({
    id: findingId(fingerprint),
    source: input.source,
    severity: input.severity ?? "advisory",
    scope: input.scope ?? "in_spec",
    confidence,
    fingerprint,
    description: input.description,
    ...(input.filePath !== undefined ? { filePath: input.filePath } : {}),
    ...(input.line !== undefined ? { line: input.line } : {}),
    ...(input.suggestedAction !== undefined ? { suggestedAction: input.suggestedAction } : {}),
    resolved: false,
    createdAt
  })
}

/**
 * `existing` plus the findings of `incoming` whose fingerprint is new, in order. A finding seen
 * before keeps its first record, including a resolution.
 */
export const mergeFindings = (existing: ReadonlyArray<Finding>, incoming: ReadonlyArray<Finding>): Array<Finding> => {
  const seen = new Set(existing.map((f) => f.fingerprint))
  const out = [...existing]
  for (const f of incoming) {
    if (seen.has(f.fingerprint)) continue
    seen.add(f.fingerprint)
    out.push(f)
  }
  return out
}

/** The finding marked resolved by `resolvedBy`. */
export const resolveFinding = (finding: Finding, resolvedBy: string): Finding =>
  new Finding({ ...finding, resolved: true, resolvedBy })
