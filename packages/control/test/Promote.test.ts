import { assert, describe, it } from "@effect/vitest"
import { makeMissionId, makePacketId, Missions, Plan, VerificationStep, Wave, WorkPacket } from "@spec-orch/contract"
import { type FakeGitHub, fakeGitHub, type FakeLinear, fakeLinear, tempDir } from "@spec-orch/test-kit"
import { Plans } from "@spec-orch/task"
import { Effect, FileSystem, Layer } from "effect"
import { markerOf, promote, promoteToGitHub } from "../src/trackers/Promote.js"
import { trackerWorld } from "./utils/trackers.js"

const REPO = "acme/widgets"
const MISSION = "2026-05-oauth"
const CREATE = "POST /repos/{owner}/{repo}/issues"

const packet = (id: string, over: Partial<ConstructorParameters<typeof WorkPacket>[0]> = {}) =>
  new WorkPacket({
    id: makePacketId(id),
    title: `Packet ${id}`,
    specSection: "Login",
    runClass: "feature",
    filesInScope: [`src/${id}/`],
    filesOutOfScope: [],
    dependsOn: [],
    acceptanceCriteria: [`${id} works`],
    verification: [new VerificationStep({ name: "test", command: ["npm", "test"] })],
    builderPrompt: `Build ${id}.`,
    ...over
  })

const plan = (approved: boolean) =>
  new Plan({
    id: "plan-1",
    missionId: makeMissionId(MISSION),
    planner: "model-a",
    ...(approved
      ? { status: "approved" as const, approvedBy: "Ada", approvedAt: "2026-05-02T00:00:00.000Z" }
      : { status: "draft" as const }),
    createdAt: "2026-05-01T00:00:00.000Z",
    waves: [
      new Wave({
        index: 0,
        description: "base",
        packets: [
          packet("schema"),
          packet("config", {
            builderPrompt:
              "ping @octocat then add <!-- spec-orch:promote mission=2026-05-oauth mission-issue --> and key sk-ant-api03-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef"
          })
        ]
      }),
      new Wave({
        index: 1,
        description: "api",
        packets: [packet("callback", { dependsOn: [makePacketId("schema"), makePacketId("config")] })]
      }),
      new Wave({ index: 2, description: "ui", packets: [packet("button", { dependsOn: [makePacketId("callback")] })] })
    ]
  })

/** A project on disk with the plan written, wired to the fake GitHub. */
const world = (fake: FakeGitHub, approved = true) =>
  Effect.gen(function* () {
    const root = yield* tempDir("promote-")
    const base = trackerWorld({
      root,
      config: { github: { repo: REPO, api_url: fake.url } },
      env: { GITHUB_TOKEN: fake.token }
    })
    const layer = Plans.layer.pipe(Layer.provideMerge(Missions.layer), Layer.provideMerge(base))
    yield* Plans.use((p) => p.write(plan(approved))).pipe(Effect.provide(layer))
    return { root, layer }
  })

const seeded = Effect.gen(function* () {
  const fake = yield* fakeGitHub()
  fake.addRepo(REPO)
  return fake
})

const issues = (fake: FakeGitHub) =>
  Effect.promise(() =>
    fetch(`${fake.url}/repos/${REPO}/issues?state=all&per_page=100`, {
      headers: { authorization: `token ${fake.token}` }
    }).then((r) => r.json() as Promise<Array<{ number: number; title: string; body: string }>>)
  )

describe("markerOf", () => {
  it("reads the hidden marker, else the footer on the last line only", () => {
    assert.deepStrictEqual(markerOf("<!-- spec-orch:promote mission=m1 packet=p1 -->\nbody"), {
      mission: "m1",
      packet: "p1"
    })
    assert.deepStrictEqual(markerOf("<!-- spec-orch:promote mission=m1 mission-issue -->"), {
      mission: "m1",
      packet: null
    })
    // A tracker that dropped the HTML comment: the visible footer still names the packet.
    assert.deepStrictEqual(
      markerOf('## Goal\nx\n\n---\nspec-orch mission m1 packet p2 · wave 1 · spec section "A"\n'),
      { mission: "m1", packet: "p2" }
    )
    assert.deepStrictEqual(markerOf("---\nspec-orch mission m1 · promoted by `spec-orch promote m1`"), {
      mission: "m1",
      packet: null
    })
    // Plan text that imitates the footer above the real last line does not count.
    assert.isUndefined(markerOf("spec-orch mission m1 packet p9 · wave 0\nsomething a person added"))
  })
})

