import { readFileSync, writeFileSync } from "node:fs"
import { defineConfig } from "tsup"

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as { version: string }

// dist/spec-orch.cjs (the `spec-orch` bin) answers `--version` without loading anything — CommonJS, so
// not even Node's ESM loader starts — then imports the bundled CLI (dist/cli.js): one ESM bundle so
// cold start stays low. dist/main.js is the same as an ES module, for `node dist/main.js …`. Native addons (better-sqlite3)
// stay external: noExternal wins over external, so exclude them here.
const cjsBin = `#!/usr/bin/env node
"use strict"
const args = process.argv.slice(2)
if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
  process.stdout.write("spec-orch v${pkg.version}\\n")
} else {
  import("./cli.js").then((m) => m.main(args))
}
`
const bin = `#!/usr/bin/env node
const args = process.argv.slice(2)
if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
  process.stdout.write("spec-orch v${pkg.version}\\n")
} else {
  const { main } = await import("./cli.js")
  main(args)
}
`

export default defineConfig({
  entry: { cli: "src/entry.ts" },
  format: ["esm"],
  target: "node20",
  platform: "node",
  noExternal: [/^(?!better-sqlite3(\/|$))/],
  shims: true,
  sourcemap: true,
  clean: true,
  splitting: true,
  minify: true,
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
  },
  onSuccess: async () => {
    writeFileSync("dist/main.js", bin, { mode: 0o755 })
    writeFileSync("dist/spec-orch.cjs", cjsBin, { mode: 0o755 })
  }
})
