import { assert, describe, it } from "@effect/vitest"
import { fastForwardClock, ModelServer, type Script } from "@spec-orch/test-kit"
import { Clock, Effect, Schema, Stream } from "effect"
import { AiError, type LanguageModel } from "effect/ai"
import { attributionOf, type ModelCall, Models, ModelUsage } from "../src/index.js"
import { byModel, envFor, leakedSecrets, loadConfig, modelsLayer, requestsFor, SECRETS } from "./utils/models.js"

const config = loadConfig("original-chain.toml")

/** Runs `use` with the planner's chain (minimax → doubao → gpt) against a server running `script`; returns its result, the requests and the usage ledger. */
const withPlanner = <A, E>(script: Script, use: (model: LanguageModel.LanguageModel) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const server = yield* ModelServer.scoped({ script })
    const run = Effect.gen(function* () {
      const model = yield* (yield* Models).forRole("planner")
      const result = yield* use(model).pipe(Effect.result)
      const calls = yield* (yield* ModelUsage).calls
      return { result, calls }
    })
    const { result, calls } = yield* run.pipe(
      Effect.provide(modelsLayer(config, envFor(server.url))),
      Effect.provide(ModelUsage.layer)
    )
    return { result, calls, requests: server.requests }
  })

const text = (model: LanguageModel.LanguageModel) =>
  Effect.map(model.generateText({ prompt: "Say hello." }), (r) => r.text)

const failureOf = <A, E>(result: { _tag: "Success"; success: A } | { _tag: "Failure"; failure: E }): E => {
  if (result._tag === "Success") throw new Error(`expected a failure, got ${JSON.stringify(result.success)}`)
  return result.failure
}
const successOf = <A, E>(result: { _tag: "Success"; success: A } | { _tag: "Failure"; failure: E }): A => {
  if (result._tag === "Failure")
    throw new Error(`expected success, got ${String((result.failure as any)?.message ?? result.failure)}`)
  return result.success
}
const summary = (calls: ReadonlyArray<ModelCall>) =>
  calls.map((c) => `${c.model}#${c.attempt}:${c.ok ? "ok" : c.error}`)

