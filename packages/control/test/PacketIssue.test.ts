import { assert, describe, it } from "@effect/vitest"
import {
  makeMissionId,
  makePacketId,
  Mission,
  type MissionView,
  VerificationStep,
  WorkPacket
} from "@spec-orch/contract"
import { footprintOfPacket, missionNotReady, packetIssue, PacketNotFound } from "../src/mission/PacketIssue.js"

const mission = new Mission({
  id: makeMissionId("2026-05-oauth"),
  title: "Add OAuth login",
  status: "approved",
  specPath: "docs/specs/2026-05-oauth/spec.md",
  acceptanceCriteria: ["users log in with GitHub"],
  constraints: ["no new runtime dependencies"],
  interfaceContracts: ["POST /auth/callback returns 302"],
  createdAt: "2026-05-01T00:00:00.000Z",
  approvedBy: "Ada",
  approvedAt: "2026-05-02T00:00:00.000Z"
})

const packet = (over: Partial<ConstructorParameters<typeof WorkPacket>[0]> = {}) =>
  new WorkPacket({
    id: makePacketId("callback"),
    title: "OAuth callback",
    specSection: "Callback",
    runClass: "feature",
    filesInScope: ["src/auth/"],
    filesOutOfScope: ["src/db/"],
    dependsOn: [],
    acceptanceCriteria: ["the callback stores the token", "errors redirect to /login"],
    verification: [new VerificationStep({ name: "test", command: ["npm", "test"] })],
    builderPrompt: "Implement the callback handler.",
    ...over
  })

describe("packetIssue", () => {
  it("builds the packet's issue from the plan and the mission: id, prompt, criteria, files, verification, mission ref", () => {
    const issue = packetIssue(mission, packet(), "docs/specs/2026-05-oauth/plan.json")
    assert.strictEqual(issue.id, "2026-05-oauth.callback")
    assert.strictEqual(issue.title, "OAuth callback")
    assert.strictEqual(issue.builderPrompt, "Implement the callback handler.")
    assert.deepStrictEqual(
      issue.acceptanceCriteria.map((c) => [c.id, c.text]),
      [
        ["AC-1", "the callback stores the token"],
        ["AC-2", "errors redirect to /login"]
      ]
    )
    assert.deepStrictEqual(issue.targetFiles, ["src/auth/"])
    assert.deepStrictEqual(issue.constraints, ["no new runtime dependencies", "Do not change: src/db/"])
    assert.include(issue.architectureNotes ?? "", "POST /auth/callback returns 302")
    assert.deepStrictEqual(
      issue.verification?.map((s) => s.name),
      ["test"]
    )
    assert.deepStrictEqual(
      { ...issue.mission },
      { missionId: "2026-05-oauth", packetId: "callback", specSection: "Callback" }
    )
    assert.deepStrictEqual(issue.labels, ["mission:2026-05-oauth"])
    assert.strictEqual(issue.origin.ref, "docs/specs/2026-05-oauth/plan.json")
    assert.deepStrictEqual({ ...footprintOfPacket(packet()) }, { allowed: ["src/auth/"], forbidden: ["src/db/"] })
  })

  it("uses the project's verification when the packet has none, and asks for the title when the prompt is empty", () => {
    const issue = packetIssue(mission, packet({ verification: [], builderPrompt: "  " }), "plan.json")
    assert.isUndefined(issue.verification)
    assert.strictEqual(issue.builderPrompt, 'OAuth callback (spec section "Callback")')
  })

  it("says why a mission's packets may not run and how to fix it", () => {
    const view = (specState: MissionView["specState"]): MissionView => ({
      mission,
      dir: "docs/specs/2026-05-oauth",
      specState
    })
    assert.isUndefined(missionNotReady(view("approved")))
    assert.strictEqual(
      missionNotReady(view("unapproved")),
      "mission 2026-05-oauth is not approved: review docs/specs/2026-05-oauth/spec.md and its plan (`spec-orch plan show 2026-05-oauth`), then `spec-orch mission approve 2026-05-oauth`"
    )
    assert.match(
      missionNotReady(view("changed-since-approval"))!,
      /changed after it was approved; review it and approve it again with `spec-orch mission approve 2026-05-oauth`$/
    )
    assert.strictEqual(
      new PacketNotFound({
        missionId: "m",
        packetId: "calback",
        file: "docs/specs/m/plan.json",
        known: ["callback", "login"]
      }).message,
      'mission m has no packet "calback" in docs/specs/m/plan.json (did you mean "callback"?)'
    )
  })
})
