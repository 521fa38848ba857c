/**
 * The daemon's choice of runner for a new run on a cluster (`leastLoaded`): the fewest runs in flight per
 * agent slot wins, a runner holding no shard never does, and on a tie the run keeps its own shard's runner
 * (no salt in its execution id).
 */
import { assert, describe, it } from "@effect/vitest"
import { leastLoaded, type RunnerShards } from "../../src/cluster/RunPlacement.js"

const runner = (name: string, slots: number, shards: ReadonlyArray<string> = ["default:1"]): RunnerShards => ({
  runner: name,
  slots,
  shards: new Set(shards)
})

describe("leastLoaded", () => {
  it("picks the runner with the fewest runs per slot, not the fewest runs", () => {
    const big = runner("big:1", 4)
    const small = runner("small:1", 1)
    // big: 3 runs on 4 slots (0.75), small: 1 run on 1 slot (1.0)
    const load = new Map([
      ["big:1", 3],
      ["small:1", 1]
    ])
    assert.strictEqual(leastLoaded([small, big], load, undefined)?.runner, "big:1")
  })

  it("counts a runner nothing was sent to as empty", () => {
    const load = new Map([["a:1", 1]])
    assert.strictEqual(leastLoaded([runner("a:1", 2), runner("b:1", 2)], load, "a:1")?.runner, "b:1")
  })

  it("keeps the run's own shard on a tie, so no salt is needed", () => {
    const load = new Map<string, number>()
    const runners = [runner("a:1", 2), runner("b:1", 2), runner("c:1", 2)]
    assert.strictEqual(leastLoaded(runners, load, "c:1")?.runner, "c:1")
    assert.strictEqual(leastLoaded(runners, load, undefined)?.runner, "a:1")
  })

  it("never picks a runner that holds no shard (it joined, or is handing its shards over)", () => {
    const load = new Map([["a:1", 5]])
    assert.strictEqual(leastLoaded([runner("a:1", 2), runner("b:1", 2, [])], load, undefined)?.runner, "a:1")
    assert.isUndefined(leastLoaded([runner("b:1", 2, [])], load, undefined))
  })
})
