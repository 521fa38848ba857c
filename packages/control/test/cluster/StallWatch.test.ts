/**
 * The in-stage fence's stall watch (cluster/RunFence.ts): a stage's work stops when the process stood
 * still long enough to have lost its shard locks, and only then. The event loop is really blocked here
 * (a busy wait, as a paused or starved process would be): wall-clock gaps are what the watch measures,
 * so a TestClock would not show it anything.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber } from "effect"
import { makeStallWatch, stallThresholdMs, untilStall } from "../../src/cluster/RunFence.js"

/** Blocks the event loop for `ms`, as a starved or paused process stands still. */
const standStill = (ms: number) =>
  Effect.sync(() => {
    const end = Date.now() + ms
    while (Date.now() < end) {
      // busy: no timer, no I/O, no fiber runs
    }
  })

/** A stage's work: `ticks` steps of 100 ms; `stopped` says whether it was interrupted. */
const work = (ticks: number, log: { steps: number; stopped: boolean }) =>
  Effect.gen(function* () {
    for (let i = 0; i < ticks; i++) {
      yield* Effect.sleep(Duration.millis(100))
      log.steps++
    }
    return "done"
  }).pipe(
    Effect.onInterrupt(() =>
      Effect.sync(() => {
        log.stopped = true
      })
    )
  )

describe("the stall watch of a cluster runner", () => {
  it("takes the shortest stall that may cost the locks from the lock expiry, less one effective refresh", () => {
    // effect/cluster refreshes at most every third of the expiry
    assert.strictEqual(stallThresholdMs("4 seconds", "1 second"), 3000)
    assert.strictEqual(stallThresholdMs("35 seconds", "8 seconds"), 27_000)
    assert.strictEqual(stallThresholdMs("3 seconds", "10 seconds"), 2000)
  })

  it.live("a slow event loop (stalls shorter than the threshold) does not stop the work", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const watch = yield* makeStallWatch(2000, 50)
        const log = { steps: 0, stopped: false }
        const fiber = yield* Effect.forkChild(untilStall(watch, work(20, log)))
        // three stalls of 600 ms while the work runs: the loop is slow, not stopped for long
        for (let i = 0; i < 3; i++) {
          yield* Effect.sleep(Duration.millis(150))
          yield* standStill(600)
        }
        const ran = yield* Fiber.join(fiber)
        assert.strictEqual(ran._tag, "Done")
        assert.isTrue(Exit.isSuccess(ran.exit) && ran.exit.value === "done", JSON.stringify(ran.exit))
        assert.strictEqual(log.steps, 20)
        assert.isFalse(log.stopped)
        assert.strictEqual(watch.count(), 0)
      })
    )
  )

  it.live("a stall past the threshold interrupts the work as soon as the loop runs again", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const watch = yield* makeStallWatch(2000, 50)
        const log = { steps: 0, stopped: false }
        const fiber = yield* Effect.forkChild(untilStall(watch, work(100, log)))
        yield* Effect.sleep(Duration.millis(350))
        yield* standStill(2500)
        const ran = yield* Fiber.join(fiber)
        assert.strictEqual(ran._tag, "Stalled")
        assert.isTrue(Exit.hasInterrupts(ran.exit), JSON.stringify(ran.exit))
        assert.isTrue(log.stopped)
        assert.isBelow(log.steps, 100)
        if (ran._tag === "Stalled") assert.isAtLeast(ran.stall.ms, 2000)
      })
    )
  )

  it.live("a stall whose end the work reached first (its last step under way) still counts", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const watch = yield* makeStallWatch(1000, 60_000)
        // the beat is far away: only the check after the work ends can see the stall
        const ran = yield* untilStall(
          watch,
          Effect.gen(function* () {
            yield* Effect.sleep(Duration.millis(50))
            yield* standStill(1500)
            return "done"
          })
        )
        assert.strictEqual(ran._tag, "Stalled")
      })
    )
  )
})
