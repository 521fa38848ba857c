import { assert, describe, it } from "@effect/vitest"
import { AcceptanceCriterion, ConditionResult, ConfigFile, GateVerdict, Issue, IssueOrigin, makeIssueId, makeRunId, makeRunKey, RunRecord } from "@spec-orch/contract"
import { Effect, Layer, Stream } from "effect"
import { LanguageModel } from "effect/ai"
import { daemonRules, disposition, inConsumeState, isActive, labelsAllow, pollQuery, retryDelaySeconds } from "../src/daemon/Daemon.js"
import { type Heartbeat, judgeHealth, staleAfterSeconds } from "../src/daemon/Heartbeat.js"
import { clarificationComment, readinessRules, triage } from "../src/daemon/Triage.js"

const issue = (over: Partial<ConstructorParameters<typeof Issue>[0]> = {}, origin: Partial<ConstructorParameters<typeof IssueOrigin>[0]> = {}) =>
  new Issue({
    id: makeIssueId("SON-1"),
    title: "Add a health endpoint",
    summary: "GET /health answers 200",
    builderPrompt: "Add GET /health",
    acceptanceCriteria: [new AcceptanceCriterion({ id: "AC-1", text: "GET /health answers 200" })],
    constraints: [],
    filesToRead: [],
    targetFiles: [],
    labels: [],
    ...over,
    origin: new IssueOrigin({ kind: "linear", ref: "uuid-1", state: "Ready", ...origin })
  })

const linearRules = daemonRules(ConfigFile.parse({ issue: { source: "linear" } }))
const githubRules = daemonRules(ConfigFile.parse({ issue: { source: "github" }, daemon: { consume_state: "ready" } }))

describe("daemon rules", () => {
  it("retries after base × 2^(n-1) seconds", () => {
    assert.deepStrictEqual([1, 2, 3, 4].map((n) => retryDelaySeconds(60, n)), [60, 120, 240, 480])
    assert.strictEqual(retryDelaySeconds(0, 3), 0)
  })

  it("Linear: waiting means the consume state; a run goes on in the in-progress state; anything else cancels it", () => {
    assert.isTrue(inConsumeState(linearRules, issue({}, { state: "Ready" })))
    assert.isTrue(inConsumeState(linearRules, issue({}, { state: "ready" })), "state names compare case-insensitively")
    assert.isFalse(inConsumeState(linearRules, issue({}, { state: "In Progress" })))
    assert.isTrue(isActive(linearRules, issue({}, { state: "In Progress" })))
    assert.isFalse(isActive(linearRules, issue({}, { state: "Backlog" })))
    assert.deepStrictEqual(pollQuery(linearRules), { states: ["Ready", "In Progress"], labels: [], excludeLabels: ["blocked", "needs-clarification"] })
  })

  it("GitHub: an open issue with the consume-state label", () => {
    const gh = (state: string, labels: ReadonlyArray<string>) => issue({ labels: [...labels] }, { kind: "github", ref: "acme/widgets#1", state })
    assert.isTrue(inConsumeState(githubRules, gh("open", ["Ready"])))
    assert.isFalse(inConsumeState(githubRules, gh("open", [])))
    assert.isFalse(isActive(githubRules, gh("closed", ["ready"])))
    assert.deepStrictEqual(pollQuery(githubRules), { states: ["open"], labels: ["ready"], excludeLabels: ["blocked", "needs-clarification"] })
  })

  it("label filters: every required label, none of the excluded ones", () => {
    const rules = { ...linearRules, requireLabels: ["agent"] }
    assert.isTrue(labelsAllow(rules, issue({ labels: ["Agent", "backend"] })))
    assert.isFalse(labelsAllow(rules, issue({ labels: ["backend"] })))
    assert.isFalse(labelsAllow(rules, issue({ labels: ["agent", "Blocked"] })))
  })

  const record = (status: RunRecord["status"], stage: RunRecord["stage"] = "publish", failed: ReadonlyArray<string> = [], notJudgeable: ReadonlyArray<string> = []) =>
    new RunRecord({
      runId: makeRunId("SON-1-r1"),
      runKey: makeRunKey("SON-1"),
      issueId: makeIssueId("SON-1"),
      attempt: 1,
      status,
      stage,
      startedAt: "2026-01-01T00:00:00Z",
      updatedAt: "2026-01-01T00:00:00Z",
      message: status,
      verdict: new GateVerdict({
        policy: "p",
        profile: "daemon",
        mergeable: status === "succeeded",
        autoMergeable: false,
        conditions: [...failed, ...notJudgeable].map((c) => new ConditionResult({ condition: c, required: true, status: failed.includes(c) ? "failed" : "not_judgeable", reason: "x" })),
        failed: [...failed],
        notJudgeable: [...notJudgeable]
      })
    })

  it("after a run: mergeable is done, agent-fixable failures retry, a run waiting for a reviewer is done, a failed publish re-verifies", () => {
    assert.strictEqual(disposition(record("succeeded")).kind, "done")
    assert.deepStrictEqual(disposition(record("blocked", "publish", ["verification"])), { kind: "retry", message: "gate failed: verification (blocked)" })
    assert.strictEqual(disposition(record("blocked", "publish", [], ["review"])).kind, "done", "a person acts on the PR")
    assert.strictEqual(disposition(record("blocked", "publish", ["human_acceptance"])).kind, "done")
    assert.deepStrictEqual(disposition(record("failed", "publish")), { kind: "retry", message: "failed", reuseAgentOf: "SON-1-r1" })
    assert.deepStrictEqual(disposition(record("failed", "agent")), { kind: "retry", message: "failed" })
    assert.strictEqual(disposition(record("waiting", "spec")).kind, "clarify")
  })
})

