/**
 * The esbuild plugins of the CLI's bundles (tsup.config.ts), apart so that the start-up bench can
 * build its Effect floor (bench/effect-floor.ts) exactly as the CLI's own read commands are built.
 */
import { existsSync, readFileSync } from "node:fs"
import type { Options } from "tsup"

export type Plugin = NonNullable<Options["esbuildPlugins"]>[number]

// zod's namespace carries ~40 locales (400 kB) that every start would compile; spec-orch speaks English only.
export const zodEnglishOnly: Plugin = {
  name: "zod-english-only",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer)
        ? { path: new URL("../src/zod-locales.ts", import.meta.url).pathname }
        : undefined
    )
  }
}

/**
 * esbuild's banner and footer that write a bundle as the launcher runs it: the body of a CommonJS
 * module already wrapped in its module function (see tsup.config.ts).
 */
export const moduleFunction = {
  banner: { js: "(function (exports, require, module, __filename, __dirname) {" },
  footer: { js: "})" }
}

/** The libraries each built as a file of its own in dist/ (the bundles require it on first use), by import path. */
const APART: Readonly<Record<string, string>> = { "@linear/sdk": "linear-sdk", "@octokit/rest": "octokit" }

/**
 * Sends every import of a library in APART, but its own entry's (src/<file>.ts), to `./<file>.cjs`: the
 * Linear SDK (1.9 MB, loaded only with Linear) and Octokit (95 KB, only with GitHub).
 */
export const sdksApart: Plugin = {
  name: "sdks-apart",
  setup(build) {
    build.onResolve({ filter: /^(@linear\/sdk|@octokit\/rest)$/ }, (args) => {
      const file = APART[args.path]!
      return args.importer.endsWith(`${file}.ts`) ? undefined : { path: `./${file}.cjs`, external: true }
    })
  }
}

// effect/cli's CliOutput builds an Intl.Segmenter when it loads, and measures every help and table cell
// with it; creating one costs ~15 ms (ICU's grapheme data). Here the segmenter is created on first use,
// and text that is printable ASCII after its colours are stripped (one cell per character, as the
// segmenter would count it) is measured without it. The build fails if the code this rewrites changes,
// so an effect upgrade cannot undo it silently.
export const lazySegmenter: Plugin = {
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
          `${args.path}: the Intl.Segmenter this build makes lazy is not used as it was; update lazySegmenter in build/plugins.ts`
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
          `${args.path}: displayWidth no longer segments stripAnsi(text); update lazySegmenter in build/plugins.ts`
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
export const v8StackProbes: Plugin = {
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
            `${args.path}: effect's stack probe is not where it was; update v8StackProbes in build/plugins.ts`
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
            `${args.path}: on this Node effect's stack probe answers ${String(result)}; update v8StackProbes in build/plugins.ts`
          )
        return { contents: source.replace(probeCode, answer), loader: "js" }
      })
  }
}

// @effect/platform-node's file system and terminal import node:crypto (~3 ms to load) and node:readline
// (~1 ms) when they load, though they use them only to name a temp file and to read keys or lines:
// here each use gets the module then (process.getBuiltinModule), so a command that does neither does
// not load them. Its file system also reads directories with node:fs's promise API, its only use of it:
// the first use loads fs.promises and what that requires (readline, the watchers, directory handles),
// about 0.6 MiB of a read command's peak (pnpm bench startup); here both calls use fs.readdir's callback,
// which takes the same options and fails with the same errors. The build fails if the code this rewrites
// changes.
export const lazyNodeBuiltins: Plugin = {
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
            `${args.path}: ${module} is no longer imported and used as it was; update lazyNodeBuiltins in build/plugins.ts`
          )
        let contents = source
          .replace(statement, "")
          .replace(use, `process.getBuiltinModule(${JSON.stringify(module)}).`)
        if (namespace === "Crypto") {
          const readdir = "NFS.promises.readdir("
          if (contents.split(readdir).length !== 3 || contents.split("NFS.promises.").length !== 3)
            throw new Error(
              `${args.path}: fs.promises is no longer used as it was; update lazyNodeBuiltins in build/plugins.ts`
            )
          contents = contents.replaceAll(
            readdir,
            "((path, options) => new Promise((resolve, reject) => NFS.readdir(path, options, (error, entries) => error ? reject(error) : resolve(entries))))("
          )
        }
        return { contents, loader: "js" }
      })
  }
}

/**
 * better-sqlite3's JavaScript bundled in, its addon loaded by path. Required from disk, its dozen modules
 * are compiled on every start (a bundle's code is in the code cache; a required file's is not): bundled,
 * `status` and `gate evaluate` on a project that has run start 6-9 ms sooner and peak 0.2-0.4 MiB lower.
 * Its own lookup (`bindings`, which searches from its caller's file) would look beside the bundle, so it
 * is replaced: the addon is required from better-sqlite3's package (a dependency of the CLI) at
 * build/Release, where its install puts it, and any other layout is left to `bindings` run from that
 * package. scripts/pack-check.mjs fails a tarball that bundles the lookup unreplaced.
 */
export const sqliteAddonByPath: Plugin = {
  name: "sqlite-addon-by-path",
  setup(build) {
    build.onLoad({ filter: /[\\/]better-sqlite3[\\/]lib[\\/]database\.js$/ }, (args) => {
      const source = readFileSync(args.path, "utf8")
      const lookup = "require('bindings')('better_sqlite3.node')"
      if (source.split(lookup).length !== 2)
        throw new Error(
          `${args.path}: the addon is no longer looked up with ${lookup}; update sqliteAddonByPath in build/plugins.ts`
        )
      const byPath = `((manifest) => {
  const fromPackage = require("node:module").createRequire(manifest)
  try {
    return fromPackage("./build/Release/better_sqlite3.node")
  } catch (error) {
    if (error === null || typeof error !== "object" || error.code !== "MODULE_NOT_FOUND") throw error
    return fromPackage("bindings")({ bindings: "better_sqlite3.node", module_root: require("node:path").dirname(manifest) })
  }
})(require.resolve("better-sqlite3/package.json"))`
      return { contents: source.replace(lookup, byPath), loader: "js" }
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
export const barrelsToModules: Plugin = {
  name: "barrels-to-modules",
  setup(build) {
    const ours = /[\\/](apps[\\/]cli[\\/](?:src|bench)|packages[\\/][\w-]+[\\/]src)[\\/][^\\]*\.ts$/
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
