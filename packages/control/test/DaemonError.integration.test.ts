import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Schedule, Schema } from "effect"
import { Daemon } from "../src/daemon/Daemon.js"
import { DaemonError } from "../src/daemon/DaemonError.js"
import { DaemonStore } from "../src/daemon/DaemonStore.js"
import { type Heartbeat, readHeartbeat } from "../src/daemon/Heartbeat.js"
import { daemonLayer, daemonWorld, readyIssue } from "./utils/daemonWorld.js"

describe("Daemon.tick", () => {
  it.live("a tracker that refuses the token fails the tick with a DaemonError carrying the tracker's reason", () =>
    Effect.gen(function* () {
      const w = yield* daemonWorld()
      readyIssue(w.linear, "a change nobody will see")
      w.linear.fail("issues", { status: 401, times: Number.POSITIVE_INFINITY })
      yield* Effect.gen(function* () {
        const daemon = yield* Daemon
        const error = yield* daemon.tick.pipe(Effect.flip)
        assert.strictEqual(error._tag, "DaemonError")
        assert.strictEqual(error.step, "tick")
        assert.strictEqual(error.reason._tag, "IssueSourceUnavailable")
        if (error.reason._tag !== "IssueSourceUnavailable") return
        assert.strictEqual(error.reason.source, "linear SON")
        assert.match(error.reason.reason, /rejected the token in SPEC_ORCH_LINEAR_TOKEN \(401/)
        assert.strictEqual(error.message, error.reason.message, "the text people see is the tracker's own")
        // Data, not only text: it survives encoding (a journal row, the CLI's JSON) with its reason.
        const back = Schema.decodeUnknownSync(DaemonError)(Schema.encodeSync(DaemonError)(error))
        assert.strictEqual(back.reason._tag, "IssueSourceUnavailable")
        assert.strictEqual(back.message, error.message)
        assert.deepStrictEqual(yield* DaemonStore.use((s) => s.issues()), [], "nothing was picked up")
      }).pipe(Effect.provide(daemonLayer(w)))
    })
  )
})

describe("Daemon.feedback", () => {
  it.live("GitHub refusing the token fails the round with a DaemonError carrying the tracker's error", () =>
    Effect.gen(function* () {
      const w = yield* daemonWorld()
      w.github.fail("GET /repos/{owner}/{repo}/pulls/{pull_number}", { status: 401, times: Number.POSITIVE_INFINITY })
      yield* Effect.gen(function* () {
        yield* DaemonStore.use((s) => s.upsert("SON-1", { status: "done", prNumber: 7 }))
        const error = yield* Daemon.use((d) => d.feedback).pipe(Effect.flip)
        assert.strictEqual(error.step, "feedback")
        assert.strictEqual(error.reason._tag, "TrackerError")
        if (error.reason._tag !== "TrackerError") return
        assert.strictEqual(error.reason.reason._tag, "TrackerAuthFailed")
        assert.strictEqual(error.message, error.reason.message)
      }).pipe(Effect.provide(daemonLayer(w)))
    })
  )
})

/** The heartbeat once `until` holds (read every 50 ms, for at most 30 s). */
const heartbeatWhen = (until: (h: Heartbeat) => boolean) =>
  readHeartbeat().pipe(
    Effect.repeat({
      until: ({ heartbeat }) => heartbeat !== undefined && until(heartbeat),
      schedule: Schedule.spaced("50 millis")
    }),
    Effect.timeout("30 seconds"),
    Effect.map(({ heartbeat }) => heartbeat)
  )

describe("Daemon.run", () => {
  it.live("a failing tick leaves a degraded heartbeat with the tracker's text; the loop goes on and recovers", () =>
    Effect.gen(function* () {
      const w = yield* daemonWorld()
      w.linear.fail("issues", { status: 401, times: 1 })
      yield* Effect.gen(function* () {
        const daemon = yield* Daemon
        const loop = yield* Effect.forkChild(daemon.run)
        const degraded = yield* heartbeatWhen((h) => h.status === "degraded")
        assert.strictEqual(degraded?.consecutiveErrors, 1)
        assert.match(degraded?.lastError ?? "", /linear SON is unavailable: .*rejected the token/)
        yield* daemon.poke
        const healthy = yield* heartbeatWhen((h) => h.status === "healthy").pipe(Effect.ensuring(Fiber.interrupt(loop)))
        assert.deepStrictEqual([healthy?.consecutiveErrors, healthy?.lastError], [0, null])
      }).pipe(Effect.provide(daemonLayer(w)))
    })
  )
})
