import { assert, describe, it } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import { ConfigFile, GateVerdict, parseConfig, Project, RunRecord } from "@spec-orch/contract"
import { Redactor } from "@spec-orch/harness"
import { SqliteClient } from "@spec-orch/sqlite"
import { FakeHttpServer, fastForwardClock } from "@spec-orch/test-kit"
import { Clock, ConfigProvider, Effect, Layer } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Notice, Notifier, noticesOfRun, notifyRun, slackBody } from "../src/notify/Notifier.js"

const TOKEN = "ghp_notifysecret0123456789abcdefABCDEF01"

/** A loopback webhook receiver: every POST is recorded and answered 200 unless a fault is armed. */
const receiver = () =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new FakeHttpServer(
        (i) => i.url.pathname,
        () => ({ status: 200, body: "ok" }),
        (status) => ({ error: `HTTP ${status}` })
      ).start()
    ),
    (server) => Effect.promise(() => server.close())
  )

const notifierLayer = (file: string, config: unknown, env: Record<string, string>) =>
  Notifier.layer.pipe(
    Layer.provideMerge(Redactor.layer),
    Layer.provideMerge(Project.layerFrom("/tmp", ConfigFile.parse(config))),
    Layer.provideMerge(SqliteClient.layer({ filename: file })),
    Layer.provideMerge(ConfigProvider.layer(ConfigProvider.fromEnvRecord(env))),
    Layer.provideMerge(NodeServices.layer)
  )

const db = () => join(mkdtempSync(join(tmpdir(), "notify-")), "state.db")

const notices: ReadonlyArray<Notice> = [
  {
    event: "blocked-on-human",
    subject: "SON-1/r1",
    reason: "review",
    issueId: "SON-1",
    runId: "r1",
    text: `SON-1 waits for a review (token ${TOKEN} in the log)`
  },
  { event: "dead-letter", subject: "SON-2", issueId: "SON-2", text: `SON-2 gave up: push with ${TOKEN} refused` },
  { event: "mission-finished", subject: "m-1/2026", missionId: "m-1", text: "mission m-1 completed" },
  { event: "budget-exceeded", subject: "SON-3/r2", issueId: "SON-3", runId: "r2", text: "SON-3 spent $12.00" }
]