describe("ModelChain fallback", () => {
  it.live("retries a rate-limited model twice, then answers from the next model", () =>
    Effect.gen(function* () {
      const { result, calls, requests } = yield* withPlanner(
        byModel({
          "MiniMax-M2.7-highspeed": [{ error: 429, retryAfter: 0 }],
          "doubao-seed-2.0-code": [{ text: "hello from doubao" }]
        }),
        text
      )
      assert.strictEqual(successOf(result), "hello from doubao")
      assert.strictEqual(requestsFor(requests, "MiniMax-M2.7-highspeed").length, 3)
      assert.deepStrictEqual(summary(calls), [
        "minimax_reasoning#1:RateLimitError",
        "minimax_reasoning#2:RateLimitError",
        "minimax_reasoning#3:RateLimitError",
        "doubao_seed_code#1:ok"
      ])
    })
  )

  it.live("waits as long as retry-after says before retrying the same model", () =>
    Effect.gen(function* () {
      // The wait is skipped on the wall clock but spent in full on the chain's clock; the 3 s request timeouts stay real.
      const ff = fastForwardClock({ skip: (millis) => millis >= 1_000 && millis < 2_000 })
      const { result, calls } = yield* withPlanner(
        byModel({ "MiniMax-M2.7-highspeed": [{ error: 429, retryAfter: 1 }, { text: "second try" }] }),
        text
      ).pipe(Effect.provideService(Clock.Clock, ff.clock))
      assert.strictEqual(successOf(result), "second try")
      assert.deepStrictEqual(summary(calls), ["minimax_reasoning#1:RateLimitError", "minimax_reasoning#2:ok"])
      assert.include(calls[0]!.detail!, "retry after")
      assert.isAtLeast(calls[1]!.at - calls[0]!.at, 1000)
      assert.include(ff.skipped, 1000, "it waited the second retry-after asked for")
    })
  )

  it.live("moves on from an overloaded (529) model and from a 500, across providers", () =>
    Effect.gen(function* () {
      const { result, calls } = yield* withPlanner(
        byModel({
          "MiniMax-M2.7-highspeed": [{ error: 529 }],
          "doubao-seed-2.0-code": [{ error: 500 }],
          "gpt-5.5": [{ text: "from chat completions" }]
        }),
        text
      )
      assert.strictEqual(successOf(result), "from chat completions")
      assert.deepStrictEqual(
        calls.map((c) => c.error ?? "ok"),
        [
          "InternalProviderError",
          "InternalProviderError",
          "InternalProviderError",
          "InternalProviderError",
          "InternalProviderError",
          "InternalProviderError",
          "ok"
        ]
      )
      assert.include(calls[0]!.detail!, "overloaded")
      assert.strictEqual(calls.at(-1)!.api, "openai_chat")
    })
  )

  it.live("does not wait for a retry-after longer than a minute: it moves to the next model at once", () =>
    Effect.gen(function* () {
      const { result, calls } = yield* withPlanner(
        byModel({
          "MiniMax-M2.7-highspeed": [{ error: 429, retryAfter: 600 }],
          "doubao-seed-2.0-code": [{ text: "no waiting" }]
        }),
        text
      )
      assert.strictEqual(successOf(result), "no waiting")
      assert.deepStrictEqual(summary(calls), ["minimax_reasoning#1:RateLimitError", "doubao_seed_code#1:ok"])
    })
  )

  it.live("streams the answer of the model that answered", () =>
    Effect.gen(function* () {
      const { result } = yield* withPlanner(
        byModel({ "MiniMax-M2.7-highspeed": [{ error: 500 }], "doubao-seed-2.0-code": [{ text: "streamed" }] }),
        (model) =>
          Stream.runCollect(model.streamText({ prompt: "Say it." })).pipe(
            Effect.map((parts) => parts.flatMap((p) => (p.type === "text-delta" ? [p.delta] : [])).join(""))
          )
      )
      assert.strictEqual(successOf(result), "streamed")
    })
  )

  it.live("gives up on a model that does not answer within its timeout without asking it again, and falls back", () =>
    Effect.gen(function* () {
      const { result, calls } = yield* withPlanner(
        byModel({ "MiniMax-M2.7-highspeed": [{ hang: true }], "doubao-seed-2.0-code": [{ text: "awake" }] }),
        text
      )
      assert.strictEqual(successOf(result), "awake")
      assert.deepStrictEqual(summary(calls), ["minimax_reasoning#1:NetworkError", "doubao_seed_code#1:ok"])
      assert.include(calls[0]!.detail!, "no answer within 3 s")
    })
  )

  it.live("treats a connection cut mid-answer as transient", () =>
    Effect.gen(function* () {
      const { result, calls } = yield* withPlanner(
        byModel({ "MiniMax-M2.7-highspeed": [{ truncated: true }, { text: "reconnected" }] }),
        text
      )
      assert.strictEqual(successOf(result), "reconnected")
      assert.deepStrictEqual(summary(calls), ["minimax_reasoning#1:NetworkError", "minimax_reasoning#2:ok"])
    })
  )

  it.live("retries a malformed answer, then falls back", () =>
    Effect.gen(function* () {
      const { result, calls } = yield* withPlanner(
        byModel({ "MiniMax-M2.7-highspeed": [{ malformed: true }], "doubao-seed-2.0-code": [{ text: "well-formed" }] }),
        text
      )
      assert.strictEqual(successOf(result), "well-formed")
      assert.strictEqual(calls[0]!.error, "InvalidResponseError")
      assert.strictEqual(calls.length, 4)
    })
  )

  it.live("names every model and what happened to it when the whole chain fails", () =>
    Effect.gen(function* () {
      const { result } = yield* withPlanner(
        byModel({
          "MiniMax-M2.7-highspeed": [{ error: 429, retryAfter: 0 }],
          "doubao-seed-2.0-code": [{ error: 529 }],
          "gpt-5.5": [{ error: 500 }]
        }),
        text
      )
      const error = failureOf(result)
      assert.isTrue(AiError.isAiError(error) && error.isRetryable, "an exhausted chain is still a transient failure")
      assert.match(error.message, /every model of chain:default_reasoning failed with transient errors/)
      assert.match(
        error.message,
        /minimax_reasoning \(MiniMax-M2\.7-highspeed\): rate limited \(HTTP 429.*\) after 3 attempts/
      )
      assert.match(error.message, /doubao_seed_code .*overloaded.* after 3 attempts/)
      assert.match(error.message, /gpt \(gpt-5\.5\): .*HTTP 500.* after 3 attempts/)
    })
  )
})

