import { assert, describe, it } from "@effect/vitest"
import { FakeHttpServer } from "@spec-orch/test-kit"
import { Effect } from "effect"
import { Daemon } from "../src/daemon/Daemon.js"
import { DaemonStore } from "../src/daemon/DaemonStore.js"
import { daemonLayer, daemonWorld, readyIssue } from "./utils/daemonWorld.js"

describe("Daemon with [notify]", () => {
  it.live("a dead-lettered issue reaches the webhook once, with the tracker token redacted", () =>
    Effect.gen(function* () {
      const hook = yield* Effect.acquireRelease(
        Effect.promise(() =>
          new FakeHttpServer(
            (i) => i.url.pathname,
            () => ({ status: 200, body: "ok" }),
            (status) => ({ error: `HTTP ${status}` })
          ).start()
        ),
        (server) => Effect.promise(() => server.close())
      )
      const w = yield* daemonWorld({
        daemon: { max_retries: 0 },
        extra: { notify: { webhooks: [{ url_env: "SO_NOTIFY_HOOK", events: ["dead-letter", "blocked-on-human"] }] } }
      })
      const li = readyIssue(w.linear, "a broken change", "BREAK")
      yield* Effect.gen(function* () {
        const daemon = yield* Daemon
        assert.deepStrictEqual((yield* daemon.tick).dispatched, [li.identifier])
        yield* daemon.drain
        assert.strictEqual((yield* DaemonStore.use((s) => s.issue(li.identifier)))?.status, "dead")
        // Released and failing again, it is a new dead letter: one more notice, none repeated.
        assert.isTrue(yield* DaemonStore.use((s) => s.releaseDeadLetter(li.identifier)))
        w.linear.moveIssue(li.identifier, "Ready")
        yield* daemon.tick
        yield* daemon.drain
      }).pipe(Effect.provide(daemonLayer({ ...w, env: { ...w.env, SO_NOTIFY_HOOK: `${hook.origin}/hook` } })))

      const bodies = hook.requestsTo("/hook").map((r) => r.body as Record<string, string>)
      assert.deepStrictEqual(
        bodies.map((b) => [b.event, b.issueId]),
        [
          ["dead-letter", li.identifier],
          ["dead-letter", li.identifier]
        ],
        "a run blocked by its own verification is not a person's yet: only the dead letters"
      )
      assert.notStrictEqual(bodies[0]!.runId, bodies[1]!.runId)
      assert.match(bodies[0]!.text ?? "", /gave up on SON-\d+ after 1 failed attempt\(s\).*dlq-retry/)
      assert.notInclude(JSON.stringify(bodies), w.env.GITHUB_TOKEN!)
    })
  )
})
