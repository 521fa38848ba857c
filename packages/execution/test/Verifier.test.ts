import { assert, describe, it } from "@effect/vitest"
import { defaultConfig, type Issue, parseConfig, parseIssueJson } from "@spec-orch/contract"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { resolveSteps } from "../src/index.js"

const fixtures = join(import.meta.dirname, "fixtures")
const config = () => {
  const parsed = parseConfig(readFileSync(join(fixtures, "spec-orch.toml"), "utf8"), "spec-orch.toml")
  assert.deepStrictEqual(parsed.problems, [])
  return parsed.config!
}
const issue = (id: string): Issue => {
  const parsed = parseIssueJson(readFileSync(join(fixtures, "issues", `${id}.json`), "utf8"), `${id}.json`, id)
  assert.deepStrictEqual(parsed.problems, [])
  return parsed.issue!
}
const plain = (steps: ReturnType<typeof resolveSteps>) =>
  steps.map((s) => ({ name: s.name, command: s.command, timeoutSeconds: s.timeoutSeconds }))

describe("resolveSteps", () => {
  it("uses [verification] in file order when the issue has no steps, with per-step timeouts", () => {
    assert.deepStrictEqual(plain(resolveSteps(issue("NONE-1"), config())), [
      { name: "lint", command: ["{python}", "-m", "ruff", "check", "src/"], timeoutSeconds: undefined },
      { name: "typecheck", command: "npx tsc --noEmit", timeoutSeconds: undefined },
      { name: "test", command: ["{python}", "-m", "pytest", "-q"], timeoutSeconds: 120 },
      { name: "build", command: ["{python}", "-c", "print('build ok')"], timeoutSeconds: undefined }
    ])
  })

  it("replaces [verification] entirely with the issue's own steps", () => {
    assert.deepStrictEqual(plain(resolveSteps(issue("MAP-1"), config())), [
      { name: "smoke_check", command: ["{python}", "-c", "print('smoke')"], timeoutSeconds: undefined },
      { name: "slow", command: "sleep 1", timeoutSeconds: 5 }
    ])
  })

  it("names the original's list-of-strings form step-1, step-2, … and runs each as a shell string", () => {
    assert.deepStrictEqual(plain(resolveSteps(issue("LIST-1"), config())), [
      { name: "step-1", command: "ruff check src/", timeoutSeconds: undefined },
      { name: "step-2", command: "pytest tests/ -x", timeoutSeconds: undefined }
    ])
  })

  it("treats an issue's empty step map as 'no verification', not as 'use the config'", () => {
    assert.deepStrictEqual(resolveSteps(issue("EMPTY-1"), config()), [])
  })

  it("returns no steps when neither the issue nor the config has any", () => {
    assert.deepStrictEqual(resolveSteps(issue("NONE-1"), defaultConfig()), [])
  })
})
