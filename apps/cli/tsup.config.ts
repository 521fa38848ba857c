import { createHash } from "node:crypto"
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { defineConfig } from "tsup"

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as { version: string }

// dist/cli.cjs is the whole CLI as one CommonJS file: Node 20 can keep V8's compiled code for a
// CommonJS script (vm.Script cachedData) but not for ES modules, and compiling the bundle is the
// largest part of start-up. dist/spec-orch.cjs (the `spec-orch` bin, from launcher/spec-orch.cjs)
// answers `--version` without loading anything and runs the bundle through the code cache; it reads
// the bundle as Latin-1, which is only right for ASCII, so the build refuses anything else.
// The Linear SDK is dist/linear-sdk.cjs, required only when Linear is used.
// dist/main.js is the same bin as an ES module entry, for `node dist/main.js …`.
// Native addons (better-sqlite3) stay external: noExternal wins over external, so exclude them here.
const esmBin = `#!/usr/bin/env node
import { createRequire } from "node:module"
createRequire(import.meta.url)("./spec-orch.cjs")
`

export default defineConfig({
  entry: { cli: "src/entry.ts", "linear-sdk": "src/linear-sdk.ts" },
  format: ["cjs"],
  target: "node20",
  platform: "node",
  noExternal: [/^(?!better-sqlite3(\/|$))/],
  shims: true,
  sourcemap: true,
  clean: true,
  splitting: false,
  minify: true,
  // The bundle runs as a vm.Script, which has no loader for import(): the lazy require of the SDK must be a require.
  esbuildOptions: (options) => {
    options.supported = { ...options.supported, "dynamic-import": false }
  },
  esbuildPlugins: [
    {
      // zod's namespace carries ~40 locales (400 kB) that every start would compile; spec-orch speaks English only.
      name: "zod-english-only",
      setup(build) {
        build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
          /[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer)
            ? { path: new URL("./src/zod-locales.ts", import.meta.url).pathname }
            : undefined
        )
      }
    },
    {
      name: "linear-sdk-apart",
      setup(build) {
        build.onResolve({ filter: /^@linear\/sdk$/ }, (args) =>
          args.importer.endsWith("linear-sdk.ts") ? undefined : { path: "./linear-sdk.cjs", external: true }
        )
      }
    }
  ],
  onSuccess: async () => {
    const bundle = readFileSync("dist/cli.cjs")
    const offset = bundle.findIndex((byte) => byte > 0x7f)
    if (offset !== -1) {
      const line = bundle.subarray(0, offset).toString("latin1").split("\n").length
      throw new Error(`dist/cli.cjs has a non-ASCII byte at line ${line}; write it as a \\u escape in the source`)
    }
    const build = createHash("sha256").update(bundle).digest("hex").slice(0, 16)
    const { commandNames } = createRequire(import.meta.url)("./dist/cli.cjs") as { commandNames: ReadonlyArray<string> }
    const launcher = readFileSync("launcher/spec-orch.cjs", "utf8")
      .replaceAll("__VERSION__", pkg.version)
      .replaceAll("__BUILD__", build)
      .replaceAll("__COMMANDS__", JSON.stringify(commandNames))
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
})
