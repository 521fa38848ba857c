import { assert, describe, it } from "@effect/vitest"
import { formatProblem, parsePlanJson, planToFile } from "../src/index.js"

const minimal = (packet: Record<string, unknown>) =>
  JSON.stringify(
    {
      plan_id: "plan-1",
      mission_id: "m-1",
      waves: [{ wave_number: 0, work_packets: [{ packet_id: "a", title: "A", ...packet }] }]
    },
    null,
    2
  )

describe("parsePlanJson", () => {
  it("fills the original's defaults and names list-form verification steps", () => {
    const { plan, problems } = parsePlanJson(
      minimal({ verification_commands: ["npm test", "npm run lint"], builder_prompt: null }),
      "plan.json",
      "m-1"
    )
    assert.deepStrictEqual(problems, [])
    const p = plan!.waves[0]!.packets[0]!
    assert.strictEqual(p.runClass, "feature")
    assert.strictEqual(p.builderPrompt, "")
    assert.deepStrictEqual(
      p.verification.map((s) => [s.name, s.command]),
      [
        ["step-1", "npm test"],
        ["step-2", "npm run lint"]
      ]
    )
    assert.strictEqual(plan!.planner, "")
    assert.isUndefined(plan!.status)
  })

  it("writes back without our fields when the file had none", () => {
    const { plan } = parsePlanJson(minimal({}), "plan.json")
    assert.deepStrictEqual(Object.keys(planToFile(plan!)), ["plan_id", "mission_id", "waves"])
  })

  it("warns about unknown keys and refuses bad packet ids with their line", () => {
    const { plan, problems } = parsePlanJson(minimal({ packet_id: "has space", depend_on: [] }), "plan.json")
    assert.isUndefined(plan)
    assert.deepStrictEqual(problems.map(formatProblem), [
      "plan.json:9:11: error: waves.0.work_packets.0.packet_id: a packet id is letters, digits, '_', '-' or '.', starting with a letter or digit, found the string \"has space\"",
      'plan.json:11:11: warning: waves.0.work_packets.0.depend_on: unknown key, ignored (did you mean "depends_on"?)'
    ])
  })
})
