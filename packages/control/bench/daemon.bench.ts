/**
 * Daemon costs against the loopback fakes, with the real engine, SQLite state and the `command`
 * agent: one poll cycle over 1,000 candidate issues in "Ready" (list through the request budget,
 * look up each in the daemon's state, reconcile), and the dispatch latency from an issue entering
 * "Ready" to its agent starting, woken by a signed webhook and by polling. Medians.
 */
import { Effect, Fiber, Layer } from "effect"
import { appendFileSync, existsSync, readFileSync } from "node:fs"
import { Daemon } from "../src/daemon/Daemon.js"
import { DaemonStore } from "../src/daemon/DaemonStore.js"
import { daemonLayer, daemonWorld, readyIssue } from "../test/utils/daemonWorld.js"

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const report = (metric: string, value: number, unit: string, target?: string, note?: string) =>
  console.log(
    JSON.stringify({
      bench: "daemon",
      metric,
      value: Math.round(value * 10) / 10,
      unit,
      ...(target ? { target } : {}),
      ...(note ? { note } : {})
    })
  )

/** Agent start times (epoch ms) by issue, from the stand-in agent's log. */
const starts = (file: string): Map<string, number> => {
  const out = new Map<string, number>()
  if (!existsSync(file)) return out
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^(\d+) start (\S+)$/.exec(line.trim())
    if (m && !out.has(m[2]!)) out.set(m[2]!, Number(m[1]))
  }
  return out
}

const waitFor = (check: () => boolean, ms = 60_000) =>
  Effect.gen(function* () {
    const end = Date.now() + ms
    while (!check()) {
      if (Date.now() > end) return yield* Effect.die(new Error("timed out"))
      yield* Effect.sleep("5 millis")
    }
  })

const pollCycle = Effect.scoped(
  Effect.gen(function* () {
    const w = yield* daemonWorld({ daemon: { max_concurrent: 1 } })
    const ids: Array<string> = []
    for (let i = 1; i <= 1000; i++) ids.push(readyIssue(w.linear, `issue ${i}`).identifier)
    return yield* Effect.gen(function* () {
      // The daemon has seen all of them (dead-lettered), so every tick looks at every candidate.
      const store = yield* DaemonStore
      for (const id of ids) yield* store.upsert(id, { status: "dead" })
      const daemon = yield* Daemon
      const samples: Array<number> = []
      let polled = 0
      for (let i = 0; i < 6; i++) {
        const t = performance.now()
        const r = yield* daemon.tick
        if (i > 0) samples.push(performance.now() - t)
        polled = r.polled
      }
      const requests = w.linear.requests.length
      return { ms: median(samples), polled, requestsPerTick: requests / 6 }
    }).pipe(Effect.provide(daemonLayer(w)))
  })
)

const dispatchLatency = (mode: "webhook" | "poll") =>
  Effect.scoped(
    Effect.gen(function* () {
      const w = yield* daemonWorld({ daemon: { poll_interval_seconds: mode === "poll" ? 1 : 3600, max_concurrent: 1 } })
      return yield* Effect.gen(function* () {
        const daemon = yield* Daemon
        const loop = yield* Effect.forkChild(daemon.run)
        yield* waitFor(() => w.linear.requests.length > 0)
        const samples: Array<number> = []
        for (let i = 0; i < 6; i++) {
          const issue = readyIssue(w.linear, `latency ${i}`)
          const t0 = Date.now()
          if (mode === "webhook") yield* daemon.poke
          yield* waitFor(() => starts(w.agentLog).has(issue.identifier))
          if (i > 0) samples.push(starts(w.agentLog).get(issue.identifier)! - t0)
          yield* waitFor(() => w.linear.issue(issue.identifier).state === "In Review")
          // Let the tick a finished run triggers pass, so the next issue waits for the webhook or the poll.
          yield* daemon.drain
          yield* Effect.sleep("1500 millis")
        }
        yield* Fiber.interrupt(loop)
        return median(samples)
      }).pipe(Effect.provide(daemonLayer(w)))
    })
  )

const program = Effect.gen(function* () {
  const poll = yield* pollCycle
  report(
    "poll cycle over 1,000 Ready issues (list + state lookups + reconcile)",
    poll.ms,
    "ms",
    "< 2000 ms",
    `${poll.polled} issues, ${poll.requestsPerTick.toFixed(1)} Linear requests per tick`
  )
  report(
    "dispatch latency, Ready → agent start (webhook wakes the daemon)",
    yield* dispatchLatency("webhook"),
    "ms",
    "< 3000 ms",
    "triage, reconcile, In Progress, worktree, context, agent spawn"
  )
  report(
    "dispatch latency, Ready → agent start (polling every 1 s)",
    yield* dispatchLatency("poll"),
    "ms",
    undefined,
    "includes waiting for the next poll"
  )
})

Effect.runPromise(program.pipe(Effect.provide(Layer.empty))).then(
  () => process.exit(0),
  (e) => {
    appendFileSync("/dev/stderr", `${String(e)}\n`)
    process.exit(1)
  }
)
