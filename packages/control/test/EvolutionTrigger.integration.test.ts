/**
 * `[evolution] trigger_after_n_runs` in the daemon: the evolvers the app gives run once after every N
 * finished runs, in the background, and the count survives a restart of the daemon.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { Daemon } from "../src/daemon/Daemon.js"
import { DaemonStore } from "../src/daemon/DaemonStore.js"
import { EVOLUTION_COUNT_KEY, evolveAfterRuns } from "../src/daemon/EvolutionTrigger.js"
import { daemonLayer, daemonWorld, readyIssue } from "./utils/daemonWorld.js"

describe("the daemon's evolution trigger", () => {
  it.live("after every N finished runs the evolvers run once; the count is kept across daemon starts", () =>
    Effect.gen(function* () {
      const w = yield* daemonWorld({ extra: { evolution: { trigger_after_n_runs: 2 } } })
      const evolutions = yield* Ref.make(0)
      const layer = daemonLayer(w, { runFinished: evolveAfterRuns(Ref.update(evolutions, (n) => n + 1)) })
      const once = Effect.gen(function* () {
        const daemon = yield* Daemon
        yield* daemon.tick
        yield* daemon.drain
        return yield* DaemonStore.use((s) => s.getMeta(EVOLUTION_COUNT_KEY))
      }).pipe(Effect.provide(layer))

      readyIssue(w.linear, "the first endpoint")
      assert.strictEqual(yield* once, "1", "one finished run is counted")
      assert.strictEqual(yield* Ref.get(evolutions), 0, "one run is not enough")

      readyIssue(w.linear, "the second endpoint")
      readyIssue(w.linear, "the third endpoint")
      const left = yield* once
      // The daemon's layer is closed here, which waits for evolvers still running.
      assert.strictEqual(yield* Ref.get(evolutions), 1, "the second finished run (counted across starts) ran them")
      assert.strictEqual(left, "1", "the third run counts towards the next time")
    })
  )

  it.live("[evolution] enabled = false: the evolvers never run", () =>
    Effect.gen(function* () {
      const w = yield* daemonWorld({ extra: { evolution: { enabled: false, trigger_after_n_runs: 1 } } })
      const evolutions = yield* Ref.make(0)
      readyIssue(w.linear, "an endpoint")
      yield* Effect.gen(function* () {
        const daemon = yield* Daemon
        yield* daemon.tick
        yield* daemon.drain
      }).pipe(Effect.provide(daemonLayer(w, { runFinished: evolveAfterRuns(Ref.update(evolutions, (n) => n + 1)) })))
      assert.strictEqual(yield* Ref.get(evolutions), 0)
    })
  )
})
