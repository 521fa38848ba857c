/**
 * The request budget of a cluster, kept in Postgres: two processes (two pools on one database) draw on
 * one bucket, so a slot one host took is not there for the other, and a tracker's "retry after" seen by
 * one host holds the other back too. Fails when SPEC_ORCH_PG_URL is not set, unless
 * SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { assert, describe, it } from "@effect/vitest"
import { requirePostgres } from "@spec-orch/test-kit"
import { Context, Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { RequestBudget } from "../src/trackers/RequestBudget.js"
import { freshDatabase, pgClient } from "./utils/postgres.js"

const pg = requirePostgres()

/** Two hosts' budgets over one database: each with its own pool, as two processes would have. */
const twoHosts = (perMinute: number) =>
  Effect.gen(function* () {
    const url = yield* freshDatabase("budget")
    const host = () =>
      Layer.build(
        Layer.fresh(RequestBudget.layerShared({ perMinute, burst: 1 }).pipe(Layer.provide(Layer.fresh(pgClient(url)))))
      )
    const a = Context.get(yield* host(), RequestBudget)
    const b = Context.get(yield* host(), RequestBudget)
    return { a, b }
  })

/** Waits (in real time, for the database) until `b` is asleep on the bucket. */
const untilWaiting = (budget: RequestBudget["Service"], tracker: string) =>
  Effect.gen(function* () {
    for (let i = 0; i < 200; i++) {
      if ((yield* budget.state(tracker)).waitedMs > 0) return
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 25)))
    }
    return yield* Effect.die(new Error("the second host never waited for the bucket"))
  })

describe.skipIf(!pg.run)(pg.title("RequestBudget shared in Postgres"), () => {
  it.effect("a slot one host took is not there for another: the second waits for the refill", () =>
    Effect.gen(function* () {
      const { a, b } = yield* twoHosts(60)
      yield* a.take("github")
      const second = yield* Effect.forkChild(b.take("github"))
      yield* untilWaiting(a, "github")
      assert.isUndefined(second.pollUnsafe(), "the second host waits")
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(second)
      const state = yield* a.state("github")
      assert.strictEqual(state.requests, 2)
      assert.strictEqual(state.waitedMs, 1000)
      // Another tracker has a bucket of its own.
      yield* b.take("linear")
    }).pipe(Effect.scoped)
  )

  it.effect("a tracker's retry-after seen by one host holds back the other", () =>
    Effect.gen(function* () {
      const { a, b } = yield* twoHosts(6000)
      yield* a.observe("linear", { retryAfterMs: 30_000 })
      const held = yield* Effect.forkChild(b.take("linear"))
      yield* untilWaiting(b, "linear")
      yield* TestClock.adjust("29 seconds")
      yield* untilWaiting(b, "linear")
      assert.isUndefined(held.pollUnsafe(), "still blocked before the tracker's time")
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(held)
      assert.strictEqual((yield* a.state("linear")).requests, 1)
    }).pipe(Effect.scoped)
  )
})
