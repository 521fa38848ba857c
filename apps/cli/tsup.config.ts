import { defineConfig } from "tsup"

// The binary is one bundled ESM file so `spec-orch --version` starts cold in well under 150 ms.
// Native addons (better-sqlite3) stay external: noExternal wins over external, so exclude them here.
export default defineConfig({
  entry: { main: "src/bin.ts" },
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
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
  }
})
