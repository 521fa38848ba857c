import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { join } from "node:path"

const BIN = join(import.meta.dirname, "../dist/spec-orch.cjs")

describe("spec-orch selftest", () => {
  it("runs the quick start's issue end to end with the installed binary, confined, and cleans up", () => {
    const r = spawnSync(process.execPath, [BIN, "selftest", "--json"], { encoding: "utf8" })
    assert.strictEqual(r.status, 0, `${r.stdout}\n${r.stderr}`)
    const out = JSON.parse(r.stdout) as { ok: boolean; status: string; sandbox: string; project: string }
    assert.deepStrictEqual([out.ok, out.status, out.sandbox], [true, "succeeded", "confined"])
    assert.isFalse(existsSync(out.project), "the temporary project is removed")
  })
})