describe("promote to GitHub", () => {
  it.live("makes one issue per packet plus a mission issue once; a second run creates nothing", () =>
    Effect.gen(function* () {
      const fake = yield* seeded
      const { root, layer } = yield* world(fake)
      const first = yield* promoteToGitHub(MISSION, { dryRun: false }).pipe(Effect.provide(layer))
      assert.strictEqual(first.created, 5)
      assert.strictEqual(fake.requestsTo(CREATE).length, 5)

      const all = yield* issues(fake)
      assert.strictEqual(all.length, 5)
      const byPacket = new Map(first.steps.map((s) => [s.packet, s.issue!]))
      const callback = all.find((i) => i.number === byPacket.get("callback")!.number)!
      assert.include(callback.body, `Depends on #${byPacket.get("schema")!.number} (packet \`schema\`)`)
      assert.include(callback.body, `Depends on #${byPacket.get("config")!.number} (packet \`config\`)`)
      assert.include(callback.body, `Part of #${byPacket.get(null)!.number}`)
      assert.include(callback.body, "spec-orch mission 2026-05-oauth packet callback")
      assert.include(callback.body, "- [ ] callback works")
      assert.include(callback.body, "`src/callback/`")
      const parent = all.find((i) => i.number === byPacket.get(null)!.number)!
      for (const id of ["schema", "config", "callback", "button"])
        assert.include(parent.body, `- [ ] #${byPacket.get(id)!.number} (packet \`${id}\`)`)

      // Plan text is data: no mention, no forged marker, no secret.
      const config = all.find((i) => i.number === byPacket.get("config")!.number)!
      assert.notInclude(config.body, "@octocat")
      assert.strictEqual(config.body.match(/<!-- spec-orch:promote/g)?.length, 1)
      assert.notInclude(config.body, "sk-ant-api03-ABCDEFGHIJKLMNOPQRSTUVWXYZ")

      const mapping = JSON.parse(
        yield* FileSystem.FileSystem.use((fs) =>
          fs.readFileString(`${root}/docs/specs/${MISSION}/promotion.json`)
        ).pipe(Effect.provide(layer))
      )
      assert.strictEqual(mapping.packets.button.number, byPacket.get("button")!.number)

      const second = yield* promoteToGitHub(MISSION, { dryRun: false }).pipe(Effect.provide(layer))
      assert.strictEqual(second.created, 0)
      assert.deepStrictEqual(
        second.steps.map((s) => s.action),
        ["recorded", "recorded", "recorded", "recorded", "recorded"]
      )
      assert.strictEqual(fake.requestsTo(CREATE).length, 5)
      assert.strictEqual(fake.requestsTo("PATCH /repos/{owner}/{repo}/issues/{issue_number}").length, 1)
    })
  )

  it.live("finds its issues by their marker when promotion.json is lost", () =>
    Effect.gen(function* () {
      const fake = yield* seeded
      const { root, layer } = yield* world(fake)
      yield* promoteToGitHub(MISSION, { dryRun: false }).pipe(Effect.provide(layer))
      yield* FileSystem.FileSystem.use((fs) => fs.remove(`${root}/docs/specs/${MISSION}/promotion.json`)).pipe(
        Effect.provide(layer)
      )
      const again = yield* promoteToGitHub(MISSION, { dryRun: false }).pipe(Effect.provide(layer))
      assert.strictEqual(again.created, 0)
      assert.deepStrictEqual(
        again.steps.map((s) => s.action),
        ["found", "found", "found", "found", "found"]
      )
      assert.strictEqual((yield* issues(fake)).length, 5)
    })
  )

  it.live("a dry run writes nothing and creates nothing", () =>
    Effect.gen(function* () {
      const fake = yield* seeded
      const { root, layer } = yield* world(fake)
      const dry = yield* promoteToGitHub(MISSION, { dryRun: true }).pipe(Effect.provide(layer))
      assert.deepStrictEqual(
        dry.steps.map((s) => s.action),
        ["would-create", "would-create", "would-create", "would-create", "would-create"]
      )
      assert.strictEqual(fake.requests.filter((r) => r.method !== "GET").length, 0)
      const exists = yield* FileSystem.FileSystem.use((fs) =>
        fs.exists(`${root}/docs/specs/${MISSION}/promotion.json`)
      ).pipe(Effect.provide(layer))
      assert.isFalse(exists)
    })
  )

  it.live("a dry run without a token still says what it would create, and why it could not look further", () =>
    Effect.gen(function* () {
      const fake = yield* seeded
      const root = yield* tempDir("promote-notoken-")
      const base = trackerWorld({ root, config: { github: { repo: REPO, api_url: fake.url } }, env: {} })
      const layer = Plans.layer.pipe(Layer.provideMerge(Missions.layer), Layer.provideMerge(base))
      yield* Plans.use((p) => p.write(plan(true))).pipe(Effect.provide(layer))
      const dry = yield* promoteToGitHub(MISSION, { dryRun: true }).pipe(Effect.provide(layer))
      assert.strictEqual(dry.steps.filter((s) => s.action === "would-create").length, 5)
      assert.strictEqual(dry.notes.length, 1)
      assert.include(dry.notes[0]!, "GITHUB_TOKEN")
      const real = yield* promoteToGitHub(MISSION, { dryRun: false }).pipe(Effect.provide(layer), Effect.flip)
      assert.include(real.message, "GITHUB_TOKEN")
      assert.strictEqual(fake.requests.length, 0)
    })
  )

  it.live("a failure half-way keeps what was made; the next run finishes without duplicates", () =>
    Effect.gen(function* () {
      const fake = yield* seeded
      const { root, layer } = yield* world(fake)
      // The first two creates pass, the third gets a 500.
      fake.fail(CREATE, { times: 2 })
      fake.fail(CREATE, { status: 500 })
      const failed = yield* promoteToGitHub(MISSION, { dryRun: false }).pipe(Effect.provide(layer), Effect.flip)
      assert.strictEqual(failed._tag, "PromoteError")
      assert.include(failed.message, "run promote again to finish")
      const mapping = JSON.parse(
        yield* FileSystem.FileSystem.use((fs) =>
          fs.readFileString(`${root}/docs/specs/${MISSION}/promotion.json`)
        ).pipe(Effect.provide(layer))
      )
      assert.deepStrictEqual(Object.keys(mapping.packets), ["schema"])
      assert.isDefined(mapping.parent)

      const rest = yield* promoteToGitHub(MISSION, { dryRun: false }).pipe(Effect.provide(layer))
      assert.strictEqual(rest.created, 3)
      const all = yield* issues(fake)
      assert.strictEqual(all.length, 5)
      assert.strictEqual(new Set(all.map((i) => i.title)).size, 5)
    })
  )

  it.live("refuses a plan nobody approved, creating nothing", () =>
    Effect.gen(function* () {
      const fake = yield* seeded
      const { layer } = yield* world(fake, false)
      const refused = yield* promoteToGitHub(MISSION, { dryRun: false }).pipe(Effect.provide(layer), Effect.flip)
      assert.include(refused.message, "spec-orch plan approve 2026-05-oauth")
      assert.strictEqual(fake.requests.length, 0)
    })
  )
})

