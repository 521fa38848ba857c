import { describe } from "@effect/vitest"
import { SqliteClient } from "@spec-orch/sqlite"
import { Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { vectorSuite } from "./utils/vectorSuite.js"

describe("Memory with vectors and a compaction model, on a SQLite file", () => {
  vectorSuite(
    Effect.sync(() =>
      SqliteClient.layer({ filename: join(mkdtempSync(join(tmpdir(), "memory-vectors-")), "state.db") })
    )
  )
})
