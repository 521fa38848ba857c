import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { requirePostgres } from "@spec-orch/test-kit"

// The bundled binary copied where `better-sqlite3` (whose native addon the bundles require from the
// installed package) cannot be found, as when its prebuilt binary does not match the installed Node: a
// command that loads the state database or the run engine then fails; one that only reads does not load them.
const dist = mkdtempSync(join(tmpdir(), "lean-start-"))
cpSync(join(import.meta.dirname, "../dist"), dist, {
  recursive: true,
  filter: (source) => !/[\\/](dashboard|example)([\\/]|$)/.test(source)
})
const project = mkdtempSync(join(tmpdir(), "lean-start-project-"))
cpSync(join(import.meta.dirname, "../../../examples/hello-node"), project, { recursive: true })
const run = (...args: Array<string>) =>
  spawnSync(process.execPath, [join(dist, "spec-orch.cjs"), ...args], {
    encoding: "utf8",
    cwd: project,
    env: { ...process.env, SPEC_ORCH_COMPILE_CACHE: "off", NODE_PATH: "" }
  })

describe("reading commands load only what they read", () => {
  it("lists issues, checks the config and shows the gate policy without the state database", () => {
    const issues = run("issue", "list")
    assert.strictEqual(issues.status, 0, issues.stderr)
    assert.include(issues.stdout, "HELLO-1")
    for (const args of [["config", "check"], ["gate", "show-policy"], ["--help"]]) {
      const r = run(...args)
      assert.strictEqual(r.status, 0, `${args.join(" ")}: ${r.stderr}`)
    }
  })

  it("still needs the state database for status, and says which module is missing", () => {
    // A project that has run (an empty file is an empty SQLite database); one that never ran needs none.
    mkdirSync(join(project, ".spec-orch"), { recursive: true })
    writeFileSync(join(project, ".spec-orch", "state.db"), "")
    const r = run("status")
    assert.strictEqual(r.status, 1)
    assert.include(r.stderr, "better-sqlite3")
  })

  // Node's process spawner, hashing and line reading take ~6 ms to load together: they load when a
  // command spawns a process, hashes or reads from the terminal, which no reading command does. Nor
  // does one format a stack trace (the first costs ~4 ms in a bundle this size; tsup.config.ts answers
  // effect's load-time stack probes when it builds).
  it("loads node:child_process, node:crypto and node:readline only for a command that uses them, and formats no stack trace", () => {
    const preload = join(project, "builtins-loaded.cjs")
    writeFileSync(
      preload,
      [
        "let stacks = 0",
        "const format = Error.prepareStackTrace",
        "Error.prepareStackTrace = (...args) => { stacks++; return format ? format(...args) : `${args[0]}` }",
        `process.on("exit", () => require("node:fs").writeFileSync(process.env.BUILTINS_OUT, [...process.moduleLoadList, "stacks " + stacks].join("\\n")))`
      ].join("\n")
    )
    const loaded = (...args: Array<string>) => {
      const out = join(project, "builtins.txt")
      const r = spawnSync(process.execPath, ["--require", preload, join(dist, "spec-orch.cjs"), ...args], {
        encoding: "utf8",
        cwd: project,
        env: { ...process.env, SPEC_ORCH_COMPILE_CACHE: "off", BUILTINS_OUT: out }
      })
      const modules = readFileSync(out, "utf8").split("\n")
      return {
        status: r.status,
        stderr: r.stderr,
        has: (m: string) => modules.includes(`NativeModule ${m}`),
        formatted: (n: number) => modules.includes(`stacks ${n}`)
      }
    }
    const heavy = ["child_process", "crypto", "readline"]
    for (const args of [["--help"], ["config", "check"], ["gate", "show-policy"], ["issue", "list"]]) {
      const r = loaded(...args)
      assert.strictEqual(r.status, 0, `${args.join(" ")}: ${r.stderr}`)
      assert.deepStrictEqual(heavy.filter(r.has), [], args.join(" "))
      assert.isTrue(r.formatted(0), `${args.join(" ")} formatted a stack trace`)
    }
    // `doctor` runs git (dist/cli.cjs): the spawner still loads when it is needed.
    const doctor = loaded("doctor", "--json")
    assert.isTrue(doctor.has("child_process"), doctor.stderr)
  })
})

// Each process loads one bundle: dist/lean.cjs (`--help` and the read commands that read no state
// database, with only their handlers), dist/lean-state.cjs (`status` and `gate evaluate` judging a
// recorded run) or dist/cli.cjs (everything). A copy of the binary without some of them shows which one a
// command needs; better-sqlite3 stays reachable (NODE_PATH) so `status` can open its state database.
// A bundle is a module function (tsup.config.ts): this script runs one with `args`, as the launcher does.
const runBundle = (file: string, args: ReadonlyArray<string>) => `
  const { Module, createRequire } = require("node:module")
  const file = ${JSON.stringify(file)}
  const bundle = new Module(file)
  bundle.filename = file
  const run = new (require("node:vm").Script)(require("node:fs").readFileSync(file, "latin1"), { filename: file })
  run.runInThisContext()(bundle.exports, createRequire(file), bundle, file, require("node:path").dirname(file))
  bundle.exports.main(${JSON.stringify(args)})`

