import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
// @ts-expect-error plain ESM script without types
import { check } from "../../../scripts/check-boundaries.mjs"

const root = join(import.meta.dirname, "../../..")

/** Rewrites one package.json of a copy. */
const editManifest = (dir: string, path: string, edit: (pkg: any) => void) => {
  const file = join(dir, path)
  const pkg = JSON.parse(readFileSync(file, "utf8"))
  edit(pkg)
  writeFileSync(file, JSON.stringify(pkg))
}

/** A copy of what the check reads (each package's manifest and src/), to break on purpose. */
const copyRepo = () => {
  const dir = mkdtempSync(join(tmpdir(), "boundaries-"))
  for (const part of ["packages", "apps", "support"]) {
    for (const name of readdirSync(join(root, part))) {
      const from = join(root, part, name)
      if (!existsSync(join(from, "package.json"))) continue
      mkdirSync(join(dir, part, name), { recursive: true })
      cpSync(join(from, "package.json"), join(dir, part, name, "package.json"))
      if (existsSync(join(from, "src"))) cpSync(join(from, "src"), join(dir, part, name, "src"), { recursive: true })
    }
  }
  return dir
}

describe("check-boundaries", () => {
  it("passes on the repository as it is", () => {
    assert.deepStrictEqual(check(root), [])
  })

  it("fails when a plane imports a plane it may not", () => {
    const dir = copyRepo()
    writeFileSync(
      join(dir, "packages/evidence/src/Sneaky.ts"),
      'import { Workspaces } from "@spec-orch/execution"\nexport const x = Workspaces\n'
    )
    const problems: Array<string> = check(dir)
    assert.strictEqual(problems.length, 1)
    assert.match(
      problems[0]!,
      /^packages\/evidence\/src\/Sneaky\.ts:1: evidence may not import @spec-orch\/execution \(allowed: contract\)$/
    )
  })

  it("fails when a package declares a forbidden plane dependency", () => {
    const dir = copyRepo()
    const file = join(dir, "packages/task/package.json")
    const pkg = JSON.parse(readFileSync(file, "utf8"))
    pkg.dependencies["@spec-orch/harness"] = "workspace:*"
    writeFileSync(file, JSON.stringify(pkg))
    assert.match(
      check(dir).join("\n"),
      /packages\/task\/package\.json: @spec-orch\/task may not depend on @spec-orch\/harness/
    )
  })

  it("keeps the evidence plane embeddable: no other runtime dependency, no platform import", () => {
    const dir = copyRepo()
    const file = join(dir, "packages/evidence/package.json")
    const pkg = JSON.parse(readFileSync(file, "utf8"))
    pkg.dependencies["better-sqlite3"] = "12.11.1"
    writeFileSync(file, JSON.stringify(pkg))
    mkdirSync(join(dir, "packages/contract/src/x"), { recursive: true })
    writeFileSync(
      join(dir, "packages/contract/src/x/Bad.ts"),
      'import { NodeServices } from "@effect/platform-node"\nexport const y = NodeServices\n'
    )
    const problems = check(dir).join("\n")
    assert.match(problems, /the evidence plane must stay embeddable; runtime dependency better-sqlite3 is not allowed/)
    assert.match(problems, /packages\/contract\/src\/x\/Bad\.ts:1: only apps\/cli may import @effect\/platform-node/)
  })
  it("fails when src imports a devDependency, which users of the package would not get", () => {
    const dir = copyRepo()
    writeFileSync(
      join(dir, "packages/task/src/Dev.ts"),
      'import { describe } from "vitest"\nexport const d = describe\n'
    )
    assert.deepStrictEqual(check(dir), [
      "packages/task/src/Dev.ts:1: imports vitest, a devDependency of packages/task/package.json that users of the package do not get; move it to dependencies or peerDependencies"
    ])
  })

  it("keeps public APIs named: no export * and no internal/ in a package's index", () => {
    const dir = copyRepo()
    const index = join(dir, "packages/task/src/index.ts")
    writeFileSync(
      index,
      `${readFileSync(index, "utf8")}export * from "./Plans.js"\nexport { x } from "./internal/x.js"\n`
    )
    const lines = readFileSync(index, "utf8").split("\n").length - 1
    assert.deepStrictEqual(check(dir), [
      `packages/task/src/index.ts:${lines - 1}: export * in a public index; list the names (export { a, type B } from "./M.js")`,
      `packages/task/src/index.ts:${lines}: the public index exports internal/; move what others need to a public module`
    ])
  })

  it("fails on a dependency nothing under src imports, and names where it is listed", () => {
    const dir = copyRepo()
    editManifest(dir, "packages/execution/package.json", (pkg) => {
      pkg.dependencies.execa = "9.6.1"
    })
    assert.deepStrictEqual(check(dir), [
      "packages/execution/package.json: execa is listed in dependencies but nothing under src/ imports it; remove it (or move it to devDependencies if only tests use it)"
    ])
  })

  it("counts the imports of the planes the CLI bundles, so the native driver it keeps external is used", () => {
    const dir = copyRepo()
    assert.deepStrictEqual(
      check(dir).filter((p: string) => p.startsWith("apps/cli")),
      []
    )
    editManifest(dir, "apps/cli/package.json", (pkg) => {
      pkg.dependencies["left-pad"] = "1.3.0"
    })
    assert.deepStrictEqual(check(dir), [
      "apps/cli/package.json: left-pad is listed in dependencies but nothing under src/ imports it; remove it (or move it to devDependencies if only tests use it)"
    ])
  })

  it("covers support/: the test kit may not import a plane or its own devDependencies", () => {
    const dir = copyRepo()
    writeFileSync(
      join(dir, "support/test-kit/src/Bad.ts"),
      'import { Plan } from "@spec-orch/task"\nimport { it } from "@effect/vitest"\nexport const z = [Plan, it]\n'
    )
    assert.deepStrictEqual(check(dir), [
      "support/test-kit/src/Bad.ts:1: test-kit may not import @spec-orch/task (allowed: no planes)",
      "support/test-kit/src/Bad.ts:2: imports @effect/vitest, a devDependency of support/test-kit/package.json that users of the package do not get; move it to dependencies or peerDependencies"
    ])
  })

  it("fails from the command line with one line per violation and exit code 1", () => {
    const dir = copyRepo()
    writeFileSync(
      join(dir, "packages/task/src/Dev.ts"),
      'import { describe } from "vitest"\nexport const d = describe\n'
    )
    const r = spawnSync(process.execPath, [join(root, "scripts/check-boundaries.mjs"), dir], { encoding: "utf8" })
    assert.strictEqual(r.status, 1)
    assert.match(r.stderr, /^packages\/task\/src\/Dev\.ts:1: imports vitest, a devDependency/m)
    assert.include(r.stdout, "boundaries: 1 violation(s)")
  })
})
