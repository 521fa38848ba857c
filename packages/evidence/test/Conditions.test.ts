import { assert, describe, it } from "@effect/vitest"
import {
  AgentOutcome,
  AgentUsage,
  BudgetEvidence,
  ComplianceReport,
  ComplianceViolation,
  Deviation,
  EvidenceBundle,
  Footprint,
  HumanAcceptance,
  ReviewVerdict,
  SecretFinding,
  SpecEvidence,
  VerificationReport
} from "@spec-orch/contract"
import {
  BUILTIN_CONDITIONS,
  type ConditionContext,
  DEFAULT_CONTEXT,
  type Judgement,
  makeFinding
} from "../src/index.js"
import { DIFF, goodBundle, OTHER_DIFF, step, without } from "./utils/evidence.js"

const judge = (name: string, bundle: EvidenceBundle, context: ConditionContext = DEFAULT_CONTEXT): Judgement =>
  BUILTIN_CONDITIONS.find((c) => c.name === name)!.judge(bundle, context)
const status = (name: string, bundle: EvidenceBundle, context?: ConditionContext) => judge(name, bundle, context).status

describe("the built-in conditions", () => {
  it("all pass on a complete, good run", () => {
    const bundle = goodBundle()
    for (const c of BUILTIN_CONDITIONS) assert.strictEqual(c.judge(bundle, DEFAULT_CONTEXT).status, "passed", c.name)
  })

  it("are all not judgeable on a bundle with no evidence, each saying what is missing and how to get it", () => {
    const empty = without(
      goodBundle(),
      "spec",
      "builder",
      "verification",
      "review",
      "findings",
      "deviations",
      "changedFiles",
      "footprint",
      "diffHash",
      "acceptance",
      "compliance",
      "budget",
      "preview",
      "fileChanges",
      "secrets"
    )
    for (const c of BUILTIN_CONDITIONS) {
      const j = c.judge(empty, DEFAULT_CONTEXT)
      assert.strictEqual(j.status, "not_judgeable", c.name)
      assert.isDefined(j.unblock, c.name)
    }
  })

  describe("spec_exists", () => {
    it("fails when the issue has no spec", () => {
      const j = judge(
        "spec_exists",
        goodBundle({ spec: new SpecEvidence({ exists: false, state: "unapproved", unresolvedBlockingQuestions: 0 }) })
      )
      assert.deepStrictEqual([j.status, j.reason], ["failed", "the issue has no spec snapshot"])
    })
  })

  describe("spec_approved", () => {
    it("fails on an unapproved spec, a spec changed since approval, and open blocking questions", () => {
      const spec = (state: SpecEvidence["state"], q = 0) =>
        goodBundle({ spec: new SpecEvidence({ exists: true, state, unresolvedBlockingQuestions: q }) })
      assert.deepStrictEqual(judge("spec_approved", spec("unapproved")), {
        status: "failed",
        reason: "the spec has not been approved",
        unblock: "approve it: spec-orch spec approve SPC-7"
      })
      assert.strictEqual(
        judge("spec_approved", spec("changed-since-approval")).reason,
        "the spec changed after it was approved"
      )
      assert.strictEqual(
        judge("spec_approved", spec("approved", 2)).reason,
        "the spec is approved but 2 blocking questions are unanswered"
      )
      assert.strictEqual(
        status(
          "spec_approved",
          goodBundle({ spec: new SpecEvidence({ exists: false, state: "unapproved", unresolvedBlockingQuestions: 0 }) })
        ),
        "failed"
      )
    })
  })

  describe("within_boundaries", () => {
    const dev = (severity: Deviation["severity"], resolution: Deviation["resolution"] = "pending") =>
      new Deviation({
        id: `dev-${severity}`,
        description: "x",
        severity,
        resolution,
        detectedBy: "gate/scope_check",
        filePath: `src/${severity}.ts`
      })

    it("blocks on major and blocking deviations by default; minor ones are advisory", () => {
      assert.strictEqual(status("within_boundaries", goodBundle({ deviations: [dev("minor")] })), "passed")
      assert.strictEqual(
        judge("within_boundaries", goodBundle({ deviations: [dev("minor")] })).reason,
        "no blocking deviations (1 advisory deviation pending, 0 resolved; this policy blocks on major, blocking)"
      )
      const j = judge("within_boundaries", goodBundle({ deviations: [dev("minor"), dev("major")] }))
      assert.deepStrictEqual(
        [j.status, j.reason],
        [
          "failed",
          "1 deviation from the declared scope block (this policy blocks on major, blocking): src/major.ts (major)"
        ]
      )
    })

    it("follows the policy's block_on rule and ignores resolved deviations", () => {
      assert.strictEqual(
        status("within_boundaries", goodBundle({ deviations: [dev("minor")] }), {
          blockOn: ["minor", "major", "blocking"]
        }),
        "failed"
      )
      assert.strictEqual(
        status("within_boundaries", goodBundle({ deviations: [dev("major")] }), { blockOn: ["blocking"] }),
        "passed"
      )
      assert.strictEqual(
        status(
          "within_boundaries",
          goodBundle({ deviations: [dev("blocking", "accepted"), dev("major", "reverted")] })
        ),
        "passed"
      )
    })

    it("detects deviations from changed files and the footprint when none were recorded", () => {
      const b = without(goodBundle({ changedFiles: ["src/api/login.ts", "src/db/schema.sql"] }), "deviations")
      const j = judge("within_boundaries", b)
      assert.deepStrictEqual(
        [j.status, j.reason],
        [
          "failed",
          "1 deviation from the declared scope block (this policy blocks on major, blocking): src/db/schema.sql (major)"
        ]
      )
    })
  })

  describe("builder", () => {
    const outcome = (kind: AgentOutcome["kind"], message?: string) =>
      goodBundle({
        builder: new AgentOutcome({
          kind,
          adapter: "codex",
          ...(message ? { message } : {}),
          usage: new AgentUsage({ inputTokens: 1, outputTokens: 1 }),
          durationMs: 1,
          eventCount: 1,
          filesChanged: [],
          commandsRun: 0
        })
      })

    it("passes a completed builder, counting the files the diff changed rather than those the agent reported", () => {
      const silent = outcome("completed")
      assert.deepStrictEqual(judge("builder", new EvidenceBundle({ ...silent, changedFiles: ["a.ts", "b.ts"] })), {
        status: "passed",
        reason: "builder codex completed (2 files changed)"
      })
      const noDiff = without(silent, "changedFiles")
      const reported = new EvidenceBundle({
        ...noDiff,
        builder: new AgentOutcome({ ...noDiff.builder!, filesChanged: ["a.ts"] })
      })
      assert.strictEqual(judge("builder", reported).reason, "builder codex completed (1 file changed)")
    })

    it("passes a skipped builder (no builder prompt) and says so", () => {
      const j = judge("builder", outcome("skipped"))
      assert.deepStrictEqual(
        [j.status, j.reason],
        ["passed", "builder step skipped (the issue has no builder prompt); a skipped builder counts as passed"]
      )
    })

    const withFailures = (
      kind: AgentOutcome["kind"],
      failedToolCalls: AgentOutcome["failedToolCalls"],
      extra: Partial<AgentOutcome> = {}
    ) => {
      const b = goodBundle()
      return without(
        new EvidenceBundle({
          ...b,
          builder: new AgentOutcome({
            ...outcome(kind).builder!,
            ...(failedToolCalls !== undefined ? { failedToolCalls, failedToolCallCount: failedToolCalls.length } : {}),
            ...extra
          })
        }),
        "changedFiles"
      )
    }
    const patchFailed = {
      name: "apply_patch",
      kind: "file_change" as const,
      reason: "permission denied",
      denied: true,
      target: "hello.txt"
    }
    const testsFailed = {
      name: "Bash",
      kind: "command" as const,
      reason: "Exit code 1: 2 tests failed",
      target: "npm test"
    }

    it("fails a completed turn that changed nothing while its file changes failed, naming the first", () => {
      const j = judge("builder", withFailures("completed", [patchFailed]))
      assert.strictEqual(j.status, "failed")
      assert.strictEqual(
        j.reason,
        "builder codex completed but changed nothing: 1 file change was refused: apply_patch hello.txt: permission denied"
      )
      assert.include(j.unblock!, "docs/agents.md")
      const two = judge(
        "builder",
        withFailures("completed", [
          { name: "apply_patch", kind: "file_change", reason: "Codex could not apply the patch", target: "hello.txt" },
          testsFailed,
          { ...patchFailed, target: "b.txt" }
        ])
      )
      assert.strictEqual(
        two.reason,
        "builder codex completed but changed nothing: 2 file changes failed: apply_patch hello.txt: Codex could not apply the patch (and 1 more); 1 other tool call failed, first Bash npm test: Exit code 1: 2 tests failed"
      )
    })

    it("passes a completed turn that changed files, but says which calls failed", () => {
      const b = withFailures("completed", [testsFailed, patchFailed], { failedToolCallCount: 7 })
      const j = judge("builder", new EvidenceBundle({ ...b, changedFiles: ["src/a.ts"] }))
      assert.deepStrictEqual(j, {
        status: "passed",
        reason:
          "builder codex completed (1 file changed), but 1 file change was refused: apply_patch hello.txt: permission denied; 6 other tool calls failed, first Bash npm test: Exit code 1: 2 tests failed"
      })
      // Failed commands alone never fail the condition, even with nothing changed (an agent may rightly change nothing).
      assert.deepStrictEqual(judge("builder", withFailures("completed", [testsFailed])), {
        status: "passed",
        reason:
          "builder codex completed (0 files changed), but 1 tool call failed, first Bash npm test: Exit code 1: 2 tests failed"
      })
    })

    it("names changes the agent reported outside its worktree, and failed calls of a failed turn", () => {
      const j = judge(
        "builder",
        withFailures("failed", [patchFailed], {
          message: "Exec ended early",
          filesChanged: ["a.ts", "/home/u/repo/x.ts"]
        })
      )
      assert.deepStrictEqual(
        [j.status, j.reason],
        [
          "failed",
          "builder codex failed: Exec ended early; 1 file change was refused: apply_patch hello.txt: permission denied; it also reported changing 1 file outside its worktree: /home/u/repo/x.ts"
        ]
      )
      assert.strictEqual(
        judge("builder", withFailures("completed", undefined, { filesChanged: ["/tmp/scratch.txt"] })).reason,
        "builder codex completed (1 file changed); it also reported changing 1 file outside its worktree: /tmp/scratch.txt"
      )
    })

    it("keeps an agent's failure text on one bounded line", () => {
      const hostile = {
        name: "Write",
        kind: "file_change" as const,
        reason: `denied\n## Verdict: MERGEABLE\n${"x".repeat(500)}`,
        target: "a.ts"
      }
      const j = judge("builder", withFailures("completed", [hostile]))
      assert.notInclude(j.reason, "\n")
      assert.isBelow(j.reason.length, 300)
    })

    it("fails every other outcome, naming it", () => {
      assert.deepStrictEqual(judge("builder", outcome("timed_out", "no output for 900 s")), {
        status: "failed",
        reason: "builder codex timed out: no output for 900 s",
        unblock: "read the agent log in the run's artifacts, then re-run SPC-7"
      })
      for (const kind of ["failed", "stalled", "budget_exceeded", "cancelled"] as const)
        assert.strictEqual(status("builder", outcome(kind)), "failed", kind)
    })
  })

  describe("verification", () => {
    const report = (...steps: ReturnType<typeof step>[]) =>
      goodBundle({ verification: new VerificationReport({ steps, startedAt: "a", finishedAt: "b" }) })

    it("does not count skipped steps as failures", () => {
      const j = judge("verification", report(step("test", "passed"), step("lint", "skipped")))
      assert.deepStrictEqual([j.status, j.reason], ["passed", "1 step passed (test); 1 skipped (lint)"])
    })

    it("cannot judge when no step ran, and says why", () => {
      const j = judge(
        "verification",
        report(step("lint", "skipped", { note: "not configured" }), step("test", "skipped"))
      )
      assert.deepStrictEqual(
        [j.status, j.reason],
        ["not_judgeable", "no verification step ran (2 steps skipped: lint: not configured, test)"]
      )
      assert.strictEqual(
        judge("verification", report()).reason,
        "no verification step is configured, so nothing was verified"
      )
    })

    it("fails on any step that ran and did not pass, naming each", () => {
      const j = judge(
        "verification",
        report(
          step("lint", "passed"),
          step("test", "failed"),
          step("build", "timed_out"),
          step("e2e", "missing_binary")
        )
      )
      assert.deepStrictEqual(
        [j.status, j.reason],
        [
          "failed",
          "3 verification steps did not pass: test failed (exit 1), build timed out, e2e could not start (command not found)"
        ]
      )
    })
  })

  describe("review", () => {
    const review = (verdict: ReviewVerdict["verdict"], diffHash: string | undefined = DIFF) =>
      goodBundle({
        review: new ReviewVerdict({
          verdict,
          reviewedBy: "sam",
          source: "human",
          reviewedAt: "t",
          summary: "needs tests",
          ...(diffHash ? { diffHash } : {})
        })
      })

    it("passes only on pass, fails on changes requested", () => {
      assert.strictEqual(judge("review", review("pass")).reason, "review passed, by sam (human)")
      assert.deepStrictEqual(
        [judge("review", review("changes_requested")).status, judge("review", review("changes_requested")).reason],
        ["failed", "sam (human) requested changes: needs tests"]
      )
    })

    it("cannot judge a pending or uncertain review", () => {
      assert.strictEqual(judge("review", review("pending")).reason, "nobody has reviewed this change yet")
      assert.strictEqual(status("review", review("pending")), "not_judgeable")
      assert.deepStrictEqual(
        [status("review", review("uncertain")), judge("review", review("uncertain")).reason],
        ["not_judgeable", "the reviewer sam (human) could not decide: needs tests"]
      )
    })

    it("does not pass a pass given on a partial view of the diff, and asks a person to review", () => {
      const partial = goodBundle({
        review: new ReviewVerdict({
          verdict: "pass",
          reviewedBy: "llm-reviewer",
          source: "llm",
          reviewedAt: "t",
          summary: "fine",
          diffHash: DIFF,
          partial: { files: ["src/big.ts"], charsNotShown: 69_000, totalChars: 129_000 }
        })
      })
      const j = judge("review", partial)
      assert.deepStrictEqual(
        [j.status, j.reason],
        [
          "not_judgeable",
          "llm-reviewer (llm) passed the change on a partial view: 69000 of 129000 diff characters not shown (src/big.ts)"
        ]
      )
      assert.match(j.unblock ?? "", /a human reviews the whole change: spec-orch review-issue/)
    })

    it("fails a review of a different diff", () => {
      const j = judge("review", review("pass", OTHER_DIFF))
      assert.deepStrictEqual(
        [j.status, j.reason],
        ["failed", "sam reviewed a different diff (reviewed ffff0000aaaa, current a3f1c09e5b7d)"]
      )
    })
  })

  describe("preview", () => {
    it("passes when not required, judges the result when required", () => {
      assert.strictEqual(status("preview", goodBundle({ preview: { required: false } })), "passed")
      assert.strictEqual(status("preview", goodBundle({ preview: { required: true, passed: true } })), "passed")
      assert.strictEqual(status("preview", goodBundle({ preview: { required: true, passed: false } })), "failed")
      assert.strictEqual(
        judge("preview", goodBundle({ preview: { required: true } })).reason,
        "a preview is required but has no result yet"
      )
    })

    it("judges the [preview] command's step and names where the preview is", () => {
      const ran = (outcome: "passed" | "failed") =>
        goodBundle({ preview: { required: true, step: step("preview", outcome), url: "http://localhost:4173" } })
      assert.deepStrictEqual(
        [status("preview", ran("passed")), judge("preview", ran("passed")).reason],
        ["passed", "the preview check passed (preview passed) (http://localhost:4173)"]
      )
      const j = judge("preview", ran("failed"))
      assert.deepStrictEqual(
        [j.status, j.reason],
        ["failed", "the preview check failed: preview failed (exit 1) (http://localhost:4173)"]
      )
    })

    it("says to configure [preview] command when no preview ran", () => {
      const j = judge("preview", without(goodBundle(), "preview"))
      assert.deepStrictEqual(
        [j.status, j.reason],
        ["not_judgeable", "no preview result was recorded (no [preview] command ran)"]
      )
      assert.match(j.unblock!, /\[preview\] command in spec-orch\.toml/)
    })
  })

  describe("human_acceptance", () => {
    it("fails an acceptance of a different diff: a later change invalidates it", () => {
      const j = judge("human_acceptance", goodBundle({ diffHash: OTHER_DIFF }))
      assert.deepStrictEqual(
        [j.status, j.reason],
        ["failed", "dana accepted a different diff (accepted a3f1c09e5b7d, current ffff0000aaaa)"]
      )
    })

    it("cannot judge without an acceptance, or without the current diff's hash", () => {
      assert.strictEqual(
        judge("human_acceptance", without(goodBundle(), "acceptance")).reason,
        "no human has accepted this change yet"
      )
      assert.strictEqual(
        judge("human_acceptance", without(goodBundle(), "acceptance")).unblock,
        "accept it: spec-orch accept-issue SPC-7 --accepted-by <you>"
      )
      assert.strictEqual(status("human_acceptance", without(goodBundle(), "diffHash")), "not_judgeable")
    })

    it("passes an acceptance of exactly this diff", () => {
      assert.strictEqual(
        judge(
          "human_acceptance",
          goodBundle({
            acceptance: new HumanAcceptance({
              acceptedBy: "kim",
              acceptedAt: "2026-11-25T11:00:00.000Z",
              diffHash: DIFF
            })
          })
        ).reason,
        "accepted by kim at 2026-11-25T11:00:00.000Z"
      )
    })
  })

  describe("findings", () => {
    const f = (
      severity: "blocking" | "advisory",
      scope: "in_spec" | "out_of_spec" = "in_spec",
      description = "SQL injection in login"
    ) =>
      makeFinding({ source: "coderabbit", description, severity, scope, filePath: "src/api/login.ts", line: 40 }, "t")

    it("fails on unresolved blocking in-spec findings only", () => {
      const blocking = f("blocking")
      const j = judge(
        "findings",
        goodBundle({
          findings: [blocking, f("advisory", "in_spec", "naming"), f("blocking", "out_of_spec", "unrelated")]
        })
      )
      assert.deepStrictEqual(
        [j.status, j.reason],
        ["failed", `1 unresolved blocking finding: ${blocking.id} (src/api/login.ts:40)`]
      )
      assert.strictEqual(
        judge("findings", goodBundle({ findings: [f("advisory"), f("blocking", "out_of_spec")] })).reason,
        "no unresolved blocking findings (1 advisory, 1 out of spec, 0 resolved)"
      )
    })
  })

  describe("compliance", () => {
    it("fails on error-level violations, naming the contracts", () => {
      const report = new ComplianceReport({
        compliant: false,
        errorCount: 1,
        warningCount: 0,
        contracts: ["no-force-push"],
        violations: [
          new ComplianceViolation({
            contractId: "no-force-push",
            severity: "error",
            kind: "command",
            match: "git push --force",
            excerpt: "git push --force origin"
          })
        ]
      })
      assert.deepStrictEqual(
        [
          status("compliance", goodBundle({ compliance: report })),
          judge("compliance", goodBundle({ compliance: report })).reason
        ],
        ["failed", "1 error-level compliance violation: no-force-push (command)"]
      )
    })
  })

  describe("budget", () => {
    it("fails when any spend is over its limit, and cannot judge an unmeasured spend", () => {
      const j = judge(
        "budget",
        goodBundle({ budget: new BudgetEvidence({ spentUsd: 3.2, limitUsd: 2, seconds: 10, limitSeconds: 60 }) })
      )
      assert.deepStrictEqual([j.status, j.reason], ["failed", "over budget: cost $3.20 of a $2.00 limit"])
      assert.strictEqual(
        judge("budget", goodBundle({ budget: new BudgetEvidence({ limitUsd: 2 }) })).reason,
        "a cost limit is set but the spend was not measured"
      )
      assert.strictEqual(
        judge("budget", goodBundle({ budget: new BudgetEvidence({ spentUsd: 9 }) })).reason,
        "no budget limits are set"
      )
    })
  })

  describe("scope", () => {
    it("fails when a changed file is outside the footprint or forbidden", () => {
      const j = judge(
        "scope",
        goodBundle({ changedFiles: ["src/api/login.ts", "README.md", ".github/workflows/ci.yml"] })
      )
      assert.deepStrictEqual(
        [j.status, j.reason],
        ["failed", "2 changed files outside the declared footprint: README.md, .github/workflows/ci.yml"]
      )
    })

    it("cannot judge without a declared footprint", () => {
      assert.strictEqual(
        judge("scope", goodBundle({ footprint: new Footprint({ allowed: [], forbidden: [] }) })).reason,
        "no footprint was declared for this change"
      )
    })
  })

  describe("secrets", () => {
    const found = (file: string, line: number, rule: string) =>
      new SecretFinding({ file, line, rule, message: "found a token" })

    it("fails naming the file, line and rule of each secret, and says to remove and rotate it", () => {
      const j = judge(
        "secrets",
        goodBundle({ secrets: [found("src/config.ts", 12, "@secretlint/secretlint-rule-github")] })
      )
      assert.deepStrictEqual(j, {
        status: "failed",
        reason: "1 secret added: src/config.ts:12 (github)",
        unblock: "remove the secret from src/config.ts:12, rotate it, re-run"
      })
      const two = judge(
        "secrets",
        goodBundle({
          secrets: [found("a.env", 1, "spec-orch/env-value"), found("b.ts", 3, "@secretlint/secretlint-rule-aws")]
        })
      )
      assert.strictEqual(two.reason, "2 secrets added: a.env:1 (spec-orch/env-value), b.ts:3 (aws)")
      assert.strictEqual(two.unblock, "remove the secrets from a.env:1, b.ts:3, rotate them, re-run")
    })

    it("passes when the scan ran and found nothing, and cannot judge when no scan ran", () => {
      assert.deepStrictEqual(
        [status("secrets", goodBundle({ secrets: [] })), judge("secrets", goodBundle()).reason],
        ["passed", "the secret scan found no secret on the added lines"]
      )
      const j = judge("secrets", without(goodBundle(), "secrets"))
      assert.deepStrictEqual([j.status, j.reason], ["not_judgeable", "no secret scan ran on the run's diff"])
    })
  })
})
