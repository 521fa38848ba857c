#!/usr/bin/env node
"use strict"
// The `spec-orch` binary. tsup.config.ts copies this file to dist/spec-orch.cjs and fills in
// __VERSION__, __BUILD__ (a hash of the bundles), __COMMANDS__ (the top-level command names) and
// __VALUED__ (the root's flags that take a value, src/Cli.ts's rootValueFlags).
//
// `--version` is answered before anything loads. Everything else runs one of three one-file CommonJS
// bundles through V8's code cache: dist/lean.cjs for `--help` (no command) and the read commands in
// LEAN, which read no state database; dist/lean-state.cjs for those in LEAN_STATE that do (`status`, and
// `gate evaluate` judging a recorded run rather than an --evidence file); dist/cli.cjs, which holds
// everything, for the rest. Each lean bundle holds only its commands' handlers, and the build fails unless
// LEAN and LEAN_STATE are exactly what dist/lean.cjs and dist/lean-state.cjs can run. Compiling
// megabytes of JavaScript on every start costs more than a third of a second, so the bytecode V8
// produced on an earlier run of the same command (from the same bundle) is reused.
// The cache lives in $SPEC_ORCH_COMPILE_CACHE, else $XDG_CACHE_HOME/spec-orch/v8, else
// ~/.cache/spec-orch/v8; SPEC_ORCH_COMPILE_CACHE=off turns it off. It is keyed by the bundles' hash,
// the Node version, the bundle and the command, so a stale or foreign cache is never used; V8 also
// checks it and rejects a mismatch, in which case it is rewritten. Any failure to read or write it is ignored: the
// cache only ever makes start-up faster.
const args = process.argv.slice(2)
if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
  process.stdout.write("spec-orch v__VERSION__\n")
  return
}

const fs = require("node:fs")
const path = require("node:path")
const vm = require("node:vm")
const Module = require("node:module")
const os = require("node:os")

const BUILD = "__BUILD__"
const COMMANDS = new Set(__COMMANDS__)
const LEAN = new Set(["config", "gate", "issue"])
const LEAN_STATE = new Set(["gate", "status"])

const cacheDir = () => {
  const setting = process.env.SPEC_ORCH_COMPILE_CACHE
  if (setting === "off" || setting === "0" || setting === "false") return undefined
  if (setting) return setting
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache")
  return path.join(base, "spec-orch", "v8")
}

// The command decides which functions run, so each command gets its own cache. The root's flags that
// take a value (its own and effect/cli's) are skipped with it.
const VALUED = new Set(__VALUED__)
const commandAt = (argv) => {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (VALUED.has(a)) i++
    else if (!a.startsWith("-")) return i
  }
  return -1
}

const at = commandAt(args)
const command = at === -1 ? "root" : COMMANDS.has(args[at]) ? args[at] : "other"
// `gate evaluate <issue>` judges the recorded run, from the state database; with --evidence it
// judges a file and needs none.
const judgesRecordedRun =
  command === "gate" &&
  args.slice(at + 1).find((a) => !a.startsWith("-")) === "evaluate" &&
  !args.some((a) => a === "--evidence" || a.startsWith("--evidence="))
// A command both lean bundles can run (gate) runs from dist/lean-state.cjs only when it needs the state.
const name =
  LEAN_STATE.has(command) && (!LEAN.has(command) || judgesRecordedRun)
    ? "lean-state"
    : command === "root" || LEAN.has(command)
      ? "lean"
      : "cli"
const lean = name !== "cli"
const bundle = path.join(__dirname, `${name}.cjs`)
if (lean) {
  // A read command is over in a tenth of a second, before any function a compiler beyond the
  // interpreter would pick has paid back its compile; without them a read command peaks about 5 MiB
  // lower. Nor does its young generation grow: start-up keeps most of what it allocates, so V8 would
  // double the nursery at each collection, and its pages count towards the peak (about 2 MiB; pnpm
  // bench startup). Set before the bundle compiles, so the compile cache is made and checked under them.
  require("node:v8").setFlagsFromString("--no-turbofan --no-maglev --no-sparkplug --semi-space-growth-factor=1")
}
const dir = cacheDir()
const cacheFile = dir && path.join(dir, `${BUILD}-${process.version}-${process.arch}-${name}-${command}.bin`)
let cachedData
if (cacheFile) {
  try {
    cachedData = fs.readFileSync(cacheFile)
  } catch {
    cachedData = undefined
  }
}

// ASCII only (the build checks), so Latin-1 reads it exactly, and faster than UTF-8. The file is the
// module function itself (the build wraps it), so V8 compiles this one copy of its text.
const script = new vm.Script(fs.readFileSync(bundle, "latin1"), { filename: bundle, cachedData })
const stale = cachedData === undefined || script.cachedDataRejected === true
// V8 has what it needs from the cache now: its buffer (megabytes) is not kept for the command's life.
cachedData = undefined

if (cacheFile && stale) {
  // Written once the command has run, so the cache holds the functions it compiled on the way.
  process.once("exit", () => {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
      const tmp = `${cacheFile}.${process.pid}.tmp`
      fs.writeFileSync(tmp, script.createCachedData())
      fs.renameSync(tmp, cacheFile)
      // Caches of other builds or Node versions (an upgrade, a rebuild) go once they are a day old.
      const now = Date.now()
      for (const name of fs.readdirSync(dir)) {
        if (name.startsWith(`${BUILD}-${process.version}-`) || !name.endsWith(".bin")) continue
        const file = path.join(dir, name)
        if (now - fs.statSync(file).mtimeMs > 24 * 3600 * 1000) fs.rmSync(file, { force: true })
      }
    } catch {
      // read-only or full disk: run without a cache
    }
  })
}

const cli = new Module(bundle, module)
cli.filename = bundle
cli.paths = Module._nodeModulePaths(__dirname)
script.runInThisContext()(cli.exports, Module.createRequire(bundle), cli, bundle, __dirname)
cli.loaded = true
cli.exports.main(args)
