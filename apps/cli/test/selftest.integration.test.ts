import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
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

  it("finds its example through a link to the bin, as npm installs it (node_modules/.bin/spec-orch)", () => {
    const dir = mkdtempSync(join(tmpdir(), "selftest-link-"))
    try {
      const link = join(dir, "spec-orch")
      symlinkSync(BIN, link)
      const r = spawnSync(process.execPath, [link, "selftest", "--json"], { encoding: "utf8", cwd: dir })
      assert.strictEqual(r.status, 0, `${r.stdout}\n${r.stderr}`)
      assert.strictEqual((JSON.parse(r.stdout) as { status: string }).status, "succeeded")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
