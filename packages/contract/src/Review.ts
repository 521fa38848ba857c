/** Review verdicts from a human, an LLM reviewer or the local no-op reviewer. */
import { Schema } from "effect"

/** What a reviewer concluded. `pending` means nobody has reviewed yet. */
export const ReviewVerdictKind = Schema.Literals(["pass", "changes_requested", "uncertain", "pending"])
export type ReviewVerdictKind = typeof ReviewVerdictKind.Type

/**
 * What an automatic reviewer was not shown: the diff it read was cut to fit its budget. A `pass`
 * given on such a partial view is qualified: the gate's review condition asks a person to review.
 */
export const ReviewPartialView = Schema.Struct({
  /** Files whose changes were not shown in full (cut, or left out entirely). */
  files: Schema.Array(Schema.String),
  /** Characters of the diff the reviewer did not see, of `totalChars`. */
  charsNotShown: Schema.Number,
  totalChars: Schema.Number
})
export type ReviewPartialView = typeof ReviewPartialView.Type

/** One review verdict. */
export class ReviewVerdict extends Schema.Class<ReviewVerdict>("@spec-orch/contract/ReviewVerdict")({
  verdict: ReviewVerdictKind,
  reviewedBy: Schema.String,
  source: Schema.Literals(["human", "llm", "local"]),
  reviewedAt: Schema.String,
  summary: Schema.String,
  /** sha256 of the diff that was reviewed. */
  diffHash: Schema.optionalKey(Schema.String),
  /** Present when the reviewer saw only part of the diff (see `ReviewPartialView`). */
  partial: Schema.optionalKey(ReviewPartialView),
  /** For an LLM review: the model that answered, after how many calls, fallbacks and repair. */
  model: Schema.optionalKey(Schema.String),
  /** For an LLM review that produced no valid answer: why (the verdict is then `uncertain`). */
  failure: Schema.optionalKey(Schema.String)
}) {}