describe("ModelChain fatal errors", () => {
  it.live("does not fall back on 401, names the key's env var, and never shows the key", () =>
    Effect.gen(function* () {
      const { result, calls, requests } = yield* withPlanner(
        byModel({
          "MiniMax-M2.7-highspeed": [{ error: 401, message: `invalid x-api-key: ${SECRETS.MINIMAX_API_KEY}` }],
          "doubao-seed-2.0-code": [{ text: "must not be asked" }]
        }),
        text
      )
      const error = failureOf(result)
      assert.strictEqual(requests.length, 1, "no retry and no fallback")
      assert.isTrue(AiError.isAiError(error) && error.reason._tag === "AuthenticationError")
      assert.include(error.message, "the key from $MINIMAX_API_KEY was rejected")
      assert.include(error.message, "HTTP 401")
      assert.deepStrictEqual(leakedSecrets(error.message), [])
      assert.deepStrictEqual(leakedSecrets(JSON.stringify(error)), [])
      assert.deepStrictEqual(leakedSecrets(String(error)), [])
      assert.deepStrictEqual(leakedSecrets(JSON.stringify(calls)), [])
      assert.include(calls[0]!.detail!, "[redacted]")
    })
  )

  it.live("fails at once on 403 and on 400 (invalid request)", () =>
    Effect.gen(function* () {
      const forbidden = yield* withPlanner(byModel({ "MiniMax-M2.7-highspeed": [{ error: 403 }] }), text)
      const e403 = failureOf(forbidden.result)
      assert.isTrue(
        AiError.isAiError(e403) &&
          e403.reason._tag === "AuthenticationError" &&
          e403.reason.kind === "InsufficientPermissions"
      )
      assert.strictEqual(forbidden.requests.length, 1)
      const bad = yield* withPlanner(
        byModel({ "MiniMax-M2.7-highspeed": [{ error: 400, message: "max_tokens: too large" }] }),
        text
      )
      const e400 = failureOf(bad.result)
      assert.isTrue(AiError.isAiError(e400) && e400.reason._tag === "InvalidRequestError")
      assert.include(e400.message, "max_tokens: too large")
      assert.strictEqual(bad.requests.length, 1)
    })
  )
})

const PlanAnswer = Schema.Struct({ title: Schema.String, risk: Schema.Int })

describe("ModelChain structured output", () => {
  it.live("asks for the answer as a forced tool call and decodes it with the schema", () =>
    Effect.gen(function* () {
      const { result, requests } = yield* withPlanner(
        byModel({ "MiniMax-M2.7-highspeed": [{ tool: { name: "plan", input: { title: "Ship it", risk: 2 } } }] }),
        (model) =>
          Effect.map(
            model.generateObject({ prompt: "Plan it.", schema: PlanAnswer, objectName: "plan" }),
            (r) => r.value
          )
      )
      assert.deepStrictEqual(successOf(result), { title: "Ship it", risk: 2 })
      const body = requests[0]!.body
      assert.deepStrictEqual(body.tool_choice, { type: "tool", name: "plan" })
      assert.deepStrictEqual(body.tools[0].input_schema.required, ["title", "risk"])
    })
  )

  it.live("repairs an answer that does not validate with one more request carrying the error", () =>
    Effect.gen(function* () {
      const { result, requests, calls } = yield* withPlanner(
        byModel({
          "MiniMax-M2.7-highspeed": [
            { tool: { name: "plan", input: { title: "Ship it", risk: "high" } } },
            { tool: { name: "plan", input: { title: "Ship it", risk: 3 } } }
          ]
        }),
        (model) =>
          Effect.map(
            model.generateObject({ prompt: "Plan it.", schema: PlanAnswer, objectName: "plan" }),
            (r) => r.value
          )
      )
      assert.deepStrictEqual(successOf(result), { title: "Ship it", risk: 3 })
      assert.strictEqual(requests.length, 2)
      const repair = requests[1]!
      assert.include(repair.lastUserText, "does not match the required JSON schema")
      assert.include(repair.lastUserText, "risk")
      assert.include(JSON.stringify(repair.body.messages.at(-2)), "high", "the model sees its own invalid answer")
      assert.deepStrictEqual(
        calls.map((c) => c.kind),
        ["object", "object"]
      )
    })
  )

  it.live("repairs once only: a second invalid answer is a structured-output error", () =>
    Effect.gen(function* () {
      const { result, requests } = yield* withPlanner(
        byModel({ "MiniMax-M2.7-highspeed": [{ tool: { name: "plan", input: { title: 1 } } }] }),
        (model) => model.generateObject({ prompt: "Plan it.", schema: PlanAnswer, objectName: "plan" })
      )
      const error = failureOf(result)
      assert.isTrue(AiError.isAiError(error) && error.reason._tag === "StructuredOutputError")
      assert.strictEqual(requests.length, 2)
    })
  )

  it.live("salvages JSON a model wrapped in prose and code fences", () =>
    Effect.gen(function* () {
      const { result } = yield* withPlanner(
        byModel({
          "MiniMax-M2.7-highspeed": [
            { text: 'Here you go:\n```json\n{"title": "Fenced", "risk": 1}\n```\nAnything else?' }
          ]
        }),
        (model) =>
          Effect.map(
            model.generateObject({ prompt: "Plan it.", schema: PlanAnswer, objectName: "plan" }),
            (r) => r.value
          )
      )
      assert.deepStrictEqual(successOf(result), { title: "Fenced", risk: 1 })
    })
  )
})

