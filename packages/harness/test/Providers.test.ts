import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ModelServer, scripts } from "@spec-orch/test-kit"
import { Effect, Layer, Redacted, Schema } from "effect"
import { AiError, LanguageModel } from "effect/ai"
import { FetchHttpClient } from "effect/http"
import { type ModelProfile, Models, Providers } from "../src/index.js"
import { envFor, FAST, leakedSecrets, loadConfig, modelsLayer, SECRETS } from "./utils/models.js"

const profile = (over: Partial<ModelProfile> & Pick<ModelProfile, "apiType" | "baseUrl">): ModelProfile => ({
  id: "m",
  model: "model-server-model",
  baseSource: "api_base",
  key: {
    kind: "env",
    name: "TEST_KEY",
    value: Redacted.make("sk-test-0123456789-SECRET"),
    bearer: over.apiType !== "anthropic"
  },
  missing: [],
  timeoutMs: 5_000,
  maxTokens: undefined,
  temperature: undefined,
  prices: { inputUsdPerMtok: undefined, outputUsdPerMtok: undefined },
  ...over
})

const Answer = Schema.Struct({ verdict: Schema.Literals(["pass", "fail"]), note: Schema.optionalKey(Schema.String) })

describe("Providers.layer", () => {
  it.live("speaks Anthropic Messages: POST /v1/messages with x-api-key and anthropic-version", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({ script: scripts.textOnly("hi there") })
      const response = yield* LanguageModel.generateText({
        prompt: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hello" }
        ]
      }).pipe(
        Effect.provide(
          Providers.layer(
            profile({ apiType: "anthropic", baseUrl: server.url, maxTokens: 321, temperature: 0.2 })
          ).pipe(Layer.provide(FetchHttpClient.layer))
        )
      )
      assert.strictEqual(response.text, "hi there")
      assert.strictEqual(response.usage.inputTokens.total, 100)
      const req = server.requests[0]!
      assert.strictEqual(req.path, "/v1/messages")
      assert.strictEqual(req.headers["x-api-key"], "sk-test-0123456789-SECRET")
      assert.strictEqual(req.headers["anthropic-version"], "2023-06-01")
      assert.isUndefined(req.headers.authorization)
      assert.strictEqual(req.body.system, "Be brief.")
      assert.deepStrictEqual(req.body.messages, [{ role: "user", content: [{ type: "text", text: "Hello" }] }])
      assert.strictEqual(req.body.max_tokens, 321)
      assert.strictEqual(req.body.temperature, 0.2)
    })
  )

  it.live("sends an Anthropic auth token as a Bearer token", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({ script: scripts.textOnly("ok") })
      const p = profile({
        apiType: "anthropic",
        baseUrl: `${server.url}/v1`,
        key: { kind: "env", name: "ANTHROPIC_AUTH_TOKEN", value: Redacted.make("tok-123456"), bearer: true }
      })
      yield* LanguageModel.generateText({ prompt: "hi" }).pipe(
        Effect.provide(Providers.layer(p).pipe(Layer.provide(FetchHttpClient.layer)))
      )
      const req = server.requests[0]!
      assert.strictEqual(req.path, "/v1/messages", "a base ending in /v1 is not doubled")
      assert.strictEqual(req.headers.authorization, "Bearer tok-123456")
      assert.isUndefined(req.headers["x-api-key"])
    })
  )

  it.live("speaks Chat Completions with a Bearer key and a forced function call for structured output", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({
        script: () => ({ tool: { name: "review", input: { verdict: "pass" } } })
      })
      const result = yield* LanguageModel.generateObject({
        prompt: "Review.",
        schema: Answer,
        objectName: "review"
      }).pipe(
        Effect.provide(
          Providers.layer(profile({ apiType: "openai_chat", baseUrl: `${server.url}/v1` })).pipe(
            Layer.provide(FetchHttpClient.layer)
          )
        )
      )
      assert.deepStrictEqual(result.value, { verdict: "pass" })
      const req = server.requests[0]!
      assert.strictEqual(req.path, "/v1/chat/completions")
      assert.strictEqual(req.headers.authorization, "Bearer sk-test-0123456789-SECRET")
      assert.deepStrictEqual(req.body.tool_choice, { type: "function", function: { name: "review" } })
      assert.strictEqual(req.body.tools[0].function.parameters.properties.verdict.enum.join(","), "pass,fail")
      assert.strictEqual(req.body.messages[0].role, "system", "the schema instruction goes in a system message")
    })
  )

  it.live("speaks OpenAI Responses with a json_schema text format", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({
        script: scripts.textOnly('{"verdict":"fail","note":"tests missing"}')
      })
      const result = yield* LanguageModel.generateObject({
        prompt: [
          { role: "system", content: "Judge." },
          { role: "user", content: "Review." }
        ],
        schema: Answer,
        objectName: "review"
      }).pipe(
        Effect.provide(
          Providers.layer(profile({ apiType: "openai_responses", baseUrl: `${server.url}/v1` })).pipe(
            Layer.provide(FetchHttpClient.layer)
          )
        )
      )
      assert.deepStrictEqual(result.value, { verdict: "fail", note: "tests missing" })
      const req = server.requests[0]!
      assert.strictEqual(req.path, "/v1/responses")
      assert.strictEqual(req.body.text.format.type, "json_schema")
      assert.strictEqual(req.body.text.format.name, "review")
      assert.match(req.body.instructions, /^Judge\./)
      assert.deepStrictEqual(req.body.input, [{ role: "user", content: [{ type: "input_text", text: "Review." }] }])
    })
  )

  it.live.each(["anthropic", "openai_chat", "openai_responses"] as const)(
    "sends the JSON schema of structured output once (%s)",
    (apiType) =>
      Effect.gen(function* () {
        const marker = "UNIQUE-SCHEMA-MARKER: why the verdict was reached"
        const Marked = Schema.Struct({
          verdict: Schema.Literals(["pass", "fail"]),
          note: Schema.String.annotate({ description: marker })
        })
        const server = yield* ModelServer.scoped({
          script: (req) =>
            req.tools.length > 0
              ? { tool: { name: "review", input: { verdict: "pass", note: "ok" } } }
              : { text: '{"verdict":"pass","note":"ok"}' }
        })
        const result = yield* LanguageModel.generateObject({
          prompt: [
            { role: "system", content: "Judge." },
            { role: "user", content: "Review." }
          ],
          schema: Marked,
          objectName: "review"
        }).pipe(
          Effect.provide(
            Providers.layer(profile({ apiType, baseUrl: `${server.url}/v1` })).pipe(
              Layer.provide(FetchHttpClient.layer)
            )
          )
        )
        assert.deepStrictEqual(result.value, { verdict: "pass", note: "ok" })
        const body = JSON.stringify(server.requests[0]!.body)
        assert.strictEqual(body.split(marker).length - 1, 1, `the schema appears once in the request body: ${body}`)
        // The schema is in the provider's structured-output field, and the prompt still says how to answer.
        const field =
          apiType === "openai_responses"
            ? server.requests[0]!.body.text.format.schema
            : server.requests[0]!.tools.find((t) => t.name === "review")!.schema
        assert.include(JSON.stringify(field), marker)
        assert.match(body, /review/)
      })
  )

  it.live("maps a connection refused to a transient network error that names the model", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({})
      const url = server.url
      yield* Effect.promise(() => server.close())
      const error = yield* LanguageModel.generateText({ prompt: "hi" }).pipe(
        Effect.provide(
          Providers.layer(profile({ apiType: "anthropic", baseUrl: url })).pipe(Layer.provide(FetchHttpClient.layer))
        ),
        Effect.flip
      )
      assert.isTrue(error.reason._tag === "NetworkError" && error.isRetryable)
      assert.include(error.message, "m (model-server-model)")
      assert.include(error.message, "ECONNREFUSED")
    })
  )
})

