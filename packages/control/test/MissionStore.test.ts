import { assert, describe, it } from "@effect/vitest"
import { SqliteClient } from "@spec-orch/sqlite"
import { Effect, Layer } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { MissionRunRecord, MissionStore, PacketIntegration } from "../src/mission/MissionStore.js"

const db = () => join(mkdtempSync(join(tmpdir(), "missionstore-")), "state.db")
const storeLayer = (file: string) =>
  Layer.fresh(MissionStore.layer.pipe(Layer.provide(SqliteClient.layer({ filename: file }))))

const runRecord = new MissionRunRecord({
  missionId: "m1",
  owner: "host:1:abc",
  outcome: "running",
  concurrency: 3,
  stopOnFailure: false,
  branch: "spec-orch/mission/m1",
  startedAt: "2026-11-25T10:00:00.000Z",
  updatedAt: "2026-11-25T10:00:00.000Z"
})

describe("MissionStore", () => {
  it.effect("keeps the latest mission run and packet integrations across connections to the same file", () =>
    Effect.gen(function* () {
      const file = db()
      yield* MissionStore.use((s) =>
        Effect.gen(function* () {
          yield* s.putRun(runRecord)
          yield* s.putIntegration(
            "m1",
            new PacketIntegration({
              packetId: "a",
              runId: "m1.a-r1",
              outcome: "conflict",
              files: ["x.js"],
              message: "conflict",
              at: "t1"
            })
          )
          yield* s.putIntegration(
            "m1",
            new PacketIntegration({
              packetId: "a",
              runId: "m1.a-r2",
              outcome: "merged",
              commit: "abc",
              files: [],
              message: "merged",
              at: "t2"
            })
          )
          yield* s.putIntegration(
            "m2",
            new PacketIntegration({
              packetId: "a",
              runId: "m2.a-r1",
              outcome: "merged",
              files: [],
              message: "merged",
              at: "t3"
            })
          )
        })
      ).pipe(Effect.provide(storeLayer(file)))
      const [run, integrations, updated] = yield* MissionStore.use((s) =>
        Effect.all([
          s.run("m1"),
          s.integrations("m1"),
          s.updateRun(
            "m1",
            (r) => new MissionRunRecord({ ...r, outcome: "completed", finishedAt: "2026-11-25T10:05:00.000Z" })
          )
        ])
      ).pipe(Effect.provide(storeLayer(file)))
      assert.strictEqual(run?.concurrency, 3)
      assert.deepStrictEqual([...integrations.keys()], ["a"], "one row per packet, of this mission only")
      assert.strictEqual(integrations.get("a")?.runId, "m1.a-r2", "the latest integration replaces the earlier one")
      assert.strictEqual(integrations.get("a")?.commit, "abc")
      assert.strictEqual(updated?.outcome, "completed")
      assert.notStrictEqual(updated?.updatedAt, runRecord.updatedAt, "updateRun stamps updatedAt")
      assert.isUndefined(
        yield* MissionStore.use((s) => s.updateRun("nope", (r) => r)).pipe(Effect.provide(storeLayer(file)))
      )
    })
  )
})
