// ci-gate.ts: a third-party pipeline judges plain JSON evidence with a gate policy (exit 0 = mergeable).
import { evaluate, loadGatePolicy, parseEvidence } from "@spec-orch/evidence"
import { Result } from "effect"
import { readFileSync } from "node:fs"

const [policyFile = "gate.policy.yaml", evidenceFile = "evidence.json", profile = "ci"] = process.argv.slice(2)
const policy = Result.getOrThrow(loadGatePolicy(readFileSync(policyFile, "utf8"), policyFile))
const evidence = Result.getOrThrow(parseEvidence(readFileSync(evidenceFile, "utf8"), evidenceFile))
const verdict = evaluate(policy, profile, evidence)

for (const c of verdict.conditions) console.log(`${c.status.padEnd(13)} ${c.condition}: ${c.reason}`)
console.log(verdict.mergeable ? "MERGEABLE" : `BLOCKED: ${[...verdict.failed, ...verdict.notJudgeable].join(", ")}`)
process.exit(verdict.mergeable ? 0 : 1)
