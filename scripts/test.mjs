#!/usr/bin/env node
// The whole test suite, as the README and CI run it: unit and integration tests of every package
// (integration tests drive real git, real processes, real SQLite and the real agent CLIs), then one
// summary line "N passed, N failed, N skipped". Exit 1 on any failure.
//   node scripts/test.mjs [--filter <package>] [--unit]   (--unit skips *.integration.test.ts)
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, rmSync } from "node:fs"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
const args = process.argv.slice(2)
const unit = args.includes("--unit")
const filterAt = args.indexOf("--filter")
const filter = filterAt >= 0 ? args[filterAt + 1] : undefined

for (const d of ["packages", "apps", "support"]) {
  for (const n of readdirSync(join(root, d))) {
    const report = join(root, d, n, ".vitest-report.json")
    if (existsSync(report)) rmSync(report)
  }
}

const env = { ...process.env, SPEC_ORCH_INTEGRATION: unit ? "0" : "1", FORCE_COLOR: process.env.FORCE_COLOR ?? "0" }
if (!unit) {
  const setup = spawnSync(process.execPath, [join(root, "scripts/install-agents.mjs")], { stdio: "inherit", env })
  if (setup.status !== 0)
    console.error("warning: agent CLIs could not be installed; tests that need them will fail and say why")
}
const turbo = spawnSync(
  "pnpm",
  ["exec", "turbo", "run", "test", "--continue", "--concurrency=1", ...(filter ? ["--filter", filter] : [])],
  { stdio: "inherit", env, cwd: root }
)
const summary = spawnSync(
  process.execPath,
  [join(root, "scripts/test-summary.mjs"), ...(filter ? ["--ran-only"] : [])],
  { stdio: "inherit", cwd: root }
)
process.exit(turbo.status !== 0 || summary.status !== 0 ? 1 : 0)
