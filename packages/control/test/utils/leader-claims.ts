/**
 * The claims of a cluster's daemon singleton, as one scenario that runs on SQLite and on Postgres: once a
 * leader is recorded, only it may claim, and it takes over claims still held by the daemons before it,
 * whose host may be gone (another machine: no process to look for) or only stood still.
 */
import { assert } from "@effect/vitest"
import { Effect } from "effect"
import { DaemonStore } from "../../src/daemon/DaemonStore.js"

export const leaderTakesOverAndFencesTheOldOne = Effect.gen(function* () {
  const store = yield* DaemonStore
  assert.strictEqual(yield* store.leader, undefined, "no leader on a fresh database (a single host never has one)")
  // The first singleton, on host a, claims two issues with a long lease; then its host stands still.
  yield* store.lead("host-a:1:x")
  assert.isTrue(yield* store.claim("SON-1", "host-a:1:x", 300_000, "SON-1-r1"))
  assert.isTrue(yield* store.claim("SON-2", "host-a:1:x", 300_000))
  // The singleton starts on host b: it takes over a's unexpired claims at once, keeping no run of a's.
  yield* store.lead("host-b:2:y")
  assert.strictEqual(yield* store.leader, "host-b:2:y")
  assert.isTrue(yield* store.claim("SON-1", "host-b:2:y", 300_000), "the leader takes over an unexpired claim")
  assert.isTrue(yield* store.claim("SON-3", "host-b:2:y", 300_000), "and claims new issues")
  // Host a wakes: it is no longer the leader, so it can neither renew, take back, nor take anything new.
  assert.isFalse(yield* store.claim("SON-1", "host-a:1:x", 300_000), "a stale daemon cannot take a claim back")
  assert.isFalse(yield* store.claim("SON-2", "host-a:1:x", 300_000), "nor renew a claim it still holds")
  assert.isFalse(yield* store.claim("SON-4", "host-a:1:x", 300_000), "nor claim a new issue")
  assert.deepStrictEqual(
    (yield* store.claims).map((c) => [c.issueId, c.owner, c.runId]),
    [
      ["SON-1", "host-b:2:y", null],
      ["SON-2", "host-a:1:x", null],
      ["SON-3", "host-b:2:y", null]
    ]
  )
  assert.isTrue(yield* store.claim("SON-2", "host-b:2:y", 300_000, "SON-2-r2"), "the leader takes SON-2 as well")
  assert.isTrue(yield* store.formerLeader("host-a:1:x"), "a led once, b leads now")
  assert.isFalse(yield* store.formerLeader("host-b:2:y"), "the leader is not a former one")
  assert.isFalse(yield* store.formerLeader("terminal:3:z"), "a process that never led is not one")
  // The singleton comes back to a's runner: a leads again and b is the former leader.
  yield* store.lead("host-a:1:x")
  assert.isFalse(yield* store.formerLeader("host-a:1:x"))
  assert.isTrue(yield* store.formerLeader("host-b:2:y"))
  assert.isTrue(yield* store.claim("SON-3", "host-a:1:x", 300_000), "and takes b's claims")
  assert.strictEqual((yield* store.claims).find((c) => c.issueId === "SON-2")?.runId, "SON-2-r2")
})
