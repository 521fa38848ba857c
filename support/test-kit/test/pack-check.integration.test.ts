import { afterAll, assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
// @ts-expect-error plain ESM script without types
import { checkTarball, packCheck } from "../../../scripts/pack-check.mjs"

const root = join(import.meta.dirname, "../../..")
const quiet = () => {}
/** npm install from the cache, node runs and a type check: a loaded two-core machine needs more than the default. */
const INSTALL_TIMEOUT = 180_000
const temporary: Array<string> = []
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  temporary.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true })
})

const sh = (command: string, args: Array<string>, cwd: string) => {
  const r = spawnSync(command, args, { cwd, encoding: "utf8" })
  assert.strictEqual(r.status, 0, `${command} ${args.join(" ")}: ${r.stderr}`)
  return r.stdout
}

/** Packs a package of this repository (built by `pnpm build`) into dir; returns the tarball's path. */
const pack = (pkgDir: string, dir: string): string => {
  assert.isTrue(existsSync(join(root, pkgDir, "dist")), `${pkgDir}/dist is missing: run pnpm build first`)
  const out = JSON.parse(sh("pnpm", ["pack", "--pack-destination", dir, "--json"], join(root, pkgDir))) as {
    filename: string
  }
  return join(dir, out.filename.split("/").at(-1)!)
}

/** Unpacks a tarball into a fresh folder; returns its package/ folder. */
const unpack = (tarball: string): string => {
  const dir = tempDir("pack-check-unpacked-")
  sh("tar", ["-xzf", tarball, "-C", dir], dir)
  return join(dir, "package")
}

/** A copy of the tarball whose package.json was changed by `edit`. */
const broken = (tarball: string, edit: (manifest: Record<string, any>) => void): string => {
  const pkg = unpack(tarball)
  const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"))
  edit(manifest)
  writeFileSync(join(pkg, "package.json"), JSON.stringify(manifest, null, 2))
  const out = join(tempDir("pack-check-broken-"), tarball.split("/").at(-1)!)
  sh("tar", ["-czf", out, "-C", join(pkg, ".."), "package"], pkg)
  return out
}

describe("pack-check: the packed packages install and run outside the monorepo", () => {
  const dir = tempDir("pack-check-test-")
  const contract = pack("packages/contract", dir)
  const evidence = pack("packages/evidence", dir)

  it(
    "passes on the evidence package and its contract as packed, and runs the embed-the-gate example",
    () => {
      const { problems, sizes } = packCheck(root, { tarballs: [contract, evidence], log: quiet })
      assert.deepStrictEqual(problems, [])
      assert.deepStrictEqual(
        sizes.map((s: { name: string }) => s.name),
        ["@spec-orch/contract", "@spec-orch/evidence"]
      )
    },
    INSTALL_TIMEOUT
  )

  it(
    "fails when exports name a file the tarball lacks and a dependency the code imports is not declared",
    () => {
      const bad = broken(evidence, (m) => {
        m.exports["."].default = "./dist/index.mjs"
        delete m.dependencies.yaml
      })
      const { problems } = packCheck(root, { tarballs: [contract, bad], log: quiet })
      const text = problems.join("\n")
      assert.include(text, "@spec-orch/evidence: package.json names dist/index.mjs, which is not in the tarball")
      assert.include(
        text,
        "@spec-orch/evidence: dist/index.js imports yaml, which is not among its dependencies or peerDependencies"
      )
      assert.include(
        text,
        "@spec-orch/evidence: `import` of the installed package fails, though its exports promise it"
      )
      assert.include(
        text,
        "@spec-orch/evidence: `require` of the installed package fails, though its exports promise it"
      )
      assert.include(text, '@spec-orch/evidence: the ci-gate example with profile "ci" should exit 0')
    },
    INSTALL_TIMEOUT
  )

  it(
    "fails when a workspace: range was not turned into a version (packed with npm, not pnpm)",
    () => {
      const bad = broken(evidence, (m) => {
        m.dependencies["@spec-orch/contract"] = "workspace:*"
      })
      const { problems } = packCheck(root, { tarballs: [contract, bad], log: quiet })
      assert.include(
        problems.join("\n"),
        '@spec-orch/evidence: dependency @spec-orch/contract has the range "workspace:*", which no registry resolves'
      )
      assert.include(problems.join("\n"), "npm install of the tarballs failed")
    },
    INSTALL_TIMEOUT
  )

  it("fails on a program that lists a package its bundle inlines, a private dependency, a large source map or no LICENSE", () => {
    const pkg = unpack(contract)
    const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"))
    manifest.bin = { tool: "./dist/index.js" }
    manifest.dependencies["@spec-orch/sqlite"] = "0.0.0"
    writeFileSync(join(pkg, "package.json"), JSON.stringify(manifest))
    writeFileSync(join(pkg, "dist/index.js.map"), "x".repeat(2 * 1024 * 1024))
    rmSync(join(pkg, "LICENSE"))
    writeFileSync(
      join(pkg, "dist/extra.d.ts"),
      'import type { Options } from "undeclared-types"\nexport type X = Options\n'
    )
    writeFileSync(
      join(pkg, "dist/driver.js"),
      "// ../../node_modules/.pnpm/better-sqlite3@12.11.1/node_modules/better-sqlite3/lib/database.js\nconst addon = require('bindings')('better_sqlite3.node')\nexport {}\n"
    )
    const { problems } = checkTarball(pkg, ["@spec-orch/sqlite"])
    const text = problems.join("\n")
    assert.include(text, "@spec-orch/contract: depends on @spec-orch/sqlite, a private package that is never published")
    assert.include(
      text,
      "@spec-orch/contract: depends on @spec-orch/sqlite, which its bundle never loads (bundled or unused); move it to devDependencies"
    )
    assert.include(text, "@spec-orch/contract: dist/index.js.map is a 2.0 MB source map (limit 1 MB)")
    assert.include(text, "@spec-orch/contract: the tarball has no LICENSE file")
    assert.include(
      text,
      "@spec-orch/contract: dist/extra.d.ts refers to undeclared-types, which is not among its dependencies or peerDependencies"
    )
    assert.include(
      text,
      "@spec-orch/contract: dist/driver.js has a native addon's JavaScript bundled in with the addon looked up by `bindings`, which searches from the bundle and cannot find it there"
    )
    assert.deepStrictEqual(checkTarball(unpack(contract), ["@spec-orch/sqlite"]).problems, [])
  })
})
