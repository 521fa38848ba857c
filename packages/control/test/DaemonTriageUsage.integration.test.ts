/**
 * The daemon's readiness triage asks a model (the planner's chain): its calls are recorded like the
 * run workflow's, in the run they lead to and summed in the daemon's store, so cost views include them.
 */
import { assert, describe, it } from "@effect/vitest"
import { type ModelProfile, ModelChain } from "@spec-orch/harness"
import { ModelServer } from "@spec-orch/test-kit"
import { Effect, Layer, Redacted } from "effect"
import { LanguageModel } from "effect/ai"
import { FetchHttpClient } from "effect/http"
import { Daemon } from "../src/daemon/Daemon.js"
import { TRIAGE_USAGE_KEY } from "../src/daemon/DaemonRules.js"
import { DaemonStore } from "../src/daemon/DaemonStore.js"
import { RunStore } from "../src/run/RunStore.js"
import { MODEL_CALL_EVENT } from "../src/run/RunWorkflow.js"
import { daemonLayer, daemonWorld, readyIssue } from "./utils/daemonWorld.js"

const triageModel = (baseUrl: string) => {
  const profile: ModelProfile = {
    id: "triager",
    apiType: "anthropic",
    model: "triage-model",
    baseUrl,
    baseSource: "api_base",
    key: { kind: "env", name: "TRIAGE_KEY", value: Redacted.make("sk-triage-0123456789"), bearer: false },
    missing: [],
    timeoutMs: 30_000,
    maxTokens: undefined,
    temperature: undefined,
    // $1 per million input tokens, $10 per million output tokens.
    prices: { inputUsdPerMtok: 1, outputUsdPerMtok: 10 }
  }
  return Layer.effect(
    LanguageModel.LanguageModel,
    ModelChain.make({ name: "model:triager", role: "planner", members: [profile] })
  ).pipe(Layer.provide(FetchHttpClient.layer))
}

describe("Daemon triage model calls", () => {
  it.live(
    "are kept in the run they lead to (role triage) and summed in the daemon's store, also for an issue sent back for clarification",
    () =>
      Effect.gen(function* () {
        const server = yield* ModelServer.scoped({
          script: (req) =>
            req.lastUserText.includes("something vague")
              ? {
                  tool: { name: "readiness", input: { ready: false, questions: ["Which endpoint?"] } },
                  usage: { input: 1000, output: 100 }
                }
              : {
                  tool: { name: "readiness", input: { ready: true, questions: [] } },
                  usage: { input: 1000, output: 100 }
                }
        })
        const w = yield* daemonWorld()
        const ready = readyIssue(w.linear, "a health endpoint")
        const vague = readyIssue(w.linear, "something vague")
        yield* Effect.gen(function* () {
          const daemon = yield* Daemon.use((d) => Effect.succeed(d))
          const report = yield* daemon.tick
          assert.deepStrictEqual(report.dispatched, [ready.identifier])
          assert.deepStrictEqual(report.clarifying, [vague.identifier])
          yield* daemon.drain

          const [run] = yield* RunStore.use((s) => s.list({ issueId: ready.identifier }))
          const events = yield* RunStore.use((s) => s.events(run!.runId))
          const calls = events
            .filter((e) => e.kind === MODEL_CALL_EVENT)
            .map((e) => e.data as { role?: string; model: string; usd?: number })
          assert.deepStrictEqual(
            calls.map((c) => [c.role, c.model]),
            [["triage", "triager"]]
          )
          const record = yield* RunStore.use((s) => s.get(run!.runId))
          const triage = record?.modelCalls?.byRole.find((r) => r.role === "triage")
          assert.isDefined(triage, JSON.stringify(record?.modelCalls))
          assert.strictEqual(triage!.calls, 1)
          assert.closeTo(triage!.costUsd!, 0.002, 1e-9)

          const totals = JSON.parse((yield* DaemonStore.use((s) => s.getMeta(TRIAGE_USAGE_KEY)))!)
          assert.deepStrictEqual(
            { ...totals, usd: Math.round(totals.usd * 1e6) / 1e6 },
            { calls: 2, failed: 0, inputTokens: 2000, outputTokens: 200, usd: 0.004 }
          )
        }).pipe(Effect.provide(daemonLayer(w).pipe(Layer.provide(triageModel(server.url)))))
        assert.strictEqual(server.requests.length, 2)
      })
  )
})
