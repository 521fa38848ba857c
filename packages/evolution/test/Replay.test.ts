import { assert, describe, it } from "@effect/vitest"
import { GateVerdict, RunRecord } from "@spec-orch/contract"
import { Schema } from "effect"
import {
  armOutcome,
  decidePromotion,
  type Proposal,
  REPLAY_METRIC,
  replayCounts,
  type ReplayOutcome,
  replayRunKey,
  selectHeldOut
} from "../src/index.js"
import { verdictOf } from "./utils/runs.js"

/** A finished run; `minute` orders them (newest first is the caller's job). */
const run = (
  issueId: string,
  attempt: number,
  status: RunRecord["status"],
  options: { runKey?: string; failed?: ReadonlyArray<string> } = {}
) =>
  Schema.decodeUnknownSync(RunRecord)({
    runId: `${options.runKey ?? issueId}-r${attempt}`,
    runKey: options.runKey ?? issueId,
    issueId,
    attempt,
    status,
    stage: "publish",
    startedAt: "2026-12-01T10:00:00.000Z",
    updatedAt: "2026-12-01T10:00:30.000Z",
    ...(status === "succeeded" || status === "blocked"
      ? {
          verdict: Schema.encodeSync(GateVerdict)(
            verdictOf(options.failed ?? (status === "blocked" ? ["verification"] : []))
          )
        }
      : {})
  })

const proposal: Proposal = {
  id: "prop-aaaaaaaaaaaa",
  contentHash: "a".repeat(64),
  kind: "review-learning",
  scope: "project",
  sources: { runIds: ["CL-1-r1", "CL-2-r1"], findingIds: [], reviewIds: [] },
  content: "Update CHANGELOG.md.",
  state: "proposed",
  canaryShare: null,
  createdAt: "2026-12-01T09:00:00.000Z",
  updatedAt: "2026-12-01T09:00:00.000Z"
}

// Newest first, as the run store lists them.
const runs = [
  run("CL-5", 1, "running"),
  run("CL-4", 2, "blocked"),
  run("M-1.p1", 1, "succeeded", { runKey: "M-1.p1" }),
  run("CL-7", 1, "succeeded", { runKey: "M-2.p1" }),
  run("CL-4", 1, "blocked"),
  run("CL-3", 1, "failed"),
  run("CL-2", 1, "blocked"),
  run("CL-1", 1, "blocked")
]

/** The issue source knows the CL issues; a mission packet's issue (M-1.p1) lives in its plan. */
const known = (id: string) => id.startsWith("CL-")

describe("selectHeldOut", () => {
  it("takes the most recent distinct issues with a finished run of their own, never one the proposal was learned from", () => {
    assert.deepStrictEqual(selectHeldOut(proposal, runs, { count: 10, known }), {
      issues: ["CL-4", "CL-3"],
      excluded: ["CL-2", "CL-1"]
    })
    assert.deepStrictEqual(selectHeldOut(proposal, runs, { count: 10, known, inScope: (i) => i !== "CL-4" }), {
      issues: ["CL-3"],
      excluded: ["CL-2", "CL-1"]
    })
    assert.deepStrictEqual(selectHeldOut(proposal, runs, { count: 1, known }), {
      issues: ["CL-4"],
      excluded: ["CL-2", "CL-1"]
    })
  })

  it("refuses named issues the proposal was learned from, or that never finished a run", () => {
    const learned = selectHeldOut(proposal, runs, { issues: ["CL-3", "CL-1"], count: 10 })
    assert.deepStrictEqual(learned, {
      problem:
        "CL-1 is where prop-aaaaaaaaaaaa was learned from (runs CL-1-r1, CL-2-r1), so not held out; name other issues"
    })
    const unrun = selectHeldOut(proposal, runs, { issues: ["CL-5", "CL-9"], count: 10, known })
    assert.include("problem" in unrun ? unrun.problem : "", "CL-5, CL-9 have no finished run of their own")
    const packet = selectHeldOut(proposal, runs, { issues: ["M-1.p1"], count: 10, known })
    assert.include("problem" in packet ? packet.problem : "", "the issue source does not know M-1.p1")
    const outside = selectHeldOut(proposal, runs, { issues: ["CL-3"], count: 10, known, inScope: () => false })
    assert.include(
      "problem" in outside ? outside.problem : "",
      "CL-3 is outside the scope of prop-aaaaaaaaaaaa (project)"
    )
    assert.deepStrictEqual(selectHeldOut(proposal, runs, { issues: [" CL-3 ", "CL-3"], count: 10 }), {
      issues: ["CL-3"],
      excluded: ["CL-2", "CL-1"]
    })
  })

  it("says there is nothing to replay when only the proposal's own issues ran", () => {
    const held = selectHeldOut(proposal, runs.slice(-2), { count: 10 })
    assert.include("problem" in held ? held.problem : "", "no finished run of an issue other than the ones")
    assert.include(
      "problem" in selectHeldOut(proposal, runs, { count: 0 }) ? "bad count" : "",
      "bad count",
      "a count below 1 is refused"
    )
  })
})

describe("scoring a replay", () => {
  it("counts a mergeable verdict as a success and reports the verification condition", () => {
    assert.deepStrictEqual(armOutcome(run("CL-3", 1, "succeeded")), {
      runId: "CL-3-r1",
      status: "succeeded",
      success: true,
      verification: "passed"
    })
    assert.deepStrictEqual(armOutcome(run("CL-3", 2, "blocked")), {
      runId: "CL-3-r2",
      status: "blocked",
      success: false,
      verification: "failed"
    })
    assert.deepStrictEqual(armOutcome(run("CL-3", 3, "blocked", { failed: ["review"] })).verification, "passed")
    assert.strictEqual(armOutcome(run("CL-3", 4, "failed")).verification, "not judged")
  })

  it("gives the promotion rule successes out of replayed issues per arm; a raw win on few issues is held", () => {
    const outcome = (issueId: string, baseline: boolean, candidate: boolean): ReplayOutcome => ({
      issueId,
      baseline: { runId: `${issueId}-b`, status: "x", success: baseline, verification: "not judged" },
      candidate: { runId: `${issueId}-c`, status: "x", success: candidate, verification: "not judged" }
    })
    const three = [outcome("A", false, true), outcome("B", false, true), outcome("C", false, true)]
    const counts = replayCounts(three)
    assert.deepStrictEqual(counts, { candidate: { successes: 3, trials: 3 }, baseline: { successes: 0, trials: 3 } })
    const plan = { metric: REPLAY_METRIC, minSamplePerArm: 3 }
    // 3/3 against 0/3: Fisher's one-sided p = 1/20, not below 0.05.
    assert.strictEqual(decidePromotion(plan, counts.candidate, counts.baseline).decision, "hold")
    const four = replayCounts([...three, outcome("D", false, true)])
    assert.strictEqual(decidePromotion(plan, four.candidate, four.baseline).decision, "promote")
  })

  it("keeps a replay's run key apart from the issue's own", () => {
    assert.strictEqual(
      replayRunKey("prop-aaaaaaaaaaaa", "CL-3", "candidate"),
      "replay.prop-aaaaaaaaaaaa.candidate.CL-3"
    )
  })
})
