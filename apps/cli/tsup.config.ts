import { createHash } from "node:crypto"
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { defineConfig, type Options } from "tsup"

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as { version: string }

// The CLI ships as two CommonJS bundles, and each process loads exactly one of them (so one copy of
// effect): Node 20 can keep V8's compiled code for a CommonJS script (vm.Script cachedData) but not for
// ES modules, and compiling a bundle is the largest part of start-up.
// - dist/lean.cjs (src/lean.ts) holds the whole command tree, so `--help` and usage errors read the same,
//   but only the handlers of the read commands (LEAN_HANDLERS below: `config`, `gate`, `issue`, `status`);
//   every other handler module is an empty stand-in. It is about half the size of dist/cli.cjs, and as its
//   imports through barrels go straight to the defining modules (barrelsToModules) far less of it runs.
// - dist/cli.cjs (src/entry.ts) holds everything.
// dist/spec-orch.cjs (the `spec-orch` bin, from launcher/spec-orch.cjs) answers `--version` without
// loading anything, picks the bundle from its LEAN command list and runs it through the code cache; it
// reads the bundle as Latin-1, which is only right for ASCII, so the build refuses anything else. The
// build also fails unless the launcher's LEAN list is exactly the commands dist/lean.cjs can run.
// The Linear SDK is dist/linear-sdk.cjs, required only when Linear is used.
// dist/main.js is the same bin as an ES module entry, for `node dist/main.js …`.
// Native addons (better-sqlite3) stay external: noExternal wins over external, so exclude them here.
const esmBin = `#!/usr/bin/env node
import { createRequire } from "node:module"
createRequire(import.meta.url)("./spec-orch.cjs")
`

/** The handler modules (src/commands/*.run.ts) dist/lean.cjs holds. */
const LEAN_HANDLERS = new Set(["config.run", "gate.run", "issue.run", "status.run"])

type Plugin = NonNullable<Options["esbuildPlugins"]>[number]

// zod's namespace carries ~40 locales (400 kB) that every start would compile; spec-orch speaks English only.
const zodEnglishOnly: Plugin = {
  name: "zod-english-only",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer)
        ? { path: new URL("./src/zod-locales.ts", import.meta.url).pathname }
        : undefined
    )
  }
}

const linearSdkApart: Plugin = {
  name: "linear-sdk-apart",
  setup(build) {
    build.onResolve({ filter: /^@linear\/sdk$/ }, (args) =>
      args.importer.endsWith("linear-sdk.ts") ? undefined : { path: "./linear-sdk.cjs", external: true }
    )
  }
}