describe("ModelChain usage", () => {
  it.live("records tokens and cost per call, and reports them on the response", () =>
    Effect.gen(function* () {
      const { result, calls } = yield* withPlanner(
        byModel({ "MiniMax-M2.7-highspeed": [{ text: "priced", usage: { input: 1000, output: 200 } }] }),
        (model) => model.generateText({ prompt: "Say something." })
      )
      const response = successOf(result)
      assert.strictEqual(response.usage.inputTokens.total, 1000)
      assert.strictEqual(response.usage.outputTokens.total, 200)
      assert.strictEqual(calls.length, 1)
      const call = calls[0]!
      assert.strictEqual(call.inputTokens, 1000)
      assert.strictEqual(call.outputTokens, 200)
      assert.closeTo(call.usd!, (1000 * 3 + 200 * 15) / 1_000_000, 1e-12)
      assert.strictEqual(call.chain, "chain:default_reasoning")
      assert.match(call.provider!, /^127\.0\.0\.1:\d+$/, "the provider is the host the request went to")
      assert.strictEqual(call.api, "anthropic")
      assert.strictEqual(call.role, "planner")
      assert.strictEqual(response.finishReason, "stop")
    })
  )

  it.live("leaves cost out for a model without prices", () =>
    Effect.gen(function* () {
      const { calls } = yield* withPlanner(
        byModel({
          "MiniMax-M2.7-highspeed": [{ error: 500 }],
          "doubao-seed-2.0-code": [{ text: "free", usage: { input: 10, output: 5 } }]
        }),
        text
      )
      const ok = calls.find((c) => c.ok)!
      assert.strictEqual(ok.model, "doubao_seed_code")
      assert.isUndefined(ok.usd)
      assert.strictEqual(ok.inputTokens, 10)
    })
  )
  it.live("sums what a whole call took on its attribution: every request, the repair included, priced", () =>
    Effect.gen(function* () {
      const { result } = yield* withPlanner(
        byModel({
          "MiniMax-M2.7-highspeed": [
            { tool: { name: "plan", input: { title: "Ship it", risk: "high" } }, usage: { input: 1000, output: 200 } },
            { tool: { name: "plan", input: { title: "Ship it", risk: 3 } }, usage: { input: 1500, output: 100 } }
          ]
        }),
        (model) => model.generateObject({ prompt: "Plan it.", schema: PlanAnswer, objectName: "plan" })
      )
      const usage = attributionOf(successOf(result).content)!.usage
      assert.deepStrictEqual(
        { ...usage, costUsd: undefined, latencyMs: undefined, requests: undefined },
        {
          calls: 2,
          failed: 0,
          inputTokens: 2500,
          outputTokens: 300,
          costUsd: undefined,
          latencyMs: undefined,
          requests: undefined
        }
      )
      assert.deepStrictEqual(
        usage.requests!.map((q) => [q.attempt, q.outcome, q.inputTokens, q.outputTokens, q.repair ?? false]),
        [
          [1, "ok", 1000, 200, false],
          [1, "ok", 1500, 100, true]
        ]
      )
      assert.closeTo(usage.costUsd!, (2500 * 3 + 300 * 15) / 1_000_000, 1e-12)
      assert.isAtLeast(usage.latencyMs, 0)
    })
  )

  it.live("says the cost of a call is unknown (null) once a model without prices answered, never a partial sum", () =>
    Effect.gen(function* () {
      const { result } = yield* withPlanner(
        byModel({
          "MiniMax-M2.7-highspeed": [{ error: 500 }],
          "doubao-seed-2.0-code": [{ text: "free", usage: { input: 10, output: 5 } }]
        }),
        (model) => model.generateText({ prompt: "Say something." })
      )
      const usage = attributionOf(successOf(result).content)!.usage
      assert.strictEqual(usage.calls, 4)
      assert.strictEqual(usage.failed, 3)
      assert.strictEqual(usage.inputTokens, 10)
      assert.isNull(usage.costUsd)
    })
  )
})
