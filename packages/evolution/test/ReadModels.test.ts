import { assert, describe, it } from "@effect/vitest"
import { failurePatterns, projectProfile, type RunFacts, successRecipes, trends } from "../src/index.js"

const run = (
  id: string,
  issueId: string,
  status: RunFacts["status"],
  startedAt: string,
  more: Partial<RunFacts> = {}
): RunFacts => ({
  runId: id,
  issueId,
  status,
  adapter: "codex",
  startedAt,
  blockedBy: [],
  accepted: false,
  stageMs: {},
  ...more
})

describe("ReadModels", () => {
  it("groups runs spanning more than two weeks by week (from Monday), each with its pass rate", () => {
    const t = trends([
      run("r1", "A", "succeeded", "2026-11-02T10:00:00Z"),
      run("r2", "A", "blocked", "2026-11-08T23:00:00Z", { blockedBy: ["review"] }),
      run("r3", "B", "succeeded", "2026-11-30T09:00:00Z"),
      run("r4", "B", "cancelled", "2026-11-30T10:00:00Z")
    ])
    assert.strictEqual(t.bucket, "week")
    assert.deepStrictEqual(
      t.points.map((p) => [p.period, p.runs, p.passRate.k, p.passRate.n]),
      [
        ["week of 2026-11-02", 2, 1, 2],
        ["week of 2026-11-30", 2, 1, 1]
      ]
    )
  })

  it("a failure in one run is a pattern but not recurring; cancelled runs and skipped steps count for nothing", () => {
    const runs = [
      run("r1", "A", "blocked", "2026-12-01T10:00:00Z", {
        blockedBy: ["review"],
        steps: [{ name: "lint", command: "npm run lint", outcome: "skipped" }]
      }),
      run("r2", "A", "cancelled", "2026-12-01T11:00:00Z", { blockedBy: ["review"] }),
      run("r3", "A", "succeeded", "2026-12-01T12:00:00Z", {
        changedFiles: ["Cargo.toml", "src/main.rs"],
        steps: [{ name: "lint", command: "cargo clippy", outcome: "passed" }]
      })
    ]
    assert.deepStrictEqual(
      failurePatterns(runs).map((f) => [f.kind, f.name, f.runs, f.recurring, f.latest]),
      [["condition", "review", 1, false, null]]
    )
    assert.deepStrictEqual(
      successRecipes(runs).map((r) => [r.runId, r.attempts, r.overcame]),
      [["r3", 3, ["condition review"]]]
    )
    const profile = projectProfile(runs)
    assert.deepStrictEqual(profile.stack, [
      { name: "Rust", files: 2 },
      { name: "config", files: 1 }
    ])
    assert.deepStrictEqual(
      profile.verification.map((v) => [v.step, v.command, v.passRate.k, v.passRate.n]),
      [["lint", "cargo clippy", 1, 1]]
    )
  })
})
