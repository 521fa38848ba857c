import { assert, describe, it } from "@effect/vitest"
import { firedTriggers, type PullObservation, reviewSeverity, reviewSource, signalOf } from "../src/daemon/Feedback.js"
import type { GitHubPull } from "../src/trackers/GitHub.js"

const pull = (over: Partial<GitHubPull> = {}): GitHubPull => ({
  number: 7,
  title: "t",
  body: "",
  state: "open",
  draft: false,
  merged: false,
  url: "u",
  head: "spec-orch/SON-1",
  headSha: "b".repeat(40),
  base: "main",
  mergeable: true,
  mergeableState: "clean",
  ...over
})
const observation = (over: Partial<PullObservation> = {}): PullObservation => ({
  pull: pull(),
  reviews: [],
  reviewComments: [],
  checkRuns: [],
  statuses: [],
  ...over
})
const review = (id: number, user: string, state: string, body = "") => ({
  id,
  user,
  state,
  body,
  submittedAt: null,
  commitId: null,
  url: ""
})
const check = (name: string, status: string, conclusion: string | null) => ({
  id: 1,
  name,
  status,
  conclusion,
  url: null,
  app: "github-actions"
})

describe("review classification (the original's rules)", () => {
  it("names the source by login", () => {
    assert.deepStrictEqual(
      [
        "coderabbitai[bot]",
        "devin-ai-integration[bot]",
        "gemini-code-assist[bot]",
        "dependabot[bot]",
        "renovate[bot]",
        "octocat",
        null
      ].map(reviewSource),
      ["coderabbit", "devin", "gemini", "bot", "bot", "human", "human"]
    )
  })

  it("tags decide first, then a review requesting changes, then a bot naming a bug", () => {
    assert.strictEqual(reviewSeverity("[nit] rename", "CHANGES_REQUESTED", "human"), "advisory")
    assert.strictEqual(reviewSeverity("[major] this leaks", "COMMENTED", "human"), "blocking")
    assert.strictEqual(reviewSeverity("please rename", "CHANGES_REQUESTED", "human"), "blocking")
    assert.strictEqual(reviewSeverity("possible security issue", undefined, "coderabbit"), "blocking")
    assert.strictEqual(reviewSeverity("possible security issue", undefined, "human"), "advisory")
  })
})

describe("signalOf and firedTriggers", () => {
  it("the latest decisive review per reviewer counts; a later approval lifts their request", () => {
    const s = signalOf(
      observation({
        reviews: [review(1, "ann", "CHANGES_REQUESTED"), review(2, "bob", "APPROVED"), review(3, "ann", "APPROVED")]
      })
    )
    assert.deepStrictEqual([s.reviewDecision, s.changesRequestedReview], ["APPROVED", null])
    const t = signalOf(
      observation({
        reviews: [review(4, "ann", "APPROVED"), review(5, "bob", "CHANGES_REQUESTED"), review(6, "bob", "COMMENTED")]
      })
    )
    assert.deepStrictEqual([t.reviewDecision, t.changesRequestedReview], ["CHANGES_REQUESTED", 5])
  })

  it("checks: the newest run of a name counts; pending is not green; other statuses count, spec-orch's own do not", () => {
    const s = signalOf(
      observation({
        checkRuns: [
          check("unit", "completed", "success"),
          check("unit", "completed", "failure"),
          check("lint", "in_progress", null)
        ],
        statuses: [{ state: "error", context: "ci/legacy", description: null, targetUrl: null }]
      })
    )
    assert.deepStrictEqual([s.checksFailed, s.checksPending, s.checksPassed], [["ci/legacy"], ["lint"], false])
  })

  it("fires head_changed, ci_failed, changes_requested and approved_and_green with the keys that make them happen once", () => {
    const head = "b".repeat(40)
    const o = observation({
      reviews: [review(9, "ann", "CHANGES_REQUESTED")],
      checkRuns: [check("unit", "completed", "timed_out")]
    })
    assert.deepStrictEqual(firedTriggers(signalOf(o), "a".repeat(40), o.pull), [
      { trigger: "head_changed", key: head },
      { trigger: "ci_failed", key: head },
      { trigger: "changes_requested", key: "review-9" }
    ])
    const green = observation({
      reviews: [review(1, "ann", "APPROVED")],
      checkRuns: [check("unit", "completed", "success")]
    })
    assert.deepStrictEqual(firedTriggers(signalOf(green), head, green.pull), [
      { trigger: "approved_and_green", key: head }
    ])
    assert.deepStrictEqual(firedTriggers(signalOf(green), head, pull({ draft: true })), [], "a draft is not merged")
    assert.deepStrictEqual(
      firedTriggers(signalOf(green), head, pull({ state: "closed" })),
      [],
      "a closed PR fires nothing"
    )
  })
})
