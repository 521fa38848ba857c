import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const root = join(import.meta.dirname, "../../..")
const biome = join(root, "node_modules/.bin/biome")

/** Runs the repository's lint-and-format gate (`pnpm lint`'s command) on one file outside the repository. */
const gate = (source: string) => {
  const dir = mkdtempSync(join(tmpdir(), "lint-"))
  const file = join(dir, "sample.ts")
  writeFileSync(file, source)
  const result = spawnSync(biome, ["ci", "--error-on-warnings", "--config-path", join(root, "biome.jsonc"), file], {
    encoding: "utf8",
    cwd: dir
  })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

describe('lint and format gate (.ci/run step "lint")', () => {
  it("accepts a file in the house style", () => {
    const result = gate("export const greet = (name: string): string => `hello ${name}`\n")
    assert.strictEqual(result.status, 0, result.output)
  })

  it("fails on a lint violation and names the rule", () => {
    const result = gate("export const f = (xs: Array<number>) => {\n  debugger\n  return xs\n}\n")
    assert.notStrictEqual(result.status, 0)
    assert.match(result.output, /noDebugger/)
  })

  it("fails on an explicit any in source code", () => {
    const result = gate("export const f = (x: any) => x\n")
    assert.notStrictEqual(result.status, 0)
    assert.match(result.output, /noExplicitAny/)
  })

  it("fails on a file that is not formatted", () => {
    const result = gate("export const   x = { a: 1, b: 2, };\n")
    assert.notStrictEqual(result.status, 0)
    assert.match(result.output, /format/i)
  })
})