describe("the launcher runs one bundle per command", () => {
  const cliDir = join(import.meta.dirname, "..")
  const without = (...bundles: ReadonlyArray<string>) => {
    const dir = mkdtempSync(join(tmpdir(), `lean-start-no-${bundles.join("-")}-`))
    cpSync(join(cliDir, "dist"), dir, {
      recursive: true,
      filter: (source) =>
        !bundles.some((bundle) => source.endsWith(`/${bundle}`)) && !/[\\/](dashboard|example)([\\/]|$)/.test(source)
    })
    return dir
  }
  const env = { ...process.env, SPEC_ORCH_COMPILE_CACHE: "off", NODE_PATH: join(cliDir, "node_modules") }
  const runIn = (dir: string, args: ReadonlyArray<string>) =>
    spawnSync(process.execPath, [join(dir, "spec-orch.cjs"), ...args], { encoding: "utf8", cwd: project, env })
  // What dist/cli.cjs, which holds every handler, prints for the same arguments.
  const full = (args: ReadonlyArray<string>) =>
    spawnSync(process.execPath, ["-e", runBundle(join(cliDir, "dist/cli.cjs"), args)], {
      encoding: "utf8",
      cwd: project,
      env
    })
  const evidence = join(import.meta.dirname, "../../../packages/evidence/test/fixtures/ci-evidence.json")
  const lean: ReadonlyArray<ReadonlyArray<string>> = [
    ["--help"],
    ["config", "check"],
    ["gate", "show-policy"],
    ["gate", "evaluate", "CI-42", "--evidence", evidence],
    ["issue", "list"],
    ["issue", "show", "HELLO-1"],
    // A root flag's value is not the command.
    ["--log-level", "warn", "config", "check"]
  ]
  // The read commands that read the state database.
  const withState: ReadonlyArray<ReadonlyArray<string>> = [
    ["status"],
    ["gate", "evaluate", "HELLO-1"],
    ["gate", "evaluate", "HELLO-1", "--json"]
  ]

  it("runs the read commands that read no state database from dist/lean.cjs, and the others from dist/lean-state.cjs", () => {
    const leanOnly = without("cli.cjs", "lean-state.cjs")
    for (const args of lean) {
      const r = runIn(leanOnly, args)
      assert.strictEqual(r.stdout, full(args).stdout, args.join(" "))
      assert.notStrictEqual(r.stdout, "", args.join(" "))
    }
    const stateOnly = without("cli.cjs", "lean.cjs")
    for (const args of withState) {
      assert.include(runIn(leanOnly, args).stderr, "lean-state.cjs", args.join(" "))
      const r = runIn(stateOnly, args)
      const expected = full(args)
      assert.strictEqual(r.stderr, expected.stderr, args.join(" "))
      assert.strictEqual(r.stdout, expected.stdout, args.join(" "))
    }
  })

  it("runs --help and the read commands from the lean bundles alone, printing what dist/cli.cjs prints", () => {
    const dir = without("cli.cjs")
    for (const args of [...lean, ...withState]) {
      const r = runIn(dir, args)
      const expected = full(args)
      assert.strictEqual(r.stderr, expected.stderr, args.join(" "))
      assert.strictEqual(r.stdout, expected.stdout, args.join(" "))
      assert.strictEqual(r.status, expected.status, args.join(" "))
      assert.notStrictEqual(r.stdout + r.stderr, "", args.join(" "))
    }
  })

  it("runs every other command from dist/cli.cjs", () => {
    const noFull = runIn(without("cli.cjs"), ["mission", "list"])
    assert.notStrictEqual(noFull.status, 0)
    assert.include(noFull.stderr, "cli.cjs")
    const r = runIn(without("lean.cjs"), ["mission", "list"])
    assert.strictEqual(r.status, 0, r.stderr)
    assert.include(r.stdout, "No missions")
  })
})

// `status` loads the Postgres client only on a cluster: the layer comes from a module the bundle
// initialises on demand, and its answers (an unusable URL, the runs in Postgres) still come through.
const pg = requirePostgres()

describe("status and explain on a cluster project", () => {
  const cluster = mkdtempSync(join(tmpdir(), "lean-start-cluster-"))
  cpSync(join(import.meta.dirname, "../../../examples/hello-node"), cluster, { recursive: true })
  appendFileSync(
    join(cluster, "spec-orch.toml"),
    '\n[cluster]\nstorage = "postgres"\nurl_env = "LEAN_START_PG"\nrunner_address = "127.0.0.1:34431"\n'
  )
  const cli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
    spawnSync(process.execPath, [join(import.meta.dirname, "../dist/spec-orch.cjs"), ...args], {
      encoding: "utf8",
      cwd: cluster,
      env: { ...process.env, SPEC_ORCH_COMPILE_CACHE: "off", ...env }
    })

  it("says which variable is missing when the cluster's URL is not set", () => {
    const r = cli(["status"], {})
    assert.strictEqual(r.status, 1)
    assert.include(r.stderr, '[cluster] storage = "postgres": LEAN_START_PG is not set')
  })

  it.skipIf(!pg.run)(pg.title("reads the runs from the cluster's Postgres"), () => {
    const r = cli(["status"], { LEAN_START_PG: pg.url ?? "" })
    assert.strictEqual(r.status, 0, r.stderr)
    assert.strictEqual(r.stderr, "")
  })

  it.skipIf(!pg.run)(pg.title("says the evidence it looked for is in the cluster's Postgres, not a local file"), () => {
    const r = cli(["explain", "NEVER-RUN-1"], { LEAN_START_PG: pg.url ?? "" })
    assert.strictEqual(r.status, 1, r.stdout)
    assert.include(r.stderr, "no evidence recorded for NEVER-RUN-1 in the cluster's Postgres ($LEAN_START_PG)")
  })
})