// effect/cli's CliOutput builds an Intl.Segmenter when it loads, and measures every help and table cell
// with it; creating one costs ~15 ms (ICU's grapheme data). Here the segmenter is created on first use,
// and text that is printable ASCII after its colours are stripped (one cell per character, as the
// segmenter would count it) is measured without it. The build fails if the code this rewrites changes,
// so an effect upgrade cannot undo it silently.
const lazySegmenter: Plugin = {
  name: "lazy-grapheme-segmenter",
  setup(build) {
    build.onLoad({ filter: /[\\/]effect[\\/]dist[\\/]cli[\\/]CliOutput\.js$/ }, (args) => {
      const source = readFileSync(args.path, "utf8")
      const declaration = /const graphemeSegmenter = (?:\/\*#__PURE__\*\/)?new Intl\.Segmenter\(([^;]*)\);/
      const measure = "export const displayWidth = text => {"
      const segmented = "graphemeSegmenter.segment(stripAnsi(text))"
      const found = declaration.exec(source)
      if (found === null || source.split(measure).length !== 2 || source.split("graphemeSegmenter.").length !== 2)
        throw new Error(
          `${args.path}: the Intl.Segmenter this build makes lazy is not used as it was; update lazySegmenter in tsup.config.ts`
        )
      const contents = source
        .replace(
          declaration,
          `let graphemeSegmenterValue;\nconst graphemeSegmenter = () => graphemeSegmenterValue ??= new Intl.Segmenter(${found[1]});`
        )
        .replace(
          measure,
          `${measure}\n  const plain = stripAnsi(text);\n  if (/^[\\x20-\\x7e]*$/.test(plain)) return plain.length;`
        )
        .replace(segmented, "graphemeSegmenter().segment(plain)")
      if (!contents.includes("graphemeSegmenter().segment(plain)"))
        throw new Error(
          `${args.path}: displayWidth no longer segments stripAnsi(text); update lazySegmenter in tsup.config.ts`
        )
      return { contents, loader: "js" }
    })
  }
}

// effect probes the engine when it loads: it creates an Error and reads its stack twice, to learn whether
// frames show the property a function was stored under (Utils.js internalCall, internal/effect.js
// continuationMarksStack). The first stack V8 formats in a script costs ~4 ms in a 2 MB bundle, and
// nothing else in a command formats one. Node is V8, so the answer is known when we build: the build
// runs effect's own probe code on the Node that builds, fails unless it gives the answer written in
// (or if the code it replaces changes), and the bundle keeps the stackTraceLimit = 0 case as it is.
const v8StackProbes: Plugin = {
  name: "v8-stack-probes",
  setup(build) {
    // What the probes use from effect's internal/stackTraceLimit.js, and the limit they restore.
    const limits = [
      "const getStackTraceLimit = () => Error.stackTraceLimit;",
      "const setStackTraceLimit = (n) => { Error.stackTraceLimit = n };",
      "const limit = getStackTraceLimit();"
    ].join("\n")
    const probes: ReadonlyArray<{ file: RegExp; probe: RegExp; answer: string; expect: (result: unknown) => boolean }> =
      [
        {
          file: /[\\/]effect[\\/]dist[\\/]Utils\.js$/,
          // pickInternalCall, from the probe to its answer: `standard` (frames show the property name)
          probe:
            /( {2}\/\/ Only the callback and internal call frames are needed for detection\.\n[\s\S]*?\n {2}return error\.stack\?\.includes\(InternalTypeId\) === true \? standard\[InternalTypeId\] : forced\[InternalTypeId\];\n)/,
          answer: "  return standard[InternalTypeId];\n",
          expect: (pick) => typeof pick === "function" && !String(pick).includes("finally")
        },
        {
          file: /[\\/]effect[\\/]dist[\\/]internal[\\/]effect\.js$/,
          // continuationMarksStack, from the probe to its answer: true
          probe:
            /( {2}const marker = "~effect\/Effect\/stackProbe";\n[\s\S]*?\n {2}return error\.stack\?\.includes\("\[as " \+ marker \+ "\]"\) === true;\n)/,
          answer: "  return true;\n",
          expect: (marks) => marks === true
        }
      ]
    for (const { file, probe, answer, expect } of probes)
      build.onLoad({ filter: file }, (args) => {
        const source = readFileSync(args.path, "utf8")
        const found = source.match(new RegExp(probe.source, "g"))
        if (found?.length !== 1)
          throw new Error(
            `${args.path}: effect's stack probe is not where it was; update v8StackProbes in tsup.config.ts`
          )
        const probeCode = found[0]
        // pickInternalCall's probe calls the `standard` it defines first.
        const [from, to] = [
          source.indexOf("  const InternalTypeId ="),
          source.indexOf("  const limit = getStackTraceLimit();")
        ]
        const setup = /InternalTypeId/.test(probeCode) && from !== -1 && to > from ? source.slice(from, to) : ""
        const result = new Function(`${setup}\n${limits}\n${probeCode}`)()
        if (!expect(result))
          throw new Error(
            `${args.path}: on this Node effect's stack probe answers ${String(result)}; update v8StackProbes in tsup.config.ts`
          )
        return { contents: source.replace(probeCode, answer), loader: "js" }
      })
  }
}

// @effect/platform-node's file system and terminal import node:crypto (~3 ms to load) and node:readline
// (~1 ms) when they load, though they use them only to name a temp file and to read keys or lines:
// here each use gets the module then (process.getBuiltinModule), so a command that does neither does
// not load them. The build fails if the code this rewrites changes.
const lazyNodeBuiltins: Plugin = {
  name: "lazy-node-builtins",
  setup(build) {
    const rewrites: ReadonlyArray<{ file: RegExp; namespace: string; module: string; uses: number }> = [
      {
        file: /[\\/]platform-node-shared[\\/]dist[\\/]NodeFileSystem\.js$/,
        namespace: "Crypto",
        module: "node:crypto",
        uses: 1
      },
      {
        file: /[\\/]platform-node-shared[\\/]dist[\\/]NodeTerminal\.js$/,
        namespace: "readline",
        module: "node:readline",
        uses: 2
      }
    ]
    for (const { file, namespace, module, uses } of rewrites)
      build.onLoad({ filter: file }, (args) => {
        const source = readFileSync(args.path, "utf8")
        const statement = `import * as ${namespace} from "${module}";\n`
        const use = new RegExp(`\\b${namespace}\\.`, "g")
        if (source.split(statement).length !== 2 || source.match(use)?.length !== uses)
          throw new Error(
            `${args.path}: ${module} is no longer imported and used as it was; update lazyNodeBuiltins in tsup.config.ts`
          )
        const contents = source
          .replace(statement, "")
          .replace(use, `process.getBuiltinModule(${JSON.stringify(module)}).`)
        return { contents, loader: "js" }
      })
  }
}

// Imports through a barrel (an index that only re-exports: effect's `effect`, `effect/cli`, …, and the
// `@spec-orch/*` package indexes) go straight to the modules that define the names. In a bundle that
// loads handlers lazily every module is initialised on demand, and initialising a barrel initialises
// everything it re-exports: `import { Effect } from "effect"` alone would run all of effect at start.
// A barrel is used only if it consists of `export … from` statements (`export type … from` included);
// names it does not list by name (`export * from`) keep coming from the barrel.
type Reexport = { readonly path: string; readonly name: string | undefined }
const barrelEntries = (file: string): Map<string, Reexport> | undefined => {
  const source = readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "")
  // `export type { … } from` re-exports nothing at run time: it is allowed, and skipped.
  const statement = /export\s+(?:type\s+\{[^}]*\}|\*\s+as\s+(\w+)|\{([^}]*)\}|\*)\s+from\s+"([^"]+)";?/g
  if (source.replace(statement, "").trim() !== "") return undefined
  const dir = file.slice(0, file.lastIndexOf("/"))
  const entries = new Map<string, Reexport>()
  for (const [, namespace, names, from] of source.matchAll(statement)) {
    if (!from!.startsWith(".")) continue
    const path = resolveSource(`${dir}/${from}`)
    if (namespace !== undefined) entries.set(namespace, { path, name: undefined })
    for (const item of names?.split(",") ?? []) {
      const [original, alias] = item
        .replace(/^\s*type\s+/, "")
        .trim()
        .split(/\s+as\s+/)
      if (original && !/^type\s/.test(item.trim())) entries.set(alias ?? original, { path, name: original })
    }
  }
  return entries
}
// "./X.js" in a TypeScript package means ./X.ts.
const resolveSource = (path: string): string => {
  const ts = path.replace(/\.js$/, ".ts")
  return ts !== path && existsSync(ts) ? ts : path
}
const barrels = new Map<string, Map<string, Reexport> | undefined>()
const barrelsToModules: Plugin = {
  name: "barrels-to-modules",
  setup(build) {
    const ours = /[\\/](apps[\\/]cli|packages[\\/][\w-]+)[\\/]src[\\/][^\\]*\.ts$/
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!ours.test(args.path) || args.path.includes("node_modules")) return undefined
      const source = readFileSync(args.path, "utf8")
      const resolveDir = args.path.slice(0, args.path.lastIndexOf("/"))
      const imports = /^import\s*\{([^}]*)\}\s*from\s*"((?:effect|@spec-orch\/[\w-]+)(?:\/[\w-]+)?)"\s*$/gm
      let contents = source
      for (const [statement, names, from] of source.matchAll(imports)) {
        const resolved = await build.resolve(from!, { resolveDir, kind: "import-statement" })
        if (resolved.errors.length > 0) continue
        if (!barrels.has(resolved.path)) barrels.set(resolved.path, barrelEntries(resolved.path))
        const entries = barrels.get(resolved.path)
        if (entries === undefined) continue
        const direct: Array<string> = []
        const rest: Array<string> = []
        // Types are erased, but under verbatimModuleSyntax `import { type T } from "barrel"` would
        // still load the barrel: they get an `import type` of their own.
        const types: Array<string> = []
        for (const item of names!
          .split(",")
          .map((n) => n.trim())
          .filter((n) => n !== "")) {
          const [original, alias] = item.split(/\s+as\s+/) as [string, string | undefined]
          const entry = original.startsWith("type ") ? undefined : entries.get(original)
          if (original.startsWith("type ")) types.push(item.slice("type ".length))
          else if (entry === undefined) rest.push(item)
          else if (entry.name === undefined)
            direct.push(`import * as ${alias ?? original} from ${JSON.stringify(entry.path)}`)
          else direct.push(`import { ${entry.name} as ${alias ?? original} } from ${JSON.stringify(entry.path)}`)
        }
        if (rest.length > 0) direct.push(`import { ${rest.join(", ")} } from ${JSON.stringify(from)}`)
        if (types.length > 0) direct.push(`import type { ${types.join(", ")} } from ${JSON.stringify(from)}`)
        contents = contents.replace(statement, direct.join("; "))
      }
      return contents === source ? undefined : { contents, loader: "ts", resolveDir }
    })
  }
}