const heartbeat = (over: Partial<Heartbeat> = {}): Heartbeat => ({
  status: "healthy",
  pid: 4242,
  host: "box",
  at: "2026-01-01T00:00:00.000Z",
  startedAt: "2026-01-01T00:00:00.000Z",
  pollIntervalSeconds: 60,
  processed: 3,
  inFlight: [],
  deadLetter: 1,
  consecutiveErrors: 0,
  lastError: null,
  ...over
})
const at = (seconds: number) => Date.parse("2026-01-01T00:00:00.000Z") + seconds * 1000

describe("judgeHealth", () => {
  it("healthy while the process lives and the heartbeat is fresh", () => {
    const h = judgeHealth("hb.json", heartbeat(), at(10), "box", () => true, true)
    assert.deepStrictEqual([h.healthy, h.state, h.ageSeconds], [true, "healthy", 10])
    assert.match(h.message, /pid 4242\) is healthy: 0 run\(s\) in flight, 3 finished, 1 dead-lettered/)
  })

  it("unhealthy when missing, stopped, gone, stale or degraded, each saying so", () => {
    assert.match(judgeHealth("hb.json", undefined, at(0), "box", () => true, false).message, /no daemon has run here \(no hb.json\)/)
    assert.strictEqual(judgeHealth("hb.json", heartbeat({ status: "stopped" }), at(1), "box", () => true, true).state, "stopped")
    assert.strictEqual(judgeHealth("hb.json", heartbeat(), at(1), "box", () => false, true).state, "not-running")
    assert.strictEqual(judgeHealth("hb.json", heartbeat(), at(1), "other-host", () => false, true).state, "healthy", "a process on another host cannot be checked")
    assert.strictEqual(staleAfterSeconds(heartbeat()), 300)
    assert.strictEqual(judgeHealth("hb.json", heartbeat(), at(301), "box", () => true, true).state, "stale")
    const degraded = judgeHealth("hb.json", heartbeat({ status: "degraded", consecutiveErrors: 2, lastError: "linear SON is unavailable" }), at(1), "box", () => true, true)
    assert.deepStrictEqual([degraded.healthy, degraded.state], [false, "degraded"])
    assert.match(degraded.message, /2 tick\(s\) in a row failed; last error: linear SON is unavailable/)
  })
})

/** A language model answering every request with `answer` as JSON (the provider-facing interface). */
const modelAnswering = (answer: unknown) =>
  Layer.effect(
    LanguageModel.LanguageModel,
    LanguageModel.make({
      generateText: () => Effect.succeed([{ type: "text", text: JSON.stringify(answer) }, { type: "finish", reason: "stop", response: undefined, usage: { inputTokens: { total: 10, uncached: undefined, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 5, text: undefined, reasoning: undefined } } }] as never),
      streamText: () => Stream.die("not used")
    })
  )

describe("triage", () => {
  it("the rules want something to build and acceptance criteria", () => {
    assert.deepStrictEqual(readinessRules(issue()), [])
    const missing = readinessRules(issue({ builderPrompt: "", summary: "", acceptanceCriteria: [] }))
    assert.strictEqual(missing.length, 2)
    assert.match(missing[0]!, /what to build/)
    assert.match(missing[1]!, /acceptance criteria/)
  })

  it.effect("without a model, the rules decide", () =>
    Effect.gen(function*() {
      const r = yield* triage(issue({ acceptanceCriteria: [] }))
      assert.deepStrictEqual([r.ready, r.decidedBy], [false, "rules"])
      assert.match(clarificationComment(issue(), r, "Ready"), /1\. Please add how to tell it is done[\s\S]*remove the `needs-clarification` label/)
      assert.isTrue((yield* triage(issue())).ready)
    }))

  it.effect("with a model, its questions make an issue wait", () =>
    Effect.gen(function*() {
      const r = yield* triage(issue()).pipe(Effect.provide(modelAnswering({ ready: false, questions: ["Which port?", " "] })))
      assert.deepStrictEqual([r.ready, r.decidedBy, r.questions], [false, "model", ["Which port?"]])
      const ok = yield* triage(issue()).pipe(Effect.provide(modelAnswering({ ready: true, questions: [] })))
      assert.deepStrictEqual([ok.ready, ok.decidedBy], [true, "model"])
    }))

  it.effect("a model that answers nonsense does not block the issue", () =>
    Effect.gen(function*() {
      const r = yield* triage(issue()).pipe(Effect.provide(modelAnswering("not an object")))
      assert.deepStrictEqual([r.ready, r.decidedBy], [true, "model-unavailable"])
    }))
})
