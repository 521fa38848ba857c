/**
 * What spec-orch adds to a model call beyond the HTTP exchange, against the scripted model server on
 * 127.0.0.1: a planner-sized structured-output call through the whole path a command takes
 * (`Models.forRole` → chain → provider → `postJson` → response parts → schema decode, with a
 * `ModelUsage` in context as the CLI provides), and the very same request (the body and headers the
 * chain sent, captured from the server) sent with a bare `fetch` and `JSON.parse`, the floor.
 * The two are measured alternately in the same run, so machine noise hits both; the overhead is
 * the median of the paired differences. Also: the cost of building `Models`.
 */
import { parseConfig } from "@spec-orch/contract"
import { startModelServer } from "@spec-orch/test-kit"
import { ConfigProvider, Effect, Layer, Schema } from "effect"
import { FetchHttpClient } from "effect/http"
import { availableParallelism, loadavg } from "node:os"
import { Models, ModelUsage } from "../src/index.js"

const RUNS = Number(process.env.MODELS_BENCH_RUNS ?? 200)
const WARMUP = 30
const TARGET_MS = 5

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const quantile = (xs: ReadonlyArray<number>, q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!
const round = (n: number) => Math.round(n * 100) / 100
const report = (metric: string, value: number, unit: string, extra: { target?: string; note?: string } = {}) =>
  console.log(JSON.stringify({ bench: "models", metric, value: round(value), unit, ...extra }))

// A plan-shaped answer and schema (waves of packets with descriptions), so the request carries a
// schema of realistic size and the answer takes a realistic decode.
const text = (description: string) => Schema.String.annotate({ description })
const Packet = Schema.Struct({
  packet_id: text('Unique lowercase slug, e.g. "api-schema"'),
  title: text("One line: what this packet delivers"),
  spec_section: text("The heading of the spec section it implements"),
  run_class: Schema.Literals(["feature", "bug", "refactor", "docs"]).annotate({ description: "The kind of work" }),
  files_in_scope: Schema.Array(Schema.String).annotate({
    description: "Repository-relative paths or globs the packet may change"
  }),
  files_out_of_scope: Schema.Array(Schema.String).annotate({ description: "Paths the packet must not change" }),
  depends_on: Schema.Array(Schema.String).annotate({
    description: "packet_ids of packets in EARLIER waves that must finish first"
  }),
  acceptance_criteria: Schema.Array(Schema.String).annotate({
    description: "What a reviewer checks, one sentence each"
  }),
  builder_prompt: text("The full instruction for the coding agent")
})
const Plan = Schema.Struct({
  waves: Schema.Array(
    Schema.Struct({
      wave_number: Schema.Int.annotate({ description: "0, 1, 2, … in order" }),
      description: text("What this wave achieves"),
      work_packets: Schema.Array(Packet)
    })
  )
}).annotate({ identifier: "plan" })
const packet = (w: number, i: number) => ({
  packet_id: `p-${w}-${i}`,
  title: `Packet ${i} of wave ${w}`,
  spec_section: "Scope",
  run_class: "feature",
  files_in_scope: [`src/module-${w}-${i}.ts`, `test/module-${w}-${i}.test.ts`],
  files_out_of_scope: [],
  depends_on: w === 0 ? [] : [`p-${w - 1}-${i}`],
  acceptance_criteria: ["The module exports its function", "Its test passes"],
  builder_prompt: `Implement module ${w}-${i} as the spec's Scope section says, with a test.`
})
const ANSWER = {
  waves: [0, 1, 2].map((w) => ({
    wave_number: w,
    description: `Wave ${w}`,
    work_packets: [0, 1, 2].map((i) => packet(w, i))
  }))
}
const PROMPT = [
  {
    role: "system" as const,
    content: "You are the planner of spec-orch. Split the mission into waves of independent work packets."
  },
  {
    role: "user" as const,
    content: `Mission: the example.\n\n${"The spec says what to build, in several sections. ".repeat(60)}`
  }
]

const server = await startModelServer({
  script: (req) =>
    req.tools.length > 0
      ? { tool: { name: req.tools[0]!.name, input: ANSWER }, usage: { input: 3000, output: 900 } }
      : { text: "ok" }
})
const { config } = parseConfig(
  `[llm]\ndefault_model_chain = "c"\n[models.a]\nmodel = "m-a"\napi_key_env = "K"\napi_base_env = "B"\ninput_usd_per_mtok = 3\noutput_usd_per_mtok = 15\n` +
    `[models.b]\nmodel = "m-b"\napi_type = "openai"\napi_key_env = "K"\napi_base_env = "B"\n[model_chains.c]\nprimary = "a"\nfallbacks = ["b"]\n`,
  "bench.toml"
)
const env = ConfigProvider.layer(ConfigProvider.fromEnv({ env: { K: "sk-bench-0123456789", B: server.url } }))
const layer = Layer.mergeAll(
  Models.layerConfig(config!).pipe(Layer.provide(FetchHttpClient.layer), Layer.provide(env)),
  ModelUsage.layer
)

const result = await Effect.runPromise(
  Effect.gen(function* () {
    const model = yield* (yield* Models).forRole("planner")
    // Wall time and CPU time (this process: the server's handling is in both, the same for both) of one call.
    const start = () => ({ t: performance.now(), cpu: process.cpuUsage() })
    const stop = (s: ReturnType<typeof start>) => {
      const cpu = process.cpuUsage(s.cpu)
      return { wall: performance.now() - s.t, cpu: (cpu.user + cpu.system) / 1000 }
    }
    const viaChain = Effect.suspend(() => {
      const s = start()
      return Effect.map(model.generateObject({ prompt: PROMPT, schema: Plan, objectName: "plan" }), () => stop(s))
    })
    // The exact request the chain sends, replayed with bare fetch.
    yield* viaChain
    const sent = server.requests.at(-1)!
    const url = `${server.url}${sent.path}`
    const body = JSON.stringify(sent.body)
    const headers = {
      "content-type": "application/json",
      accept: "application/json",
      "x-api-key": sent.headers["x-api-key"]!,
      "anthropic-version": sent.headers["anthropic-version"]!
    }
    const bare = Effect.promise(async () => {
      const s = start()
      const r = await fetch(url, { method: "POST", headers, body })
      JSON.parse(await r.text())
      return stop(s)
    })
    const chain: Array<{ wall: number; cpu: number }> = []
    const floor: Array<{ wall: number; cpu: number }> = []
    for (let i = 0; i < RUNS + WARMUP; i++) {
      // Alternate which goes first, so neither always runs on a warmer connection.
      const [c, f] =
        i % 2 === 0 ? [yield* viaChain, yield* bare] : (([f2, c2]) => [c2, f2])([yield* bare, yield* viaChain])
      if (i >= WARMUP) {
        chain.push(c)
        floor.push(f)
      }
    }
    const usage = yield* (yield* ModelUsage).totals
    return { chain, floor, requestBytes: body.length, usage }
  }).pipe(Effect.provide(layer))
)

const builds: Array<number> = []
for (let i = 0; i < 60; i++) {
  const t = performance.now()
  await Effect.runPromise(Effect.map(Effect.service(Models), (m) => m.roles.length).pipe(Effect.provide(layer)))
  if (i >= 10) builds.push(performance.now() - t)
}
await server.close()

const wall = (xs: ReadonlyArray<{ wall: number }>) => xs.map((x) => x.wall)
const cpu = (xs: ReadonlyArray<{ cpu: number }>) => xs.map((x) => x.cpu)
const diffs = result.chain.map((c, i) => c.wall - result.floor[i]!.wall)
const cpuDiffs = result.chain.map((c, i) => c.cpu - result.floor[i]!.cpu)
const overhead = median(diffs)
report("model call through chain + provider, loopback (median)", median(wall(result.chain)), "ms", {
  note: `${RUNS} calls, ${result.requestBytes} B request, plan-sized answer decoded, usage recorded`
})
report("bare fetch of the same request (median)", median(wall(result.floor)), "ms", {
  note: "the floor: the same body and headers, fetch + JSON.parse"
})
report("overhead per model call beyond the HTTP exchange (median)", overhead, "ms", {
  target: `< ${TARGET_MS} ms`,
  note: `median of paired wall-time differences (difference of the medians: ${round(median(wall(result.chain)) - median(wall(result.floor)))} ms); p90 ${round(quantile(diffs, 0.9))} ms; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`
})
report("CPU overhead per model call beyond the HTTP exchange (median)", median(cpuDiffs), "ms", {
  target: `< ${TARGET_MS} ms`,
  note: `paired CPU-time differences (less sensitive to a busy machine); chain ${round(median(cpu(result.chain)))} ms vs fetch ${round(median(cpu(result.floor)))} ms of CPU`
})
report("Models layer build (median)", median(builds), "ms", { note: "resolve config + env snapshot, 2 models" })
if (result.usage.calls !== RUNS + WARMUP + 1)
  console.log(`usage ledger recorded ${result.usage.calls} calls, expected ${RUNS + WARMUP + 1}`)
if (overhead >= TARGET_MS) {
  console.log(
    `over target: the wall-time overhead per model call is ${round(overhead)} ms (target < ${TARGET_MS} ms); on a busy machine compare the CPU overhead`
  )
}
