import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { makeMissionId, makePacketId, Missions, Plan, Wave, WorkPacket } from "@spec-orch/contract"
import { Plans } from "@spec-orch/task"
import { Effect, Layer } from "effect"
import { ProcessToken } from "../src/run/EngineLock.js"
import { Runs } from "../src/run/Runs.js"
import { RunStore } from "../src/run/RunStore.js"
import { MissionIntegration } from "../src/mission/MissionIntegration.js"
import { MissionRunner } from "../src/mission/MissionRunner.js"
import { MissionStore } from "../src/mission/MissionStore.js"

const packet = new WorkPacket({
  id: makePacketId("one"),
  title: "One",
  specSection: "",
  runClass: "feature",
  filesInScope: ["a.txt"],
  filesOutOfScope: [],
  dependsOn: [],
  acceptanceCriteria: [],
  verification: [],
  builderPrompt: "WRITE a.txt a"
})

const planBy = (over: Partial<ConstructorParameters<typeof Plan>[0]>) =>
  new Plan({
    id: "p",
    missionId: makeMissionId("drafted"),
    planner: "chain:main",
    createdAt: "",
    waves: [new Wave({ index: 0, description: "", packets: [packet] })],
    ...over
  })

/** Every service a mission run would touch to do work fails the test: a refusal must come before all of them. */
const untouchable = (name: string) =>
  new Proxy(
    {},
    {
      get: (_, key) =>
        typeof key === "string" && key !== "then" ? () => Effect.die(new Error(`${name}.${key} was used`)) : undefined
    }
  ) as never

const runner = (plan: Plan) =>
  MissionRunner.layer.pipe(
    Layer.provide(
      Layer.mergeAll(
        Layer.succeed(Runs, untouchable("Runs")),
        Layer.succeed(RunStore, untouchable("RunStore")),
        Layer.succeed(MissionStore, untouchable("MissionStore")),
        Layer.succeed(MissionIntegration, untouchable("MissionIntegration")),
        Layer.succeed(ProcessToken, { token: "me", host: "h", pid: 1 } as never),
        Layer.succeed(Missions, {
          get: () =>
            Effect.succeed({
              mission: { id: "drafted", specPath: "docs/specs/drafted/spec.md" },
              specState: "approved"
            })
        } as never),
        Layer.succeed(Plans, {
          validate: () =>
            Effect.succeed({
              view: { plan, file: "docs/specs/drafted/plan.json", warnings: [] },
              planProblems: [],
              problems: []
            })
        } as never),
        NodeServices.layer
      )
    )
  )

describe("MissionRunner", () => {
  it.effect("refuses a model-written plan nobody approved before anything runs, naming how to approve it", () =>
    Effect.gen(function* () {
      const error = yield* MissionRunner.use((r) => r.run({ missionId: "drafted" })).pipe(
        Effect.flip,
        Effect.provide(runner(planBy({})))
      )
      assert.strictEqual(error._tag, "MissionCannotRun")
      assert.include(
        error.message,
        "the plan of mission drafted was written by the planner model chain:main and is not approved yet"
      )
      assert.include(error.message, "`spec-orch plan approve drafted`")
    })
  )

  it.effect("runs an approved model-written plan (it gets past the approval to the run store)", () =>
    Effect.gen(function* () {
      const exit = yield* MissionRunner.use((r) => r.run({ missionId: "drafted" })).pipe(
        Effect.provide(runner(planBy({ approvedBy: "Ada Lovelace", status: "approved" }))),
        Effect.exit
      )
      assert.isTrue(exit._tag === "Failure" && String(exit.cause).includes("was used"), "the runner went on to do work")
    })
  )
})
