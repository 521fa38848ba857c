import { assert, describe, it } from "@effect/vitest"
import { activeProposals } from "../src/run/Attribution.js"

const hash = "a".repeat(64)

describe("activeProposals", () => {
  it("lists the proposals among a context.json's learnings, not memory's entries", () => {
    const text = JSON.stringify({ learnings: ["mem-1", `prop-0123456789ab@${hash}`, 7, "prop-x@short"] })
    assert.deepStrictEqual(activeProposals(text), [{ id: "prop-0123456789ab", contentHash: hash }])
  })

  it("lists the learned compliance rules and skills a run used after the builder's learnings", () => {
    const other = "b".repeat(64)
    const text = JSON.stringify({
      learnings: [`prop-0123456789ab@${hash}`],
      compliance: { learned: [`prop-aaaaaaaaaaaa@${other}`, "no-force-push"] },
      skills: [{ id: `prop-bbbbbbbbbbbb@${other}`, name: "learned-read-edit" }]
    })
    assert.deepStrictEqual(activeProposals(text), [
      { id: "prop-0123456789ab", contentHash: hash },
      { id: "prop-aaaaaaaaaaaa", contentHash: other },
      { id: "prop-bbbbbbbbbbbb", contentHash: other }
    ])
  })

  it("lists the policy that ran instead of the builder", () => {
    const text = JSON.stringify({
      policy: { id: `prop-cccccccccccc@${hash}`, labels: ["docs"], adapter: "command", script: "policy.sh" },
      learnings: []
    })
    assert.deepStrictEqual(activeProposals(text), [{ id: "prop-cccccccccccc", contentHash: hash }])
  })

  it("gives none for a missing or malformed context.json", () => {
    assert.deepStrictEqual(activeProposals(""), [])
    assert.deepStrictEqual(activeProposals("{not json"), [])
    assert.deepStrictEqual(activeProposals(JSON.stringify({ sections: [] })), [])
  })
})
