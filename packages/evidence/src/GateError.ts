/**
 * Why the evidence plane could not do what was asked. A blocked gate is not an error: it is a
 * verdict with `mergeable: false`. These errors mean the question itself could not be answered
 * (an unknown profile, an issue that never ran, an unreadable evidence file or ledger).
 */
import { Schema } from "effect"

/** The profile named on the command line or in spec-orch.toml is not in the policy. */
export class UnknownProfile extends Schema.TaggedError<UnknownProfile>()("UnknownProfile", {
  profile: Schema.String,
  policy: Schema.String,
  known: Schema.Array(Schema.String),
  suggestion: Schema.optionalKey(Schema.String)
}) {
  override get message(): string {
    const hint =
      this.suggestion !== undefined
        ? `did you mean "${this.suggestion}"?`
        : this.known.length > 0
          ? `profiles in this policy: ${this.known.join(", ")}`
          : "this policy defines no profiles; add one under `profiles:` or leave the profile out"
    return `unknown gate profile "${this.profile}" in ${this.policy} (${hint})`
  }
}

/** The ledger holds no evidence for the issue: it has never been run (or judged) here. */
export class NoEvidence extends Schema.TaggedError<NoEvidence>()("NoEvidence", {
  issueId: Schema.String,
  ledger: Schema.String
}) {
  override get message(): string {
    return (
      `no evidence recorded for ${this.issueId} in ${this.ledger}: the issue has never been run here ` +
      `(run it first, or judge a JSON bundle with \`spec-orch gate evaluate ${this.issueId} --evidence <file.json>\`)`
    )
  }
}

/** The evidence ledger could not be read or written (locked, corrupt or unreachable database). */
export class LedgerError extends Schema.TaggedError<LedgerError>()("LedgerError", {
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `evidence ledger: ${this.operation} failed: ${this.reason}`
  }
}

/** A request refers to a finding the ledger does not hold for that issue. */
export class FindingNotFound extends Schema.TaggedError<FindingNotFound>()("FindingNotFound", {
  issueId: Schema.String,
  findingId: Schema.String,
  known: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return (
      `no finding ${this.findingId} on ${this.issueId}` +
      (this.known.length > 0
        ? ` (findings on this issue: ${this.known.join(", ")})`
        : " (this issue has no findings; see `spec-orch findings list`)")
    )
  }
}

/** Acceptance needs the hash of the diff being accepted, and the latest evidence has none. */
export class NothingToAccept extends Schema.TaggedError<NothingToAccept>()("NothingToAccept", {
  issueId: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `cannot accept ${this.issueId}: ${this.reason}`
  }
}
