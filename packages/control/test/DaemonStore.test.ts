import { assert, describe, it } from "@effect/vitest"
import { Redactor } from "@spec-orch/harness"
import { SqliteClient } from "@spec-orch/sqlite"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DaemonStore } from "../src/daemon/DaemonStore.js"
import { leaderTakesOverAndFencesTheOldOne } from "./utils/leader-claims.js"

const db = () => join(mkdtempSync(join(tmpdir(), "daemonstore-")), "state.db")
const SECRET = "lin_api_0123456789abcdefABCDEF"
const storeLayer = (file: string) =>
  DaemonStore.layer.pipe(
    Layer.provideMerge(SqliteClient.layer({ filename: file })),
    Layer.provide(Redactor.layerFrom({ LINEAR_API_KEY: SECRET }))
  )

describe("DaemonStore redaction", () => {
  it.effect("writes an issue's last error, a dead letter's and a refusal's reason with secrets redacted", () =>
    Effect.gen(function* () {
      const store = yield* DaemonStore
      const sql = yield* SqlClient.SqlClient
      const leak = `curl -H 'Authorization: ${SECRET}' failed`
      const issue = yield* store.upsert("SON-1", { status: "retry", lastError: leak })
      assert.notInclude(issue.lastError ?? "", SECRET, "what upsert returns")
      yield* store.deadLetter({ issueId: "SON-2", reason: leak, attempts: 3, lastRunId: null })
      yield* store.refuse({ issueId: "SON-3", who: SECRET, reason: leak })
      const raw = JSON.stringify([
        yield* sql`SELECT * FROM so_daemon_issues`,
        yield* sql`SELECT * FROM so_daemon_dead_letters`,
        yield* sql`SELECT * FROM so_daemon_refusals`
      ])
      assert.notInclude(raw, SECRET, "nothing in the database holds the secret")
      assert.include(raw, "failed", "the rest of the text is kept")
      assert.strictEqual((yield* store.issue("SON-2"))?.status, "dead")
    }).pipe(Effect.provide(storeLayer(db())))
  )
})

describe("DaemonStore.claim", () => {
  it.effect("gives an issue to one owner until its lease expires, then to the next", () =>
    Effect.gen(function* () {
      const store = yield* DaemonStore
      assert.isTrue(yield* store.claim("SON-1", "a", 60_000))
      assert.isFalse(yield* store.claim("SON-1", "b", 60_000), "held by a")
      assert.isTrue(yield* store.claim("SON-1", "a", 60_000, "SON-1-r1"), "the owner renews")
      assert.deepStrictEqual(
        (yield* store.claims).map((c) => [c.issueId, c.owner, c.runId]),
        [["SON-1", "a", "SON-1-r1"]]
      )
      yield* TestClock.adjust("61 seconds")
      assert.isTrue(yield* store.claim("SON-1", "b", 60_000), "an expired lease goes to whoever asks")
      assert.deepStrictEqual(
        (yield* store.claims).map((c) => [c.owner, c.runId]),
        [["b", null]]
      )
    }).pipe(Effect.provide(storeLayer(db())))
  )

  it.effect("renewing extends every claim of an owner; releasing drops only its own", () =>
    Effect.gen(function* () {
      const store = yield* DaemonStore
      yield* store.claim("SON-1", "a", 10_000)
      yield* store.claim("SON-2", "a", 10_000)
      yield* store.claim("SON-3", "b", 10_000)
      yield* TestClock.adjust("8 seconds")
      yield* store.renewClaims("a", 10_000)
      yield* TestClock.adjust("5 seconds")
      assert.isFalse(yield* store.claim("SON-1", "c", 10_000), "renewed")
      assert.isTrue(yield* store.claim("SON-3", "c", 10_000), "b's lease ran out")
      yield* store.release("SON-2", "b")
      assert.strictEqual((yield* store.claims).length, 3, "b cannot release a's claim")
      yield* store.release("SON-2", "a")
      assert.deepStrictEqual(
        (yield* store.claims).map((c) => c.issueId),
        ["SON-1", "SON-3"]
      )
    }).pipe(Effect.provide(storeLayer(db())))
  )
})

