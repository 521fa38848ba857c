/**
 * The `spec-orch` binary. `--version` is answered before anything else loads, so scripts and
 * shells that probe it pay only Node's own start-up; everything else loads the CLI on demand.
 */
import pkg from "../package.json" with { type: "json" }

const args = process.argv.slice(2)
if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
  process.stdout.write(`spec-orch v${pkg.version}\n`)
} else {
  const { main } = await import("./main.js")
  main(args)
}
