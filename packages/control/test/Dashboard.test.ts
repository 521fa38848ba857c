import { assert, describe, it } from "@effect/vitest"
import { ConditionResult, GateVerdict, RunRecord } from "@spec-orch/contract"
import { attentionOf, bucketOf, metricsSeries, runView, statsGroups, timelineOf } from "../src/index.js"
import { record } from "./utils/runs.js"

const condition = (name: string, status: ConditionResult["status"], unblock?: string) =>
  new ConditionResult({
    condition: name,
    required: true,
    status,
    reason: `${name} is ${status}`,
    ...(unblock !== undefined ? { unblock } : {})
  })

const blocked = (conditions: ReadonlyArray<ConditionResult>) =>
  new RunRecord({
    ...record(1, "blocked"),
    finishedAt: "2026-11-25T10:05:00.000Z",
    message: "blocked",
    verdict: new GateVerdict({
      policy: "gate.policy.yaml",
      profile: null,
      mergeable: false,
      autoMergeable: false,
      conditions,
      failed: conditions.filter((c) => c.status === "failed").map((c) => c.condition),
      notJudgeable: conditions.filter((c) => c.status === "not_judgeable").map((c) => c.condition)
    })
  })

describe("Dashboard.runView", () => {
  it("says what unblocks a blocked run, one sentence per failing required condition", () => {
    const v = runView(
      blocked([
        condition("verification", "passed"),
        condition("review", "not_judgeable", "record a review"),
        condition("human_acceptance", "failed", "accept the diff")
      ])
    )
    assert.strictEqual(v.verdict, "blocked")
    assert.deepStrictEqual(v.to_unblock, ["record a review", "accept the diff"])
  })

  it("shows a running run whose process is gone as interrupted", () => {
    assert.strictEqual(runView(record(1), true).state, "interrupted")
    assert.strictEqual(runView(record(1)).state, "running")
  })
})

describe("Dashboard.attentionOf", () => {
  it("names what a blocked run waits for: a review before an acceptance, else the gate", () => {
    assert.strictEqual(
      attentionOf(
        runView(
          blocked([
            condition("review", "not_judgeable", "review it"),
            condition("human_acceptance", "not_judgeable", "accept it")
          ])
        )
      )?.kind,
      "review"
    )
    assert.strictEqual(
      attentionOf(
        runView(blocked([condition("review", "passed"), condition("human_acceptance", "not_judgeable", "accept it")]))
      )?.kind,
      "acceptance"
    )
    const gate = attentionOf(runView(blocked([condition("verification", "failed", "fix the tests")])))
    assert.deepStrictEqual([gate?.kind, gate?.to_unblock], ["blocked", ["fix the tests"]])
  })

  it("leaves running and mergeable runs alone", () => {
    assert.isUndefined(attentionOf(runView(record(1))))
    assert.isUndefined(attentionOf(runView(record(1, "succeeded"))))
  })
})

describe("Dashboard.timelineOf", () => {
  it("turns stage events into one entry per stage attempt, with failures and durations", () => {
    const at = (s: number) => `2026-11-25T10:00:0${s}.000Z`
    const e = (seq: number, data: unknown, kind = "stage") => ({ runId: "T-1-r1", seq, at: at(seq), kind, data })
    const timeline = timelineOf([
      e(1, { stage: "agent", state: "started" }),
      e(2, { text: "hi" }, "note"),
      e(3, { stage: "agent", state: "finished", ms: 2000, ok: true, summary: "2 files" }),
      e(4, { stage: "verify", state: "started" }),
      e(5, { stage: "verify", state: "failed", message: "step crashed" }),
      e(6, { stage: "verify", state: "started" })
    ])
    assert.deepStrictEqual(
      timeline.map((s) => [s.stage, s.state, s.ms, s.ok, s.summary]),
      [
        ["agent", "finished", 2000, true, "2 files"],
        ["verify", "failed", null, false, "step crashed"],
        ["verify", "started", null, null, null]
      ]
    )
    assert.deepStrictEqual([timeline[0]!.started_at, timeline[0]!.finished_at], [at(1), at(3)])
  })
})

