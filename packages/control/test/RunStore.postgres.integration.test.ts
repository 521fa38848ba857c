/**
 * The run store and the engine lock on a real PostgreSQL server: the same SQL as on SQLite, across
 * two connection pools (two processes), with concurrent writers. Fails when
 * SPEC_ORCH_PG_URL is not set, unless SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { assert, describe, it } from "@effect/vitest"
import { RunRecord } from "@spec-orch/contract"
import { Redactor } from "@spec-orch/harness"
import { requirePostgres } from "@spec-orch/test-kit"
import { Clock, Context, Effect, Fiber, Layer, Stream } from "effect"
import { acquireEngineLock, ProcessToken, RunStore } from "../src/index.js"
import { record, waitingClock } from "./utils/runs.js"
import { freshDatabase, pgClient } from "./utils/postgres.js"

const pg = requirePostgres()

const storeLayer = (url: string) =>
  RunStore.layer.pipe(Layer.provideMerge(pgClient(url)), Layer.provide(Redactor.layerFrom({})))

describe.skipIf(!pg.run)(pg.title("RunStore on Postgres"), () => {
  it.live("keeps records across pools; the latest attempt, the owner and the listing read back as written", () =>
    Effect.gen(function* () {
      const url = yield* freshDatabase("runstore")
      yield* RunStore.use((s) => Effect.andThen(s.put(record(1, "blocked"), "me"), s.put(record(2)))).pipe(
        Effect.provide(storeLayer(url))
      )
      yield* Effect.gen(function* () {
        const s = yield* RunStore
        assert.strictEqual((yield* s.latest("T-1"))?.runId, "T-1-r2")
        assert.strictEqual((yield* s.latestForKey("T-1"))?.attempt, 2)
        assert.strictEqual(yield* s.owner("T-1-r1"), "me")
        assert.strictEqual(yield* s.owner("T-1-r2"), undefined)
        yield* s.setOwner("T-1-r2", "you")
        assert.strictEqual(yield* s.owner("T-1-r2"), "you")
        assert.deepStrictEqual(
          (yield* s.list({ issueId: "T-1", limit: 1 })).map((r) => r.runId),
          ["T-1-r2"]
        )
        assert.deepStrictEqual(
          (yield* s.list()).map((r) => [r.runId, r.status]),
          [
            ["T-1-r2", "running"],
            ["T-1-r1", "blocked"]
          ]
        )
        // put on an existing run replaces it and keeps its owner
        yield* s.put(new RunRecord({ ...record(1), status: "failed", message: "again" }))
        assert.deepStrictEqual([(yield* s.get("T-1-r1"))?.status, yield* s.owner("T-1-r1")], ["failed", "me"])
      }).pipe(Effect.provide(Layer.fresh(storeLayer(url))))
    })
  )

  it.live("updates a record and numbers events in order, also when many are appended at once", () =>
    Effect.gen(function* () {
      const url = yield* freshDatabase("runstore")
      yield* Effect.gen(function* () {
        const s = yield* RunStore
        yield* s.put(record(1))
        const updated = yield* s.update("T-1-r1", (r) => new RunRecord({ ...r, stage: "agent" }))
        assert.strictEqual(updated?.stage, "agent")
        assert.strictEqual(yield* s.update("T-9-r1", (r) => r), undefined, "an unknown run is not created")
        yield* s.append("T-1-r1", "stage", { stage: "agent", state: "started" })
        yield* s.append("T-1-r1", "note", { text: "x" })
        assert.deepStrictEqual(
          (yield* s.events("T-1-r1")).map((e) => [e.seq, e.kind]),
          [
            [1, "stage"],
            [2, "note"]
          ]
        )
        assert.deepStrictEqual(
          (yield* s.events("T-1-r1", 1)).map((e) => e.data),
          [{ text: "x" }]
        )
        // Agent events, stage events and notes can be appended by several fibers (and pools) at once.
        const other = Context.get(yield* Layer.build(Layer.fresh(storeLayer(url))), RunStore)
        yield* Effect.forEach(
          Array.from({ length: 40 }, (_, i) => i),
          (i) => (i % 2 === 0 ? s : other).append("T-1-r1", "agent", { i }),
          { concurrency: 40, discard: true }
        )
        const seqs = (yield* s.events("T-1-r1")).map((e) => e.seq)
        assert.deepStrictEqual(
          seqs,
          Array.from({ length: 42 }, (_, i) => i + 1),
          "every event has its own sequence number, none lost"
        )
        // A batch (over several INSERTs) and single appends from another pool, at once.
        const batch = Array.from({ length: 1100 }, (_, i) => ({ kind: "agent", data: { i } }))
        yield* Effect.all(
          [
            s.appendAll("T-1-r1", batch),
            Effect.forEach(
              Array.from({ length: 10 }, (_, i) => i),
              (i) => other.append("T-1-r1", "note", { i }),
              { discard: true }
            )
          ],
          { concurrency: 2 }
        )
        const after = yield* s.events("T-1-r1")
        assert.deepStrictEqual(
          after.map((e) => e.seq),
          Array.from({ length: 1152 }, (_, i) => i + 1),
          "batches and single appends get their own numbers"
        )
        const batched = after.filter((e) => e.kind === "agent" && e.seq > 42).map((e) => (e.data as { i: number }).i)
        assert.deepStrictEqual(
          batched,
          Array.from({ length: 1100 }, (_, i) => i),
          "a batch keeps its order"
        )
      }).pipe(Effect.provide(storeLayer(url)), Effect.scoped)
    })
  )

  it.live("lets a reader in another pool follow a run until it finishes", () =>
    Effect.gen(function* () {
      const url = yield* freshDatabase("runstore")
      const writer = storeLayer(url)
      yield* RunStore.use((s) => Effect.andThen(s.put(record(1)), s.append("T-1-r1", "note", { text: "one" }))).pipe(
        Effect.provide(writer)
      )
      // The reader read "one", found nothing more and waits (on its own clock, not the wall clock):
      // "two" is written only now, so the reader can get it only by following the run.
      const { clock, resume, waiting } = yield* waitingClock
      const reader = yield* RunStore.use((s) => s.follow("T-1-r1", { pollMillis: 20 }).pipe(Stream.runCollect)).pipe(
        Effect.provide(Layer.fresh(storeLayer(url))),
        Effect.provideService(Clock.Clock, clock),
        Effect.forkChild
      )
      yield* Effect.raceFirst(waiting, Fiber.await(reader))
      yield* RunStore.use((s) =>
        Effect.gen(function* () {
          yield* s.append("T-1-r1", "note", { text: "two" })
          yield* s.update("T-1-r1", (r) => new RunRecord({ ...r, status: "succeeded" }))
        })
      ).pipe(Effect.provide(Layer.fresh(writer)))
      yield* resume
      const seen = yield* Fiber.join(reader)
      assert.deepStrictEqual(
        Array.from(seen).map((e) => (e.data as { text: string }).text),
        ["one", "two"]
      )
    })
  )
})

describe.skipIf(!pg.run)(pg.title("acquireEngineLock on Postgres"), () => {
  it.live("refuses a second live holder naming the first, and frees the lock on release", () =>
    Effect.gen(function* () {
      const url = yield* freshDatabase("enginelock")
      const sql = pgClient(url)
      const host = yield* ProcessToken.use((t) => Effect.succeed(t.host)).pipe(Effect.provide(ProcessToken.layer))
      // The other holder is this test's parent process: alive, on this host.
      const parent = ProcessToken.of({ token: `${host}:${process.ppid}:x`, pid: process.ppid, host })
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* Layer.build(
            Layer.effectDiscard(acquireEngineLock("run A")).pipe(Layer.provide(ProcessToken.layer), Layer.provide(sql))
          )
          const busy = yield* Effect.flip(
            Effect.scoped(acquireEngineLock("run B")).pipe(
              Effect.provideService(ProcessToken, parent),
              Effect.provide(Layer.fresh(sql))
            )
          )
          assert.strictEqual(busy._tag, "EngineBusy")
          assert.match(
            busy.message,
            /another spec-orch process is already running workflows in this project \(pid \d+ on .*`run A`/
          )
        })
      )
      yield* Effect.scoped(acquireEngineLock("run C")).pipe(
        Effect.provide(ProcessToken.layer),
        Effect.provide(Layer.fresh(sql))
      )
    })
  )
})
