import { assert, describe, it } from "@effect/vitest"
import { bagOfWords, ModelServer } from "@spec-orch/test-kit"
import { ConfigProvider, Effect, Layer } from "effect"
import { AiError } from "effect/ai"
import { FetchHttpClient } from "effect/http"
import { Embeddings, resolveEmbedding } from "../src/index.js"
import { loadConfig } from "./utils/models.js"

const KEY = "sk-embed-0123456789-SECRET"

const toml = (base: string, memory: string) =>
  `[models.embed]\nmodel = "openai/text-embedding-3-small"\napi_type = "openai"\napi_key_env = "EMBED_KEY"\napi_base = "${base}"\n\n[models.claude]\nmodel = "claude-sonnet-4-5"\napi_type = "anthropic"\n\n${memory}`

const embeddingsOver = (base: string, memory: string, env: Record<string, string> = { EMBED_KEY: KEY }) =>
  Embeddings.layerConfig(loadConfig(toml(base, memory))).pipe(
    Layer.provide(FetchHttpClient.layer),
    Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
  )

describe("resolveEmbedding", () => {
  const env = (name: string) => (name === "EMBED_KEY" ? KEY : undefined)
  const base = "http://127.0.0.1:9/v1"

  it("is off without an embedding model, and uses [memory] embedding_model when it names an OpenAI-compatible model", () => {
    assert.deepStrictEqual(resolveEmbedding(loadConfig(toml(base, "")), env), { _tag: "Off", note: undefined })
    const on = resolveEmbedding(loadConfig(toml(base, '[memory]\nembedding_model = "embed"\n')), env)
    assert.strictEqual(on._tag, "On")
    if (on._tag === "On") {
      assert.strictEqual(on.name, "embed/text-embedding-3-small")
      assert.strictEqual(on.recallTimeoutMs, 2000)
    }
  })

  it("the original's [memory.qdrant] embedding_model loads: used when it names a [models.<id>], otherwise off with a note", () => {
    const legacy = resolveEmbedding(loadConfig(toml(base, '[memory.qdrant]\nembedding_model = "embed"\n')), env)
    assert.strictEqual(legacy._tag, "On")
    const local = resolveEmbedding(
      loadConfig(toml(base, '[memory.qdrant]\nmode = "local"\nembedding_model = "BAAI/bge-small-zh-v1.5"\n')),
      env
    )
    assert.strictEqual(local._tag, "Off")
    assert.match(local._tag === "Off" ? (local.note ?? "") : "", /BAAI\/bge-small-zh-v1\.5.*\[memory\] embedding_model/)
  })

  it("says why a configured model cannot embed: an unknown id, an Anthropic model, a missing key", () => {
    const problem = (memory: string, lookup = env) => {
      const r = resolveEmbedding(loadConfig(toml(base, memory)), lookup)
      return r._tag === "Unusable" ? r.problem : `not unusable: ${r._tag}`
    }
    assert.match(problem('[memory]\nembedding_model = "embedd"\n'), /no \[models\.embedd\].*embed/)
    assert.match(problem('[memory]\nembedding_model = "claude"\n'), /anthropic.*no embeddings endpoint/)
    assert.match(
      problem('[memory]\nembedding_model = "embed"\n', () => undefined),
      /\[models\.embed\] needs \$EMBED_KEY/
    )
  })
})

describe("Embeddings over the OpenAI wire format", () => {
  it.live(
    "POSTs {model, input[], encoding_format} to {base}/embeddings with the Bearer key, and returns the vectors in input order",
    () =>
      Effect.gen(function* () {
        const server = yield* ModelServer.scoped()
        const embeddings = yield* Effect.service(Embeddings).pipe(
          Effect.provide(embeddingsOver(`${server.url}/v1`, '[memory]\nembedding_model = "embed"\n'))
        )
        const answer = yield* embeddings.model!.embedMany(["flaky login test", "缓存问题"])
        assert.deepStrictEqual(
          answer.embeddings.map((e) => e.vector),
          [bagOfWords("flaky login test", 256), bagOfWords("缓存问题", 256)]
        )
        const request = server.embeddingRequests[0]!
        assert.strictEqual(request.path, "/v1/embeddings")
        assert.strictEqual(request.model, "text-embedding-3-small")
        assert.deepStrictEqual(request.inputs, ["flaky login test", "缓存问题"])
        assert.strictEqual(request.headers.authorization, `Bearer ${KEY}`)
      })
  )

  it.live("a provider error is an AiError that names the model and never the key", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({
        embedder: () => ({ error: 401, message: `invalid key ${KEY}` })
      })
      const embeddings = yield* Effect.service(Embeddings).pipe(
        Effect.provide(embeddingsOver(`${server.url}/v1`, '[memory]\nembedding_model = "embed"\n'))
      )
      const error = yield* Effect.flip(embeddings.model!.embed("x"))
      assert.isTrue(AiError.isAiError(error))
      assert.notInclude(error.message, KEY)
      assert.strictEqual(error.reason._tag, "AuthenticationError")
    })
  )

  it.live("an answer with fewer vectors than inputs is an invalid response", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({ embedder: () => ({ vectors: [[1, 0]] }) })
      const embeddings = yield* Effect.service(Embeddings).pipe(
        Effect.provide(embeddingsOver(`${server.url}/v1`, '[memory]\nembedding_model = "embed"\n'))
      )
      const error = yield* Effect.flip(embeddings.model!.embedMany(["a", "b"]))
      assert.strictEqual(error.reason._tag, "InvalidResponseError")
      assert.match(error.message, /1 embeddings for 2 inputs/)
    })
  )
})
