import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pkg from "../package.json" with { type: "json" }

// The bundled binary (the CLI's tests run after its build).
const bin = join(import.meta.dirname, "../dist/main.js")
const project = mkdtempSync(join(tmpdir(), "bin-"))
cpSync(join(import.meta.dirname, "../../../examples/hello-node"), project, { recursive: true })
const run = (...args: Array<string>) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", cwd: project })

describe("the spec-orch binary", () => {
  it("prints its version and exits 0, from the installed bin and the ES module alike", () => {
    const r = run("--version")
    assert.strictEqual(r.stdout, `spec-orch v${pkg.version}\n`)
    assert.strictEqual(r.status, 0)
    const installed = spawnSync(
      process.execPath,
      [join(import.meta.dirname, "..", pkg.bin["spec-orch"]), "--version"],
      { encoding: "utf8" }
    )
    assert.strictEqual(installed.stdout, `spec-orch v${pkg.version}\n`)
    const help = spawnSync(
      process.execPath,
      [join(import.meta.dirname, "..", pkg.bin["spec-orch"]), "issue", "--help"],
      { encoding: "utf8" }
    )
    assert.match(help.stdout, /Read issues from the configured source/)
  })

  it("sets the process exit code from the command: 0 ok, 1 failure, 2 usage", () => {
    assert.strictEqual(run("issue", "list").status, 0)
    const missing = run("issue", "show", "NOPE-1")
    assert.strictEqual(missing.status, 1)
    assert.match(missing.stderr, /^spec-orch: issue NOPE-1 not found/)
    assert.strictEqual(run("no-such-command").status, 2)
  })
})

describe("the compile cache", () => {
  const installed = join(import.meta.dirname, "..", pkg.bin["spec-orch"])
  const withCache = (env: Record<string, string>, ...args: Array<string>) =>
    spawnSync(process.execPath, [installed, ...args], {
      encoding: "utf8",
      cwd: project,
      env: { ...process.env, ...env }
    })

  it("is written per command on first use, reused after, and never changes what a command prints", () => {
    const dir = mkdtempSync(join(tmpdir(), "v8-cache-"))
    const first = withCache({ SPEC_ORCH_COMPILE_CACHE: dir }, "issue", "list")
    assert.strictEqual(first.status, 0)
    const files = readdirSync(dir)
    assert.strictEqual(files.length, 1)
    assert.match(files[0]!, new RegExp(`^[0-9a-f]{16}-${process.version}-${process.arch}-lean-issue\\.bin$`))
    const file = join(dir, files[0]!)
    const past = new Date(Math.floor(Date.now() / 1000) * 1000 - 3600_000)
    utimesSync(file, past, past)
    const second = withCache({ SPEC_ORCH_COMPILE_CACHE: dir }, "issue", "list")
    assert.deepStrictEqual([second.status, second.stdout, second.stderr], [0, first.stdout, first.stderr])
    assert.strictEqual(
      Math.round(statSync(file).mtimeMs),
      past.getTime(),
      "a valid cache is used as it is, not rewritten"
    )
    // Other commands get their own file; anything unknown shares one.
    withCache({ SPEC_ORCH_COMPILE_CACHE: dir }, "--cwd", project, "--help")
    assert.strictEqual(withCache({ SPEC_ORCH_COMPILE_CACHE: dir }, "no-such-command").status, 2)
    assert.sameMembers(
      readdirSync(dir).map((f) => f.replace(/^.*-/, "")),
      ["issue.bin", "root.bin", "other.bin"]
    )
  })

  it("survives a corrupt cache (rewrites it) and an unwritable one (runs without)", () => {
    const dir = mkdtempSync(join(tmpdir(), "v8-cache-"))
    const clean = withCache({ SPEC_ORCH_COMPILE_CACHE: dir }, "issue", "list")
    const file = join(dir, readdirSync(dir)[0]!)
    writeFileSync(file, "not a V8 code cache")
    const corrupt = withCache({ SPEC_ORCH_COMPILE_CACHE: dir }, "issue", "list")
    assert.deepStrictEqual([corrupt.status, corrupt.stdout], [0, clean.stdout])
    assert.notStrictEqual(readFileSync(file, "utf8"), "not a V8 code cache")
    const blocked = join(dir, "a-file")
    writeFileSync(blocked, "")
    const unwritable = withCache({ SPEC_ORCH_COMPILE_CACHE: join(blocked, "cache") }, "issue", "list")
    assert.deepStrictEqual([unwritable.status, unwritable.stdout, unwritable.stderr], [0, clean.stdout, ""])
  })

  it("is off with SPEC_ORCH_COMPILE_CACHE=off and otherwise lives under $XDG_CACHE_HOME/spec-orch/v8", () => {
    const home = mkdtempSync(join(tmpdir(), "xdg-"))
    assert.strictEqual(withCache({ SPEC_ORCH_COMPILE_CACHE: "off", XDG_CACHE_HOME: home }, "issue", "list").status, 0)
    assert.deepStrictEqual(readdirSync(home), [])
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: home }
    delete env.SPEC_ORCH_COMPILE_CACHE
    assert.strictEqual(spawnSync(process.execPath, [installed, "issue", "list"], { cwd: project, env }).status, 0)
    assert.isTrue(existsSync(join(home, "spec-orch", "v8")))
    assert.strictEqual(readdirSync(join(home, "spec-orch", "v8")).length, 1)
  })
})
