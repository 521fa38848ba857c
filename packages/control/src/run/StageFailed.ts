/**
 * The Run workflow's one error: a stage could not be carried out at all (not a negative answer: the
 * gate's "no" is a verdict). Its `reason` is the planes' own tagged error, kept as data in the workflow
 * journal; what no plane names is an `Unexpected` with its message. Journals written when the reason
 * was a plain string still decode: such a row reads as an `Unexpected`.
 */
import {
  FileMissing,
  InvalidFile,
  IssueNotFound,
  IssueSourceUnavailable,
  MissionExists,
  MissionTransitionRefused,
  QuestionNotFound,
  renderError,
  Unexpected
} from "@spec-orch/contract"
import { FindingNotFound, LedgerError, NoEvidence, NothingToAccept, UnknownProfile } from "@spec-orch/evidence"
import { AgentError, SandboxUnavailable, WorkspaceError } from "@spec-orch/execution"
import { ModelsError, SecretScanFailed } from "@spec-orch/harness"
import { Option, Schema, SchemaGetter } from "effect"
import { PacketNotFound } from "../mission/PacketIssue.js"
import { PublishError } from "../publish/Publisher.js"
import { TrackerError } from "../trackers/TrackerError.js"

/** A stage's own check stopped the run (a failing `[workspace]` hook, a prompt over budget, nothing to reuse). */
export class StageStopped extends Schema.TaggedError<StageStopped>()("StageStopped", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

/** A journal row from before reasons were typed: its string reads as an `Unexpected`. */
const LegacyReason = Schema.String.pipe(
  Schema.decodeTo(Unexpected, {
    decode: SchemaGetter.transform((message: string) => ({ _tag: "Unexpected" as const, message })),
    encode: SchemaGetter.transform((u: { readonly message: string }) => u.message)
  })
)

/** Why a stage failed: one of the planes' errors, a stage's own check, or `Unexpected`. */
export const StageFailure = Schema.Union([
  AgentError,
  FileMissing,
  FindingNotFound,
  InvalidFile,
  IssueNotFound,
  IssueSourceUnavailable,
  LedgerError,
  MissionExists,
  MissionTransitionRefused,
  ModelsError,
  NoEvidence,
  NothingToAccept,
  PacketNotFound,
  PublishError,
  QuestionNotFound,
  SandboxUnavailable,
  SecretScanFailed,
  StageStopped,
  TrackerError,
  UnknownProfile,
  WorkspaceError,
  Unexpected,
  LegacyReason
])
export type StageFailure = typeof StageFailure.Type

const isStageFailure = Schema.is(StageFailure)

/** A stage could not be carried out at all; `reason` says why, as the plane that failed put it. */
export class StageFailed extends Schema.TaggedError<StageFailed>()("StageFailed", {
  stage: Schema.String,
  reason: StageFailure
}) {
  override get message(): string {
    return `${this.stage} stage failed: ${this.reason.message}`
  }

  /** `error` as the reason of a failed `stage`: kept as it is when it is a plane's tagged error, else `Unexpected`. */
  static of(stage: string, error: unknown): StageFailed {
    return new StageFailed({
      stage,
      reason: isStageFailure(error) ? error : new Unexpected({ message: renderError(error) })
    })
  }

  /** A stage's own check stopped it, saying `detail`. */
  static stopped(stage: string, detail: string): StageFailed {
    return new StageFailed({ stage, reason: new StageStopped({ detail }) })
  }

  /**
   * `failure` with every secret taken out of its data (`redactJson` over the encoded error, decoded
   * again); an error that does not encode keeps only its redacted message.
   */
  static redacted(
    failure: StageFailed,
    redactJson: (value: unknown) => unknown,
    redact: (text: string) => string
  ): StageFailed {
    return Schema.encodeUnknownOption(StageFailed)(failure).pipe(
      Option.flatMap((encoded) => Schema.decodeUnknownOption(StageFailed)(redactJson(encoded))),
      Option.getOrElse(
        () =>
          new StageFailed({ stage: failure.stage, reason: new Unexpected({ message: redact(failure.reason.message) }) })
      )
    )
  }
}
