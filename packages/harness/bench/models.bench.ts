/**
 * Model chain overhead against the loopback model server: a structured-output call through
 * `Models.forRole` (chain, usage record, schema decode) next to a bare `fetch` of the same request,
 * and the cost of building `Models` (config resolution + env snapshot). Medians after warm-up.
 */
import { parseConfig } from "@spec-orch/contract"
import { startModelServer } from "@spec-orch/test-kit"
import { ConfigProvider, Effect, Layer, Schema } from "effect"
import { FetchHttpClient } from "effect/http"
import { Models } from "../src/index.js"

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const round = (n: number) => Math.round(n * 100) / 100
const report = (metric: string, value: number, unit: string, note?: string) =>
  console.log(JSON.stringify({ bench: "models", metric, value: round(value), unit, ...(note ? { note } : {}) }))

const server = await startModelServer({
  script: (req) => (req.tools.length > 0 ? { tool: { name: req.tools[0]!.name, input: { title: "Ship it", risk: 2 } } } : { text: "ok" })
})
const { config } = parseConfig(
  `[llm]\ndefault_model_chain = "c"\n[models.a]\nmodel = "m-a"\napi_key_env = "K"\napi_base_env = "B"\n[models.b]\nmodel = "m-b"\napi_type = "openai"\napi_key_env = "K"\napi_base_env = "B"\n[model_chains.c]\nprimary = "a"\nfallbacks = ["b"]\n`,
  "bench.toml"
)
const env = ConfigProvider.layer(ConfigProvider.fromEnv({ env: { K: "sk-bench", B: server.url } }))
const layer = Models.layerConfig(config!).pipe(Layer.provide(FetchHttpClient.layer), Layer.provide(env))
const Plan = Schema.Struct({ title: Schema.String, risk: Schema.Int })

const RUNS = 200
const timings = await Effect.runPromise(Effect.gen(function*() {
  const model = yield* (yield* Models).forRole("planner")
  const samples: Array<number> = []
  for (let i = 0; i < RUNS + 20; i++) {
    const t = performance.now()
    yield* model.generateObject({ prompt: "Plan it.", schema: Plan, objectName: "plan" })
    if (i >= 20) samples.push(performance.now() - t)
  }
  return samples
}).pipe(Effect.provide(layer)))

const body = JSON.stringify({ model: "m-a", max_tokens: 4096, messages: [{ role: "user", content: [{ type: "text", text: "Plan it." }] }], tools: [{ name: "plan", input_schema: {} }], tool_choice: { type: "tool", name: "plan" } })
const raw: Array<number> = []
for (let i = 0; i < RUNS + 20; i++) {
  const t = performance.now()
  const r = await fetch(`${server.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": "sk-bench", "anthropic-version": "2023-06-01" }, body })
  JSON.parse(await r.text())
  if (i >= 20) raw.push(performance.now() - t)
}

const builds: Array<number> = []
for (let i = 0; i < 60; i++) {
  const t = performance.now()
  await Effect.runPromise(Effect.map(Effect.service(Models), (m) => m.roles.length).pipe(Effect.provide(layer)))
  if (i >= 10) builds.push(performance.now() - t)
}
await server.close()

report("chain generateObject, loopback (median)", median(timings), "ms", `${RUNS} calls: chain + usage record + schema decode`)
report("bare fetch of the same request (median)", median(raw), "ms", "floor")
report("chain overhead over bare fetch (median)", median(timings) - median(raw), "ms")
report("Models layer build (median)", median(builds), "ms", "resolve config + env snapshot, 2 models")
