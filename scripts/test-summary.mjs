#!/usr/bin/env node
// Sums the per-package vitest JSON reports into the one line CI reads: "N passed, N failed, N skipped".
// Exits 1 when a test failed, when a package's report is missing (its run crashed), or when nothing ran.
// Every workspace package with a test script counts (packages/, apps/ and support/); with
// `--ran-only` (a filtered run) only the packages that wrote a report count. With
// SPEC_ORCH_FORBID_SKIPS=1 (CI sets it) a skipped test fails the run too, named: CI has every service.
import { existsSync, readFileSync, readdirSync } from "node:fs"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
const ranOnly = process.argv.includes("--ran-only")
const dirs = ["packages", "apps", "support"].flatMap((d) =>
  existsSync(join(root, d)) ? readdirSync(join(root, d)).map((n) => join(root, d, n)) : []
)
let passed = 0,
  failed = 0,
  skipped = 0
const missing = []
const skippedNames = []
for (const d of dirs) {
  const pkg = join(d, "package.json")
  if (!existsSync(pkg)) continue
  const manifest = JSON.parse(readFileSync(pkg, "utf8"))
  if (!manifest.scripts?.test) continue
  const f = join(d, ".vitest-report.json")
  if (!existsSync(f)) {
    if (!ranOnly) missing.push(d.slice(root.length))
    continue
  }
  const r = JSON.parse(readFileSync(f, "utf8"))
  passed += r.numPassedTests
  // A test file that crashed before its tests ran has no failed assertions; count it as one failure.
  const crashedFiles = (r.testResults ?? []).filter(
    (t) => t.status === "failed" && !(t.assertionResults ?? []).some((a) => a.status === "failed")
  ).length
  failed += r.numFailedTests + crashedFiles
  skipped += r.numPendingTests + r.numTodoTests
  for (const t of r.testResults ?? []) {
    for (const a of t.assertionResults ?? []) {
      if (a.status === "pending" || a.status === "skipped" || a.status === "todo")
        skippedNames.push(`${d.slice(root.length)}: ${a.fullName ?? a.title}`)
    }
  }
}
const forbidSkips = process.env.SPEC_ORCH_FORBID_SKIPS === "1"
if (forbidSkips)
  for (const s of skippedNames) console.log(`skipped, which SPEC_ORCH_FORBID_SKIPS=1 does not allow: ${s}`)
for (const m of missing) console.log(`no test report from ${m} (its test run did not finish)`)
console.log(`${passed} passed, ${failed + missing.length} failed, ${skipped} skipped`)
process.exit(failed > 0 || missing.length > 0 || passed === 0 || (forbidSkips && skipped > 0) ? 1 : 0)