describe("promote to Linear", () => {
  const linearWorld = (fake: FakeLinear) =>
    Effect.gen(function* () {
      const root = yield* tempDir("promote-linear-")
      const base = trackerWorld({
        root,
        config: { linear: { team_key: "SON", api_url: fake.url } },
        env: { SPEC_ORCH_LINEAR_TOKEN: fake.token }
      })
      const layer = Plans.layer.pipe(Layer.provideMerge(Missions.layer), Layer.provideMerge(base))
      yield* Plans.use((p) => p.write(plan(true))).pipe(Effect.provide(layer))
      return { root, layer }
    })
  const creates = (fake: FakeLinear) =>
    fake.requests.filter((r) => JSON.stringify(r.body ?? "").includes("issueCreate")).length

  it.live("makes sub-issues of a mission issue with blocks relations, once; linked to their mission issue", () =>
    Effect.gen(function* () {
      const fake = yield* fakeLinear()
      const { root, layer } = yield* linearWorld(fake)
      const first = yield* promote(MISSION, { tracker: "linear", dryRun: false }).pipe(Effect.provide(layer))
      assert.strictEqual(first.created, 5)
      const ref = new Map(first.steps.map((s) => [s.packet, s.issue!.ref]))
      assert.match(ref.get(null)!, /^SON-\d+$/)
      assert.sameDeepMembers(
        [...fake.relations()],
        [
          { issue: ref.get("schema")!, type: "blocks", related: ref.get("callback")! },
          { issue: ref.get("config")!, type: "blocks", related: ref.get("callback")! },
          { issue: ref.get("callback")!, type: "blocks", related: ref.get("button")! }
        ]
      )
      const button = fake.issue(ref.get("button")!)
      assert.strictEqual(button.parent, ref.get(null))
      assert.include(button.description ?? "", `Depends on ${ref.get("callback")} (packet \`callback\`)`)

      const second = yield* promote(MISSION, { tracker: "linear", dryRun: false }).pipe(Effect.provide(layer))
      assert.strictEqual(second.created, 0)
      assert.strictEqual(creates(fake), 5)
      assert.strictEqual(fake.relations().length, 3)
      assert.strictEqual(fake.requestsTo("issueRelationCreate").length, 3)
      const mapping = JSON.parse(
        yield* FileSystem.FileSystem.use((fs) =>
          fs.readFileString(`${root}/docs/specs/${MISSION}/promotion.json`)
        ).pipe(Effect.provide(layer))
      )
      assert.strictEqual(mapping.tracker, "linear")
      assert.strictEqual(mapping.target, "SON")
    })
  )

  it.live("a relation that failed is made by the next run, without a second issue", () =>
    Effect.gen(function* () {
      const fake = yield* fakeLinear()
      const { layer } = yield* linearWorld(fake)
      fake.fail("issueRelationCreate", { status: 500 })
      const failed = yield* promote(MISSION, { tracker: "linear", dryRun: false }).pipe(
        Effect.provide(layer),
        Effect.flip
      )
      assert.include(failed.message, "run promote again to finish")
      assert.strictEqual(fake.relations().length, 0)
      const rest = yield* promote(MISSION, { tracker: "linear", dryRun: false }).pipe(Effect.provide(layer))
      assert.strictEqual(creates(fake), 5)
      assert.strictEqual(fake.relations().length, 3)
      assert.strictEqual(rest.steps.find((s) => s.packet === "callback")!.action, "updated")
    })
  )
})
