/**
 * Mission waves: `spec-orch run-plan` on one wave of 20 instant packets (the `command` agent runs
 * `true`, verification is `true`) at concurrency 4 and 8, in a fresh git repository each time. Reports
 * the median wall time against the ideal (longest packet × waves, and ⌈20 / concurrency⌉ × the median
 * packet), the median packet run, and the controller's peak RSS and heap, sampled inside the
 * `run-plan` process by a preloaded probe. Uses the bundled CLI (`cd apps/cli && npx tsup`, or
 * $SPEC_ORCH_BIN).
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const root = new URL("../../..", import.meta.url).pathname
const bin = process.env.SPEC_ORCH_BIN ?? join(root, "apps/cli/dist/main.js")
if (!existsSync(bin)) {
  console.error(`no CLI bundle at ${bin}: build it with \`cd apps/cli && npx tsup\``)
  process.exit(1)
}
const PACKETS = 20
const RUNS = 3
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits
const report = (metric: string, value: number, unit: string, extra: { target?: string; note?: string } = {}) =>
  console.log(JSON.stringify({ bench: "mission-waves", metric, value, unit, ...extra }))

// Samples process.memoryUsage() every 25 ms inside the CLI process; writes the peaks at exit.
const PROBE = `
import { writeFileSync } from "node:fs"
const peak = { rss: 0, heapUsed: 0 }
const sample = () => { const m = process.memoryUsage(); peak.rss = Math.max(peak.rss, m.rss); peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed) }
setInterval(sample, 25).unref()
process.on("exit", () => { sample(); writeFileSync(process.env.SPEC_ORCH_MEMORY_PROBE, JSON.stringify(peak)) })
`

const project = () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-waves-"))
  const git = (...args: Array<string>) => {
    const r = spawnSync("git", args, {
      cwd: dir,
      encoding: "utf8",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "b",
        GIT_AUTHOR_EMAIL: "b@b",
        GIT_COMMITTER_NAME: "b",
        GIT_COMMITTER_EMAIL: "b@b"
      }
    })
    if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`)
  }
  writeFileSync(join(dir, ".gitignore"), ".spec-orch/\n")
  writeFileSync(join(dir, "README.md"), "bench\n")
  writeFileSync(
    join(dir, "spec-orch.toml"),
    [
      "[builder]",
      'adapter = "command"',
      'command = ["true"]',
      "[verification]",
      'check = "true"',
      "[workspace]",
      `root = ${JSON.stringify(`${dir}-worktrees`)}`,
      "[gate]",
      'profile = "bench"',
      ""
    ].join("\n")
  )
  writeFileSync(
    join(dir, "gate.policy.yaml"),
    [
      "conditions:",
      "  spec_approved: { required: true }",
      "  builder: { required: true }",
      "  verification: { required: true }",
      "  review: { required: true }",
      "profiles:",
      "  bench:",
      "    disable: [review]",
      ""
    ].join("\n")
  )
  git("init", "-q", "-b", "main")
  git("add", "-A")
  git("commit", "-qm", "init")
  const cli = (args: Array<string>, env: Record<string, string> = {}, pre: Array<string> = []) => {
    const r = spawnSync(process.execPath, [...pre, bin, ...args], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024
    })
    if (r.status !== 0) throw new Error(`spec-orch ${args.join(" ")} exited ${r.status}: ${r.stderr}`)
    return r.stdout
  }
  cli(["mission", "create", "Bench", "--id", "bench"])
  mkdirSync(join(dir, "docs/specs/bench"), { recursive: true })
  writeFileSync(
    join(dir, "docs/specs/bench/plan.json"),
    JSON.stringify({
      plan_id: "bench",
      mission_id: "bench",
      waves: [
        {
          wave_number: 0,
          description: "instant packets",
          work_packets: Array.from({ length: PACKETS }, (_, i) => ({
            packet_id: `p${i}`,
            title: `Packet ${i}`,
            files_in_scope: [`f${i}.txt`],
            builder_prompt: "nothing to do"
          }))
        }
      ]
    })
  )
  cli(["mission", "approve", "bench", "--approved-by", "bench"])
  return {
    dir,
    cli,
    cleanup: () => {
      for (const d of [dir, `${dir}-worktrees`]) rmSync(d, { recursive: true, force: true })
    }
  }
}

const probeDir = mkdtempSync(join(tmpdir(), "bench-probe-"))
const probe = join(probeDir, "probe.mjs")
writeFileSync(probe, PROBE)

for (const concurrency of [4, 8]) {
  const walls: Array<number> = []
  const packets: Array<number> = []
  const longest: Array<number> = []
  const rss: Array<number> = []
  const heap: Array<number> = []
  for (let i = 0; i < RUNS; i++) {
    const p = project()
    const memFile = join(probeDir, `mem-${concurrency}-${i}.json`)
    const t = process.hrtime.bigint()
    p.cli(["run-plan", "bench", "--concurrency", String(concurrency)], { SPEC_ORCH_MEMORY_PROBE: memFile }, [
      "--import",
      probe
    ])
    walls.push(Number(process.hrtime.bigint() - t) / 1e6)
    const status = JSON.parse(p.cli(["mission", "status", "bench", "--json"]))
    if (status.counts.succeeded !== PACKETS)
      throw new Error(`only ${status.counts.succeeded} of ${PACKETS} packets succeeded`)
    const durations = status.waves[0].packets.map(
      (x: any) => Date.parse(x.run.finishedAt) - Date.parse(x.run.startedAt)
    )
    packets.push(median(durations))
    longest.push(Math.max(...durations))
    const mem = JSON.parse(readFileSync(memFile, "utf8")) as { rss: number; heapUsed: number }
    rss.push(mem.rss / 2 ** 20)
    heap.push(mem.heapUsed / 2 ** 20)
    p.cleanup()
  }
  const wall = median(walls)
  const packet = median(packets)
  const ideal = median(longest) * 1
  const idealAtC = Math.ceil(PACKETS / concurrency) * packet
  const note = `${PACKETS} packets, 1 wave, median of ${RUNS}; 2-core machine, so packet runs stretch as concurrency rises`
  report(`wall time, concurrency ${concurrency}`, round(wall), "ms", { note })
  report(`ideal (longest packet × waves), concurrency ${concurrency}`, round(ideal), "ms")
  report(
    `ideal at concurrency (⌈${PACKETS}/${concurrency}⌉ × median packet), concurrency ${concurrency}`,
    round(idealAtC),
    "ms"
  )
  report(`efficiency (ideal at concurrency / wall), concurrency ${concurrency}`, round(idealAtC / wall, 2), "ratio")
  report(`median packet run, concurrency ${concurrency}`, round(packet), "ms")
  report(`controller peak RSS, concurrency ${concurrency}`, round(median(rss)), "MB")
  report(`controller peak heap used, concurrency ${concurrency}`, round(median(heap)), "MB")
}
rmSync(probeDir, { recursive: true, force: true })
