/**
 * The `spec-orch` binary when run from source (`tsx src/bin.ts`). The bundled binary,
 * dist/main.js, is the same few lines written by tsup.config.ts with nothing to load before
 * answering `--version`, so scripts that probe it pay only Node's own start-up.
 */
import { main } from "./main.js"

const args = process.argv.slice(2)
if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
  const pkg = (await import("../package.json", { with: { type: "json" } })).default
  process.stdout.write(`spec-orch v${pkg.version}\n`)
} else {
  main(args)
}
