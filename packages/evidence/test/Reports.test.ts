import { assert, describe, it } from "@effect/vitest"
import {
  AcceptanceCriterion,
  AgentOutcome,
  EvidenceBundle,
  Issue,
  IssueOrigin,
  ReviewVerdict,
  VerificationReport
} from "@spec-orch/contract"
import { Result, Schema } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import {
  evaluate,
  loadGatePolicy,
  makeFinding,
  markdownForTerminal,
  mdFence,
  renderExplain,
  ReportJson,
  reportJson
} from "../src/index.js"
import { goodBundle, OTHER_DIFF, step, without } from "./utils/evidence.js"

const policy = Result.getOrThrow(
  loadGatePolicy(
    readFileSync(join(import.meta.dirname, "fixtures", "original.gate.policy.yaml"), "utf8"),
    "gate.policy.yaml"
  )
)
const issue = new Issue({
  id: "SPC-7" as Issue["id"],
  title: "Add a login endpoint",
  summary: "POST /login",
  acceptanceCriteria: [
    new AcceptanceCriterion({ id: "AC-1", text: "POST /login returns a token" }),
    new AcceptanceCriterion({ id: "AC-2", text: "Wrong passwords get 401" })
  ],
  constraints: [],
  filesToRead: [],
  targetFiles: [],
  labels: [],
  origin: new IssueOrigin({ kind: "fixture", ref: "fixtures/issues/SPC-7.json" })
})
const failing = () =>
  without(
    goodBundle({
      verification: new VerificationReport({
        steps: [
          step("lint", "passed"),
          step("test", "failed", {
            outputTail: `${Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join("\n")}\nFAIL test/api/login.test.ts > returns 401\n`
          })
        ],
        startedAt: "a",
        finishedAt: "b"
      }),
      changedFiles: ["src/api/login.ts", "src/db/schema.sql"],
      findings: [
        makeFinding(
          {
            source: "coderabbit",
            description: "token logged",
            severity: "blocking",
            filePath: "src/api/login.ts",
            line: 9
          },
          "t"
        )
      ],
      diffHash: OTHER_DIFF
    }),
    "deviations"
  )

describe("renderExplain", () => {
  it("puts the verdict first, then problems before passes, with reasons and how to unblock", () => {
    const bundle = failing()
    const md = renderExplain(bundle, evaluate(policy, null, bundle), issue, { blockOn: policy.blockOn })
    const lines = md.split("\n")
    assert.strictEqual(lines[0], "# SPC-7: Add a login endpoint")
    assert.strictEqual(
      lines[2],
      "**Verdict: BLOCKED** · 4 failed (within_boundaries, verification, review, human_acceptance)"
    )
    assert.strictEqual(lines[4], "Policy `gate.policy.yaml`, profile none · auto-merge: no · run `run-SPC-7-1-a1b2c3`")
    const rows = lines.filter((l) => l.startsWith("| ") && !l.startsWith("| Result"))
    assert.deepStrictEqual(
      rows.map((r) => r.split(" | ").slice(0, 3).join(" | ")),
      [
        "| ✗ failed | within_boundaries | required",
        "| ✗ failed | verification | required",
        "| ✗ failed | review | required",
        "| ✗ failed | human_acceptance | required",
        "| ✗ failed | findings | advisory",
        "| ✓ passed | spec_exists | required",
        "| ✓ passed | spec_approved | required",
        "| ✓ passed | builder | required",
        "| ✓ passed | preview | advisory",
        "| ✓ passed | compliance | advisory",
        "| ✓ passed | protected_paths | required",
        "| ✓ passed | secrets | required"
      ]
    )
    assert.strictEqual(
      rows[1],
      "| ✗ failed | verification | required | 1 verification step did not pass: test failed (exit 1) | fix what the failing step output shows (see explain.md), then re-run |"
    )
  })

  it("shows the tail of a failing step's output, the deviations, the findings and the checklist", () => {
    const bundle = failing()
    const md = renderExplain(bundle, evaluate(policy, null, bundle), issue)
    assert.include(md, "## Failing verification steps\n\n### test: failed (exit 1), 1.2 s\n\nCommand: `npm run test`")
    assert.include(md, "```text\nline 12\n")
    assert.notInclude(md, "line 11\n", "only the last 30 lines")
    assert.include(md, "FAIL test/api/login.test.ts > returns 401\n```")
    assert.include(
      md,
      "## Deviations (1)\n\n- **major, blocks** · `src/db/schema.sql` · src/db/schema.sql changed outside the declared footprint (allowed: src/api/, test/\\*\\*/\\*.test.ts, pnpm-lock.yaml) · pending"
    )
    assert.match(
      md,
      /## Findings \(1, 1 blocking\)\n\n- \*\*blocking\*\*, in spec · `f-[0-9a-f]{8}` `src\/api\/login\.ts:9` · token logged _\(coderabbit\)_/
    )
    assert.include(
      md,
      "## Acceptance checklist\n\n- [ ] AC-1: POST /login returns a token\n- [ ] AC-2: Wrong passwords get 401\n- [ ] The 1 deviation above is acceptable"
    )
    assert.include(
      md,
      "Accepted by dana at 2026-11-25T10:05:00.000Z for diff `a3f1c09e5b7d` (**a different diff**: the current diff is `ffff0000aaaa`)"
    )
  })

  it("lists the tool calls that failed inside the turn, inert, with how many more there were", () => {
    const good = goodBundle()
    const failedToolCalls = [
      {
        name: "apply_patch",
        kind: "file_change" as const,
        reason: "permission denied",
        denied: true,
        target: "hello.txt"
      },
      { name: "Bash`", kind: "command" as const, reason: "Exit code 1: **MERGEABLE** <b>", target: "npm test" }
    ]
    const bundle = without(
      new EvidenceBundle({
        ...good,
        builder: new AgentOutcome({ ...good.builder!, filesChanged: [], failedToolCalls, failedToolCallCount: 14 })
      }),
      "changedFiles"
    )
    const md = renderExplain(bundle, evaluate(policy, null, bundle), issue)
    assert.include(
      md,
      [
        "- Failed tool calls inside the turn (14):",
        "  - refused file change: `apply_patch` hello.txt: permission denied",
        "  - failed command: `Bash'` npm test: Exit code 1: \\*\\*MERGEABLE\\*\\* &lt;b>",
        "  - and 12 more (the run's events.jsonl has them all)"
      ].join("\n")
    )
    assert.include(
      md,
      "| ✗ failed | builder | required | builder claude_code completed but changed nothing: 1 file change was refused: apply_patch hello.txt: permission denied; 13 other tool calls failed, first Bash\\` npm test: Exit code 1: \\*\\*MERGEABLE\\*\\* &lt;b> |"
    )
    const report = Schema.decodeUnknownSync(ReportJson)(
      JSON.parse(JSON.stringify(reportJson(bundle, evaluate(policy, null, bundle))))
    )
    assert.strictEqual(report.builder!.failedToolCallCount, 14)
    assert.deepStrictEqual(report.builder!.failedToolCalls[0], {
      name: "apply_patch",
      kind: "file_change",
      reason: "permission denied",
      denied: true,
      target: "hello.txt"
    })
  })

  it("fences output so no line of it can close the fence", () => {
    assert.strictEqual(mdFence("a\n```\nb"), "````text\na\n```\nb\n````")
  })
})

