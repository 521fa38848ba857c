import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const script = join(import.meta.dirname, "../../../scripts/test-summary.mjs")

/** A workspace with a package per directory given; `reports` holds the vitest JSON of those that ran. */
const workspace = (
  dirs: ReadonlyArray<string>,
  reports: Record<string, { passed: number; failed?: number; skipped?: number }>
) => {
  const root = mkdtempSync(join(tmpdir(), "test-summary-"))
  mkdirSync(join(root, "scripts"))
  copyFileSync(script, join(root, "scripts/test-summary.mjs"))
  for (const d of dirs) {
    mkdirSync(join(root, d), { recursive: true })
    writeFileSync(join(root, d, "package.json"), JSON.stringify({ name: d, scripts: { test: "vitest run" } }))
  }
  for (const [d, r] of Object.entries(reports)) {
    const skippedTests = Array.from({ length: r.skipped ?? 0 }, (_, i) => ({
      title: `t${i}`,
      fullName: `suite t${i}`,
      status: "skipped"
    }))
    writeFileSync(
      join(root, d, ".vitest-report.json"),
      JSON.stringify({
        numPassedTests: r.passed,
        numFailedTests: r.failed ?? 0,
        numPendingTests: r.skipped ?? 0,
        numTodoTests: 0,
        testResults: [{ status: "passed", assertionResults: skippedTests }]
      })
    )
  }
  return (...args: Array<string>) =>
    spawnSync(
      process.execPath,
      [join(root, "scripts/test-summary.mjs"), ...args.filter((a) => a !== "--forbid-skips")],
      {
        encoding: "utf8",
        env: { ...process.env, SPEC_ORCH_FORBID_SKIPS: args.includes("--forbid-skips") ? "1" : undefined }
      }
    )
}

describe("scripts/test-summary.mjs", () => {
  it("counts the tests of support/ packages with those of packages/ and apps/", () => {
    const r = workspace(["packages/a", "apps/cli", "support/kit"], {
      "packages/a": { passed: 3, skipped: 1 },
      "apps/cli": { passed: 2 },
      "support/kit": { passed: 5 }
    })()
    assert.strictEqual(r.stdout.trim(), "10 passed, 0 failed, 1 skipped")
    assert.strictEqual(r.status, 0)
  })

  it("counts a package whose run left no report as failed, and names it", () => {
    const r = workspace(["packages/a", "support/kit"], { "packages/a": { passed: 3 } })()
    assert.strictEqual(
      r.stdout,
      "no test report from support/kit (its test run did not finish)\n3 passed, 1 failed, 0 skipped\n"
    )
    assert.strictEqual(r.status, 1)
  })

  it("with SPEC_ORCH_FORBID_SKIPS=1 (as in CI), fails on a skipped test and names it", () => {
    const run = workspace(["packages/a", "support/kit"], {
      "packages/a": { passed: 3 },
      "support/kit": { passed: 1, skipped: 1 }
    })
    const strict = run("--forbid-skips")
    assert.strictEqual(
      strict.stdout,
      "skipped, which SPEC_ORCH_FORBID_SKIPS=1 does not allow: support/kit: suite t0\n4 passed, 0 failed, 1 skipped\n"
    )
    assert.strictEqual(strict.status, 1)
    assert.strictEqual(run().status, 0, "a local run may skip")
  })

  it("with --ran-only (a filtered run), does not count the packages it did not run", () => {
    const r = workspace(["packages/a", "packages/b", "support/kit"], { "packages/a": { passed: 3 } })("--ran-only")
    assert.strictEqual(r.stdout.trim(), "3 passed, 0 failed, 0 skipped")
    assert.strictEqual(r.status, 0)
  })
})
