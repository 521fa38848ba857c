/**
 * Orchestration overhead of a whole run: `spec-orch run` with an instant `command` agent and a
 * trivial verification step, against the same steps done by hand in the same repository (git
 * worktree add, the agent command, git add + commit, the verification command). Medians of 7, after
 * a first run that starts with an empty compile cache (reported on its own), through the installed bin.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { rmSync } from "node:fs"
import { join } from "node:path"
import { benchProject } from "./benchProject.js"

const root = new URL("../../..", import.meta.url).pathname
const bin = join(root, "apps/cli/dist/spec-orch.cjs")
const RUNS = 7
const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const report = (metric: string, value: number, unit = "ms", target?: string, note?: string) =>
  console.log(
    JSON.stringify({
      bench: "run-overhead",
      metric,
      value: Math.round(value * 10) / 10,
      unit,
      ...(target ? { target } : {}),
      ...(note ? { note } : {})
    })
  )

const { repo, worktrees, env } = benchProject({
  prefix: "bench-run",
  issues: Array.from({ length: RUNS + 1 }, (_, i) => `B-${i}`)
})

const wall: Array<number> = []
const inRun: Array<number> = []
let cold = 0
const stages = new Map<string, Array<number>>()
for (let i = 0; i <= RUNS; i++) {
  const t = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [bin, "run", `B-${i}`, "--json"], { cwd: repo, encoding: "utf8", env })
  const ms = Number(process.hrtime.bigint() - t) / 1e6
  const record = JSON.parse(r.stdout || "{}")
  if (r.status === null || !["succeeded", "blocked"].includes(record.status)) throw new Error(`run failed: ${r.stderr}`)
  if (i === 0) {
    cold = ms
    continue
  }
  wall.push(ms)
  inRun.push(Date.parse(record.finishedAt) - Date.parse(record.startedAt))
  const events = spawnSync(process.execPath, [bin, "logs", `B-${i}`, "--json"], { cwd: repo, encoding: "utf8", env })
    .stdout.trim()
    .split("\n")
    .map((l) => JSON.parse(l))
  for (const e of events)
    if (e.kind === "stage" && e.data.state === "finished")
      stages.set(e.data.stage, [...(stages.get(e.data.stage) ?? []), e.data.ms])
}

const byHand: Array<number> = []
for (let i = 0; i <= RUNS; i++) {
  const wt = join(worktrees, `hand-${i}`)
  const t = process.hrtime.bigint()
  execFileSync("git", ["worktree", "add", "-q", "-b", `hand-${i}`, wt], { cwd: repo, stdio: "ignore" })
  execFileSync("sh", [join(repo, "agent.sh")], { cwd: wt, input: "write out.txt" })
  execFileSync("sh", ["-c", "git add -A && git -c user.name=b -c user.email=b@b commit -qm hand"], { cwd: wt })
  execFileSync("true", [], { cwd: wt })
  const ms = Number(process.hrtime.bigint() - t) / 1e6
  if (i > 0) byHand.push(ms)
}
const timed = (args: Array<string>) => {
  const xs = [] as Array<number>
  for (let i = 0; i < 7; i++) {
    const t = process.hrtime.bigint()
    spawnSync(process.execPath, args, { stdio: "ignore", env })
    xs.push(Number(process.hrtime.bigint() - t) / 1e6)
  }
  return median(xs.slice(1))
}
const floor = timed(["-e", "0"])
const s = timed([bin, "--help"])
const w = median(wall),
  h = median(byHand)
const stageTotal = [...stages.values()].reduce((a, xs) => a + median(xs), 0)
report("spec-orch run, whole (wall)", w, "ms", "< 1000 ms")
report("spec-orch run, first run with an empty compile cache (wall)", cold)
report("same steps by hand (git worktree add + agent + commit + verify)", h)
report("node -e 0 (Node's own start)", floor)
report("CLI process start (--help)", s)
report(
  "overhead beyond the steps by hand",
  w - h,
  "ms",
  "",
  "includes process start, engine start, state DB, evidence, reports"
)
report("the run itself, from its record (startedAt -> finishedAt)", median(inRun))
report(
  "orchestration inside the run (the run itself - steps by hand)",
  median(inRun) - h,
  "ms",
  "< 300 ms",
  "stage bookkeeping, journal, binding checks, evidence, reports, local publishing"
)
report(
  "spec-orch's own time (whole - Node's start - steps by hand)",
  w - floor - h,
  "ms",
  "",
  "loading the CLI and its libraries, config, state DB, workflow engine, stages' bookkeeping, evidence and reports"
)
report("sum of stage times inside the workflow", stageTotal)
for (const [name, xs] of stages) report(`stage ${name}`, median(xs))
rmSync(repo, { recursive: true, force: true })
rmSync(worktrees, { recursive: true, force: true })
rmSync(env.SPEC_ORCH_COMPILE_CACHE, { recursive: true, force: true })
