#!/usr/bin/env node
// Proves every published package installs and runs from its packed tarball, outside the monorepo:
//   1. `pnpm pack` each public package of support/*, packages/* and apps/* (after `pnpm build`);
//   2. read each tarball: no `workspace:`/`link:`/`file:` ranges, no private package among the runtime
//      dependencies, LICENSE and README present, every file `exports`/`bin` name is in the tarball, no
//      source map over MAX_MAP_BYTES, every package a JS file imports is a declared dependency (or a
//      peer) and every dependency is imported by some JS file (a bundled one must not be listed);
//   3. `npm install` all tarballs into a scratch project in a temp directory;
//   4. import and require each library where its `exports` promise them, type-check a module importing
//      them all (declarations included, as a TypeScript user with nodenext resolves them), open a database with the SQLite
//      driver (its native addon, installed by npm), run the evidence package's
//      embed-the-gate example (packages/evidence/examples/ci-gate.ts, as plain .mjs) against the installed
//      package (MERGEABLE and BLOCKED), and run the installed CLI's bin: --version, --help, `config check`
//      and `gate show-policy` on its bundled example, and `selftest` (the quick start, end to end).
// Prints one line per problem and a size table (tarball and unpacked bytes per package); exit 1 on any
// problem. Usage: node scripts/pack-check.mjs [--root <repo>] [--keep] [--markdown] [--build-native] [--tarballs <file.tgz>…]
//   --root      the repository to check (default: this one); --keep leaves the scratch directory;
//   --markdown  prints the size table as Markdown;
//   --build-native  runs install scripts, so npm builds better-sqlite3 as a user's install does (about a
//               minute more) instead of reusing the build `pnpm install` made;
//   --tarballs  checks these tarballs instead of packing the packages (last option; tests break copies).
import { spawnSync } from "node:child_process"
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from "node:fs"
import { builtinModules, createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join, relative } from "node:path"

/** Source maps above this size stay out of tarballs (the CLI's bundle map was 20 MB). */
export const MAX_MAP_BYTES = 1024 * 1024

const run = (command, args, options = {}) => {
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options })
  return {
    status: result.status ?? 1,
    stdout: result.stdout ?? "",
    stderr: (result.stderr ?? "") + (result.error ? String(result.error) : "")
  }
}

const readJson = (file) => JSON.parse(readFileSync(file, "utf8"))
const packageOf = (spec) => (spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0])
const isBuiltin = (spec) =>
  spec.startsWith("node:") || builtinModules.includes(spec) || builtinModules.includes(spec.split("/")[0])
const lastLines = (text, n = 6) => text.trim().split("\n").slice(-n).join("\n    ")

/** The public packages of a repository: packages/*, support/* and apps/* whose package.json is not private. */
export const publicPackages = (root) =>
  ["support", "packages", "apps"]
    .flatMap((part) =>
      existsSync(join(root, part)) ? readdirSync(join(root, part)).map((n) => join(root, part, n)) : []
    )
    .filter((dir) => existsSync(join(dir, "package.json")))
    .map((dir) => ({ dir, manifest: readJson(join(dir, "package.json")) }))
    .filter((p) => p.manifest.private !== true)

/** Names of the workspace's private packages (support/*, and any other marked private). */
const privateNames = (root) =>
  ["packages", "apps", "support"]
    .flatMap((part) =>
      existsSync(join(root, part)) ? readdirSync(join(root, part)).map((n) => join(root, part, n, "package.json")) : []
    )
    .filter((file) => existsSync(file))
    .map(readJson)
    .filter((m) => m.private === true)
    .map((m) => m.name)

