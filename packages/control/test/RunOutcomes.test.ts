import { assert, describe, it } from "@effect/vitest"
import { RunRecord } from "@spec-orch/contract"
import { Redactor } from "@spec-orch/harness"
import { NodeServices } from "@effect/platform-node"
import { SqliteClient } from "@spec-orch/sqlite"
import { Effect, Layer, Schema } from "effect"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { publishOf } from "../src/daemon/RunOutcomes.js"
import { PUBLISH_RESULT_EVENT, PublishResult } from "../src/publish/RunPublisher.js"
import { RunStore } from "../src/run/RunStore.js"
import { record } from "./utils/runs.js"

const world = () => {
  const dir = mkdtempSync(join(tmpdir(), "run-outcomes-"))
  return {
    dir,
    layer: Layer.mergeAll(
      RunStore.layer.pipe(
        Layer.provide(SqliteClient.layer({ filename: join(dir, "state.db") })),
        Layer.provide(Redactor.layerFrom({}))
      ),
      NodeServices.layer
    )
  }
}

const published = (number: number) =>
  new PublishResult({
    mode: "remote",
    pullRequest: { number, url: `https://github.test/acme/widgets/pull/${number}`, draft: false, outcome: "created" },
    notes: []
  })

describe("publishOf", () => {
  it.effect("reads what a run on another host published from the run store, when its artifacts are not here", () =>
    Effect.gen(function* () {
      const w = world()
      const run = new RunRecord({ ...record(1, "succeeded"), artifactsDir: "/elsewhere/on/another/host/runs/T-1-r1" })
      yield* Effect.gen(function* () {
        const store = yield* RunStore
        yield* store.put(run)
        assert.isUndefined(yield* publishOf(run), "nothing published yet")
        yield* store.append(run.runId, PUBLISH_RESULT_EVENT, Schema.encodeSync(PublishResult)(published(7)))
        assert.strictEqual((yield* publishOf(run))?.pullRequest?.number, 7)
      }).pipe(Effect.provide(w.layer))
    })
  )

  it.effect("prefers the run's publish.json where the artifacts are on this host", () =>
    Effect.gen(function* () {
      const w = world()
      const artifacts = join(w.dir, "runs", "T-1-r1")
      mkdirSync(artifacts, { recursive: true })
      writeFileSync(join(artifacts, "publish.json"), JSON.stringify(Schema.encodeSync(PublishResult)(published(3))))
      const run = new RunRecord({ ...record(1, "succeeded"), artifactsDir: artifacts })
      yield* Effect.gen(function* () {
        const store = yield* RunStore
        yield* store.put(run)
        yield* store.append(run.runId, PUBLISH_RESULT_EVENT, Schema.encodeSync(PublishResult)(published(9)))
        assert.strictEqual((yield* publishOf(run))?.pullRequest?.number, 3)
      }).pipe(Effect.provide(w.layer))
    })
  )
})
