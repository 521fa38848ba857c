/**
 * Cold start of the bundled binary, each a fresh `node` process under /usr/bin/time (for peak RSS),
 * median of 11 runs after 2 warm-ups (which fill the compile cache). The floor, `node -e 0`, is measured
 * in the same rounds, alternating with the commands, and each command is reported as a ratio to it.
 * Target for read commands (issue 11): within 2x of the floor, peak RSS at or below ~50 MiB. The machine
 * is shared: the load average is printed with the results, and each process's CPU time (user + system)
 * beside its wall time.
 * BENCH_BASELINE=<dir> (a copy of an older apps/cli/dist) measures that build too, in the same rounds,
 * for a before/after comparison.
 * A second floor, "effect/cli floor", is the smallest Effect CLI (bench/effect-floor.ts: `config check`,
 * nothing read), built with the CLI's own esbuild plugins and started by the CLI's own launcher, with
 * its compile cache: what a read command costs beyond it is spec-orch's; up to it, effect's on this Node.
 */
import { spawnSync } from "node:child_process"
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { barrelsToModules, lazyNodeBuiltins, lazySegmenter, moduleFunction, v8StackProbes } from "../build/plugins.js"
import { seedLedger } from "../test/utils/seed-ledger.js"

const root = new URL("../../..", import.meta.url).pathname
// The installed bin (package.json "bin"): a fast path for --version, then a bundle through the compile cache.
const builds: Array<[string, string]> = [["", join(root, "apps/cli/dist/spec-orch.cjs")]]
if (process.env.BENCH_BASELINE) builds.push([" (baseline)", join(process.env.BENCH_BASELINE, "spec-orch.cjs")])
const scratch = mkdtempSync(join(tmpdir(), "bench-startup-"))

// The effect/cli floor: bench/effect-floor.ts bundled as dist/lean.cjs is (tsup's esbuild, the same
// plugins and options), beside a copy of the launcher, which sends `config check` to its lean.cjs.
const floorDist = join(scratch, "effect-floor")
mkdirSync(floorDist)
const cliDir = join(root, "apps/cli")
const esbuild = createRequire(createRequire(join(cliDir, "package.json")).resolve("tsup"))("esbuild") as {
  build: (options: Record<string, unknown>) => Promise<unknown>
}
await esbuild.build({
  entryPoints: [join(cliDir, "bench/effect-floor.ts")],
  outfile: join(floorDist, "lean.cjs"),
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  minify: true,
  logLevel: "error",
  supported: { "dynamic-import": false },
  ...moduleFunction,
  plugins: [lazySegmenter, v8StackProbes, lazyNodeBuiltins, barrelsToModules]
})
copyFileSync(join(cliDir, "dist/spec-orch.cjs"), join(floorDist, "spec-orch.cjs"))
const effectFloor: [string, Array<string>] = ["effect/cli floor", [join(floorDist, "spec-orch.cjs"), "config", "check"]]
const rssFile = join(scratch, "rss")
const timeBin = "/usr/bin/time"
const withTime = existsSync(timeBin)
const runs = Number(process.env.BENCH_RUNS ?? 11)
const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const round = (x: number) => Math.round(x * 10) / 10

// One run of `node args`: wall time and peak RSS. Exit codes a command may end with are in okCodes
// (gate evaluate exits 1 when the verdict is "blocked").
const once = (args: Array<string>, okCodes: ReadonlyArray<number>, cache: string) => {
  const [cmd, argv] = withTime
    ? [timeBin, ["-f", "%M %U %S", "-o", rssFile, process.execPath, ...args]]
    : [process.execPath, args]
  const t = process.hrtime.bigint()
  const r = spawnSync(cmd, argv, {
    cwd: root,
    stdio: "ignore",
    env: { ...process.env, SPEC_ORCH_COMPILE_CACHE: cache }
  })
  const ms = Number(process.hrtime.bigint() - t) / 1e6
  // /usr/bin/time exits with the command's status
  if (r.status === null || !okCodes.includes(r.status)) throw new Error(`node ${args.join(" ")} exited ${r.status}`)
  if (!withTime) return { ms, kib: undefined, cpu: undefined }
  const [kib, user, system] = readFileSync(rssFile, "utf8").trim().split("\n").pop()!.split(" ").map(Number)
  return { ms, kib, cpu: (user! + system!) * 1000 }
}

