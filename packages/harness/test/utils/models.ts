/** Test helpers for the model tests: the fixture config, an env pointing at a model server, and per-model scripts. */
import { parseConfig, type SpecOrchConfig } from "@spec-orch/contract"
import type { ModelRequest, Reply, Script } from "@spec-orch/test-kit"
import { ConfigProvider, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Models, type ModelsOptions } from "../../src/index.js"

/** A config from a fixture under test/fixtures/models, or from TOML text. */
export const loadConfig = (nameOrText: string): SpecOrchConfig => {
  const isFile = nameOrText.endsWith(".toml") && !nameOrText.includes("\n")
  const text = isFile ? readFileSync(join(__dirname, "..", "fixtures", "models", nameOrText), "utf8") : nameOrText
  const { config, problems } = parseConfig(text, isFile ? nameOrText : "spec-orch.toml")
  if (config === undefined) throw new Error(problems.map((p) => p.message).join("\n"))
  return config
}

/** Secrets used by the tests; no message or record may ever contain them. */
export const SECRETS = {
  MINIMAX_API_KEY: "sk-minimax-0123456789-SECRET",
  ANTHROPIC_AUTH_TOKEN: "auth-0123456789-SECRET-token",
  OPENAI_API_KEY: "sk-openai-0123456789-SECRET"
} as const

/** The env of the fixture with every base URL at `url`. */
export const envFor = (url: string, overrides: Record<string, string> = {}): Record<string, string> => ({
  ...SECRETS,
  MINIMAX_ANTHROPIC_BASE_URL: url,
  ANTHROPIC_BASE_URL: url,
  OPENAI_API_BASE: `${url}/v1`,
  SUPERVISOR_BASE: url,
  ...overrides
})

/** Fast retries so tests do not wait for real backoff (retry-after from the server still applies). */
export const FAST: ModelsOptions = { retry: { baseDelay: "5 millis", maxDelay: "20 millis" } }

/** `Models` over `config` with exactly `env` as the environment and fetch as the HTTP client. */
export const modelsLayer = (
  config: SpecOrchConfig,
  env: Record<string, string>,
  options: ModelsOptions & { cwd?: string } = FAST
) =>
  Models.layerConfig(config, options).pipe(
    Layer.provide(FetchHttpClient.layer),
    Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
  )

/** Replies by the requested model name: each entry is a list of replies used in order (the last repeats). */
export const byModel = (replies: Record<string, ReadonlyArray<Reply>>): Script => {
  const seen = new Map<string, number>()
  return (req: ModelRequest) => {
    const model = String(req.body?.model)
    const list = replies[model]
    if (list === undefined) return { error: 400, message: `test script has no reply for model ${model}` }
    const i = seen.get(model) ?? 0
    seen.set(model, i + 1)
    return list[Math.min(i, list.length - 1)]!
  }
}

/** The requests the server got for `model`. */
export const requestsFor = (requests: ReadonlyArray<ModelRequest>, model: string) =>
  requests.filter((r) => r.body?.model === model)

/** Every string in `text` that is one of the test secrets. */
export const leakedSecrets = (text: string): Array<string> =>
  Object.values(SECRETS).filter((s) => text.includes(s) || text.includes(s.slice(0, 12)))
