import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"

const pkgDir = join(import.meta.dirname, "..")
const root = join(pkgDir, "../..")
const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"))

describe("@spec-orch/evidence stays embeddable", () => {
  it("has exactly effect, zod, yaml and @spec-orch/contract as runtime dependencies", () => {
    assert.deepStrictEqual(Object.keys(pkg.dependencies ?? {}).sort(), ["@spec-orch/contract", "yaml", "zod"])
    assert.deepStrictEqual(Object.keys(pkg.peerDependencies ?? {}), ["effect"])
    assert.deepStrictEqual(Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies }).sort(), [
      "@spec-orch/contract",
      "effect",
      "yaml",
      "zod"
    ])
  })
})

describe("the README's embedding example", () => {
  const example = readFileSync(join(pkgDir, "examples/ci-gate.ts"), "utf8")

  it("is the file the tests run, verbatim, and about 15 lines", () => {
    const readme = readFileSync(join(pkgDir, "README.md"), "utf8")
    assert.include(readme, `\`\`\`ts\n${example}\`\`\``)
    assert.isAtMost(example.trim().split("\n").length, 15)
  })

  it("judges plain JSON evidence in a separate process: exit 0 mergeable, 1 blocked", () => {
    const run = (profile: string) =>
      spawnSync(
        join(root, "node_modules/.bin/tsx"),
        ["examples/ci-gate.ts", "test/fixtures/original.gate.policy.yaml", "test/fixtures/ci-evidence.json", profile],
        { cwd: pkgDir, encoding: "utf8" }
      )
    const ci = run("ci")
    assert.strictEqual(ci.status, 0, ci.stderr)
    assert.match(ci.stdout, /^passed {8}verification: 2 steps passed \(lint, test\)$/m)
    assert.match(ci.stdout, /^disabled {6}human_acceptance: disabled by profile "ci"$/m)
    assert.match(ci.stdout, /\nMERGEABLE\n$/)
    const strict = run("strict")
    assert.strictEqual(strict.status, 1)
    assert.match(strict.stdout, /\nBLOCKED: preview, human_acceptance, compliance\n$/)
    const unknown = run("nightly")
    assert.notStrictEqual(unknown.status, 0)
    assert.include(unknown.stderr, 'unknown gate profile "nightly" in test/fixtures/original.gate.policy.yaml')
  })
})
