/** Runs one deliberate example suite of test/fixtures/suites with the repository's vitest options. */
import { spawnSync } from "node:child_process"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"

const suites = join(import.meta.dirname, "../fixtures/suites")
const vitest = join(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs")

export interface FixtureTest {
  readonly title: string
  readonly fullName: string
  readonly status: string
  readonly failureMessages: ReadonlyArray<string>
}

export const runFixture = (file: string, env: Record<string, string | undefined> = {}) => {
  const r = spawnSync(process.execPath, [vitest, "run", "--reporter=json", file], {
    cwd: suites,
    encoding: "utf8",
    env: { ...process.env, FORCE_COLOR: "0", ...env }
  })
  const report = JSON.parse(r.stdout.slice(r.stdout.indexOf("{"))) as {
    testResults: Array<{ assertionResults: Array<FixtureTest> }>
  }
  return { status: r.status, stderr: r.stderr, results: report.testResults.flatMap((f) => f.assertionResults) }
}
