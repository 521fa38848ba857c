import { assert, describe, it } from "@effect/vitest"
import {
  makeIssueId,
  makeMissionId,
  makePacketId,
  makeRunId,
  makeRunKey,
  Plan,
  RunRecord,
  Wave,
  WorkPacket
} from "@spec-orch/contract"
import { derivePacketStatus, type PacketFacts } from "../src/mission/MissionStatus.js"
import { PacketIntegration } from "../src/mission/MissionStore.js"

const packet = (id: string, dependsOn: Array<string> = []) =>
  new WorkPacket({
    id: makePacketId(id),
    title: `Packet ${id}`,
    specSection: "",
    runClass: "feature",
    filesInScope: [`src/${id}.js`],
    filesOutOfScope: [],
    dependsOn: dependsOn.map((d) => makePacketId(d)),
    acceptanceCriteria: [],
    verification: [],
    builderPrompt: `build ${id}`
  })

const plan = new Plan({
  id: "p",
  missionId: makeMissionId("m"),
  planner: "offline",
  createdAt: "",
  waves: [
    new Wave({ index: 0, description: "first", packets: [packet("a"), packet("b"), packet("c"), packet("d")] }),
    new Wave({
      index: 1,
      description: "second",
      packets: [packet("after-a", ["a"]), packet("after-b", ["b"]), packet("after-c", ["c"]), packet("free")]
    }),
    new Wave({ index: 2, description: "third", packets: [packet("last", ["after-b"])] })
  ]
})

const run = (id: string, status: RunRecord["status"], attempt = 1, message?: string) =>
  new RunRecord({
    runId: makeRunId(`m.${id}-r${attempt}`),
    runKey: makeRunKey(`m.${id}`),
    issueId: makeIssueId(`m.${id}`),
    attempt,
    status,
    stage: status === "running" ? "agent" : "publish",
    startedAt: "2026-11-25T10:00:00.000Z",
    updatedAt: "2026-11-25T10:00:00.000Z",
    ...(message !== undefined ? { message } : {})
  })

const integration = (id: string, outcome: PacketIntegration["outcome"], attempt = 1, files: Array<string> = []) =>
  new PacketIntegration({
    packetId: id,
    runId: `m.${id}-r${attempt}`,
    outcome,
    files,
    message: outcome,
    at: "2026-11-25T10:00:01.000Z"
  })

const statusOf = (facts: Record<string, PacketFacts>, stopOnFailure = false) =>
  new Map(
    derivePacketStatus(plan, "m", new Map(Object.entries(facts)), stopOnFailure).flatMap((w) =>
      w.packets.map((p) => [p.packetId, p] as const)
    )
  )

describe("derivePacketStatus", () => {
  it("names each packet's state and what run-plan would do with it", () => {
    const s = statusOf({
      a: { run: run("a", "succeeded"), alive: false, integration: integration("a", "merged") },
      b: { run: run("b", "failed", 1, "agent stage failed: boom"), alive: false },
      c: { run: run("c", "running"), alive: true },
      d: { run: run("d", "running"), alive: false },
      "after-a": { run: run("after-a", "succeeded"), alive: false }
    })
    const view = (id: string) => [s.get(id)!.state, s.get(id)!.next, s.get(id)!.reason ?? null]
    assert.deepStrictEqual(view("a"), ["succeeded", "skip", null])
    assert.deepStrictEqual(view("b"), ["failed", "retry", "agent stage failed: boom"])
    assert.deepStrictEqual(view("c"), ["running", "busy", null])
    assert.deepStrictEqual(view("d"), [
      "interrupted",
      "resume",
      "its process is gone; `spec-orch run-plan m` resumes it at agent"
    ])
    assert.deepStrictEqual(
      view("after-a"),
      ["succeeded", "integrate", null],
      "finished but not on the mission branch yet"
    )
    assert.deepStrictEqual(view("after-b"), ["skipped", "run", 'dependency "b" failed'])
    assert.deepStrictEqual(view("last"), ["skipped", "run", 'dependency "b" failed'], "transitively, naming the root")
    assert.deepStrictEqual(view("after-c"), ["not-started", "run", null], "a running dependency is not a failure")
    assert.deepStrictEqual(view("free"), ["not-started", "run", null])
    assert.strictEqual(s.get("last")!.runKey, "m.last")
  })

  it("treats a packet whose merge conflicted as stopping its dependants, and ignores an integration of an earlier attempt", () => {
    const s = statusOf({
      a: { run: run("a", "succeeded", 2), alive: false, integration: integration("a", "conflict", 1, ["x.js"]) },
      b: {
        run: run("b", "succeeded"),
        alive: false,
        integration: integration("b", "conflict", 1, ["CHANGELOG.md", "package.json"])
      },
      c: { run: run("c", "blocked", 1, "blocked by verification"), alive: false }
    })
    assert.strictEqual(s.get("a")!.integration, undefined, "the conflict belonged to attempt 1")
    assert.strictEqual(s.get("a")!.next, "integrate")
    assert.strictEqual(s.get("after-a")!.state, "not-started")
    assert.strictEqual(s.get("b")!.integration?.outcome, "conflict")
    assert.strictEqual(
      s.get("after-b")!.reason,
      'dependency "b" could not be integrated (conflict in CHANGELOG.md, package.json)'
    )
    assert.strictEqual(s.get("after-c")!.reason, 'dependency "c" was blocked by the gate')
    assert.strictEqual(s.get("c")!.next, "retry")
  })

  it("with stop-on-failure, a failure skips every packet that has not run", () => {
    const s = statusOf(
      {
        a: { run: run("a", "failed"), alive: false },
        b: { run: run("b", "succeeded"), alive: false, integration: integration("b", "merged") }
      },
      true
    )
    assert.strictEqual(s.get("free")!.state, "skipped")
    assert.strictEqual(s.get("free")!.reason, 'the mission stopped (--stop-on-failure) after "a" failed')
    assert.strictEqual(s.get("c")!.state, "skipped")
    assert.strictEqual(s.get("b")!.state, "succeeded")
  })
})
