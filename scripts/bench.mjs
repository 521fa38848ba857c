#!/usr/bin/env node
// `pnpm bench`: runs every benchmark and prints one table. A benchmark is a file
// packages/*/bench/*.bench.ts or apps/*/bench/*.bench.ts, run with tsx; it prints JSON lines
//   {"bench": "<name>", "metric": "<what>", "value": <number>, "unit": "ms|ops/s|MB|…", "target"?: "<text>", "note"?: "<text>"}
// Everything else it prints is shown as is. Results also go to bench-results/latest.json.
// Timings on a shared 2-core machine are noisy: benchmarks report medians over several runs.
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
const only = process.argv[2]
const files = ["packages", "apps"]
  .flatMap((d) =>
    readdirSync(join(root, d)).flatMap((n) => {
      const dir = join(root, d, n, "bench")
      return existsSync(dir)
        ? readdirSync(dir)
            .filter((f) => f.endsWith(".bench.ts"))
            .map((f) => join(dir, f))
        : []
    })
  )
  .filter((f) => only === undefined || f.includes(only))
const results = []
for (const file of files) {
  console.log(`\n# ${file.slice(root.length)}`)
  const r = spawnSync(join(root, "node_modules/.bin/tsx"), [file], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, FORCE_COLOR: "0" },
    maxBuffer: 64 * 1024 * 1024
  })
  for (const line of (r.stdout ?? "").split("\n")) {
    if (line.trim() === "") continue
    try {
      const j = JSON.parse(line)
      if (j.bench) {
        results.push(j)
        console.log(
          `  ${j.bench}: ${j.metric} = ${j.value} ${j.unit}${j.target ? `   (target ${j.target})` : ""}${j.note ? `   ${j.note}` : ""}`
        )
        continue
      }
    } catch {}
    console.log(`  ${line}`)
  }
  if (r.status !== 0) {
    console.log(`  FAILED (exit ${r.status})\n${r.stderr}`)
    results.push({ bench: file, metric: "failed", value: r.status, unit: "exit" })
  }
}
mkdirSync(join(root, "bench-results"), { recursive: true })
writeFileSync(
  join(root, "bench-results", "latest.json"),
  JSON.stringify({ at: new Date().toISOString(), node: process.version, results }, null, 2)
)
process.exit(results.some((r) => r.metric === "failed") ? 1 : 0)
