/** Deviations: changes outside the declared scope. The gate policy decides which severities block. */
import { Schema } from "effect"

/** A deviation from the declared scope. */
export class Deviation extends Schema.Class<Deviation>("@spec-orch/contract/Deviation")({
  id: Schema.String,
  description: Schema.String,
  severity: Schema.Literals(["minor", "major", "blocking"]),
  resolution: Schema.Literals(["pending", "accepted", "spec_amended", "reverted"]),
  detectedBy: Schema.String,
  filePath: Schema.optionalKey(Schema.String)
}) {}
