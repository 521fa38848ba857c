import { assert, describe, it } from "@effect/vitest"
import { parseMissionSpec, specFromPlan } from "../src/index.js"
import { packet, plan } from "./utils/plans.js"

describe("specFromPlan", () => {
  it("adds an Acceptance Criteria section when the spec has none, ignoring a heading inside a code fence", () => {
    const spec = "# T\n\n## Intent\n\nDo it.\n\n```md\n## Acceptance Criteria\n- fenced\n```\n"
    const p = plan(
      [packet("a", { criteria: ["A works", "  a WORKS "] })],
      [packet("b", { deps: ["a"], criteria: ["B works"] })]
    )
    const r = specFromPlan(spec, p)
    assert.deepStrictEqual(r.criteriaAdded, ["A works", "B works"])
    assert.strictEqual(r.packets, 2)
    assert.deepStrictEqual(parseMissionSpec(r.text).acceptanceCriteria, ["A works", "B works"])
    assert.include(r.text, "```md\n## Acceptance Criteria\n- fenced\n```\n")
    assert.include(
      r.text,
      "### b: Title of b\n\n- wave 1, feature\n- files: `src/b.ts`\n- after: a\n- criterion: B works\n"
    )
    assert.deepStrictEqual(specFromPlan(r.text, p), { text: r.text, criteriaAdded: [], packets: 2, changed: false })
  })

  it("replaces its Work Packets section in place, keeping the sections after it", () => {
    const first = specFromPlan(
      "# T\n\n## Acceptance Criteria\n\n- A works\n",
      plan([packet("a", { criteria: ["A works"] })])
    ).text
    const edited = `${first}\n## Notes\n\nkeep me\n`
    const r = specFromPlan(edited, plan([packet("c")]))
    assert.include(r.text, "### c: Title of c")
    assert.notInclude(r.text, "### a: Title of a")
    assert.isTrue(r.text.endsWith("\n## Notes\n\nkeep me\n"))
    assert.deepStrictEqual(r.criteriaAdded, [])
  })
})