type Sample = { ms: Array<number>; kib: Array<number>; cpu: Array<number> }
const sample = (): Sample => ({ ms: [], kib: [], cpu: [] })
const add = (s: Sample, r: { ms: number; kib: number | undefined; cpu: number | undefined }) => {
  s.ms.push(r.ms)
  if (r.kib !== undefined) s.kib.push(r.kib)
  if (r.cpu !== undefined) s.cpu.push(r.cpu)
}

const report = (metric: string, value: number, unit: string, extra: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ bench: "cli-startup", metric, value, unit, ...extra }))

const example = ["--cwd", "examples/hello-node"]
// `status` and `gate evaluate <issue>` on a project that has run read its state database (SQLite); the
// example has never run, so a copy of it is given one, with a judged run of HELLO-1 in its evidence ledger.
const ran = join(scratch, "ran")
cpSync(join(root, "examples/hello-node"), ran, { recursive: true })
await Effect.runPromise(seedLedger(ran, [{ issueId: "HELLO-1", runId: "HELLO-1-r1" }]))
const evidence = join(root, "packages/evidence/test/fixtures/ci-evidence.json")
const commands: Array<[string, Array<string>, Array<number>?]> = [
  ["--version", ["--version"]],
  ["--help", ["--help"]],
  ["config check", [...example, "config", "check"]],
  ["gate show-policy", [...example, "gate", "show-policy"]],
  ["gate evaluate --evidence", [...example, "gate", "evaluate", "CI-42", "--evidence", evidence], [0, 1]],
  ["issue list", [...example, "issue", "list"]],
  ["status", ["--cwd", ran, "status"]],
  ["gate evaluate (a recorded run)", ["--cwd", ran, "gate", "evaluate", "HELLO-1"], [0, 1]],
  ["status (never ran)", [...example, "status"]]
]

const [load1] = loadavg()
report("load average (1 min) at start", round(load1!), "")
const floor = sample()
const framework = sample()
const results = new Map<string, Sample>()
for (let i = 0; i < runs + 2; i++) {
  const warm = i < 2
  for (const [name, args, ok] of commands) {
    const f = once(["-e", "0"], [0], "off")
    if (!warm) add(floor, f)
    const e = once(effectFloor[1], [0], join(scratch, "v8-effect-floor"))
    if (!warm) add(framework, e)
    for (const [suffix, bin] of builds) {
      const r = once([bin, ...args], ok ?? [0], join(scratch, `v8${suffix.trim()}`))
      const key = `${name}${suffix}`
      if (!results.has(key)) results.set(key, sample())
      if (!warm) add(results.get(key)!, r)
    }
  }
}
const floorMs = median(floor.ms)
report("node -e 0 (floor)", round(floorMs), "ms")
if (withTime) report("node -e 0 (floor) peak RSS", round(median(floor.kib) / 1024), "MiB")
// CPU time (user + system, 10 ms resolution) is less sensitive than wall time to a busy machine.
const floorCpu = withTime ? median(floor.cpu) : undefined
if (floorCpu !== undefined) report("node -e 0 (floor) CPU time", round(floorCpu), "ms")
const ratio = (x: number, to: number) => Math.round((x / to) * 100) / 100
const frameworkMs = median(framework.ms)
report(effectFloor[0], round(frameworkMs), "ms", { note: `${ratio(frameworkMs, floorMs)}x floor` })
if (floorCpu !== undefined) report(`${effectFloor[0]} CPU time`, round(median(framework.cpu)), "ms")
if (withTime) report(`${effectFloor[0]} peak RSS`, round(median(framework.kib) / 1024), "MiB")
for (const [key, s] of results) {
  const ms = median(s.ms)
  const read = !key.startsWith("--version")
  report(`spec-orch ${key}`, round(ms), "ms", {
    target: read ? "<= 2x node -e 0" : "< 150 ms median; original ≈ 1400 ms",
    note: `${ratio(ms, floorMs)}x floor${read ? `, ${ratio(ms, frameworkMs)}x effect/cli floor` : ""}`
  })
  if (floorCpu !== undefined)
    report(`spec-orch ${key} CPU time`, round(median(s.cpu)), "ms", {
      note: `${ratio(median(s.cpu), floorCpu)}x floor`
    })
  if (withTime && read) report(`spec-orch ${key} peak RSS`, round(median(s.kib) / 1024), "MiB", { target: "<= 50 MiB" })
}
report("load average (1 min) at end", round(loadavg()[0]!), "")
rmSync(scratch, { recursive: true, force: true })
