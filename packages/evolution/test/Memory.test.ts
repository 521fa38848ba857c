import { describe } from "@effect/vitest"
import { SqliteClient } from "@spec-orch/sqlite"
import { Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { memorySuite } from "./utils/memorySuite.js"

describe("Memory on a SQLite file", () => {
  memorySuite(Effect.sync(() => SqliteClient.layer({ filename: join(mkdtempSync(join(tmpdir(), "memory-")), "state.db") })))
})
