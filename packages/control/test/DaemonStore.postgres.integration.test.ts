/**
 * The daemon's store on a real PostgreSQL server: the same SQL as on SQLite, and claims that stay
 * one-owner-per-issue when two daemons (two connection pools) race for the same issues. Fails when
 * SPEC_ORCH_PG_URL is not set, unless SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { assert, describe, it } from "@effect/vitest"
import { Redactor } from "@spec-orch/harness"
import { requirePostgres } from "@spec-orch/test-kit"
import { Context, Effect, Layer } from "effect"
import { DaemonStore } from "../src/daemon/DaemonStore.js"
import { leaderTakesOverAndFencesTheOldOne } from "./utils/leader-claims.js"
import { freshDatabase, pgClient } from "./utils/postgres.js"

const pg = requirePostgres()

const storeLayer = (url: string) =>
  DaemonStore.layer.pipe(Layer.provideMerge(pgClient(url)), Layer.provide(Redactor.layerFrom({})))

/** A second daemon process: its own pool on the same database. */
const otherStore = (url: string) =>
  Effect.map(Layer.build(Layer.fresh(storeLayer(url))), (ctx) => Context.get(ctx, DaemonStore))

describe.skipIf(!pg.run)(pg.title("DaemonStore on Postgres"), () => {
  it.live(
    "gives an issue to one owner until its lease expires; renewing and releasing touch only the owner's claims",
    () =>
      Effect.gen(function* () {
        const url = yield* freshDatabase("daemonstore")
        yield* Effect.gen(function* () {
          const store = yield* DaemonStore
          assert.isTrue(yield* store.claim("SON-1", "a", 60_000))
          assert.isFalse(yield* store.claim("SON-1", "b", 60_000), "held by a")
          assert.isTrue(yield* store.claim("SON-1", "a", 60_000, "SON-1-r1"), "the owner renews")
          assert.isTrue(yield* store.claim("SON-1", "a", 60_000), "renewing without a run keeps the run")
          assert.deepStrictEqual(
            (yield* store.claims).map((c) => [c.issueId, c.owner, c.runId]),
            [["SON-1", "a", "SON-1-r1"]]
          )
          assert.isTrue(yield* store.claim("SON-2", "b", 1))
          yield* Effect.sleep("20 millis")
          assert.isTrue(yield* store.claim("SON-2", "c", 60_000), "an expired lease goes to whoever asks")
          assert.deepStrictEqual(
            (yield* store.claims).map((c) => [c.issueId, c.owner, c.runId]),
            [
              ["SON-1", "a", "SON-1-r1"],
              ["SON-2", "c", null]
            ]
          )
          const before = (yield* store.claims).find((c) => c.issueId === "SON-1")!.expiresAt
          yield* store.renewClaims("a", 120_000)
          assert.isAbove((yield* store.claims).find((c) => c.issueId === "SON-1")!.expiresAt, before)
          yield* store.release("SON-1", "c")
          assert.strictEqual((yield* store.claims).length, 2, "c cannot release a's claim")
          yield* store.release("SON-1", "a")
          yield* store.release("SON-2")
          assert.deepStrictEqual(yield* store.claims, [])
        }).pipe(Effect.provide(storeLayer(url)))
      })
  )

  it.live("the leader takes over any claim; a daemon that is no longer the leader can claim nothing", () =>
    Effect.flatMap(freshDatabase("daemonleader"), (url) =>
      leaderTakesOverAndFencesTheOldOne.pipe(Effect.provide(storeLayer(url)))
    )
  )

  it.live("two daemons racing for the same issues: each issue goes to exactly one of them", () =>
    Effect.gen(function* () {
      const url = yield* freshDatabase("daemonstore")
      yield* Effect.gen(function* () {
        const one = yield* DaemonStore
        const two = yield* otherStore(url)
        const issues = Array.from({ length: 30 }, (_, i) => `SON-${i + 1}`)
        const won = yield* Effect.forEach(
          issues.flatMap((id) => [
            { id, store: one, owner: "one" },
            { id, store: two, owner: "two" }
          ]),
          ({ id, owner, store }) => Effect.map(store.claim(id, owner, 60_000), (ok) => (ok ? [id, owner] : undefined)),
          { concurrency: "unbounded" }
        )
        const winners = won.filter((w) => w !== undefined)
        assert.deepStrictEqual(winners.map(([id]) => id).sort(), [...issues].sort(), "one winner per issue")
        const claims = yield* one.claims
        for (const [id, owner] of winners)
          assert.strictEqual(
            claims.find((c) => c.issueId === id)?.owner,
            owner,
            `${id}: the stored owner is the one told it won`
          )
      }).pipe(Effect.provide(storeLayer(url)), Effect.scoped)
    })
  )

  it.live("keeps an issue's status across pools; a dead letter is released to a fresh start; marks count once", () =>
    Effect.gen(function* () {
      const url = yield* freshDatabase("daemonstore")
      yield* Effect.gen(function* () {
        const store = yield* DaemonStore
        const created = yield* store.upsert("SON-1", {
          status: "retry",
          retryCount: 1,
          retryAt: 1_764_064_800_000,
          lastError: "gate failed: verification"
        })
        assert.deepStrictEqual(
          [created.status, created.retryCount, created.retryAt, created.prNumber],
          ["retry", 1, 1_764_064_800_000, null]
        )
        yield* store.upsert("SON-2", { status: "done", prNumber: 7, prHead: "abc" })
        yield* store.deadLetter({
          issueId: "SON-1",
          reason: "gate failed: verification",
          attempts: 2,
          lastRunId: "SON-1-r2"
        })
      }).pipe(Effect.provide(storeLayer(url)))
      yield* Effect.gen(function* () {
        const store = yield* DaemonStore
        const row = yield* store.issue("SON-1")
        assert.deepStrictEqual(
          [row?.status, row?.lastError, row?.retryAt, row?.retryCount],
          ["dead", "gate failed: verification", null, 1]
        )
        const done = yield* store.issue("SON-2")
        assert.deepStrictEqual([done?.prNumber, done?.prHead], [7, "abc"])
        assert.deepStrictEqual(
          (yield* store.deadLetters).map((d) => [d.issueId, d.attempts, d.lastRunId]),
          [["SON-1", 2, "SON-1-r2"]]
        )
        assert.deepStrictEqual(
          (yield* store.issues(["dead", "done"])).map((r) => r.issueId),
          ["SON-1", "SON-2"]
        )
        assert.deepStrictEqual(yield* store.issues([]), [])
        assert.strictEqual((yield* store.issues()).length, 2)
        assert.isTrue(yield* store.releaseDeadLetter("SON-1"))
        assert.isFalse(yield* store.releaseDeadLetter("SON-1"), "only once")
        const released = yield* store.issue("SON-1")
        assert.deepStrictEqual([released?.status, released?.retryCount, released?.lastError], ["new", 0, null])
        assert.deepStrictEqual(yield* store.deadLetters, [])

        assert.isTrue(yield* store.mark("SON-1:abc:ci-failed:comment"))
        assert.isFalse(yield* store.mark("SON-1:abc:ci-failed:comment"))
        assert.isTrue(yield* store.hasMark("SON-1:abc:ci-failed:comment"))
        yield* store.setMeta("last_poll", "a")
        yield* store.setMeta("last_poll", "b")
        assert.strictEqual(yield* store.getMeta("last_poll"), "b")
        assert.strictEqual(yield* store.getMeta("missing"), undefined)
      }).pipe(Effect.provide(Layer.fresh(storeLayer(url))))
    })
  )

  it.live("records an intake refusal once across pools; admitting forgets it", () =>
    Effect.gen(function* () {
      const url = yield* freshDatabase("daemonrefusals")
      yield* Effect.gen(function* () {
        const store = yield* DaemonStore
        const other = yield* otherStore(url)
        assert.isTrue(
          yield* store.refuse({ issueId: "GH-1", who: "@mallory (author_association NONE)", reason: "no rule" })
        )
        assert.isFalse(
          yield* other.refuse({ issueId: "GH-1", who: "@mallory (author_association NONE)", reason: "no rule" }),
          "the other daemon knows it already"
        )
        assert.deepStrictEqual(
          (yield* other.refusals).map((r) => r.issueId),
          ["GH-1"]
        )
        assert.isTrue(yield* other.forgetRefusal("GH-1"))
        assert.deepStrictEqual(yield* store.refusals, [])
      }).pipe(Effect.provide(storeLayer(url)), Effect.scoped)
    })
  )
})
