import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { RequestBudget } from "../src/trackers/RequestBudget.js"

/** Takes `n` slots and returns when each was granted, relative to the start. */
const takeTimes = (budget: RequestBudget["Service"], tracker: string, n: number) =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    const times: Array<number> = []
    for (let i = 0; i < n; i++) {
      yield* budget.take(tracker)
      times.push((yield* Clock.currentTimeMillis) - start)
    }
    return times
  })

describe("RequestBudget.take", () => {
  it.effect("grants a burst, then one request per 60000/perMinute ms", () =>
    Effect.gen(function* () {
      const budget = yield* RequestBudget
      const fiber = yield* Effect.forkChild(takeTimes(budget, "linear", 5))
      yield* TestClock.adjust("1 minute")
      assert.deepStrictEqual(yield* Fiber.join(fiber), [0, 0, 1000, 2000, 3000])
      assert.deepStrictEqual((yield* budget.state("linear")).requests, 5)
    }).pipe(Effect.provide(RequestBudget.layerWith({ perMinute: 60, burst: 2 })))
  )

  it.effect("keeps a separate budget per tracker", () =>
    Effect.gen(function* () {
      const budget = yield* RequestBudget
      const fiber = yield* Effect.forkChild(
        Effect.all([takeTimes(budget, "linear", 2), takeTimes(budget, "github", 2)], { concurrency: 2 })
      )
      yield* TestClock.adjust("1 minute")
      assert.deepStrictEqual(yield* Fiber.join(fiber), [
        [0, 1000],
        [0, 1000]
      ])
    }).pipe(Effect.provide(RequestBudget.layerWith({ perMinute: 60, burst: 1 })))
  )
})

describe("RequestBudget.observe", () => {
  it.effect("waits until the reset the tracker reported when nothing remains", () =>
    Effect.gen(function* () {
      const budget = yield* RequestBudget
      const now = yield* Clock.currentTimeMillis
      yield* budget.observe("github", { remaining: 0, resetAtMs: now + 30_000 })
      const fiber = yield* Effect.forkChild(takeTimes(budget, "github", 2))
      yield* TestClock.adjust("1 minute")
      assert.deepStrictEqual(yield* Fiber.join(fiber), [30_000, 30_000])
    }).pipe(Effect.provide(RequestBudget.layerUnlimited))
  )

  it.effect("honours retry-after, and ignores a reset while requests remain", () =>
    Effect.gen(function* () {
      const budget = yield* RequestBudget
      const now = yield* Clock.currentTimeMillis
      yield* budget.observe("linear", { remaining: 5, resetAtMs: now + 60_000 })
      yield* budget.observe("linear", { retryAfterMs: 2_000 })
      const fiber = yield* Effect.forkChild(takeTimes(budget, "linear", 1))
      yield* TestClock.adjust("1 minute")
      assert.deepStrictEqual(yield* Fiber.join(fiber), [2_000])
    }).pipe(Effect.provide(RequestBudget.layerUnlimited))
  )

  it.effect("fails with the time requests resume when the block is longer than the longest wait", () =>
    Effect.gen(function* () {
      const budget = yield* RequestBudget
      const now = yield* Clock.currentTimeMillis
      yield* budget.observe("linear", { remaining: 0, resetAtMs: now + 3_600_000 })
      const error = yield* Effect.flip(budget.take("linear"))
      assert.strictEqual(error._tag, "RequestBudgetExceeded")
      assert.strictEqual(error.untilMs, now + 3_600_000)
      assert.strictEqual(error.message, `linear requests are blocked until ${new Date(now + 3_600_000).toISOString()}`)
    }).pipe(Effect.provide(RequestBudget.layerWith({ perMinute: 60, maxWaitSeconds: 60 })))
  )
})