describe("DaemonStore issues and dead letters", () => {
  it.effect("keeps an issue's status across connections; a dead letter is released to a fresh start", () =>
    Effect.gen(function* () {
      const file = db()
      yield* Effect.gen(function* () {
        const store = yield* DaemonStore
        const created = yield* store.upsert("SON-1", {
          status: "retry",
          retryCount: 1,
          retryAt: 1234,
          lastError: "gate failed: verification"
        })
        assert.deepStrictEqual(
          [created.status, created.retryCount, created.retryAt, created.prNumber],
          ["retry", 1, 1234, null]
        )
        yield* store.deadLetter({
          issueId: "SON-1",
          reason: "gate failed: verification",
          attempts: 2,
          lastRunId: "SON-1-r2"
        })
      }).pipe(Effect.provide(storeLayer(file)))
      yield* Effect.gen(function* () {
        const store = yield* DaemonStore
        const row = yield* store.issue("SON-1")
        assert.deepStrictEqual([row?.status, row?.lastError, row?.retryAt], ["dead", "gate failed: verification", null])
        assert.deepStrictEqual(
          (yield* store.deadLetters).map((d) => [d.issueId, d.attempts, d.lastRunId]),
          [["SON-1", 2, "SON-1-r2"]]
        )
        assert.deepStrictEqual(
          (yield* store.issues(["dead"])).map((r) => r.issueId),
          ["SON-1"]
        )
        assert.isTrue(yield* store.releaseDeadLetter("SON-1"))
        assert.isFalse(yield* store.releaseDeadLetter("SON-1"), "only once")
        const released = yield* store.issue("SON-1")
        assert.deepStrictEqual([released?.status, released?.retryCount, released?.lastError], ["new", 0, null])
        assert.deepStrictEqual(yield* store.deadLetters, [])
      }).pipe(Effect.provide(Layer.fresh(storeLayer(file))))
    })
  )

  it.effect("marks are recorded once; meta values are replaced", () =>
    Effect.gen(function* () {
      const store = yield* DaemonStore
      assert.isTrue(yield* store.mark("SON-1:abc:ci-failed:comment"))
      assert.isFalse(yield* store.mark("SON-1:abc:ci-failed:comment"))
      yield* store.setMeta("last_poll", "a")
      yield* store.setMeta("last_poll", "b")
      assert.strictEqual(yield* store.getMeta("last_poll"), "b")
      assert.strictEqual(yield* store.getMeta("missing"), undefined)
    }).pipe(Effect.provide(storeLayer(db())))
  )
})

describe("DaemonStore.refuse", () => {
  it.effect("records a refusal once: news again only when who or why changed; admitting forgets it", () =>
    Effect.gen(function* () {
      const store = yield* DaemonStore
      assert.isTrue(
        yield* store.refuse({ issueId: "GH-1", who: "@mallory (author_association NONE)", reason: "no rule" })
      )
      yield* TestClock.adjust("1 minute")
      assert.isFalse(
        yield* store.refuse({ issueId: "GH-1", who: "@mallory (author_association NONE)", reason: "no rule" }),
        "the same refusal is not news"
      )
      assert.isTrue(
        yield* store.refuse({ issueId: "GH-1", who: "@mallory (author_association NONE)", reason: "another rule" })
      )
      assert.isTrue(yield* store.refuse({ issueId: "GH-2", who: "@eve (author_association NONE)", reason: "no rule" }))
      const rows = yield* store.refusals
      assert.deepStrictEqual(
        rows.map((r) => [r.issueId, r.reason]),
        [
          ["GH-1", "another rule"],
          ["GH-2", "no rule"]
        ]
      )
      assert.isBelow(Date.parse(rows[0]!.firstAt), Date.parse(rows[0]!.lastAt), "first seen is kept")
      assert.isTrue(yield* store.forgetRefusal("GH-1"))
      assert.isFalse(yield* store.forgetRefusal("GH-1"))
      assert.deepStrictEqual(
        (yield* store.refusals).map((r) => r.issueId),
        ["GH-2"]
      )
      assert.isUndefined(yield* store.issue("GH-2"), "a refused issue has no daemon record: it was never picked up")
    }).pipe(Effect.provide(storeLayer(db())))
  )
})

describe("DaemonStore claims with a leader", () => {
  it.effect("the leader takes over any claim; a daemon that is no longer the leader can claim nothing", () =>
    leaderTakesOverAndFencesTheOldOne.pipe(Effect.provide(storeLayer(db())))
  )
})
