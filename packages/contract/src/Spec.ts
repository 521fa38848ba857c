/**
 * Spec snapshots: what "done" means for one issue, frozen by an approval. An approval records who,
 * when and the content hash; a snapshot whose content no longer matches its hash is stale.
 */
import { Schema } from "effect"
import { IssueId } from "./Ids.js"

/** What a question is about. */
export const QuestionCategory = Schema.Literals(["requirement", "environment", "architecture", "risk"])
export type QuestionCategory = typeof QuestionCategory.Type

/** An open question about a spec; a blocking question without a decision stops a run. */
export class Question extends Schema.Class<Question>("@spec-orch/contract/Question")({
  id: Schema.String,
  text: Schema.String,
  category: QuestionCategory,
  blocking: Schema.Boolean,
  askedBy: Schema.String,
  askedAt: Schema.String
}) {}

/** The answer to a question, and who decided it. */
export class Decision extends Schema.Class<Decision>("@spec-orch/contract/Decision")({
  questionId: Schema.String,
  answer: Schema.String,
  decidedBy: Schema.String,
  decidedAt: Schema.String
}) {}

/** The approval that froze a snapshot's content. */
export class SpecApproval extends Schema.Class<SpecApproval>("@spec-orch/contract/SpecApproval")({
  approvedBy: Schema.String,
  approvedAt: Schema.String,
  /** sha256 of the content that was approved. */
  contentHash: Schema.String,
  version: Schema.Number
}) {}

/** One issue's spec: the content that was frozen, and the questions and decisions around it. */
export class SpecSnapshot extends Schema.Class<SpecSnapshot>("@spec-orch/contract/SpecSnapshot")({
  issueId: IssueId,
  /** Starts at 1 and grows by one with every approval. */
  version: Schema.Number,
  /** The canonical text of what is being built (title, summary, prompt, acceptance criteria, constraints). */
  content: Schema.String,
  contentHash: Schema.String,
  approval: Schema.optionalKey(SpecApproval),
  questions: Schema.Array(Question),
  decisions: Schema.Array(Decision),
  createdAt: Schema.String,
  updatedAt: Schema.String
}) {}

/** Questions that are blocking and have no decision yet. */
export const unresolvedBlocking = (snapshot: SpecSnapshot): ReadonlyArray<Question> =>
  snapshot.questions.filter((q) => q.blocking && !snapshot.decisions.some((d) => d.questionId === q.id))

/** Whether the snapshot is approved and its content still matches what was approved. */
export const specState = (snapshot: SpecSnapshot): "approved" | "unapproved" | "changed-since-approval" =>
  snapshot.approval === undefined
    ? "unapproved"
    : snapshot.approval.contentHash === snapshot.contentHash
      ? "approved"
      : "changed-since-approval"
