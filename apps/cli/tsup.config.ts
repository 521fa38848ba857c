import { createHash } from "node:crypto"
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire, Module } from "node:module"
import { dirname, resolve } from "node:path"
import { Script } from "node:vm"
import { defineConfig, type Options } from "tsup"
import {
  barrelsToModules,
  lazyNodeBuiltins,
  lazySegmenter,
  moduleFunction,
  sdksApart,
  sqliteAddonByPath,
  type Plugin,
  v8StackProbes,
  zodEnglishOnly
} from "./build/plugins.js"

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as { version: string }

// The CLI ships as three CommonJS bundles, and each process loads exactly one of them (so one copy of
// effect): Node 20 can keep V8's compiled code for a CommonJS script (vm.Script cachedData) but not for
// ES modules, and compiling a bundle is the largest part of start-up.
// - dist/lean.cjs and dist/lean-state.cjs (src/lean.ts) hold the whole command tree, so `--help` and usage
//   errors read the same, but only the handlers of some read commands (LEAN_BUNDLES below); every other
//   handler module is an empty stand-in. dist/lean.cjs reads no state database (`--help`, `config`,
//   `issue`, `gate` with --evidence): without the state database's code (SQLite's and Postgres's clients,
//   the run and evidence stores) it is a third smaller, and a command peaks about 1 MiB lower. As their
//   imports through barrels go straight to the defining modules (barrelsToModules) far less of them runs.
// - dist/cli.cjs (src/entry.ts) holds everything.
// dist/spec-orch.cjs (the `spec-orch` bin, from launcher/spec-orch.cjs) answers `--version` without
// loading anything, picks the bundle from its LEAN and LEAN_STATE command lists and runs it through the
// code cache; it reads the bundle as Latin-1, which is only right for ASCII, so the build refuses anything
// else. The build also fails unless each list is exactly the commands its bundle can run.
// The Linear SDK is dist/linear-sdk.cjs, required only when Linear is used; Octokit is dist/octokit.cjs,
// required only when GitHub is.
// Each bundle is written already wrapped in the CommonJS module function, `(function (exports, require,
// module, __filename, __dirname) {…})`, which is what the launcher compiles: wrapping it at start-up would
// hold the megabytes of source twice (the file's text and the wrapped copy V8 compiles). So they are
// not modules to require(): `runBundle` below (and the launcher) run them.
// dist/main.js is the same bin as an ES module entry, for `node dist/main.js …`.
// better-sqlite3's JavaScript is bundled too; its native addon is required from the installed package at
// run time (sqliteAddonByPath in build/plugins.ts), which is why better-sqlite3 stays a dependency.
const esmBin = `#!/usr/bin/env node
import { createRequire } from "node:module"
createRequire(import.meta.url)("./spec-orch.cjs")
`

/**
 * The lean bundles: the handler modules (src/commands/*.run.ts) each holds, and whether it holds the state
 * database's services (src/LedgerPlane.ts, which `gate evaluate` loads to judge a recorded run).
 */
const LEAN_BUNDLES = {
  lean: { handlers: new Set(["config.run", "gate.run", "gate.policy.run", "issue.run"]), state: false },
  "lean-state": { handlers: new Set(["gate.run", "gate.policy.run", "status.run"]), state: true }
} as const

// In a lean bundle a command handler module that is not in its handlers is an empty module; in one
// without the state, so are the state database's services.
const leanHandlersOnly = ({ handlers, state }: (typeof LEAN_BUNDLES)[keyof typeof LEAN_BUNDLES]): Plugin => ({
  name: "lean-handlers-only",
  setup(build) {
    const inCommands = (importer: string) => /[\\/]src[\\/]commands[\\/]/.test(importer)
    build.onResolve({ filter: /^\.\/[\w.-]+\.run\.js$/ }, (args) => {
      const name = args.path.slice(2, -".js".length)
      if (!inCommands(args.importer) || handlers.has(name)) return undefined
      return { path: name, namespace: "not-in-lean" }
    })
    if (!state)
      build.onResolve({ filter: /^\.\.\/LedgerPlane\.js$/ }, (args) =>
        inCommands(args.importer) ? { path: "LedgerPlane", namespace: "no-state-database" } : undefined
      )
    build.onLoad({ filter: /.*/, namespace: "not-in-lean" }, () => ({
      contents: "export const notInThisBundle = true\n",
      loader: "js"
    }))
    // Only a launcher that sent a command needing the state database to this bundle gets here.
    build.onLoad({ filter: /.*/, namespace: "no-state-database" }, () => ({
      contents:
        'export const withLedger = () => { throw new Error("spec-orch: this bundle reads no state database") }\n',
      loader: "js"
    }))
  }
})

const shared = {
  format: ["cjs"],
  target: "node20",
  platform: "node",
  noExternal: [/.*/],
  shims: true,
  sourcemap: true,
  // Both builds write to dist/ at once: it is emptied below, before either starts.
  clean: false,
  splitting: false,
  minify: true,
  // The bundle runs as a vm.Script, which has no loader for import(): the lazy require of the SDK must be a require.
  esbuildOptions: (options) => {
    options.supported = { ...options.supported, "dynamic-import": false }
  }
} satisfies Options

const asciiOnly = (file: string): Buffer => {
  const bundle = readFileSync(file)
  const offset = bundle.findIndex((byte) => byte > 0x7f)
  if (offset !== -1) {
    const line = bundle.subarray(0, offset).toString("latin1").split("\n").length
    throw new Error(`${file} has a non-ASCII byte at line ${line}; write it as a \\u escape in the source`)
  }
  return bundle
}

