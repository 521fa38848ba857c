import { assert, describe, it } from "@effect/vitest"
import type { EvidenceBundle, GateVerdict } from "@spec-orch/contract"
import { renderRetrospective, type RetroRun } from "../src/index.js"

const run = (attempt: number, status: RetroRun["status"], more: Partial<RetroRun> = {}): RetroRun => ({
  runId: `SPC-1-r${attempt}`,
  issueId: "SPC-1",
  attempt,
  status,
  adapter: "codex",
  startedAt: `2026-12-0${attempt}T10:00:00.000Z`,
  blockedBy: [],
  accepted: false,
  stageMs: {},
  ...more
})

describe("renderRetrospective", () => {
  it("fences step output that contains fences, counts blockers across attempts, sums cost and stage times", () => {
    const verdict = {
      conditions: [
        {
          condition: "verification",
          required: true,
          status: "failed",
          reason: "step unit failed (exit 1)",
          unblock: "fix the test"
        },
        { condition: "builder", required: true, status: "passed", reason: "ok" }
      ]
    } as unknown as GateVerdict
    const bundle = {
      verification: {
        steps: [
          {
            name: "unit",
            outcome: "failed",
            command: ["npm", "test"],
            exitCode: 1,
            durationMs: 2500,
            outputTail: "ok 1\n```\nnot ok 2 expected 2 but got 3\n"
          }
        ]
      },
      deviations: [
        {
          id: "d-1",
          description: "touched\nREADME.md",
          severity: "minor",
          resolution: "pending",
          detectedBy: "footprint",
          filePath: "README.md"
        }
      ]
    } as unknown as EvidenceBundle
    const md = renderRetrospective({
      issueId: "SPC-1",
      title: "Parse | dates",
      runs: [
        run(1, "blocked", { blockedBy: ["verification"], costUsd: 0.5, stageMs: { agent: 1000, verify: 3000 } }),
        run(2, "blocked", {
          blockedBy: ["verification", "review"],
          costUsd: 0.25,
          stageMs: { agent: 3000 },
          inputTokens: 10,
          outputTokens: 5
        })
      ],
      latest: { bundle, verdict },
      findings: [],
      reviews: [],
      acceptances: []
    })
    assert.match(md, /^# Retrospective: SPC-1 — Parse \\\| dates\n/)
    assert.include(
      md,
      "- **verification** (required, failed): step unit failed (exit 1) — to unblock: fix the test\n\nAcross the attempts: verification blocked 2 of 2; review blocked 1 of 2."
    )
    assert.include(md, "````text\nok 1\n```\nnot ok 2 expected 2 but got 3\n````")
    assert.include(md, "- minor, pending: touched README.md (`README.md`) — found by footprint")
    assert.include(md, "$0.75 over 2 attempt(s) that reported it.\nTokens: 10 in, 5 out.")
    assert.include(md, "| agent | 3.0 s | 2.0 s | 2 |\n| verify | - | 3.0 s | 1 |")
    assert.notInclude(md, "builder**")
    assert.strictEqual(
      renderRetrospective({ issueId: "SPC-1", runs: [], findings: [], reviews: [], acceptances: [] }).includes(
        "The issue has never run."
      ),
      true
    )
  })
})
