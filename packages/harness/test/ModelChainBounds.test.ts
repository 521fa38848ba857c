/**
 * Bounded waiting, one repair and attribution of a role's chain, against the scripted model server
 * at default settings (no test-only timeouts): time is the TestClock's, HTTP is real.
 */
import { assert, describe, it } from "@effect/vitest"
import { ModelServer, type Script } from "@spec-orch/test-kit"
import { Effect, Fiber, Logger, Schema } from "effect"
import { TestClock } from "effect/testing"
import { AiError, type LanguageModel } from "effect/ai"
import { attributionOf, callsOfFailure, Models, type ModelsOptions, ModelUsage } from "../src/index.js"
import { byModel, envFor, loadConfig, modelsLayer } from "./utils/models.js"

const configFor = (models: ReadonlyArray<string>) =>
  loadConfig(
    [
      ...models.flatMap((m) => [
        `[models.${m}]`,
        `model = "${m}-model"`,
        `api_type = "anthropic"`,
        `api_key_env = "MINIMAX_API_KEY"`,
        `api_base_env = "ANTHROPIC_BASE_URL"`,
        ""
      ]),
      `[model_chains.c]`,
      `primary = "${models[0]}"`,
      `fallbacks = [${models
        .slice(1)
        .map((m) => `"${m}"`)
        .join(", ")}]`,
      "",
      `[planner]`,
      `model_chain = "c"`,
      ""
    ].join("\n")
  )

/** Waits (in real time, for real I/O) until the server has seen `n` model requests. */
const requestsReach = (server: ModelServer, n: number) =>
  Effect.promise(async () => {
    for (let i = 0; i < 500 && server.requests.length < n; i++) await new Promise((r) => setTimeout(r, 10))
    if (server.requests.length < n) throw new Error(`the server saw ${server.requests.length} requests, expected ${n}`)
  })

/** Runs `use` with the planner's chain over `models` against `script` at default limits, collecting log lines. */
const planner = <A, E>(
  models: ReadonlyArray<string>,
  script: Script,
  use: (model: LanguageModel.LanguageModel, server: ModelServer) => Effect.Effect<A, E>,
  retry: ModelsOptions["retry"] = { baseDelay: "1 second" }
) =>
  Effect.gen(function* () {
    const server = yield* ModelServer.scoped({ script })
    const logs: Array<string> = []
    const logger = Logger.make((o) => {
      logs.push(Array.isArray(o.message) ? o.message.join(" ") : String(o.message))
    })
    const result = yield* Effect.gen(function* () {
      const model = yield* (yield* Models).forRole("planner")
      return yield* use(model, server)
    }).pipe(
      Effect.provide(modelsLayer(configFor(models), envFor(server.url), { retry })),
      Effect.provide(ModelUsage.layer),
      Effect.provideService(Logger.CurrentLoggers, new Set([logger]))
    )
    return { result, logs, server }
  })

const Answer = Schema.Struct({ title: Schema.String, depends_on: Schema.Array(Schema.String) }).annotate({
  identifier: "plan"
})