/** Runs a bundle as the launcher does (a module function compiled from the file as it is) and returns its exports. */
const runBundle = (file: string): unknown => {
  const filename = resolve(file)
  const bundle = new Module(filename)
  bundle.filename = filename
  const run = new Script(readFileSync(filename, "latin1"), { filename }).runInThisContext() as (
    ...args: ReadonlyArray<unknown>
  ) => void
  run(bundle.exports, createRequire(filename), bundle, filename, dirname(filename))
  return bundle.exports
}

let fullBuilt: () => void = () => undefined
const full = new Promise<void>((resolve) => (fullBuilt = resolve))
let stateBuilt: () => void = () => undefined
const leanState = new Promise<void>((resolve) => (stateBuilt = resolve))

type LeanExports = {
  commandNames: ReadonlyArray<string>
  rootValueFlags: ReadonlyArray<string>
  handledCommands: () => Promise<ReadonlyArray<string>>
}

/** Fails unless the launcher's `list` (e.g. LEAN) is exactly the commands `bundle` can run. */
const checkLeanList = async (source: string, list: string, bundle: string, lean: LeanExports) => {
  const listed = new RegExp(`const ${list} = new Set\\((\\[[^\\]]*\\])\\)`).exec(source)
  if (listed === null) throw new Error(`launcher/spec-orch.cjs: no \`const ${list} = new Set([...])\` list`)
  const launcher = (JSON.parse(listed[1]!.replaceAll("'", '"')) as Array<string>).toSorted()
  const handled = (await lean.handledCommands()).toSorted()
  if (launcher.join() !== handled.join())
    throw new Error(
      `launcher/spec-orch.cjs sends [${launcher.join(", ")}] to ${bundle}, which handles [${handled.join(", ")}]: ` +
        `make the launcher's ${list} list and LEAN_BUNDLES in tsup.config.ts agree`
    )
}

const leanPlugins = (name: keyof typeof LEAN_BUNDLES) => [
  zodEnglishOnly,
  sdksApart,
  lazySegmenter,
  v8StackProbes,
  lazyNodeBuiltins,
  sqliteAddonByPath,
  barrelsToModules,
  leanHandlersOnly(LEAN_BUNDLES[name])
]

rmSync("dist", { recursive: true, force: true })

export default defineConfig([
  {
    ...shared,
    entry: { "linear-sdk": "src/linear-sdk.ts", octokit: "src/octokit.ts" },
    esbuildPlugins: [zodEnglishOnly, sdksApart, lazySegmenter, v8StackProbes, lazyNodeBuiltins]
  },
  {
    ...shared,
    // dist/linear-sdk.cjs and dist/octokit.cjs (above) stay modules: the bundles require them.
    ...moduleFunction,
    entry: { cli: "src/entry.ts" },
    esbuildPlugins: [zodEnglishOnly, sdksApart, lazySegmenter, v8StackProbes, lazyNodeBuiltins, sqliteAddonByPath],
    onSuccess: async () => {
      asciiOnly("dist/cli.cjs")
      fullBuilt()
    }
  },
  {
    ...shared,
    ...moduleFunction,
    entry: { "lean-state": "src/lean.ts" },
    esbuildPlugins: leanPlugins("lean-state"),
    onSuccess: async () => {
      asciiOnly("dist/lean-state.cjs")
      stateBuilt()
    }
  },
  {
    ...shared,
    ...moduleFunction,
    entry: { lean: "src/lean.ts" },
    esbuildPlugins: leanPlugins("lean"),
    onSuccess: async () => {
      await Promise.all([full, leanState])
      const bundles = ["dist/cli.cjs", "dist/lean.cjs", "dist/lean-state.cjs"].map(asciiOnly)
      const hash = createHash("sha256")
      for (const bundle of bundles) hash.update(bundle)
      const build = hash.digest("hex").slice(0, 16)
      const lean = runBundle("dist/lean.cjs") as LeanExports
      const source = readFileSync("launcher/spec-orch.cjs", "utf8")
      await checkLeanList(source, "LEAN", "dist/lean.cjs", lean)
      await checkLeanList(source, "LEAN_STATE", "dist/lean-state.cjs", runBundle("dist/lean-state.cjs") as LeanExports)
      const launcher = source
        .replaceAll("__VERSION__", pkg.version)
        .replaceAll("__BUILD__", build)
        .replaceAll("__COMMANDS__", JSON.stringify(lean.commandNames))
        .replaceAll("__VALUED__", JSON.stringify(lean.rootValueFlags))
      writeFileSync("dist/spec-orch.cjs", launcher, { mode: 0o755 })
      writeFileSync("dist/main.js", esmBin, { mode: 0o755 })
      // `spec-orch dashboard` serves its page (plain HTML, JS and CSS, no CDN) from beside the bin.
      rmSync("dist/dashboard", { recursive: true, force: true })
      cpSync("../../packages/control/src/dashboard/page", "dist/dashboard", { recursive: true })
      // `spec-orch selftest` runs the quick start's example: it ships beside the bin.
      rmSync("dist/example", { recursive: true, force: true })
      cpSync("../../examples/hello-node", "dist/example/hello-node", {
        recursive: true,
        filter: (source) => !/[\\/](node_modules|\.spec-orch)([\\/]|$)/.test(source)
      })
    }
  }
])
