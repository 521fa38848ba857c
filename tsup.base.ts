/** Shared tsup options for library packages: ESM JavaScript only; `.d.ts` come from `tsc -p tsconfig.build.json`. */
import { defineConfig } from "tsup"

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: false,
  sourcemap: true,
  clean: true
})