describe("a hanging provider at default settings", () => {
  it.effect(
    "that sends nothing is given up after 60 s to first byte, once per model, with a progress line, so a two-model chain ends within 2 minutes",
    () =>
      Effect.gen(function* () {
        const { result, logs, server } = yield* planner(
          ["a", "b"],
          () => ({ hang: true }),
          (model, server) =>
            Effect.gen(function* () {
              const fiber = yield* Effect.forkChild(Effect.result(model.generateText({ prompt: "Say hello." })))
              yield* requestsReach(server, 1)
              yield* TestClock.adjust("60 seconds")
              yield* requestsReach(server, 2)
              yield* TestClock.adjust("60 seconds")
              return yield* Fiber.join(fiber)
            })
        )
        assert.strictEqual(result._tag, "Failure")
        assert.deepStrictEqual(
          server.requests.map((r) => r.body.model),
          ["a-model", "b-model"],
          "each model is asked once: a hang is not retried"
        )
        const failure = (result as { failure: unknown }).failure
        const message = String((failure as AiError.AiError).message)
        assert.include(
          message,
          "a (a-model): the provider accepted the request but sent nothing within 60 s (time to first byte; [models.<id>] first_byte_timeout_seconds)"
        )
        assert.notInclude(message, "no answer within")
        assert.strictEqual(callsOfFailure(failure), 2)
        assert.isTrue(
          logs.some((l) => l.startsWith("planner: waiting for b (b-model) (attempt 1/3, 60 s)")),
          logs.join("\n")
        )
      })
  )

  it.effect(
    "that sends its headers and then nothing is given up after the 120 s total timeout, a different message",
    () =>
      Effect.gen(function* () {
        const { result, server } = yield* planner(
          ["a"],
          () => ({ hang: "after-headers" }),
          (model, server) =>
            Effect.gen(function* () {
              const fiber = yield* Effect.forkChild(Effect.result(model.generateText({ prompt: "Say hello." })))
              yield* requestsReach(server, 1)
              // Past the first-byte bound the call is still waiting: headers arrived.
              yield* TestClock.adjust("90 seconds")
              assert.isUndefined(fiber.pollUnsafe(), "still waiting after 90 s: the headers were the first byte")
              yield* TestClock.adjust("30 seconds")
              return yield* Fiber.join(fiber)
            })
        )
        assert.strictEqual(result._tag, "Failure")
        const message = String(((result as { failure: unknown }).failure as AiError.AiError).message)
        assert.include(message, "a (a-model): no answer within 120 s (timeout; [models.<id>] timeout_seconds)")
        assert.notInclude(message, "first byte")
        assert.strictEqual(server.requests.length, 1, "a timed-out model is not asked again")
      })
  )

  it.effect("honours [models.<id>] first_byte_timeout_seconds", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({ script: () => ({ hang: true }) })
      const config = loadConfig(
        [
          `[models.a]`,
          `model = "a-model"`,
          `api_type = "anthropic"`,
          `api_key_env = "MINIMAX_API_KEY"`,
          `api_base_env = "ANTHROPIC_BASE_URL"`,
          `first_byte_timeout_seconds = 5`,
          "",
          `[planner]`,
          `model_ref = "a"`,
          ""
        ].join("\n")
      )
      const result = yield* Effect.gen(function* () {
        const model = yield* (yield* Models).forRole("planner")
        const fiber = yield* Effect.forkChild(Effect.result(model.generateText({ prompt: "Say hello." })))
        yield* requestsReach(server, 1)
        yield* TestClock.adjust("5 seconds")
        return yield* Fiber.join(fiber)
      }).pipe(Effect.provide(modelsLayer(config, envFor(server.url))), Effect.provide(ModelUsage.layer))
      assert.strictEqual(result._tag, "Failure")
      assert.include(
        String(((result as { failure: unknown }).failure as AiError.AiError).message),
        "sent nothing within 5 s (time to first byte"
      )
    })
  )

  it.effect("ends a call at the role's 300 s bound however many models hang", () =>
    Effect.gen(function* () {
      const { result, server } = yield* planner(
        ["a", "b", "c"],
        () => ({ hang: "after-headers" }),
        (model, server) =>
          Effect.gen(function* () {
            const fiber = yield* Effect.forkChild(Effect.result(model.generateText({ prompt: "Say hello." })))
            yield* requestsReach(server, 1)
            yield* TestClock.adjust("120 seconds")
            yield* requestsReach(server, 2)
            yield* TestClock.adjust("120 seconds")
            yield* requestsReach(server, 3)
            yield* TestClock.adjust("60 seconds")
            return yield* Fiber.join(fiber)
          })
      )
      assert.strictEqual(result._tag, "Failure")
      const message = String(((result as { failure: unknown }).failure as AiError.AiError).message)
      // The role, the bound and the key that sets it; nothing about a network request that was never made.
      assert.include(message, "planner: no answer within 300 s, the bound on one call of the role")
      assert.include(message, "[llm] role_timeout_seconds (default 300 s): raise it in spec-orch.toml")
      assert.notInclude(message, "Check your network connection")
      assert.notInclude(message, "(POST )")
      assert.strictEqual(server.requests.length, 3)
    })
  )

  it.effect("retries an overloaded model with progress lines naming the model and attempt", () =>
    Effect.gen(function* () {
      const { result, logs } = yield* planner(
        ["a", "b"],
        byModel({ "a-model": [{ error: 529 }], "b-model": [{ text: "from b" }] }),
        (model, server) =>
          Effect.gen(function* () {
            const fiber = yield* Effect.forkChild(model.generateText({ prompt: "Say hello." }))
            yield* requestsReach(server, 1)
            yield* TestClock.adjust("1 second")
            yield* requestsReach(server, 2)
            yield* TestClock.adjust("2 seconds")
            return yield* Fiber.join(fiber)
          })
      )
      assert.strictEqual(result.text, "from b")
      assert.deepStrictEqual(
        logs.filter((l) => l.includes("waiting for")),
        [
          "planner: waiting for a (a-model) (attempt 2/3, 1 s)",
          "planner: waiting for a (a-model) (attempt 3/3, 3 s)",
          "planner: waiting for b (b-model) (attempt 1/3, 3 s)"
        ]
      )
    })
  )
})