/** Every file path a manifest's `exports`, `main`, `module`, `types` and `bin` name. */
const namedFiles = (manifest) => {
  const out = []
  const walk = (value) => {
    if (typeof value === "string") out.push(value)
    else if (value && typeof value === "object") for (const v of Object.values(value)) walk(v)
  }
  walk(manifest.exports)
  walk(manifest.bin)
  for (const key of ["main", "module", "types"]) if (typeof manifest[key] === "string") out.push(manifest[key])
  return out.map((f) => f.replace(/^\.\//, "")).filter((f) => !f.includes("*"))
}

/** The conditions under which a package's "." export resolves: which of import and require it promises. */
export const promisedLoaders = (manifest) => {
  const root =
    typeof manifest.exports === "object" && manifest.exports !== null && "." in manifest.exports
      ? manifest.exports["."]
      : manifest.exports
  if (root === undefined) return manifest.main ? ["require"] : []
  if (typeof root === "string") return ["import", "require"]
  const keys = Object.keys(root)
  if (keys.includes("default")) return ["import", "require"]
  return ["import", "require"].filter((k) => keys.includes(k))
}

/**
 * Bare package names a JavaScript file loads: `require("x")` in CommonJS files (a minified bundle holds
 * strings that only look like ES imports), and in ES modules also `import … from "x"`, `export … from "x"`,
 * `import "x"` and `import("x")`.
 */
const importsOf = (text, commonjs) => {
  const names = new Set()
  // require.resolve("pkg/…") counts: the bundle needs the package installed (the CLI finds its SQLite addon so).
  const patterns = [/require(?:\.resolve)?\(\s*["']([^"'\s]+)["']\s*\)/g]
  if (!commonjs)
    patterns.push(
      /^\s*(?:import|export)\b[^;"']*?\bfrom\s*["']([^"'\s]+)["']/gm,
      /^\s*import\s*["']([^"'\s]+)["']/gm,
      /\bimport\(\s*["']([^"'\s]+)["']\s*\)/g
    )
  for (const re of patterns) {
    for (const m of text.matchAll(re)) {
      const spec = m[1]
      if (spec.startsWith(".") || spec.startsWith("/") || spec.startsWith("#") || isBuiltin(spec)) continue
      names.add(packageOf(spec))
    }
  }
  return names
}

/**
 * Packages bundled code requires inside a try and works without: ws's native speed-ups, debug's colours,
 * the Redis client's (@redis/client) tracing and digest.
 */
export const OPTIONAL_REQUIRES = [
  "bufferutil",
  "utf-8-validate",
  "supports-color",
  "@opentelemetry/api",
  "@node-rs/xxhash"
]

/**
 * Native addons the tarballs depend on. `pnpm install` already compiled each for this Node; when the
 * scratch project gets the same version, its build is copied instead of compiled again (a minute on two
 * cores, proving nothing about our packages). Another version is built by its own install script.
 */
export const NATIVE = ["better-sqlite3"]

/** Static checks of one unpacked tarball (dir = its `package/` folder). */
export const checkTarball = (dir, privates) => {
  const problems = []
  const manifest = readJson(join(dir, "package.json"))
  const name = manifest.name
  const runtime = { ...manifest.dependencies, ...manifest.optionalDependencies, ...manifest.peerDependencies }
  for (const [dep, range] of Object.entries(runtime)) {
    if (/^(workspace|link|file|portal|catalog):/.test(String(range)))
      problems.push(
        `${name}: dependency ${dep} has the range "${range}", which no registry resolves; pack with pnpm so workspace: becomes a version`
      )
    if (privates.includes(dep))
      problems.push(
        `${name}: depends on ${dep}, a private package that is never published; bundle it into the build or make it public`
      )
  }
  if (!manifest.license) problems.push(`${name}: package.json has no "license"`)
  const files = []
  const walk = (d) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n)
      statSync(p).isDirectory() ? walk(p) : files.push(relative(dir, p))
    }
  }
  walk(dir)
  if (!files.some((f) => /^LICEN[CS]E(\.|$)/i.test(f)))
    problems.push(`${name}: the tarball has no LICENSE file; add one to the package folder and to "files"`)
  if (!files.some((f) => /^README(\.|$)/i.test(f)))
    problems.push(`${name}: the tarball has no README; add README.md to the package folder and to "files"`)
  for (const f of namedFiles(manifest))
    if (!files.includes(f))
      problems.push(`${name}: package.json names ${f}, which is not in the tarball (check "files" and the build)`)
  for (const f of files.filter((f) => f.endsWith(".map"))) {
    const size = statSync(join(dir, f)).size
    if (size > MAX_MAP_BYTES)
      problems.push(
        `${name}: ${f} is a ${(size / 1048576).toFixed(1)} MB source map (limit ${MAX_MAP_BYTES / 1048576} MB); leave it out of "files"`
      )
  }
  const imported = new Set()
  const commonjsPackage = manifest.type !== "module"
  for (const f of files.filter((f) => /\.(c|m)?js$/.test(f) && !f.includes("/example/"))) {
    const commonjs = f.endsWith(".cjs") || (commonjsPackage && f.endsWith(".js"))
    const text = readFileSync(join(dir, f), "utf8")
    // A native addon's JavaScript (better-sqlite3's) may be bundled only with its addon lookup replaced
    // (apps/cli/build/plugins.ts, sqliteAddonByPath): `bindings` searches from its caller's file, the bundle.
    if (/require\((["'])bindings\1\)\((["'])[\w.-]+\.node\2\)/.test(text))
      problems.push(
        `${name}: ${f} has a native addon's JavaScript bundled in with the addon looked up by \`bindings\`, which searches from the bundle and cannot find it there; keep the package (${NATIVE.join(", ")}) external, a dependency of the package or of one it depends on, or load the addon by path as apps/cli/build/plugins.ts does`
      )
    for (const dep of importsOf(text, commonjs)) {
      imported.add(dep)
      if (!(dep in runtime) && dep !== name && !OPTIONAL_REQUIRES.includes(dep))
        problems.push(
          `${name}: ${f} imports ${dep}, which is not among its dependencies or peerDependencies (users will not have it)`
        )
    }
  }
  // Declarations: what a .d.ts imports, a TypeScript user must be able to resolve.
  for (const f of files.filter((f) => /\.d\.(c|m)?ts$/.test(f))) {
    for (const dep of importsOf(readFileSync(join(dir, f), "utf8"), false)) {
      imported.add(dep)
      if (!(dep in runtime) && dep !== name)
        problems.push(
          `${name}: ${f} refers to ${dep}, which is not among its dependencies or peerDependencies (its types do not resolve for users)`
        )
    }
  }
  const warnings = []
  for (const dep of Object.keys({ ...manifest.dependencies })) {
    if (imported.has(dep)) continue
    // A program's build bundles what it imports: a dependency it never loads is one it bundled (or
    // does not use), and would only be downloaded for nothing. A library's unused dependency is the
    // boundary check's business (it reads the sources): here it is only a warning.
    if (manifest.bin)
      problems.push(
        `${name}: depends on ${dep}, which its bundle never loads (bundled or unused); move it to devDependencies`
      )
    else warnings.push(`${name}: depends on ${dep}, which none of its JavaScript imports`)
  }
  const bytes = files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0)
  return { name, manifest, problems: [...new Set(problems)], warnings, files: files.length, unpacked: bytes }
}

/** Loads every library the way its `exports` promise (import, require): one process per loader. */
const checkLibraries = (scratch, manifests) => {
  const problems = []
  for (const loader of ["import", "require"]) {
    const names = manifests.filter((m) => promisedLoaders(m).includes(loader)).map((m) => m.name)
    if (names.length === 0) continue
    const load = loader === "import" ? "await import(name)" : "require(name)"
    const code = `const failed = {}
      for (const name of ${JSON.stringify(names)}) { try { ${load} } catch (e) { failed[name] = String(e && e.stack || e) } }
      console.log(JSON.stringify(failed))`
    const r = run(process.execPath, [...(loader === "import" ? ["--input-type=module"] : []), "-e", code], {
      cwd: scratch
    })
    let failed
    try {
      failed = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "")
    } catch {
      failed = Object.fromEntries(names.map((n) => [n, r.stderr]))
    }
    for (const [name, error] of Object.entries(failed))
      problems.push(
        `${name}: \`${loader}\` of the installed package fails, though its exports promise it:\n    ${lastLines(error)}`
      )
  }
  return problems
}

/**
 * A TypeScript user's view: one module imports every library that promises types, and the repository's
 * own compiler checks it, declarations included (no skipLibCheck), as `nodenext` resolves them.
 */
const checkTypes = (root, scratch, manifests) => {
  const typed = manifests.filter((m) => JSON.stringify(m.exports ?? {}).includes('"types"') || m.types)
  if (typed.length === 0) return []
  const tsc = join(root, "node_modules/.bin/tsc")
  if (!existsSync(tsc))
    return [`${relative(process.cwd(), tsc)} is missing: run pnpm install so the packages' types can be checked`]
  writeFileSync(
    join(scratch, "types.mts"),
    typed.map((m, i) => `import * as p${i} from ${JSON.stringify(m.name)}\nexport const e${i} = p${i}\n`).join("")
  )
  const r = run(
    tsc,
    [
      "--noEmit",
      "--strict",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
      "--target",
      "es2022",
      "--types",
      "node",
      "--typeRoots",
      join(root, "node_modules/@types"),
      "types.mts"
    ],
    { cwd: scratch }
  )
  return r.status === 0
    ? []
    : [
        `the installed packages' types do not check for a TypeScript user (tsc --strict, nodenext):\n    ${lastLines(r.stdout + r.stderr, 12)}`
      ]
}

/** The SQLite driver opens a database through the installed native addon and answers a query. */
const checkSqlite = (scratch) => {
  const code = `
    import { SqliteClient } from "@spec-orch/sqlite"
    import { Effect } from "effect"
    import { SqlClient } from "effect/sql"
    const program = Effect.gen(function*() { const sql = yield* SqlClient.SqlClient; return yield* sql\`select 40 + 2 as answer\` })
    console.log(JSON.stringify(await Effect.runPromise(program.pipe(Effect.provide(SqliteClient.layer({ filename: ":memory:" }))))))`
  const r = run(process.execPath, ["--input-type=module", "-e", code], { cwd: scratch })
  return r.status === 0 && r.stdout.includes('"answer":42')
    ? []
    : [
        `@spec-orch/sqlite: the installed driver could not open an in-memory database and query it (exit ${r.status}):\n    ${lastLines(r.stderr + r.stdout)}`
      ]
}

const checkEvidenceExample = (root, scratch) => {
  const problems = []
  const example = join(root, "packages/evidence/examples/ci-gate.ts")
  const fixtures = join(root, "packages/evidence/test/fixtures")
  if (!existsSync(example))
    return [
      `packages/evidence/examples/ci-gate.ts is missing: the embed-the-gate example is what proves the installed evidence package works`
    ]
  // The example is plain JavaScript with a .ts name: Node runs a .mjs copy of it, no compiler.
  copyFileSync(example, join(scratch, "ci-gate.mjs"))
  copyFileSync(join(fixtures, "original.gate.policy.yaml"), join(scratch, "gate.policy.yaml"))
  copyFileSync(join(fixtures, "ci-evidence.json"), join(scratch, "evidence.json"))
  const expect = (profile, status, last) => {
    const r = run(process.execPath, ["ci-gate.mjs", "gate.policy.yaml", "evidence.json", profile], { cwd: scratch })
    const tail = r.stdout.trim().split("\n").at(-1) ?? ""
    if (r.status !== status || !last.test(tail))
      problems.push(
        `@spec-orch/evidence: the ci-gate example with profile "${profile}" should exit ${status} with ${last}, got exit ${r.status}: ${lastLines(r.stdout + r.stderr)}`
      )
  }
  expect("ci", 0, /^MERGEABLE$/)
  expect("strict", 1, /^BLOCKED: /)
  return problems
}

const checkCli = (scratch, manifest) => {
  const problems = []
  const bin = join(scratch, "node_modules/.bin", Object.keys(manifest.bin ?? {})[0] ?? "spec-orch")
  if (!existsSync(bin)) return [`${manifest.name}: npm installed no bin at ${relative(scratch, bin)}`]
  const home = mkdtempSync(join(scratch, "home-"))
  const env = { ...process.env, XDG_CACHE_HOME: join(home, "cache"), NO_COLOR: "1", FORCE_COLOR: "0" }
  const cli = (args, cwd = scratch) => run(bin, args, { cwd, env })
  const expect = (args, cwd, pattern, what) => {
    const r = cli(args, cwd)
    if (r.status !== 0 || !pattern.test(r.stdout))
      problems.push(
        `${manifest.name}: \`spec-orch ${args.join(" ")}\` ${what}; exit ${r.status}:\n    ${lastLines(r.stdout + r.stderr, 10)}`
      )
    return r
  }
  expect(
    ["--version"],
    scratch,
    new RegExp(`^spec-orch v${manifest.version.replace(/\./g, "\\.")}\\n$`),
    `should print "spec-orch v${manifest.version}"`
  )
  expect(["--help"], scratch, /USAGE[\s\S]*selftest/, "should print the usage with every command")
  // The quick start's example ships inside the package (dist/example): check its configuration and policy.
  const project = join(home, "project")
  cpSync(join(scratch, "node_modules", manifest.name, "dist/example/hello-node"), project, { recursive: true })
  const git = (args) =>
    run("git", ["-c", "user.name=pack-check", "-c", "user.email=pack-check@spec-orch.invalid", ...args], {
      cwd: project
    })
  git(["init", "-q"])
  git(["add", "-A"])
  git(["commit", "-qm", "example"])
  expect(["config", "check"], project, /\S/, "should accept the bundled example's configuration")
  expect(["gate", "show-policy"], project, /\S/, "should show the bundled example's gate policy")
  expect(["selftest"], scratch, /MERGEABLE/, "(the quick start from the installed binary) should end MERGEABLE")
  return problems
}

const installNative = (root, scratch) => {
  const problems = []
  for (const name of NATIVE) {
    const installed = join(scratch, "node_modules", name)
    if (!existsSync(installed)) continue
    let built
    try {
      built = dirname(createRequire(join(root, "support/sqlite/package.json")).resolve(`${name}/package.json`))
    } catch {
      built = undefined
    }
    const same =
      built !== undefined &&
      readJson(join(built, "package.json")).version === readJson(join(installed, "package.json")).version &&
      existsSync(join(built, "build"))
    if (same) cpSync(join(built, "build"), join(installed, "build"), { recursive: true })
    else {
      const rebuilt = run("npm", ["rebuild", name, "--foreground-scripts=false", "--loglevel=error"], { cwd: scratch })
      if (rebuilt.status !== 0)
        problems.push(
          `${name} (native) could not be built in the scratch project:\n    ${lastLines(rebuilt.stderr + rebuilt.stdout)}`
        )
    }
  }
  return problems
}

/**
 * Packs every public package of `root` (or takes the given `tarballs`), checks each tarball, installs
 * them into a scratch project and runs them. Returns the problems (none: every package is fine).
 */
export const packCheck = (root, { keep = false, log = console.log, tarballs: given, buildNative = false } = {}) => {
  const problems = []
  const work = mkdtempSync(join(tmpdir(), "spec-orch-pack-"))
  const tarballs = join(work, "tarballs")
  const scratch = join(work, "scratch")
  mkdirSync(tarballs)
  mkdirSync(scratch)
  const results = []
  const warnings = []
  const timings = {}
  const timed = (phase, f) => {
    const t = Date.now()
    try {
      return f()
    } finally {
      timings[phase] = (timings[phase] ?? 0) + Date.now() - t
    }
  }
  try {
    const privates = privateNames(root)
    const packed =
      given ??
      publicPackages(root).flatMap(({ dir, manifest }) => {
        if (!existsSync(join(dir, "dist"))) {
          problems.push(`${manifest.name}: ${relative(root, dir)}/dist is missing; run \`pnpm build\` first`)
          return []
        }
        const r = timed("pack", () => run("pnpm", ["pack", "--pack-destination", tarballs, "--json"], { cwd: dir }))
        if (r.status !== 0) {
          problems.push(`${manifest.name}: pnpm pack failed:\n    ${lastLines(r.stderr + r.stdout)}`)
          return []
        }
        return [join(tarballs, JSON.parse(r.stdout).filename.split("/").at(-1))]
      })
    for (const tarball of packed) {
      const unpacked = mkdtempSync(join(work, "unpacked-"))
      const extracted = timed("unpack", () => run("tar", ["-xzf", tarball, "-C", unpacked]))
      if (extracted.status !== 0 || !existsSync(join(unpacked, "package/package.json"))) {
        problems.push(`${tarball}: not a package tarball (${extracted.stderr.trim() || "no package/package.json"})`)
        continue
      }
      const checked = timed("read", () => checkTarball(join(unpacked, "package"), privates))
      problems.push(...checked.problems)
      warnings.push(...checked.warnings)
      results.push({ ...checked, tarball, bytes: statSync(tarball).size })
    }
    if (results.length > 0) {
      writeFileSync(
        join(scratch, "package.json"),
        JSON.stringify({ name: "spec-orch-pack-check", private: true, version: "0.0.0" }, null, 2)
      )
      log(`installing ${results.length} tarball(s) into ${scratch}`)
      const installed = timed("install", () => {
        const r = run(
          "npm",
          [
            "install",
            "--no-audit",
            "--no-fund",
            "--prefer-offline",
            ...(buildNative ? [] : ["--ignore-scripts"]),
            "--loglevel=error",
            ...results.map((r) => r.tarball)
          ],
          { cwd: scratch }
        )
        if (r.status === 0 && !buildNative) problems.push(...installNative(root, scratch))
        return r
      })
      if (installed.status !== 0) {
        problems.push(`npm install of the tarballs failed:\n    ${lastLines(installed.stderr + installed.stdout, 12)}`)
      } else {
        problems.push(
          ...timed("libraries", () =>
            checkLibraries(
              scratch,
              results.filter((r) => !r.manifest.bin).map((r) => r.manifest)
            )
          )
        )
        for (const r of results) {
          if (r.manifest.bin) problems.push(...timed("cli", () => checkCli(scratch, r.manifest)))
          if (r.name === "@spec-orch/evidence")
            problems.push(...timed("libraries", () => checkEvidenceExample(root, scratch)))
          if (r.name === "@spec-orch/sqlite") problems.push(...timed("libraries", () => checkSqlite(scratch)))
        }
        problems.push(
          ...timed("types", () =>
            checkTypes(
              root,
              scratch,
              results.filter((r) => !r.manifest.bin).map((r) => r.manifest)
            )
          )
        )
      }
    }
  } finally {
    if (keep) log(`kept ${work}`)
    else rmSync(work, { recursive: true, force: true })
  }
  return {
    problems,
    warnings,
    timings,
    sizes: results.map(({ name, bytes, unpacked, files }) => ({ name, bytes, unpacked, files }))
  }
}

const human = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(2)} MB` : `${(n / 1024).toFixed(1)} kB`)

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2)
  const rootAt = args.indexOf("--root")
  const root = rootAt >= 0 ? args[rootAt + 1] : new URL("..", import.meta.url).pathname
  if (!root || !existsSync(join(root, "package.json"))) {
    console.error(
      `pack-check: --root ${root ?? "(no value)"} is not a repository root (no package.json there); give the folder that holds packages/ and apps/`
    )
    process.exit(2)
  }
  const tarballsAt = args.indexOf("--tarballs")
  const tarballs = tarballsAt >= 0 ? args.slice(tarballsAt + 1) : undefined
  const started = Date.now()
  const { problems, warnings, timings, sizes } = packCheck(root, {
    keep: args.includes("--keep"),
    buildNative: args.includes("--build-native"),
    tarballs
  })
  if (args.includes("--markdown")) {
    console.log("| package | tarball | unpacked | files |\n|---|---:|---:|---:|")
    for (const s of sizes) console.log(`| \`${s.name}\` | ${human(s.bytes)} | ${human(s.unpacked)} | ${s.files} |`)
  } else {
    for (const s of sizes)
      console.log(
        `${s.name.padEnd(22)} tarball ${human(s.bytes).padStart(9)}  unpacked ${human(s.unpacked).padStart(9)}  ${s.files} files`
      )
  }
  for (const w of warnings) console.log(`warning: ${w}`)
  console.log(
    `time: ${Object.entries(timings)
      .map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(1)} s`)
      .join(", ")}`
  )
  for (const p of problems) console.error(p)
  console.log(
    problems.length === 0
      ? `pack: ok, ${sizes.length} package(s) installed from their tarballs and run (${((Date.now() - started) / 1000).toFixed(0)} s)`
      : `pack: ${problems.length} problem(s)`
  )
  process.exit(problems.length === 0 ? 0 : 1)
}
