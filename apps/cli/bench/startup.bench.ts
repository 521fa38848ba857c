/**
 * Cold start of the bundled binary, each a fresh `node` process under /usr/bin/time (for peak RSS),
 * median of 11 runs after 2 warm-ups (which fill the compile cache), next to `node -e 0` measured the
 * same way in the same run. Target for read commands (issue 11): within 2x of the floor, peak RSS at
 * or below ~50 MiB. The machine is shared: the load average is printed with the results.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"

const root = new URL("../../..", import.meta.url).pathname
// The installed bin (package.json "bin"): a fast path for --version, then the bundle through the compile cache.
const bin = join(root, "apps/cli/dist/spec-orch.cjs")
const scratch = mkdtempSync(join(tmpdir(), "bench-startup-"))
const env = { ...process.env, SPEC_ORCH_COMPILE_CACHE: join(scratch, "v8") }
const rssFile = join(scratch, "rss")
const timeBin = "/usr/bin/time"
const withTime = existsSync(timeBin)
const runs = Number(process.env.BENCH_RUNS ?? 11)
const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const round = (x: number) => Math.round(x * 10) / 10

// Exit codes a command may end with here (gate evaluate exits 1 when the verdict is "blocked").
const measure = (args: Array<string>, okCodes: ReadonlyArray<number> = [0]) => {
  const ms: Array<number> = []
  const kib: Array<number> = []
  for (let i = 0; i < runs + 2; i++) {
    const [cmd, argv] = withTime
      ? [timeBin, ["-f", "%M", "-o", rssFile, process.execPath, ...args]]
      : [process.execPath, args]
    const t = process.hrtime.bigint()
    const r = spawnSync(cmd, argv, { cwd: root, stdio: "ignore", env })
    const elapsed = Number(process.hrtime.bigint() - t) / 1e6
    // /usr/bin/time exits with the command's status
    if (r.status === null || !okCodes.includes(r.status)) throw new Error(`node ${args.join(" ")} exited ${r.status}`)
    if (i < 2) continue
    ms.push(elapsed)
    if (withTime) kib.push(Number(readFileSync(rssFile, "utf8").trim().split("\n").pop()))
  }
  return { ms: median(ms), mib: withTime ? median(kib) / 1024 : undefined }
}

const report = (metric: string, value: number, unit: string, extra: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ bench: "cli-startup", metric, value, unit, ...extra }))

const [load1] = loadavg()
report("load average (1 min) at start", round(load1!), "")
const floor = measure(["-e", "0"])
report("node -e 0 (floor)", round(floor.ms), "ms")
if (floor.mib !== undefined) report("node -e 0 (floor) peak RSS", round(floor.mib), "MiB")
report("spec-orch --version", round(measure([bin, "--version"]).ms), "ms", {
  target: "< 150 ms median; original ≈ 1400 ms"
})

const example = ["--cwd", "examples/hello-node"]
const evidence = join(root, "packages/evidence/test/fixtures/ci-evidence.json")
const reads: Array<[string, Array<string>, Array<number>?]> = [
  ["--help", ["--help"]],
  ["config check", [...example, "config", "check"]],
  ["gate show-policy", [...example, "gate", "show-policy"]],
  ["gate evaluate --evidence", [...example, "gate", "evaluate", "CI-42", "--evidence", evidence], [0, 1]],
  ["issue list", [...example, "issue", "list"]],
  ["status", [...example, "status"]]
]
for (const [name, args, ok] of reads) {
  const m = measure([bin, ...args], ok)
  const ratio = Math.round((m.ms / floor.ms) * 100) / 100
  report(`spec-orch ${name}`, round(m.ms), "ms", { target: "<= 2x node -e 0", note: `${ratio}x floor` })
  if (m.mib !== undefined) report(`spec-orch ${name} peak RSS`, round(m.mib), "MiB", { target: "<= 50 MiB" })
}
report("load average (1 min) at end", round(loadavg()[0]!), "")
rmSync(scratch, { recursive: true, force: true })
