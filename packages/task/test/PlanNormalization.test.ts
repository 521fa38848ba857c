import { assert, describe, it } from "@effect/vitest"
import { Plan, Wave } from "@spec-orch/contract"
import { MOVED_WAVE_DESCRIPTION, normalizePlan, validatePlan } from "../src/index.js"
import { packet, plan, shape } from "./utils/plans.js"

describe("normalizePlan", () => {
  it("returns the same plan when nothing needs to change", () => {
    const p = plan([packet("a"), packet("b")], [packet("c", { deps: ["a"] })])
    const n = normalizePlan(p)
    assert.isFalse(n.changed)
    assert.strictEqual(n.plan, p)
    assert.deepStrictEqual(n.moves, [])
  })

  it("moves the later of two overlapping packets to the next wave and says why", () => {
    const p = plan([
      packet("routes", { files: ["src/api/"] }),
      packet("users", { files: ["src/api/users.ts"] }),
      packet("docs", { files: ["docs/"] })
    ])
    const n = normalizePlan(p)
    assert.deepStrictEqual(shape(n.plan), [["routes", "docs"], ["users"]])
    assert.deepStrictEqual(
      n.moves.map((m) => [m.packetId, m.from, m.to, m.reason]),
      [["users", 0, 1, `may change the same files as "routes" ("src/api/" overlaps "src/api/users.ts")`]]
    )
    assert.strictEqual(n.plan.waves[1]!.description, MOVED_WAVE_DESCRIPTION)
    assert.deepStrictEqual(validatePlan(n.plan), [])
  })

  it("names every packet a moved packet had to pass, and renames the waves it changed", () => {
    const p = plan(
      [packet("a", { files: ["src/"] }), packet("b", { files: ["lib/"] })],
      [packet("c", { files: ["lib/"] }), packet("d", { files: ["lib/d.ts"] })]
    )
    const described = new Plan({
      ...p,
      waves: [new Wave({ ...p.waves[0]!, description: "Implementation: Title of a, Title of b" }), p.waves[1]!]
    })
    const n = normalizePlan(described)
    assert.deepStrictEqual(shape(n.plan), [["a", "b"], ["c"], ["d"]])
    assert.deepStrictEqual(
      n.moves.map((m) => [m.packetId, m.from, m.to, m.reason]),
      [["d", 1, 2, `may change the same files as "c" ("lib/" overlaps "lib/d.ts")`]]
    )
    assert.deepStrictEqual(
      n.plan.waves.map((w) => [w.index, w.description]),
      [
        [0, "Implementation: Title of a, Title of b"],
        [1, "wave 1"],
        [2, MOVED_WAVE_DESCRIPTION]
      ]
    )

    const q = normalizePlan(
      plan([
        packet("x", { files: ["src/"] }),
        packet("y", { files: ["src/y.ts", "lib/"] }),
        packet("z", { files: ["src/z.ts", "lib/z.ts"] })
      ])
    )
    // z clashes with x in wave 0, then with y (moved before it) in wave 1: both are named.
    assert.deepStrictEqual(shape(q.plan), [["x"], ["y"], ["z"]])
    assert.deepStrictEqual(
      q.moves.map((m) => [m.packetId, m.from, m.to, m.reason]),
      [
        ["y", 0, 1, `may change the same files as "x" ("src/" overlaps "src/y.ts")`],
        [
          "z",
          0,
          2,
          `may change the same files as "x" ("src/" overlaps "src/z.ts") and as "y" ("lib/" overlaps "lib/z.ts")`
        ]
      ]
    )
    assert.deepStrictEqual(
      q.plan.waves.map((w) => [w.index, w.description]),
      [
        [0, "wave 0"],
        [1, MOVED_WAVE_DESCRIPTION],
        [2, MOVED_WAVE_DESCRIPTION]
      ]
    )
  })

  it("updates a wave's list of titles when a packet moves out of it or into it", () => {
    const p = plan(
      [packet("a", { files: ["src/"] }), packet("b", { files: ["src/b.ts"] })],
      [packet("c", { deps: ["b"] }), packet("d")]
    )
    const described = new Plan({
      ...p,
      waves: [
        new Wave({ ...p.waves[0]!, description: "Implementation: Title of a, Title of b" }),
        new Wave({ ...p.waves[1]!, description: "Implementation: Title of c, Title of d" })
      ]
    })
    const n = normalizePlan(described)
    assert.deepStrictEqual(shape(n.plan), [["a"], ["b", "d"], ["c"]])
    assert.deepStrictEqual(
      n.plan.waves.map((w) => [w.index, w.description]),
      [
        [0, "Implementation: Title of a"],
        [1, "Implementation: Title of d; moved in: Title of b"],
        [2, MOVED_WAVE_DESCRIPTION]
      ]
    )
  })

  it("derives waves from depends_on when dependent packets share a wave", () => {
    const p = plan([packet("c", { deps: ["b"] }), packet("b", { deps: ["a"] }), packet("a"), packet("d")])
    const n = normalizePlan(p)
    assert.deepStrictEqual(shape(n.plan), [["a", "d"], ["b"], ["c"]])
    assert.deepStrictEqual(
      n.moves.map((m) => `${m.packetId} ${m.from}→${m.to}: ${m.reason}`),
      [`c 0→2: depends on "b"`, `b 0→1: depends on "a"`]
    )
    assert.deepStrictEqual(validatePlan(n.plan), [])
  })

  it("pushes dependants along when their dependency moves", () => {
    const p = plan(
      [packet("x", { files: ["lib/"] }), packet("y", { files: ["lib/y.ts"] })],
      [packet("z", { deps: ["y"] })]
    )
    const n = normalizePlan(p)
    assert.deepStrictEqual(shape(n.plan), [["x"], ["y"], ["z"]])
    assert.deepStrictEqual(
      n.moves.map((m) => m.packetId),
      ["y", "z"]
    )
    assert.deepStrictEqual(validatePlan(n.plan), [])
  })

  it("merges waves that share a wave_number and renumbers in order", () => {
    const p = plan([packet("a")], [packet("b")])
    const dup = new (p.constructor as any)({
      ...p,
      waves: [p.waves[0], new (p.waves[1]!.constructor as any)({ ...p.waves[1], index: 0 })]
    })
    const n = normalizePlan(dup)
    assert.deepStrictEqual(shape(n.plan), [["a", "b"]])
    assert.deepStrictEqual(
      n.plan.waves.map((w) => w.index),
      [0]
    )
  })

  it("terminates on a dependency cycle and leaves it for validatePlan to report", () => {
    const n = normalizePlan(plan([packet("a", { deps: ["b"] }), packet("b", { deps: ["a"] })]))
    assert.deepStrictEqual(shape(n.plan), [["a"], ["b"]])
    assert.include(
      validatePlan(n.plan).map((p) => p.code),
      "dependency-cycle"
    )
  })

  it("never moves a packet to an earlier wave", () => {
    const p = plan([packet("a")], [packet("b")], [packet("c")])
    assert.deepStrictEqual(shape(normalizePlan(p).plan), [["a"], ["b"], ["c"]])
  })
})