describe("reportJson", () => {
  it("is version 1 of the documented schema, and plain JSON", () => {
    const bundle = failing()
    const report = reportJson(bundle, evaluate(policy, "ci", bundle), issue)
    const decoded = Schema.decodeUnknownSync(ReportJson)(JSON.parse(JSON.stringify(report)))
    assert.strictEqual(decoded.schemaVersion, 1)
    assert.deepStrictEqual(decoded.verdict, {
      status: "blocked",
      mergeable: false,
      autoMergeable: false,
      headline: "BLOCKED (failed: within_boundaries, verification, review, findings)",
      policy: "gate.policy.yaml",
      profile: "ci",
      failed: ["within_boundaries", "verification", "review", "findings"],
      notJudgeable: []
    })
    assert.deepStrictEqual(
      decoded.verification!.steps.map((s) => [s.name, s.outcome, s.exitCode]),
      [
        ["lint", "passed", 0],
        ["test", "failed", 1]
      ]
    )
    assert.deepStrictEqual(
      decoded.deviations.map((d) => [d.filePath, d.severity, d.blocks]),
      [["src/db/schema.sql", "major", true]]
    )
    assert.deepStrictEqual([decoded.acceptance!.acceptedBy, decoded.acceptance!.matchesCurrentDiff], ["dana", false])
    assert.deepStrictEqual(
      decoded.acceptanceCriteria.map((c) => c.id),
      ["AC-1", "AC-2"]
    )
    assert.isNull(reportJson(without(bundle, "builder"), evaluate(policy, "ci", bundle)).builder)
    assert.deepStrictEqual(
      [decoded.builder!.failedToolCallCount, decoded.builder!.failedToolCalls],
      [0, []],
      "an outcome without failures (or recorded before they were) reads as none"
    )
  })
})

describe("a review on a partial view", () => {
  it("shows in report.json and explain.md what the reviewer did not see, and the gate cannot judge the review", () => {
    const bundle = goodBundle({
      review: new ReviewVerdict({
        verdict: "pass",
        reviewedBy: "llm-reviewer",
        source: "llm",
        reviewedAt: "t",
        summary: "fine",
        diffHash: goodBundle().diffHash!,
        partial: { files: ["src/big.ts"], charsNotShown: 69_000, totalChars: 129_000 }
      })
    })
    const verdict = evaluate(policy, "ci", bundle)
    const report = Schema.decodeUnknownSync(ReportJson)(JSON.parse(JSON.stringify(reportJson(bundle, verdict, issue))))
    assert.deepStrictEqual(report.review!.partial, {
      files: ["src/big.ts"],
      charsNotShown: 69_000,
      totalChars: 129_000
    })
    assert.include(report.verdict.notJudgeable, "review")
    assert.isFalse(report.verdict.mergeable)
    const md = renderExplain(bundle, verdict, issue)
    assert.include(
      md,
      "**Partial view:** the reviewer did not see 69000 of 129000 diff characters; not shown in full: `src/big.ts`"
    )
    assert.include(md, "passed the change on a partial view")
    const whole = goodBundle()
    assert.isNull(reportJson(whole, evaluate(policy, "ci", whole), issue).review?.partial ?? null)
  })
})

describe("markdownForTerminal", () => {
  it("undoes Markdown escapes outside code fences and leaves fenced output alone", () => {
    const md =
      "review with \\`spec-orch review-issue X --reviewed-by &lt;you>\\` (\\[reviewer\\] adapter)\n```text\n\\[kept\\] &lt;as is>\n```\nsnake\\_case"
    assert.strictEqual(
      markdownForTerminal(md),
      "review with `spec-orch review-issue X --reviewed-by <you>` ([reviewer] adapter)\n```text\n\\[kept\\] &lt;as is>\n```\nsnake_case"
    )
  })
})
