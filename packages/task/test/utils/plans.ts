/** Test-only builders: plans and packets with just the fields a test cares about. */
import { makeMissionId, makePacketId, Plan, VerificationStep, Wave, WorkPacket } from "@spec-orch/contract"

/** A packet with an id, and optionally dependencies, files and criteria. */
export const packet = (
  id: string,
  o: { deps?: Array<string>; files?: Array<string>; criteria?: Array<string> } = {}
): WorkPacket =>
  new WorkPacket({
    id: makePacketId(id),
    title: `Title of ${id}`,
    specSection: "Scope",
    runClass: "feature",
    filesInScope: o.files ?? [`src/${id}.ts`],
    filesOutOfScope: [],
    dependsOn: (o.deps ?? []).map((d) => makePacketId(d)),
    acceptanceCriteria: o.criteria ?? [],
    verification: [new VerificationStep({ name: "test", command: ["npm", "test"] })],
    builderPrompt: `Do ${id}`
  })

/** A plan whose waves are numbered 0, 1, 2, … in the order given. */
export const plan = (...waves: Array<Array<WorkPacket>>): Plan =>
  new Plan({
    id: "plan-test",
    missionId: makeMissionId("m-test"),
    planner: "test",
    createdAt: "2026-01-01T00:00:00.000Z",
    waves: waves.map((packets, index) => new Wave({ index, description: `wave ${index}`, packets }))
  })

/** `wave index → packet ids`, to assert a plan's shape in one line. */
export const shape = (p: Plan): Array<Array<string>> => p.waves.map((w) => w.packets.map((x) => x.id))
