import { assert, describe, it } from "@effect/vitest"
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
// @ts-expect-error plain ESM script without types
import { check } from "../../../scripts/check-boundaries.mjs"

const root = join(import.meta.dirname, "../../..")

/** A copy of the repository's package manifests and sources, to break on purpose. */
const copyRepo = () => {
  const dir = mkdtempSync(join(tmpdir(), "boundaries-"))
  for (const part of ["packages", "apps"]) cpSync(join(root, part), join(dir, part), { recursive: true, filter: (src) => !/node_modules|dist|\.turbo/.test(src) })
  return dir
}

describe("check-boundaries", () => {
  it("passes on the repository as it is", () => {
    assert.deepStrictEqual(check(root), [])
  })

  it("fails when a plane imports a plane it may not", () => {
    const dir = copyRepo()
    writeFileSync(join(dir, "packages/evidence/src/Sneaky.ts"), "import { Workspaces } from \"@spec-orch/execution\"\nexport const x = Workspaces\n")
    const problems: Array<string> = check(dir)
    assert.strictEqual(problems.length, 1)
    assert.match(problems[0]!, /^packages\/evidence\/src\/Sneaky\.ts:1: evidence may not import @spec-orch\/execution \(allowed: contract\)$/)
  })

  it("fails when a package declares a forbidden plane dependency", () => {
    const dir = copyRepo()
    const file = join(dir, "packages/task/package.json")
    const pkg = JSON.parse(readFileSync(file, "utf8"))
    pkg.dependencies["@spec-orch/harness"] = "workspace:*"
    writeFileSync(file, JSON.stringify(pkg))
    assert.match(check(dir).join("\n"), /packages\/task\/package\.json: @spec-orch\/task may not depend on @spec-orch\/harness/)
  })

  it("keeps the evidence plane embeddable: no other runtime dependency, no platform import", () => {
    const dir = copyRepo()
    const file = join(dir, "packages/evidence/package.json")
    const pkg = JSON.parse(readFileSync(file, "utf8"))
    pkg.dependencies["better-sqlite3"] = "12.11.1"
    writeFileSync(file, JSON.stringify(pkg))
    mkdirSync(join(dir, "packages/contract/src/x"), { recursive: true })
    writeFileSync(join(dir, "packages/contract/src/x/Bad.ts"), "import { NodeServices } from \"@effect/platform-node\"\nexport const y = NodeServices\n")
    const problems = check(dir).join("\n")
    assert.match(problems, /the evidence plane must stay embeddable; runtime dependency better-sqlite3 is not allowed/)
    assert.match(problems, /packages\/contract\/src\/x\/Bad\.ts:1: only apps\/cli may import @effect\/platform-node/)
  })
})
