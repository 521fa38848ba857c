import { assert, describe, it } from "@effect/vitest"
import { RunRecord } from "@spec-orch/contract"
import { Redactor } from "@spec-orch/harness"
import { SqliteClient } from "@spec-orch/sqlite"
import { Clock, Effect, Fiber, Layer, Stream } from "effect"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { dirname } from "node:path"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { acquireEngineLock, engineLockName, type LockName, ProcessToken, RunStore, runLockName } from "../src/index.js"
import { record, waitingClock } from "./utils/runs.js"

const db = () => join(mkdtempSync(join(tmpdir(), "runstore-")), "state.db")
const SECRET = "svc-secret-value-0123"
const storeLayer = (file: string) =>
  RunStore.layer.pipe(
    Layer.provideMerge(SqliteClient.layer({ filename: file })),
    Layer.provide(Redactor.layerFrom({ SERVICE_TOKEN: SECRET }))
  )

describe("RunStore", () => {
  it.effect("keeps run records across connections to the same file", () =>
    Effect.gen(function* () {
      const file = db()
      yield* RunStore.use((s) => Effect.andThen(s.put(record(1, "blocked"), "me"), s.put(record(2)))).pipe(
        Effect.provide(storeLayer(file))
      )
      const latest = yield* RunStore.use((s) => s.latest("T-1")).pipe(Effect.provide(Layer.fresh(storeLayer(file))))
      assert.strictEqual(latest?.runId, "T-1-r2")
      const owner = yield* RunStore.use((s) => s.owner("T-1-r1")).pipe(Effect.provide(Layer.fresh(storeLayer(file))))
      assert.strictEqual(owner, "me")
    })
  )

  it.effect("updates a record and numbers events in order", () =>
    Effect.gen(function* () {
      const s = yield* RunStore
      yield* s.put(record(1))
      const updated = yield* s.update("T-1-r1", (r) => new RunRecord({ ...r, stage: "agent" }))
      assert.strictEqual(updated?.stage, "agent")
      yield* s.append("T-1-r1", "stage", { stage: "agent", state: "started" })
      yield* s.append("T-1-r1", "note", { text: "x" })
      const all = yield* s.events("T-1-r1")
      assert.deepStrictEqual(
        all.map((e) => [e.seq, e.kind]),
        [
          [1, "stage"],
          [2, "note"]
        ]
      )
      assert.deepStrictEqual(
        (yield* s.events("T-1-r1", 1)).map((e) => e.seq),
        [2]
      )
      yield* s.put(record(2))
      yield* s.append("T-1-r2", "stage", { stage: "load", state: "finished", ms: 3 })
      yield* s.append("T-1-r1", "stage", { stage: "agent", state: "finished", ms: 40 })
      const stages = yield* s.eventsOfKind("stage")
      assert.deepStrictEqual(
        stages.map((e) => [e.runId, e.seq, (e.data as { state: string }).state]),
        [
          ["T-1-r1", 1, "started"],
          ["T-1-r1", 3, "finished"],
          ["T-1-r2", 1, "finished"]
        ]
      )
    }).pipe(Effect.provide(storeLayer(db())))
  )

  it.effect("lists the runs updated since a time, least recently updated first", () =>
    Effect.gen(function* () {
      const s = yield* RunStore
      yield* Effect.forEach([1, 2, 3], (n) => s.put(record(n)))
      assert.deepStrictEqual(
        (yield* s.updatedSince("2026-11-25T10:00:02.000Z")).map((r) => r.runId),
        ["T-1-r2", "T-1-r3"]
      )
      yield* s.put(new RunRecord({ ...record(1), status: "blocked", updatedAt: "2026-11-25T10:00:09.000Z" }))
      assert.deepStrictEqual(
        (yield* s.updatedSince("2026-11-25T10:00:03.000Z")).map((r) => [r.runId, r.status]),
        [
          ["T-1-r3", "running"],
          ["T-1-r1", "blocked"]
        ]
      )
      assert.deepStrictEqual(yield* s.updatedSince("2026-11-25T10:01:00.000Z"), [])
    }).pipe(Effect.provide(storeLayer(db())))
  )

  it.effect(
    "appends a batch in order after what is there, over several statements, redacted, and publishes each event",
    () =>
      Effect.gen(function* () {
        const s = yield* RunStore
        yield* s.put(record(1))
        yield* s.append("T-1-r1", "stage", { stage: "agent", state: "started" })
        const live = yield* s.live.pipe(Stream.take(1201), Stream.runCollect, Effect.forkChild)
        yield* Effect.yieldNow
        const batch = [
          ...Array.from({ length: 1200 }, (_, i) => ({
            kind: "agent",
            data: { i, text: i === 700 ? `token ${SECRET}` : "x" }
          })),
          { kind: "note", data: { text: "last" } }
        ]
        const appended = yield* s.appendAll("T-1-r1", batch)
        assert.deepStrictEqual(
          appended.map((e) => e.seq),
          Array.from({ length: 1201 }, (_, i) => i + 2)
        )
        const stored = yield* s.events("T-1-r1")
        assert.deepStrictEqual(
          stored.map((e) => e.seq),
          Array.from({ length: 1202 }, (_, i) => i + 1),
          "numbered one after another, none lost"
        )
        assert.deepStrictEqual(
          stored.slice(1).map((e) => (e.data as { i?: number }).i),
          [...Array.from({ length: 1200 }, (_, i) => i), undefined],
          "in the order given"
        )
        assert.deepStrictEqual(stored[701]!.data, { i: 700, text: "token [redacted:SERVICE_TOKEN]" })
        assert.strictEqual(stored.at(-1)!.kind, "note")
        assert.deepStrictEqual(
          Array.from(yield* Fiber.join(live)).map((e) => e.seq),
          appended.map((e) => e.seq),
          "live followers see each event"
        )
        assert.deepStrictEqual(yield* s.appendAll("T-1-r1", []), [])
      }).pipe(Effect.provide(storeLayer(db())))
  )

  it.effect("stores and publishes event payloads and records redacted: the database never holds the secret", () =>
    Effect.gen(function* () {
      const file = db()
      yield* Effect.gen(function* () {
        const s = yield* RunStore
        const live = yield* s.live.pipe(Stream.take(1), Stream.runCollect, Effect.forkChild)
        yield* Effect.yieldNow
        yield* s.put(new RunRecord({ ...record(1), message: `push failed with ${SECRET}` }))
        yield* s.append("T-1-r1", "agent", {
          _tag: "message",
          text: `the token is ${SECRET}`,
          nested: [{ [SECRET]: SECRET }]
        })
        assert.deepStrictEqual((yield* s.events("T-1-r1"))[0]!.data, {
          _tag: "message",
          text: "the token is [redacted:SERVICE_TOKEN]",
          nested: [{ "[redacted:SERVICE_TOKEN]": "[redacted:SERVICE_TOKEN]" }]
        })
        assert.deepStrictEqual(
          Array.from(yield* Fiber.join(live))[0]!.data,
          (yield* s.events("T-1-r1"))[0]!.data,
          "live followers see what is stored"
        )
        assert.strictEqual((yield* s.get("T-1-r1"))?.message, "push failed with [redacted:SERVICE_TOKEN]")
      }).pipe(Effect.provide(storeLayer(file)))
      for (const f of readdirSync(dirname(file)))
        assert.notInclude(readFileSync(join(dirname(file), f), "latin1"), SECRET, f)
    })
  )

  it.effect("lets another reader follow a run until it finishes", () =>
    Effect.gen(function* () {
      const file = db()
      const writer = storeLayer(file)
      yield* RunStore.use((s) => Effect.andThen(s.put(record(1)), s.append("T-1-r1", "note", { text: "one" }))).pipe(
        Effect.provide(writer)
      )
      // The reader read "one", found nothing more and waits (on its own clock, not the wall clock):
      // "two" is written only now, so the reader can get it only by following the run.
      const { clock, resume, waiting } = yield* waitingClock
      const reader = yield* RunStore.use((s) => s.follow("T-1-r1", { pollMillis: 20 }).pipe(Stream.runCollect)).pipe(
        Effect.provide(Layer.fresh(storeLayer(file))),
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

describe("acquireEngineLock", () => {
  it.live("refuses a second live holder with a message naming the first, and frees the lock on release", () =>
    Effect.gen(function* () {
      const file = db()
      const sql = SqliteClient.layer({ filename: file })
      const first = Layer.effectDiscard(acquireEngineLock("run A")).pipe(
        Layer.provide(ProcessToken.layer),
        Layer.provide(sql)
      )
      const other = ProcessToken.of({
        token: `${yield* ProcessToken.use((t) => Effect.succeed(t.host)).pipe(Effect.provide(ProcessToken.layer))}:${process.ppid}:x`,
        pid: process.ppid,
        host: ""
      })
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* Layer.build(first)
          const busy = yield* Effect.flip(
            Effect.scoped(acquireEngineLock("run B")).pipe(
              Effect.provideService(ProcessToken, { ...other, host: other.token.split(":")[0]! }),
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

  it.live("locks of different journals and run keys are independent; the holder may take its own again", () =>
    Effect.gen(function* () {
      const sql = SqliteClient.layer({ filename: db() })
      const me = yield* ProcessToken.use(Effect.succeed).pipe(Effect.provide(ProcessToken.layer))
      const other = ProcessToken.of({ token: `${me.host}:${process.ppid}:x`, pid: process.ppid, host: me.host })
      const take = (token: typeof me, command: string, lock: LockName) =>
        Effect.scoped(acquireEngineLock(command, { lock })).pipe(
          Effect.provideService(ProcessToken, token),
          Effect.provide(Layer.fresh(sql))
        )
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* acquireEngineLock("run SPC-1", { lock: engineLockName("run-SPC-1") }).pipe(
            Effect.provideService(ProcessToken, other)
          )
          yield* acquireEngineLock("run SPC-1", { lock: runLockName("SPC-1") }).pipe(
            Effect.provideService(ProcessToken, other)
          )
          // Another issue's journal and run key are free; SPC-1's are not, and the refusal names it.
          yield* take(me, "run SPC-2", engineLockName("run-SPC-2"))
          yield* take(me, "run SPC-2", runLockName("SPC-2"))
          const busy = yield* Effect.flip(take(me, "daemon start", runLockName("SPC-1")))
          assert.match(busy.message, /already running SPC-1 in this project \(pid \d+ on .*`run SPC-1`/)
          // The holder itself takes it again (a process's own nested use), and keeps it.
          yield* take(other, "run SPC-1", runLockName("SPC-1"))
          assert.strictEqual((yield* Effect.flip(take(me, "daemon start", runLockName("SPC-1"))))._tag, "EngineBusy")
        })
      ).pipe(Effect.provide(Layer.fresh(sql)))
      yield* take(me, "after", runLockName("SPC-1"))
    })
  )

  it.live("takes a run key's lock from a live holder only where takeFrom says so (a former cluster daemon's)", () =>
    Effect.gen(function* () {
      const sql = SqliteClient.layer({ filename: db() })
      const me = yield* ProcessToken.use(Effect.succeed).pipe(Effect.provide(ProcessToken.layer))
      const former = ProcessToken.of({ token: `${me.host}:${process.ppid}:former`, pid: process.ppid, host: me.host })
      const take = (takeFrom?: (owner: string) => Effect.Effect<boolean>) =>
        Effect.scoped(acquireEngineLock("run SPC-9", { lock: runLockName("SPC-9"), takeFrom })).pipe(
          Effect.provideService(ProcessToken, me),
          Effect.provide(Layer.fresh(sql))
        )
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* acquireEngineLock("run SPC-9", { lock: runLockName("SPC-9") }).pipe(
            Effect.provideService(ProcessToken, former)
          )
          assert.strictEqual((yield* Effect.flip(take()))._tag, "EngineBusy", "a live holder keeps it by default")
          assert.strictEqual(
            (yield* Effect.flip(take((owner) => Effect.succeed(owner !== former.token))))._tag,
            "EngineBusy",
            "and when takeFrom says no"
          )
          yield* take((owner) => Effect.succeed(owner === former.token))
        })
      ).pipe(Effect.provide(Layer.fresh(sql)))
    })
  )

  it.live("takes the lock over from a process that is gone", () =>
    Effect.gen(function* () {
      const file = db()
      const sql = SqliteClient.layer({ filename: file })
      const host = yield* ProcessToken.use((t) => Effect.succeed(t.host)).pipe(Effect.provide(ProcessToken.layer))
      const dead = ProcessToken.of({ token: `${host}:999999:dead`, pid: 999999, host })
      // A crashed holder: acquire and never release (the scope is left open on purpose).
      yield* Layer.buildWithScope(
        Layer.effectDiscard(acquireEngineLock("crashed")).pipe(
          Layer.provide(Layer.succeed(ProcessToken, dead)),
          Layer.provide(sql)
        ),
        yield* Effect.scope
      )
      // Another live process, to see who holds the lock.
      const live = ProcessToken.of({ token: `${host}:${process.ppid}:x`, pid: process.ppid, host })
      const third = (command: string) =>
        Effect.scoped(acquireEngineLock(command)).pipe(
          Effect.provideService(ProcessToken, live),
          Effect.provide(Layer.fresh(sql))
        )
      yield* Effect.scoped(
        Effect.gen(function* () {
          // This process takes the dead holder's lock over and now holds it: the other live one is refused.
          yield* acquireEngineLock("after crash").pipe(Effect.provide(ProcessToken.layer))
          const busy = yield* Effect.flip(third("run D"))
          assert.strictEqual(busy._tag, "EngineBusy")
          assert.match(
            busy.message,
            new RegExp(`\\(pid ${process.pid} on .*\`after crash\``),
            "the refusal names the process that took the lock over, not the dead one"
          )
        })
      ).pipe(Effect.provide(Layer.fresh(sql)))
      // Released like any lock when this process is done.
      yield* third("run D")
    }).pipe(Effect.scoped)
  )
})
