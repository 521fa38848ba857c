/**
 * @spec-orch/evidence: Judging: gate policies and profiles, conditions, the pure evaluate function, findings, deviations, reviews, human acceptance, reports and the evidence ledger. Embeddable with a tiny dependency footprint.
 */
export {}
