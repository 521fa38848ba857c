import { assert, describe, it } from "@effect/vitest"
import { scheduleWaves } from "../src/index.js"
import { packet, plan } from "./utils/plans.js"

// wave 0: a, b      wave 1: c (after a), d (after b)      wave 2: e (after c), f (independent)
const mission = plan(
  [packet("a"), packet("b")],
  [packet("c", { deps: ["a"] }), packet("d", { deps: ["b"] })],
  [packet("e", { deps: ["c"] }), packet("f")]
)
const ids = (xs: ReadonlyArray<{ id: string } | { packetId: string }>) => xs.map((x) => ("id" in x ? x.id : x.packetId))
const run = (
  finished: Array<string>,
  failed: Array<string> = [],
  running: Array<string> = [],
  stopDependantsOnly = true
) => scheduleWaves(mission, { finished, failed, running, stopDependantsOnly })

describe("scheduleWaves", () => {
  it("starts with every packet of the first wave", () => {
    const s = run([])
    assert.deepStrictEqual(ids(s.runnable), ["a", "b"])
    assert.strictEqual(s.currentWave, 0)
    assert.deepStrictEqual(
      s.waves.map((w) => w.state),
      ["current", "pending", "pending"]
    )
    assert.isFalse(s.done)
  })

  it("holds the next wave until the current one is settled", () => {
    const s = run(["a"], [], ["b"])
    assert.deepStrictEqual(ids(s.runnable), [])
    assert.deepStrictEqual(s.running, ["b"])
    assert.strictEqual(s.currentWave, 0)
    assert.deepStrictEqual(ids(run(["a", "b"]).runnable), ["c", "d"])
  })

  it("blocks the dependants of a failed packet, transitively, and runs independent packets", () => {
    const afterFailure = run(["b"], ["a"])
    assert.deepStrictEqual(ids(afterFailure.runnable), ["d"])
    assert.deepStrictEqual(
      afterFailure.blocked.map((b) => [b.packetId, b.reason, b.failedDependencies, b.message]),
      [
        ["c", "dependency-failed", ["a"], `dependency "a" failed`],
        ["e", "dependency-failed", ["a"], `dependency "a" failed`]
      ]
    )
    const later = run(["b", "d"], ["a"])
    assert.deepStrictEqual(ids(later.runnable), ["f"])
    const end = run(["b", "d", "f"], ["a"])
    assert.isTrue(end.done)
    assert.isFalse(end.complete)
    assert.strictEqual(end.currentWave, undefined)
  })

  it("halts the mission on the first failure when dependants-only is off", () => {
    const s = run([], ["a"], ["b"], false)
    assert.isTrue(s.halted)
    assert.deepStrictEqual(ids(s.runnable), [])
    assert.deepStrictEqual(s.running, ["b"])
    assert.isFalse(s.done)
    const blocked = new Map(s.blocked.map((b) => [b.packetId, b]))
    assert.strictEqual(blocked.get("c")!.reason, "dependency-failed")
    assert.strictEqual(blocked.get("f")!.message, `the mission stopped after "a" failed`)
    assert.isTrue(run(["b"], ["a"], [], false).done)
  })

  it("reports a complete mission", () => {
    const s = run(["a", "b", "c", "d", "e", "f"])
    assert.isTrue(s.complete)
    assert.isTrue(s.done)
    assert.deepStrictEqual(
      s.waves.map((w) => w.state),
      ["settled", "settled", "settled"]
    )
  })

  it("keeps overlapping packets of a wave apart and orders same-wave dependencies", () => {
    const p = plan([
      packet("x", { files: ["src/"] }),
      packet("y", { files: ["src/y.ts"] }),
      packet("z", { deps: ["x"] })
    ])
    const first = scheduleWaves(p, { finished: [], failed: [], stopDependantsOnly: true })
    assert.deepStrictEqual(ids(first.runnable), ["x"])
    assert.deepStrictEqual(
      first.waiting.map((w) => w.message),
      [`waits for "x" to finish: "src/" overlaps "src/y.ts"`, `waits for "x"`]
    )
    assert.deepStrictEqual(ids(scheduleWaves(p, { finished: ["x"], failed: [], stopDependantsOnly: true }).runnable), [
      "y",
      "z"
    ])
  })

  it("blocks packets whose plan was not normalized or names unknown packets, instead of waiting forever", () => {
    const p = plan([packet("a", { deps: ["b"] })], [packet("b")], [packet("c", { deps: ["ghost"] })])
    const s = scheduleWaves(p, { finished: [], failed: [], stopDependantsOnly: true })
    assert.deepStrictEqual(
      s.blocked.map((b) => [b.packetId, b.reason]),
      [
        ["a", "dependency-in-later-wave"],
        ["c", "unknown-dependency"]
      ]
    )
    assert.deepStrictEqual(ids(s.runnable), ["b"])
  })

  it("treats a retried packet that finished as finished, and ignores ids not in the plan", () => {
    const s = scheduleWaves(mission, { finished: ["a", "b", "zzz"], failed: ["a"], stopDependantsOnly: true })
    assert.deepStrictEqual(ids(s.runnable), ["c", "d"])
    assert.deepStrictEqual(s.failed, [])
  })
})