describe("progress while waiting", () => {
  it.effect("prints a line every 15 s while a request is outstanding, and none once the call is over", () =>
    Effect.gen(function* () {
      const { result, logs } = yield* planner(
        ["a"],
        () => ({ hang: "after-headers" }),
        (model, server) =>
          Effect.gen(function* () {
            const fiber = yield* Effect.forkChild(Effect.result(model.generateText({ prompt: "Say hello." })))
            yield* requestsReach(server, 1)
            for (let i = 0; i < 8; i++) yield* TestClock.adjust("15 seconds")
            const ended = yield* Fiber.join(fiber)
            yield* TestClock.adjust("60 seconds")
            return ended
          })
      )
      assert.strictEqual(result._tag, "Failure")
      const waiting = logs.filter((l) => l.includes("waiting for"))
      assert.deepStrictEqual(
        waiting,
        [15, 30, 45, 60, 75, 90, 105].map((s) => `planner: waiting for a (a-model) (attempt 1/3, ${s} s)`)
      )
    })
  )
})

describe("what the chain says when a model gives up", () => {
  it.effect("names the next model, and says the call fails when no model is left", () =>
    Effect.gen(function* () {
      const { result, logs } = yield* planner(
        ["a", "b"],
        () => ({ hang: true }),
        (model, server) =>
          Effect.gen(function* () {
            const fiber = yield* Effect.forkChild(Effect.result(model.generateText({ prompt: "Say hello." })))
            yield* requestsReach(server, 1)
            yield* TestClock.adjust("60 seconds")
            yield* requestsReach(server, 2)
            yield* TestClock.adjust("60 seconds")
            return yield* Fiber.join(fiber)
          })
      )
      assert.strictEqual(result._tag, "Failure")
      const given = logs.filter((l) => l.includes(" failed "))
      assert.strictEqual(given.length, 2, logs.join("\n"))
      assert.match(
        given[0]!,
        /^planner: a \(a-model\) failed 1 time: .*sent nothing within 60 s.*; trying b \(b-model\)$/
      )
      assert.match(given[1]!, /^planner: b \(b-model\) failed 1 time: .*; no model left: the call fails$/)
    })
  )
})

describe("attribution and repair", () => {
  it.live("says which model answered after the primary was overloaded, and how many requests it took", () =>
    Effect.gen(function* () {
      const { result, server } = yield* planner(
        ["a", "b"],
        byModel({ "a-model": [{ error: 529 }], "b-model": [{ text: "from b" }] }),
        (model) => model.generateText({ prompt: "Say hello." }),
        { baseDelay: "1 millis" }
      )
      const who = attributionOf(result.content)!
      assert.strictEqual(who.model, "b")
      assert.strictEqual(who.calls, 4)
      assert.strictEqual(who.calls, server.requests.length)
      assert.deepStrictEqual(
        who.fallbacks.map((f) => f.model),
        ["a"]
      )
      assert.include(who.fallbacks[0]!.reason, "overloaded")
      assert.isFalse(who.repaired)
    })
  )

  it.live("repairs once, with feedback naming the JSON path and the problem, and counts both requests", () =>
    Effect.gen(function* () {
      const { result, server } = yield* planner(
        ["a"],
        byModel({
          "a-model": [
            { tool: { name: "plan", input: { title: "x", depends_on: "api" } } },
            { tool: { name: "plan", input: { title: "x", depends_on: ["api"] } } }
          ]
        }),
        (model) => model.generateObject({ prompt: "Plan it.", schema: Answer, objectName: "plan" })
      )
      assert.deepStrictEqual(result.value, { title: "x", depends_on: ["api"] })
      assert.strictEqual(server.requests.length, 2)
      assert.include(server.requests[1]!.lastUserText, "at depends_on: Expected array")
      const who = attributionOf(result.content)!
      assert.strictEqual(who.calls, 2)
      assert.isTrue(who.repaired)
    })
  )

  it.live("does not repair twice: a second invalid answer fails, reporting the two requests made", () =>
    Effect.gen(function* () {
      const { result, server } = yield* planner(
        ["a"],
        byModel({ "a-model": [{ tool: { name: "plan", input: { title: 1, depends_on: [] } } }] }),
        (model) => Effect.result(model.generateObject({ prompt: "Plan it.", schema: Answer, objectName: "plan" }))
      )
      assert.strictEqual(result._tag, "Failure")
      const failure = (result as { failure: unknown }).failure
      assert.isTrue(AiError.isAiError(failure) && failure.reason._tag === "StructuredOutputError")
      assert.strictEqual(server.requests.length, 2)
      assert.strictEqual(callsOfFailure(failure), 2)
      assert.include(server.requests[1]!.lastUserText, "at title: Expected string")
    })
  )
})
