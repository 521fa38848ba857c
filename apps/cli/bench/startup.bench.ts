/**
 * Cold start of the bundled binary: `spec-orch --version`, `--help` and `issue list` on the example,
 * each a fresh `node` process, median of 15 runs after 2 warm-ups (which fill the compile cache),
 * next to `node -e 0` as the floor.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const root = new URL("../../..", import.meta.url).pathname
// The installed bin (package.json "bin"): a fast path for --version, then the bundle through the compile cache.
const bin = join(root, "apps/cli/dist/spec-orch.cjs")
const env = { ...process.env, SPEC_ORCH_COMPILE_CACHE: mkdtempSync(join(tmpdir(), "bench-v8-")) }
const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const time = (args: Array<string>, runs = 15) => {
  const samples: Array<number> = []
  for (let i = 0; i < runs + 2; i++) {
    const t = process.hrtime.bigint()
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: "ignore", env })
    if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}`)
    if (i >= 2) samples.push(Number(process.hrtime.bigint() - t) / 1e6)
  }
  return Math.round(median(samples) * 10) / 10
}
const report = (metric: string, value: number, target?: string) =>
  console.log(JSON.stringify({ bench: "cli-startup", metric, value, unit: "ms", ...(target ? { target } : {}) }))

report("node -e 0 (floor)", time(["-e", "0"]))
report("spec-orch --version", time([bin, "--version"]), "< 150 ms median; original ≈ 1400 ms")
report("spec-orch --help", time([bin, "--help"]))
report("spec-orch issue list (example)", time([bin, "--cwd", "examples/hello-node", "issue", "list"]))
rmSync(env.SPEC_ORCH_COMPILE_CACHE, { recursive: true, force: true })
