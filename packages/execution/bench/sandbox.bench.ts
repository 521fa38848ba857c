/**
 * The sandbox's cost per agent turn or verification step: `true` spawned bare, in a box without
 * network, and in a box with the proxy (one allowed host) and one forwarded port, interleaved in the
 * same run, median of BENCH_RUNS (default 25) after a warm-up. Each boxed figure includes `wrap`
 * (hidden-path lookup, starting and stopping the relays) and waiting for the relays inside the box.
 */
import { NodeServices } from "@effect/platform-node"
import { Effect, Layer, Stream } from "effect"
import { ChildProcess, ChildProcessSpawner } from "effect/process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import { type BoxSpec, Sandbox } from "../src/index.js"

const RUNS = Number(process.env.BENCH_RUNS ?? 25)
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const round = (n: number) => Math.round(n * 10) / 10
const report = (metric: string, value: number, unit: string, extra: { target?: string; note?: string } = {}) =>
  console.log(JSON.stringify({ bench: "sandbox", metric, value: round(value), unit, ...extra }))

const dir = mkdtempSync("/var/tmp/spec-orch-bench-sandbox-")
const server = createServer((_req, res) => res.end("ok"))
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
const port = (server.address() as { port: number }).port

const spec = (network: BoxSpec["network"]): BoxSpec => ({
  argv: ["true"],
  cwd: dir,
  env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  hide: [],
  mounts: [{ source: dir, access: "rw" }],
  network
})

const program = Effect.gen(function* () {
  const sandbox = yield* Sandbox
  const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
  const probe = yield* sandbox.probe
  if (!probe.available || !probe.network)
    return yield* Effect.die(new Error(`the sandbox cannot start here: ${probe.problem ?? "socat is missing"}`))
  const spawnAndWait = (argv: ReadonlyArray<string>, env: Readonly<Record<string, string>>) =>
    Effect.scoped(
      Effect.gen(function* () {
        const handle = yield* spawner.spawn(
          ChildProcess.make(argv[0]!, argv.slice(1), { cwd: dir, env: { ...env }, extendEnv: false, stdin: "ignore" })
        )
        yield* handle.all.pipe(Stream.runDrain)
        const code = Number(yield* handle.exitCode)
        if (code !== 0) return yield* Effect.die(new Error(`${argv.join(" ")} exited ${code}`))
      })
    )
  const timed = <E>(effect: Effect.Effect<void, E>) =>
    Effect.gen(function* () {
      const start = process.hrtime.bigint()
      yield* effect
      return Number(process.hrtime.bigint() - start) / 1e6
    })
  const bare = timed(spawnAndWait(["true"], { PATH: process.env.PATH ?? "" }))
  const boxed = (network: BoxSpec["network"]) =>
    timed(Effect.scoped(Effect.flatMap(sandbox.wrap(spec(network)), (b) => spawnAndWait(b.argv, b.env))))
  const none = boxed({ _tag: "none" })
  const allow = boxed({ _tag: "allow", hosts: ["api.anthropic.com"], forwards: [port] })

  const times = { bare: [] as Array<number>, none: [] as Array<number>, allow: [] as Array<number> }
  for (let i = 0; i <= RUNS; i++) {
    const b = yield* bare
    const n = yield* none
    const a = yield* allow
    if (i === 0) continue // warm-up: the probe and the first spawns
    times.bare.push(b)
    times.none.push(n)
    times.allow.push(a)
  }
  const [b, n, a] = [median(times.bare), median(times.none), median(times.allow)]
  console.log(
    `# bubblewrap ${probe.version}; medians of ${RUNS}: bare ${round(b)} ms, box ${round(n)} ms, box with proxy + 1 forward ${round(a)} ms`
  )
  report(`spawn true, bare (median of ${RUNS})`, b, "ms")
  report(`spawn true in the box, network none (median of ${RUNS})`, n, "ms")
  report(`spawn true in the box, proxy + 1 forward (median of ${RUNS})`, a, "ms")
  report("box overhead per step, network none", n - b, "ms", { target: "< 50 ms" })
  report("box overhead per step, proxy + 1 forward", a - b, "ms", { target: "< 50 ms" })
})

try {
  await Effect.runPromise(
    program.pipe(Effect.provide(Sandbox.layerMode("required").pipe(Layer.provideMerge(NodeServices.layer))))
  )
} finally {
  server.close()
  rmSync(dir, { recursive: true, force: true })
}
