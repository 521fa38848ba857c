import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const script = join(import.meta.dirname, "../../../scripts/test-summary.mjs")

/** A workspace with a package per directory given; `reports` holds the vitest JSON of those that ran. */
const workspace = (dirs: ReadonlyArray<string>, reports: Record<string, { passed: number; failed?: number; skipped?: number }>) => {
  const root = mkdtempSync(join(tmpdir(), "test-summary-"))
  mkdirSync(join(root, "scripts"))
  copyFileSync(script, join(root, "scripts/test-summary.mjs"))
  for (const d of dirs) {
    mkdirSync(join(root, d), { recursive: true })
    writeFileSync(join(root, d, "package.json"), JSON.stringify({ name: d, scripts: { test: "vitest run" } }))
  }
  for (const [d, r] of Object.entries(reports)) {
    writeFileSync(join(root, d, ".vitest-report.json"), JSON.stringify({ numPassedTests: r.passed, numFailedTests: r.failed ?? 0, numPendingTests: r.skipped ?? 0, numTodoTests: 0, testResults: [] }))
  }
  return (...args: Array<string>) => spawnSync(process.execPath, [join(root, "scripts/test-summary.mjs"), ...args], { encoding: "utf8" })
}

describe("scripts/test-summary.mjs", () => {
  it("counts the tests of support/ packages with those of packages/ and apps/", () => {
    const r = workspace(["packages/a", "apps/cli", "support/kit"], { "packages/a": { passed: 3, skipped: 1 }, "apps/cli": { passed: 2 }, "support/kit": { passed: 5 } })()
    assert.strictEqual(r.stdout.trim(), "10 passed, 0 failed, 1 skipped")
    assert.strictEqual(r.status, 0)
  })

  it("counts a package whose run left no report as failed, and names it", () => {
    const r = workspace(["packages/a", "support/kit"], { "packages/a": { passed: 3 } })()
    assert.strictEqual(r.stdout, "no test report from support/kit (its test run did not finish)\n3 passed, 1 failed, 0 skipped\n")
    assert.strictEqual(r.status, 1)
  })

  it("with --ran-only (a filtered run), does not count the packages it did not run", () => {
    const r = workspace(["packages/a", "packages/b", "support/kit"], { "packages/a": { passed: 3 } })("--ran-only")
    assert.strictEqual(r.stdout.trim(), "3 passed, 0 failed, 0 skipped")
    assert.strictEqual(r.status, 0)
  })
})
