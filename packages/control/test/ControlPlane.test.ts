import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Project } from "@spec-orch/contract"
import { Redactor } from "@spec-orch/harness"
import { Effect, Layer } from "effect"
import { mkdtempSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ControlPlaneInMemory, MissionRunRecord, MissionStore, RunStore } from "../src/index.js"
import { record } from "./utils/runs.js"

const SECRET = "svc-secret-value-0123"

/** The control plane in memory over a project in an empty directory, redacting `SECRET`. */
const inMemory = (root: string) =>
  Layer.fresh(ControlPlaneInMemory).pipe(
    Layer.provide(Redactor.layerFrom({ SERVICE_TOKEN: SECRET })),
    Layer.provide(Project.layerFrom(root)),
    Layer.provide(NodeServices.layer)
  )

const mission = new MissionRunRecord({
  missionId: "m1",
  owner: "host:1:abc",
  outcome: "running",
  concurrency: 2,
  stopOnFailure: false,
  branch: "spec-orch/mission/m1",
  startedAt: "2026-11-25T10:00:00.000Z",
  updatedAt: "2026-11-25T10:00:00.000Z"
})

describe("ControlPlaneInMemory", () => {
  it.effect("keeps runs, their events and missions, redacted, without writing a state file", () =>
    Effect.gen(function* () {
      const root = mkdtempSync(join(tmpdir(), "control-plane-"))
      const { events, latest } = yield* Effect.gen(function* () {
        const runs = yield* RunStore
        yield* runs.put(record(1, "blocked"))
        yield* runs.put(record(2))
        yield* runs.append("T-1-r2", "note", { text: `token ${SECRET} leaked` })
        yield* MissionStore.use((missions) => missions.putRun(mission))
        return { events: yield* runs.events("T-1-r2"), latest: yield* runs.latest("T-1") }
      }).pipe(Effect.provide(inMemory(root)))
      assert.strictEqual(latest?.runId, "T-1-r2")
      assert.deepStrictEqual(
        events.map((e) => [e.seq, e.kind]),
        [[1, "note"]]
      )
      assert.notInclude(JSON.stringify(events[0]?.data), SECRET)
      assert.deepStrictEqual(readdirSync(root), [])
    })
  )

  it.effect("starts empty each time it is built: nothing outlives the layer", () =>
    Effect.gen(function* () {
      const root = mkdtempSync(join(tmpdir(), "control-plane-"))
      yield* Effect.gen(function* () {
        yield* RunStore.use((runs) => runs.put(record(1)))
        yield* MissionStore.use((missions) => missions.putRun(mission))
      }).pipe(Effect.provide(inMemory(root)))
      const again = yield* Effect.gen(function* () {
        return {
          run: yield* RunStore.use((runs) => runs.latest("T-1")),
          mission: yield* MissionStore.use((missions) => missions.run("m1"))
        }
      }).pipe(Effect.provide(inMemory(root)))
      assert.isUndefined(again.run)
      assert.isUndefined(again.mission)
    })
  )
})
