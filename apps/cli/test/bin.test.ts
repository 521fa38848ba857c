import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { Effect } from "effect"
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync
} from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import pkg from "../package.json" with { type: "json" }
import { seedLedger } from "./utils/seed-ledger.js"

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

describe("SQLite's native addon", () => {
  // The bundles hold better-sqlite3's JavaScript and require its addon from the installed package
  // (build/plugins.ts, sqliteAddonByPath): a copy of dist/ beside a node_modules laid out by hand shows
  // where they look. Each layout runs the three ways the state database is opened: status and gate
  // evaluate (dist/lean-state.cjs) and memory status (dist/cli.cjs).
  const installed = dirname(
    createRequire(join(import.meta.dirname, "../package.json")).resolve("better-sqlite3/package.json")
  )
  const ran = mkdtempSync(join(tmpdir(), "bin-ran-"))
  cpSync(join(import.meta.dirname, "../../../examples/hello-node"), ran, { recursive: true })
  const seeded = Effect.runPromise(seedLedger(ran, [{ issueId: "HELLO-1", runId: "HELLO-1-r1" }]))

  /** dist/ (without source maps and the example) in a fresh directory, and its node_modules. */
  const installation = () => {
    const root = mkdtempSync(join(tmpdir(), "bin-install-"))
    cpSync(join(import.meta.dirname, "../dist"), join(root, "dist"), {
      recursive: true,
      filter: (source) => !/\.map$|[\\/](example|dashboard)$/.test(source)
    })
    mkdirSync(join(root, "node_modules"))
    return root
  }
  const readState = (root: string) =>
    [["status"], ["gate", "evaluate", "HELLO-1"], ["memory", "status"]].map((args) =>
      spawnSync(process.execPath, [join(root, "dist/spec-orch.cjs"), "--cwd", ran, ...args], {
        encoding: "utf8",
        env: { ...process.env, SPEC_ORCH_COMPILE_CACHE: "off" }
      })
    )
  const assertRead = (root: string) => {
    const [status, gate, memory] = readState(root)
    assert.deepStrictEqual([status!.status, status!.stderr], [0, ""])
    // The recorded run is judged (the seed records no spec or verification, so it cannot pass).
    assert.match(gate!.stdout, /^HELLO-1: BLOCKED \(could not judge: spec_exists/)
    assert.deepStrictEqual([memory!.status, memory!.stderr], [0, ""])
    assert.match(memory!.stdout, /state\.db \(sqlite\)[\s\S]*index +ok/)
  }

  it("is required from the installed package's build/Release, where its install puts it", async () => {
    await seeded
    const root = installation()
    symlinkSync(installed, join(root, "node_modules/better-sqlite3"))
    assertRead(root)
  })

  it("is found by bindings, run from the package, in any other place bindings searches (build/Debug here)", async () => {
    await seeded
    const root = installation()
    const copy = join(root, "node_modules/better-sqlite3")
    mkdirSync(join(copy, "build/Debug"), { recursive: true })
    cpSync(join(installed, "package.json"), join(copy, "package.json"))
    cpSync(join(installed, "lib"), join(copy, "lib"), { recursive: true })
    cpSync(join(installed, "build/Release/better_sqlite3.node"), join(copy, "build/Debug/better_sqlite3.node"))
    symlinkSync(realpathSync(join(installed, "../bindings")), join(root, "node_modules/bindings"))
    assertRead(root)
  })

  // Node.js's or bindings' own words follow the first line, which says what failed and how to fix it.
  const assertAddonFails = (root: string, detail: RegExp) => {
    for (const r of readState(root)) {
      assert.strictEqual(r.status, 1)
      const [first, ...rest] = r.stderr.split("\n")
      assert.strictEqual(
        first,
        `spec-orch: cannot open ${join(ran, ".spec-orch/state.db")}: SQLite's native addon (better-sqlite3) does not load in Node.js ${process.version}. ` +
          "Install spec-orch again with this Node.js (or run `npm rebuild better-sqlite3` where it is installed)."
      )
      assert.match(rest.join("\n"), detail)
    }
  }
  /** A copy of the installed better-sqlite3 without its addon, and bindings beside it. */
  const withoutAddon = () => {
    const root = installation()
    const copy = join(root, "node_modules/better-sqlite3")
    cpSync(join(installed, "package.json"), join(copy, "package.json"))
    cpSync(join(installed, "lib"), join(copy, "lib"), { recursive: true })
    symlinkSync(realpathSync(join(installed, "../bindings")), join(root, "node_modules/bindings"))
    return { root, copy }
  }

  it("missing, stops the command with how to reinstall it and bindings' list of the places it looked", async () => {
    await seeded
    const { root } = withoutAddon()
    assertAddonFails(
      root,
      /^Could not locate the bindings file\. Tried:[\s\S]*build[\\/]Release[\\/]better_sqlite3\.node/
    )
  })

  // What a Node.js the addon was not built for (an ABI mismatch) meets: dlopen refuses the file.
  it("that does not load, stops the command with how to reinstall it and what dlopen said", async () => {
    await seeded
    const { root, copy } = withoutAddon()
    mkdirSync(join(copy, "build/Release"), { recursive: true })
    writeFileSync(join(copy, "build/Release/better_sqlite3.node"), "not a shared object\n")
    assertAddonFails(root, /better_sqlite3\.node: (invalid ELF header|file too short)/)
    // doctor shows it as its state database check, with the fix, and still runs the other checks.
    const doctor = spawnSync(process.execPath, [join(root, "dist/spec-orch.cjs"), "--cwd", ran, "doctor"], {
      encoding: "utf8",
      env: { ...process.env, SPEC_ORCH_COMPILE_CACHE: "off" }
    })
    assert.strictEqual(doctor.status, 1, doctor.stderr)
    const [, detail, fix] =
      /^✗ state database +(.*)\n +fix: (.*)$/m.exec(doctor.stdout) ??
      assert.fail(`no state database check in\n${doctor.stdout}`)
    assert.isTrue(
      detail!.startsWith(
        `cannot open ${join(ran, ".spec-orch/state.db")}: SQLite's native addon (better-sqlite3) does not load in Node.js ${process.version}: `
      ),
      detail
    )
    assert.match(detail!, /better_sqlite3\.node: (invalid ELF header|file too short)$/)
    assert.strictEqual(
      fix,
      "install spec-orch again with this Node.js (or run `npm rebuild better-sqlite3` where it is installed)"
    )
    assert.match(doctor.stdout, /^[✓!] disk\s/m)
  })
})