describe("Models.forRole", () => {
  it.live("runs token_command for the key of every call and sends its output as the key", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({ script: scripts.textOnly("supervised") })
      const layer = modelsLayer(loadConfig("original-chain.toml"), envFor(server.url)).pipe(
        Layer.provide(NodeServices.layer)
      )
      const text = yield* Effect.gen(function* () {
        const model = yield* (yield* Models).forRole("supervisor")
        const a = yield* model.generateText({ prompt: "one" })
        yield* model.generateText({ prompt: "two" })
        return a.text
      }).pipe(Effect.provide(layer))
      assert.strictEqual(text, "supervised")
      assert.deepStrictEqual(
        server.requests.map((r) => r.headers["x-api-key"]),
        ["sk-from-command", "sk-from-command"]
      )
      assert.deepStrictEqual(
        server.requests.map((r) => r.body.model),
        ["claude-sonnet-4-5", "claude-sonnet-4-5"]
      )
    })
  )

  it.live("fails at once, naming the token_command, when the command fails", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({ script: scripts.textOnly("never") })
      const config = loadConfig(
        `[planner]\nmodel = "m"\ntoken_command = "echo no vault >&2; exit 3"\napi_base_env = "BASE"\n`
      )
      const error = yield* Effect.gen(function* () {
        const model = yield* (yield* Models).forRole("planner")
        return yield* Effect.flip(model.generateText({ prompt: "hi" }))
      }).pipe(Effect.provide(modelsLayer(config, { BASE: server.url }).pipe(Layer.provide(NodeServices.layer))))
      assert.isTrue(
        AiError.isAiError(error) && error.reason._tag === "AuthenticationError" && error.reason.kind === "MissingKey"
      )
      assert.include(error.message, "token_command of [planner] exited with 3: no vault")
      assert.strictEqual(server.requests.length, 0)
    })
  )

  it.live("skips a chain member without a key and uses the next one", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({ script: scripts.textOnly("from doubao") })
      const env = envFor(server.url, { MINIMAX_API_KEY: "" })
      const response = yield* Effect.gen(function* () {
        const model = yield* (yield* Models).forRole("planner")
        return yield* model.generateText({ prompt: "hi" })
      }).pipe(Effect.provide(modelsLayer(loadConfig("original-chain.toml"), env)))
      assert.strictEqual(response.text, "from doubao")
      assert.deepStrictEqual(
        server.requests.map((r) => r.body.model),
        ["doubao-seed-2.0-code"]
      )
    })
  )

  it.effect("fails with the missing env vars when no model of the role has a key", () =>
    Effect.gen(function* () {
      const error = yield* Effect.gen(function* () {
        return yield* Effect.flip((yield* Models).forRole("reviewer"))
      }).pipe(
        Effect.provide(modelsLayer(loadConfig("original-chain.toml"), { OPENAI_API_BASE: "http://127.0.0.1:9" }, FAST))
      )
      assert.strictEqual(error.reason._tag, "RoleUnusable")
      assert.strictEqual(
        error.message,
        "no usable model for [reviewer] (model:gpt): gpt needs $OPENAI_API_KEY (unset or empty)"
      )
      assert.deepStrictEqual(leakedSecrets(error.message), [])
      assert.notInclude(error.message, SECRETS.OPENAI_API_KEY)
    })
  )
})
