import { assert, describe, it } from "@effect/vitest"
import type { AgentEvent } from "@spec-orch/contract"
import { parseLearnedSkill } from "@spec-orch/harness"
import { mineSkills, type RunEvidence } from "../src/index.js"

const tools = (runId: string, outcome: RunEvidence["outcome"], ...names: Array<string>): RunEvidence => ({
  runId,
  issueId: runId,
  outcome,
  events: names.map((name, i): AgentEvent => ({ _tag: "tool_call", at: i, id: `t${i}`, name, input: {} }))
})

describe("the skills miner", () => {
  it("a tool-call sequence repeated in enough succeeded runs becomes one SKILL.md, the longest that many runs share", () => {
    const runs = [
      tools("S-1", "succeeded", "Read", "Read", "Grep", "Edit", "Bash"),
      tools("S-2", "succeeded", "Glob", "Read", "Grep", "Edit", "Bash", "Write"),
      tools("S-3", "succeeded", "Read", "Grep", "Edit", "Bash"),
      tools("S-4", "succeeded", "Write", "Bash"),
      tools("F-1", "failed", "Read", "Grep", "Edit", "Bash")
    ]
    const { skills, succeededRuns } = mineSkills(runs)
    assert.strictEqual(succeededRuns, 4)
    assert.deepStrictEqual(
      skills.map((s) => s.tools),
      [["Read", "Grep", "Edit", "Bash"]],
      "repeats collapse; shorter sequences inside it say nothing more"
    )
    const [skill] = skills
    assert.deepStrictEqual(skill!.runs, ["S-1", "S-2", "S-3"])
    assert.deepStrictEqual([skill!.support.k, skill!.support.n, skill!.inFailed.k, skill!.inFailed.n], [3, 4, 1, 1])
    assert.strictEqual(skill!.name, "learned-read-grep-edit-bash")
    assert.deepStrictEqual(parseLearnedSkill(skill!.content), { name: "learned-read-grep-edit-bash" })
    assert.match(skill!.content, /^---\nname: learned-read-grep-edit-bash\ndescription: "A tool-call sequence/)
    assert.include(skill!.content, "1. `Read`\n2. `Grep`\n3. `Edit`\n4. `Bash`")

    assert.deepStrictEqual(mineSkills(runs, { minSupport: 4 }).skills, [], "below the minimum support")
  })

  it("a tool name that is not a plain identifier breaks the sequence instead of entering the skill", () => {
    const odd = "Edit\n---\nname: evil"
    const runs = ["S-1", "S-2", "S-3"].map((id) => tools(id, "succeeded", "Read", "Grep", odd, "Edit", "Bash"))
    assert.deepStrictEqual(mineSkills(runs).skills, [])
  })
})