// In dist/lean.cjs a command handler module that is not in LEAN_HANDLERS is an empty module.
const leanHandlersOnly: Plugin = {
  name: "lean-handlers-only",
  setup(build) {
    build.onResolve({ filter: /^\.\/[\w.-]+\.run\.js$/ }, (args) => {
      const name = args.path.slice(2, -".js".length)
      if (!/[\\/]src[\\/]commands[\\/]/.test(args.importer) || LEAN_HANDLERS.has(name)) return undefined
      return { path: name, namespace: "not-in-lean" }
    })
    build.onLoad({ filter: /.*/, namespace: "not-in-lean" }, () => ({
      contents: "export const notInThisBundle = true\n",
      loader: "js"
    }))
  }
}

const shared = {
  format: ["cjs"],
  target: "node20",
  platform: "node",
  noExternal: [/^(?!better-sqlite3(\/|$))/],
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

let fullBuilt: () => void = () => undefined
const full = new Promise<void>((resolve) => (fullBuilt = resolve))

rmSync("dist", { recursive: true, force: true })

export default defineConfig([
  {
    ...shared,
    entry: { cli: "src/entry.ts", "linear-sdk": "src/linear-sdk.ts" },
    esbuildPlugins: [zodEnglishOnly, linearSdkApart, lazySegmenter, v8StackProbes, lazyNodeBuiltins],
    onSuccess: async () => {
      asciiOnly("dist/cli.cjs")
      fullBuilt()
    }
  },
  {
    ...shared,
    entry: { lean: "src/lean.ts" },
    esbuildPlugins: [
      zodEnglishOnly,
      linearSdkApart,
      lazySegmenter,
      v8StackProbes,
      lazyNodeBuiltins,
      barrelsToModules,
      leanHandlersOnly
    ],
    onSuccess: async () => {
      await full
      const bundles = ["dist/cli.cjs", "dist/lean.cjs"].map(asciiOnly)
      const build = createHash("sha256").update(bundles[0]!).update(bundles[1]!).digest("hex").slice(0, 16)
      const lean = createRequire(import.meta.url)("./dist/lean.cjs") as {
        commandNames: ReadonlyArray<string>
        handledCommands: () => Promise<ReadonlyArray<string>>
      }
      const source = readFileSync("launcher/spec-orch.cjs", "utf8")
      const listed = /const LEAN = new Set\((\[[^\]]*\])\)/.exec(source)
      if (listed === null) throw new Error("launcher/spec-orch.cjs: no `const LEAN = new Set([...])` list")
      const launcherLean = (JSON.parse(listed[1]!.replaceAll("'", '"')) as Array<string>).toSorted()
      const handled = (await lean.handledCommands()).toSorted()
      if (launcherLean.join() !== handled.join())
        throw new Error(
          `launcher/spec-orch.cjs sends [${launcherLean.join(", ")}] to dist/lean.cjs, which handles [${handled.join(", ")}]: ` +
            "make the launcher's LEAN list and LEAN_HANDLERS in tsup.config.ts agree"
        )
      const launcher = source
        .replaceAll("__VERSION__", pkg.version)
        .replaceAll("__BUILD__", build)
        .replaceAll("__COMMANDS__", JSON.stringify(lean.commandNames))
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
