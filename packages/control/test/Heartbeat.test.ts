import { assert, describe, it } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import { ConfigFile, Project } from "@spec-orch/contract"
import { Redactor } from "@spec-orch/harness"
import { Effect, Layer } from "effect"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { readHeartbeat, writeHeartbeat } from "../src/daemon/Heartbeat.js"

const SECRET = "lin_api_0123456789abcdefghij0123456789abcdefghij"

describe("writeHeartbeat", () => {
  it.effect("keeps no secret a tick's error quoted: the file is redacted", () =>
    Effect.gen(function* () {
      const root = mkdtempSync(join(tmpdir(), "heartbeat-"))
      const { file, heartbeat } = yield* Effect.gen(function* () {
        yield* writeHeartbeat({
          status: "degraded",
          pid: 1,
          host: "h",
          at: "2026-12-05T10:00:00.000Z",
          startedAt: "2026-12-05T09:00:00.000Z",
          pollIntervalSeconds: 60,
          processed: 0,
          inFlight: [],
          deadLetter: 0,
          consecutiveErrors: 1,
          lastError: `Linear answered 401 for the key ${SECRET}: Query failed`
        })
        return yield* readHeartbeat()
      }).pipe(
        Effect.provide(
          Layer.mergeAll(
            Project.layerFrom(root, ConfigFile.parse({})),
            Redactor.layerFrom({ LINEAR_API_KEY: SECRET })
          ).pipe(Layer.provideMerge(NodeServices.layer))
        )
      )
      assert.notInclude(readFileSync(file, "utf8"), SECRET)
      assert.include(heartbeat?.lastError ?? "", "Linear answered 401")
      assert.notInclude(heartbeat?.lastError ?? "", SECRET)
    })
  )
})
