/**
 * `spec-orch retro <mission>` with the real binary after a real `run-plan`: the retrospective counts
 * each packet's state and runs as `mission status` shows them, names the conditions that blocked the
 * failed packet and why its dependant never ran, and is the same when written again.
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { makeMissionProject } from "./utils/mission-project.js"

const json = (text: string) => JSON.parse(text) as Record<string, any>

describe("spec-orch retro <mission>", () => {
  it("writes the mission's retrospective from its packets' runs", () => {
    const p = makeMissionProject({ profile: "loose" })
    p.mission("retro", [
      [
        { id: "good", files: ["src/good.js"], prompt: "WRITE src/good.js ok" },
        { id: "bad", files: ["src/bad.js"], prompt: "FAIL the compiler crashed" }
      ],
      [{ id: "after-bad", files: ["src/after-bad.js"], dependsOn: ["bad"], prompt: "WRITE src/after-bad.js ok" }]
    ])
    p.cli("run-plan", "retro", "--json")
    const out = p.cli("retro", "retro")
    assert.strictEqual(out.status, 0, out.stderr)
    assert.include(out.stdout, "written to .spec-orch/missions/retro/retrospective.md")
    const md = readFileSync(join(p.root, ".spec-orch/missions/retro/retrospective.md"), "utf8")
    assert.match(md, /^# Retrospective: mission retro/)
    assert.include(md, "- 3 packet(s): 1 blocked, 1 skipped, 1 succeeded.")
    assert.include(md, "- 2 run(s): 1 mergeable, 1 blocked, 0 failed.")
    assert.match(md, /\| 0 \| good \| succeeded \| 1 \| retro\.good-r1 \(mergeable\) \|/)
    assert.match(md, /\| 1 \| after-bad \| skipped: dependency "bad" was blocked by the gate \| 0 \| - \|/)
    assert.match(md, /## Failed conditions\n\n- bad: \*\*builder\*\* \(failed\): [^\n]+\n- bad: \*\*verification\*\*/)
    assert.include(md, "Across all runs: builder blocked 1 of 2; verification blocked 1 of 2.")
    assert.strictEqual(
      json(p.cli("retro", "retro", "--json").stdout).markdown,
      md,
      "the same evidence gives the same retrospective"
    )
    const never = p.cli("retro", "nothing")
    assert.strictEqual(never.status, 1)
    assert.include(never.stderr, "nothing has never run")
  })
})
