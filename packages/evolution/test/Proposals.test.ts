import { describe } from "@effect/vitest"
import { SqliteClient } from "@spec-orch/sqlite"
import { Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { proposalSuite } from "./utils/proposalSuite.js"

describe("Proposals on a SQLite file", () => {
  proposalSuite(
    Effect.sync(() => SqliteClient.layer({ filename: join(mkdtempSync(join(tmpdir(), "proposals-")), "state.db") }))
  )
})