describe("Notifier", () => {
  it.live("sends one redacted message per event: JSON to a generic webhook, { text } to Slack", () =>
    Effect.gen(function* () {
      const server = yield* receiver()
      const env = {
        SO_HOOK: `${server.origin}/generic`,
        SO_SLACK: `${server.origin}/slack`,
        GITHUB_TOKEN: TOKEN
      }
      const config = {
        notify: {
          webhooks: [
            { url_env: "SO_HOOK" },
            { url_env: "SO_SLACK", kind: "slack", events: ["dead-letter", "mission-finished"] }
          ]
        }
      }
      yield* Effect.gen(function* () {
        const notifier = yield* Notifier
        for (const n of notices) yield* notifier.notify(n)
      }).pipe(Effect.provide(notifierLayer(db(), config, env)))

      const generic = server.requestsTo("/generic")
      assert.deepStrictEqual(
        generic.map((r) => (r.body as { event: string }).event),
        ["blocked-on-human", "dead-letter", "mission-finished", "budget-exceeded"]
      )
      const first = generic[0]!.body as Record<string, unknown>
      assert.strictEqual(first.issueId, "SON-1")
      assert.strictEqual(first.reason, "review")
      assert.strictEqual(first.runId, "r1")
      const slack = server.requestsTo("/slack")
      assert.strictEqual(slack.length, 2, "Slack takes only the events it names")
      assert.deepStrictEqual(Object.keys(slack[0]!.body as object), ["text"])
      assert.match((slack[0]!.body as { text: string }).text, /dead-letter.*SON-2 gave up/)
      const all = JSON.stringify(server.requests.map((r) => r.body))
      assert.notInclude(all, TOKEN, "the token never leaves the machine")
      assert.include(all, "[redacted:GITHUB_TOKEN]")
      for (const r of server.requests) assert.strictEqual(r.method, "POST")
    })
  )

  it.live("a 500 is retried and the event is delivered once; the same event again sends nothing", () =>
    Effect.gen(function* () {
      const server = yield* receiver()
      server.fail("/generic", { status: 500, times: 1 })
      const file = db()
      const layer = notifierLayer(
        file,
        { notify: { webhooks: [{ url_env: "SO_HOOK" }] } },
        {
          SO_HOOK: `${server.origin}/generic`
        }
      )
      const clock = fastForwardClock()
      const first = yield* Effect.gen(function* () {
        return yield* (yield* Notifier).notify(notices[1]!)
      }).pipe(Effect.provide(layer), Effect.provideService(Clock.Clock, clock.clock))
      assert.deepStrictEqual(first, [{ webhook: "SO_HOOK", state: "sent" }])
      assert.deepStrictEqual(
        server.requests.map((r) => r.status),
        [500, 200],
        "one failure, one delivery"
      )
      assert.deepStrictEqual(clock.skipped, [500], "waited with backoff before the second attempt")

      // A new process on the same state database: the event was sent, so nothing goes out again.
      const again = yield* Effect.gen(function* () {
        return yield* (yield* Notifier).notify(notices[1]!)
      }).pipe(Effect.provide(layer))
      assert.deepStrictEqual(again, [{ webhook: "SO_HOOK", state: "duplicate" }])
      assert.strictEqual(server.requests.length, 2)
    })
  )

  it.live("a webhook that keeps failing gives up after a bounded number of attempts and is not sent again", () =>
    Effect.gen(function* () {
      const server = yield* receiver()
      server.fail("/generic", { status: 503, times: Number.POSITIVE_INFINITY })
      const layer = notifierLayer(
        db(),
        { notify: { webhooks: [{ url_env: "SO_HOOK" }] } },
        {
          SO_HOOK: `${server.origin}/generic`
        }
      )
      const clock = fastForwardClock()
      const out = yield* Effect.gen(function* () {
        const notifier = yield* Notifier
        const first = yield* notifier.notify(notices[2]!)
        const second = yield* notifier.notify(notices[2]!)
        return [...first, ...second]
      }).pipe(Effect.provide(layer), Effect.provideService(Clock.Clock, clock.clock))
      assert.deepStrictEqual(out, [
        { webhook: "SO_HOOK", state: "failed", detail: "answered HTTP 503" },
        { webhook: "SO_HOOK", state: "duplicate" }
      ])
      assert.strictEqual(server.requests.length, 5, "the first attempt and four retries")
      assert.deepStrictEqual(clock.skipped, [500, 1000, 2000, 4000])
    })
  )

  it.effect(
    "a finished run calls for blocked-on-human and budget-exceeded notices; without a Notifier nothing happens",
    () =>
      Effect.gen(function* () {
        const verdict = new GateVerdict({
          policy: "built-in",
          profile: null,
          mergeable: false,
          autoMergeable: false,
          conditions: [],
          failed: ["budget"],
          notJudgeable: ["human_acceptance"]
        })
        const record = new RunRecord({
          runId: "SON-4-r1",
          runKey: "SON-4",
          issueId: "SON-4",
          attempt: 1,
          status: "blocked",
          stage: "gate",
          startedAt: "2026-01-01T00:00:00.000Z",
          updatedAt: "2026-01-01T00:00:00.000Z",
          message: "blocked: budget, human_acceptance"
        } as never)
        const withVerdict = new RunRecord({ ...record, verdict })
        assert.deepStrictEqual(
          noticesOfRun(withVerdict).map((n) => [n.event, n.reason ?? ""]),
          [
            ["blocked-on-human", "acceptance"],
            ["budget-exceeded", ""]
          ]
        )
        assert.deepStrictEqual(
          noticesOfRun(new RunRecord({ ...record, status: "waiting" })).map((n) => [n.event, n.reason]),
          [["blocked-on-human", "question"]]
        )
        assert.deepStrictEqual(noticesOfRun(new RunRecord({ ...record, status: "succeeded" })), [])
        const ownFailure = new GateVerdict({ ...verdict, failed: ["verification"], notJudgeable: ["review"] })
        assert.deepStrictEqual(
          noticesOfRun(new RunRecord({ ...record, verdict: ownFailure })),
          [],
          "failing its own verification, the run is the agent's to fix, not a person's"
        )
        yield* notifyRun(withVerdict)
      })
  )
})

describe("slackBody", () => {
  it("escapes Slack's control characters so an issue's title cannot ping a channel or forge a link", () => {
    const body = slackBody({ event: "dead-letter", subject: "X", text: "<!channel> & <https://evil|docs>" })
    assert.deepStrictEqual(body, {
      text: "*spec-orch: dead-letter* &lt;!channel&gt; &amp; &lt;https://evil|docs&gt;"
    })
  })
})

describe("[notify] config", () => {
  it("a bad webhook entry is an error naming the key", () => {
    const bad = parseConfig(
      ["[[notify.webhooks]]", 'url_env = "https://hooks.slack.com/services/T/B/X"', 'kind = "teams"'].join("\n"),
      "spec-orch.toml"
    )
    assert.isUndefined(bad.config)
    const text = bad.problems.map((p) => `${p.line}:${p.key}: ${p.message}`).join("\n")
    assert.match(text, /notify\.webhooks\.0\.url_env: .*environment variable name/)
    assert.match(text, /notify\.webhooks\.0\.kind: /)
    const unknownEvent = parseConfig('[[notify.webhooks]]\nurl_env = "HOOK"\nevents = ["merged"]\n', "spec-orch.toml")
    assert.match(unknownEvent.problems.map((p) => p.key).join(" "), /notify\.webhooks\.0\.events\.0/)
    const ok = parseConfig('[[notify.webhooks]]\nurl_env = "HOOK"\n', "spec-orch.toml")
    assert.deepStrictEqual(ok.config?.notify.webhooks, [
      {
        url_env: "HOOK",
        kind: "generic",
        events: ["blocked-on-human", "dead-letter", "mission-finished", "budget-exceeded"]
      }
    ])
  })
})
