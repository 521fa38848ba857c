import { assert, describe, it } from "@effect/vitest"
import { criterionCovered, hasErrors, validatePlan } from "../src/index.js"
import { packet, plan } from "./utils/plans.js"

const codes = (problems: ReturnType<typeof validatePlan>) => problems.map((p) => p.code)

describe("validatePlan", () => {
  it("accepts a plan whose dependencies point to earlier waves and whose waves are disjoint", () => {
    const p = plan([packet("a"), packet("b")], [packet("c", { deps: ["a", "b"] })])
    assert.deepStrictEqual(validatePlan(p), [])
  })

  it("names an unknown dependency with a did-you-mean hint and its key", () => {
    const [problem] = validatePlan(plan([packet("schema")], [packet("api", { deps: ["shcema"] })]))
    assert.strictEqual(problem!.code, "unknown-dependency")
    assert.strictEqual(problem!.message, `packet "api" depends on "shcema", which no packet of this plan has as its id`)
    assert.strictEqual(problem!.hint, `did you mean "schema"?`)
    assert.strictEqual(problem!.key, "waves.1.work_packets.0.depends_on.0")
  })

  it("names a dependency cycle in order", () => {
    const p = plan([packet("a", { deps: ["c"] }), packet("b", { deps: ["a"] }), packet("c", { deps: ["b"] })])
    const cycle = validatePlan(p).find((x) => x.code === "dependency-cycle")!
    assert.strictEqual(cycle.message, "dependency cycle: a → c → b → a")
    assert.deepStrictEqual(cycle.packetIds, ["a", "c", "b"])
    assert.strictEqual(cycle.key, "waves.0.work_packets.0.depends_on")
  })

  it("reports a self-dependency", () => {
    assert.deepStrictEqual(codes(validatePlan(plan([packet("a", { deps: ["a"] })]))), ["self-dependency"])
  })

  it("refuses a dependency in the same or a later wave", () => {
    const p = plan([packet("a", { deps: ["b"] }), packet("b")], [packet("c", { deps: ["d"] })], [packet("d")])
    const problems = validatePlan(p).filter((x) => x.code === "dependency-not-earlier")
    assert.deepStrictEqual(
      problems.map((x) => x.message),
      [
        `packet "a" (wave 0) depends on "b", which is in the same wave`,
        `packet "c" (wave 1) depends on "d", which is in the later wave 2`
      ]
    )
  })

  it("refuses duplicate packet ids at the second occurrence", () => {
    const [problem] = validatePlan(plan([packet("a")], [packet("a", { files: ["x/"] })]))
    assert.strictEqual(problem!.code, "duplicate-packet")
    assert.strictEqual(problem!.key, "waves.1.work_packets.0.packet_id")
    assert.match(problem!.message, /also at waves\.0\.work_packets\.0/)
  })

  it("refuses files_in_scope outside the repository, naming the packet and the path", () => {
    const p = plan([
      packet("a", { files: ["/etc/passwd", "src/a.ts"] }),
      packet("b", { files: ["../../x", "src/../../y", "src/../b.ts"] }),
      packet("c", { files: ["~/.ssh/id_rsa"] })
    ])
    const outside = validatePlan(p).filter((x) => x.code === "path-outside-repository")
    assert.deepStrictEqual(
      outside.map((x) => [x.key, x.severity, x.message]),
      [
        [
          "waves.0.work_packets.0.files_in_scope.0",
          "error",
          `packet "a" lists "/etc/passwd" in files_in_scope, which is outside the repository: it is an absolute path`
        ],
        [
          "waves.0.work_packets.1.files_in_scope.0",
          "error",
          `packet "b" lists "../../x" in files_in_scope, which is outside the repository: its ".." leads above the repository root`
        ],
        [
          "waves.0.work_packets.1.files_in_scope.1",
          "error",
          `packet "b" lists "src/../../y" in files_in_scope, which is outside the repository: its ".." leads above the repository root`
        ],
        [
          "waves.0.work_packets.2.files_in_scope.0",
          "error",
          `packet "c" lists "~/.ssh/id_rsa" in files_in_scope, which is outside the repository: it is in a home directory`
        ]
      ]
    )
    assert.isTrue(hasErrors(outside))
  })

  it("names every shared entry of an overlapping pair, and the pair itself", () => {
    const p = plan([
      packet("a", { files: ["src/x.ts", "docs/"] }),
      packet("b", { files: ["lib/"] }),
      packet("c", { files: ["docs/guide.md", "src/x.ts"] })
    ])
    const problems = validatePlan(p)
    assert.deepStrictEqual(
      problems.map((x) => [x.packetIds, x.message]),
      [
        [
          ["a", "c"],
          `packets "a" and "c" in wave 0 may change the same files: "src/x.ts" overlaps "src/x.ts"; "docs/" overlaps "docs/guide.md"`.replace(
            `"src/x.ts" overlaps "src/x.ts"`,
            `both name "src/x.ts"`
          )
        ]
      ]
    )
  })

  it("refuses overlapping footprints in one wave and says which entries overlap", () => {
    const p = plan([
      packet("routes", { files: ["src/api/"] }),
      packet("users", { files: ["src/api/users.ts"] }),
      packet("docs", { files: ["docs/"] })
    ])
    const problems = validatePlan(p)
    assert.deepStrictEqual(codes(problems), ["footprint-overlap"])
    assert.strictEqual(
      problems[0]!.message,
      `packets "routes" and "users" in wave 0 may change the same files: "src/api/" overlaps "src/api/users.ts"`
    )
    assert.strictEqual(problems[0]!.key, "waves.0.work_packets.1.files_in_scope")
  })

  it("says a packet without files_in_scope cannot share its wave", () => {
    const problems = validatePlan(plan([packet("a", { files: [] }), packet("b"), packet("c")]))
    assert.deepStrictEqual(
      problems.map((x) => x.message),
      [`packet "a" has no files_in_scope, so it may change any file; it cannot share wave 0 with "b", "c"`]
    )
  })

  it("names the acceptance criteria no packet covers", () => {
    const p = plan([
      packet("a", { criteria: ["Users can log in with OAuth"] }),
      packet("b", { criteria: ["AC-3 is handled here"] })
    ])
    const problems = validatePlan(p, {
      acceptanceCriteria: [
        "users can log in with OAuth.",
        "Sessions expire after one hour of inactivity",
        "Logout clears the session"
      ]
    })
    assert.deepStrictEqual(
      problems.map((x) => x.message),
      [`acceptance criterion AC-2 "Sessions expire after one hour of inactivity" is not covered by any packet`]
    )
    assert.isTrue(hasErrors(problems))
  })

  it("warns about waves out of order and an empty plan", () => {
    assert.deepStrictEqual(codes(validatePlan(plan())), ["empty-plan"])
    const p = plan([packet("a")], [packet("b")])
    const swapped = new (p.constructor as any)({ ...p, waves: [p.waves[1], p.waves[0]] })
    const problems = validatePlan(swapped)
    assert.strictEqual(problems[0]!.code, "wave-order")
    assert.strictEqual(problems[0]!.severity, "warning")
  })
})

describe("criterionCovered", () => {
  it("matches rephrased criteria by their significant words, not by unrelated ones", () => {
    assert.isTrue(
      criterionCovered("A failed packet cancels the rest of its wave", 0, [
        "Failed packets cancel the rest of the wave"
      ])
    )
    assert.isFalse(criterionCovered("A failed packet cancels the rest of its wave", 0, ["Packets are logged as JSON"]))
  })
})
