/** Evidence bundles for tests and benchmarks: a realistic, fully passing run, and ways to break it. */
import {
  AgentOutcome,
  AgentUsage,
  BudgetEvidence,
  ComplianceReport,
  EvidenceBundle,
  Footprint,
  HumanAcceptance,
  ReviewVerdict,
  SpecEvidence,
  StepResult,
  VerificationReport
} from "@spec-orch/contract"
import { makeFinding } from "../../src/index.js"

export const DIFF = "a3f1c09e5b7d2e4f6a8c0b1d3e5f7a9c1b3d5e7f9a1c3e5b7d9f1a3c5e7b9d1f"
export const OTHER_DIFF = "ffff0000aaaa1111bbbb2222cccc3333dddd4444eeee5555ffff6666aaaa7777"

export const step = (
  name: string,
  outcome: StepResult["outcome"],
  extra: Partial<{ exitCode: number | null; outputTail: string; note: string }> = {}
) =>
  new StepResult({
    name,
    outcome,
    command: ["npm", "run", name],
    exitCode:
      extra.exitCode !== undefined ? extra.exitCode : outcome === "passed" ? 0 : outcome === "skipped" ? null : 1,
    durationMs: 1234,
    outputTail: extra.outputTail ?? (outcome === "passed" ? `> ${name}\nok\n` : ""),
    ...(extra.note !== undefined ? { note: extra.note } : {})
  })

/** A run where every condition of every profile passes. */
export const goodBundle = (patch: Partial<EvidenceBundle> = {}): EvidenceBundle =>
  new EvidenceBundle({
    schemaVersion: 1,
    issueId: "SPC-7",
    runId: "run-SPC-7-1-a1b2c3",
    spec: new SpecEvidence({ exists: true, state: "approved", contentHash: "c0ffee", unresolvedBlockingQuestions: 0 }),
    builder: new AgentOutcome({
      kind: "completed",
      adapter: "claude_code",
      finalText: "Implemented the login endpoint and its tests.",
      usage: new AgentUsage({ inputTokens: 18234, outputTokens: 2210, costUsd: 0.42 }),
      durationMs: 95_000,
      eventCount: 212,
      filesChanged: ["src/api/login.ts", "test/api/login.test.ts"],
      commandsRun: 9
    }),
    verification: new VerificationReport({
      steps: [
        step("lint", "passed"),
        step("typecheck", "passed"),
        step("test", "passed"),
        step("build", "skipped", { note: "not configured" })
      ],
      startedAt: "2026-11-25T10:00:00.000Z",
      finishedAt: "2026-11-25T10:01:10.000Z"
    }),
    review: new ReviewVerdict({
      verdict: "pass",
      reviewedBy: "llm-reviewer",
      source: "llm",
      reviewedAt: "2026-11-25T10:02:00.000Z",
      summary: "Implements the spec.",
      diffHash: DIFF
    }),
    findings: [
      makeFinding(
        {
          source: "llm-reviewer",
          description: "Consider a rate limit on login",
          severity: "advisory",
          filePath: "src/api/login.ts",
          line: 12
        },
        "2026-11-25T10:02:00.000Z"
      )
    ],
    deviations: [],
    changedFiles: ["src/api/login.ts", "test/api/login.test.ts", "pnpm-lock.yaml"],
    footprint: new Footprint({
      allowed: ["src/api/", "test/**/*.test.ts", "pnpm-lock.yaml"],
      forbidden: [".github/**"]
    }),
    diffHash: DIFF,
    acceptance: new HumanAcceptance({ acceptedBy: "dana", acceptedAt: "2026-11-25T10:05:00.000Z", diffHash: DIFF }),
    compliance: new ComplianceReport({
      compliant: true,
      errorCount: 0,
      warningCount: 1,
      contracts: ["pre-action-narration", "no-secrets-in-output"],
      violations: []
    }),
    budget: new BudgetEvidence({
      spentUsd: 0.42,
      limitUsd: 5,
      tokens: 20444,
      limitTokens: 500_000,
      seconds: 95,
      limitSeconds: 1800
    }),
    preview: { required: false },
    secrets: [],
    ...patch
  })

/** The bundle without the given kinds of evidence. */
export const without = (bundle: EvidenceBundle, ...keys: Array<keyof EvidenceBundle>): EvidenceBundle => {
  const copy: Record<string, unknown> = { ...bundle }
  for (const k of keys) delete copy[k]
  return new EvidenceBundle(copy as any)
}
