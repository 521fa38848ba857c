/** Human acceptance: who accepted what, pinned to the hash of the diff they saw. */
import { Schema } from "effect"

/** A human's acceptance of one exact change. A different diff hash later invalidates it. */
export class HumanAcceptance extends Schema.Class<HumanAcceptance>("@spec-orch/contract/HumanAcceptance")({
  acceptedBy: Schema.String,
  acceptedAt: Schema.String,
  /** sha256 of the diff that was accepted. */
  diffHash: Schema.String,
  note: Schema.optionalKey(Schema.String)
}) {}