describe("Dashboard.statsGroups", () => {
  it("counts finished runs per group: pass rate, cost and median time; runs in flight are left out", () => {
    const finished = (n: number, mergeable: boolean, seconds: number, costUsd: number) =>
      new RunRecord({
        ...record(n, mergeable ? "succeeded" : "blocked"),
        finishedAt: new Date(Date.parse(record(n).startedAt) + seconds * 1000).toISOString(),
        costUsd,
        verdict: new GateVerdict({ ...blocked([]).verdict!, mergeable })
      })
    const groups = statsGroups(
      [finished(1, true, 10, 0.5), finished(2, false, 30, 0.25), finished(3, true, 20, 0), record(4)],
      () => "all"
    )
    assert.deepStrictEqual(groups, [
      { key: "all", runs: 3, mergeable: 2, blocked: 1, failed: 0, pass_rate: 0.667, cost_usd: 0.75, median_seconds: 20 }
    ])
  })
})

describe("Dashboard.metricsSeries", () => {
  const run = (n: number, day: string, adapter: string, mergeable: boolean, costUsd: number) =>
    new RunRecord({
      ...record(n, mergeable ? "succeeded" : "blocked"),
      adapter,
      startedAt: `${day}T10:00:00.000Z`,
      finishedAt: `${day}T10:00:${String(n).padStart(2, "0")}.000Z`,
      costUsd,
      verdict: new GateVerdict({ ...blocked([]).verdict!, mergeable, profile: adapter === "codex" ? "strict" : null })
    })
  const records = [
    run(1, "2026-11-23", "claude", true, 0.5),
    run(2, "2026-11-23", "claude", false, 0.25),
    run(3, "2026-11-24", "claude", true, 0.1),
    run(4, "2026-11-24", "codex", true, 1),
    record(5)
  ]
  const stageMs = (r: RunRecord) =>
    [
      ["agent", r.attempt * 1000],
      ["verify", 500]
    ] as const

  it("gives one series per adapter with a point per day it ran: pass rate, cost and median time per stage; runs in flight are left out", () => {
    const m = metricsSeries(records, { by: "adapter", bucket: "day", stageMs })
    assert.deepStrictEqual([m.runs, m.buckets, m.stages], [4, ["2026-11-23", "2026-11-24"], ["agent", "verify"]])
    assert.deepStrictEqual(
      m.series.map((s) => [s.key, s.points.map((p) => [p.bucket, p.runs, p.pass_rate, p.cost_usd, p.stage_ms.agent])]),
      [
        [
          "claude",
          [
            ["2026-11-23", 2, 0.5, 0.75, 2000],
            ["2026-11-24", 1, 1, 0.1, 3000]
          ]
        ],
        ["codex", [["2026-11-24", 1, 1, 1, 4000]]]
      ]
    )
    assert.deepStrictEqual(
      m.overall.map((p) => [p.bucket, p.runs, p.mergeable]),
      [
        ["2026-11-23", 2, 1],
        ["2026-11-24", 2, 2]
      ]
    )
  })

  it("groups by the gate profile the run was judged with, and by week from Monday", () => {
    const m = metricsSeries(records, { by: "profile", bucket: "week", stageMs: () => [] })
    assert.deepStrictEqual(
      m.series.map((s) => [s.key, s.runs, s.points.map((p) => p.bucket)]),
      [
        ["default", 3, ["2026-11-23"]],
        ["strict", 1, ["2026-11-23"]]
      ]
    )
    assert.deepStrictEqual(
      [bucketOf("2026-11-29T23:00:00.000Z", "week"), bucketOf("2026-11-30T01:00:00.000Z", "week")],
      ["2026-11-23", "2026-11-30"]
    )
  })
})
