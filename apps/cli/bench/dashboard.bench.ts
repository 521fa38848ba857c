/**
 * `spec-orch dashboard` through the installed bin: `GET /api/v1/state` with 200 runs in the store
 * (p50/p95 of 200 requests), how long a run's events take from being recorded by another process's
 * `spec-orch run` to arriving on the live feed, and the page's weight.
 */
import { spawn, spawnSync } from "node:child_process"
import { createRequire } from "node:module"
import { join } from "node:path"
import { benchProject } from "./benchProject.js"

const root = new URL("../../..", import.meta.url).pathname
const bin = join(root, "apps/cli/dist/spec-orch.cjs")
const report = (metric: string, value: number, unit = "ms", target?: string, note?: string) =>
  console.log(
    JSON.stringify({
      bench: "dashboard",
      metric,
      value: Math.round(value * 10) / 10,
      unit,
      ...(target ? { target } : {}),
      ...(note ? { note } : {})
    })
  )
const pct = (xs: Array<number>, p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!

const { repo, env } = benchProject({ prefix: "bench-dash", issues: ["D-1", "D-2"], agentSleep: 0.5 })
const cli = (...args: Array<string>) =>
  spawnSync(process.execPath, [bin, ...args], { cwd: repo, env, encoding: "utf8" })
const seeded = cli("run", "D-1", "--json")
if (!seeded.stdout.includes('"runId"')) throw new Error(`the first run did not run: ${seeded.stderr}`)

// 199 more runs of D-1 in the store, copies of the real one.
const Database = createRequire(join(root, "apps/cli/package.json"))("better-sqlite3") as new (
  file: string
) => {
  prepare: (sql: string) => { get: () => any; run: (...args: Array<unknown>) => unknown }
  close: () => void
}
const db = new Database(join(repo, ".spec-orch/state.db"))
const row = db.prepare("SELECT * FROM so_runs").get()
const insert = db.prepare(
  "INSERT INTO so_runs (run_id, run_key, issue_id, attempt, status, stage, owner, started_at, updated_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
// Earlier attempts, a minute apart over the last few hours, as a busy store has them.
const first = Date.parse(row.started_at) - 201 * 60_000
for (let i = 2; i <= 200; i++) {
  const startedAt = new Date(first + i * 60_000).toISOString()
  const updatedAt = new Date(first + i * 60_000 + 30_000).toISOString()
  const record = {
    ...JSON.parse(row.record),
    runId: `D-1-r${i}`,
    attempt: i,
    startedAt,
    updatedAt,
    finishedAt: updatedAt
  }
  insert.run(
    record.runId,
    row.run_key,
    row.issue_id,
    i,
    row.status,
    row.stage,
    row.owner,
    startedAt,
    updatedAt,
    JSON.stringify(record)
  )
}
db.close()

const dashboard = spawn(process.execPath, [bin, "dashboard", "--json"], {
  cwd: repo,
  env,
  stdio: ["ignore", "pipe", "inherit"]
})
const base = await new Promise<string>((resolve) => {
  let out = ""
  dashboard.stdout!.on("data", (d) => {
    out += d
    if (out.includes("\n")) resolve((JSON.parse(out.split("\n")[0]!) as { base: string }).base)
  })
})
try {
  const times: Array<number> = []
  for (let i = 0; i < 220; i++) {
    const t = performance.now()
    const body = (await (await fetch(`${base}/api/v1/state`)).json()) as { recent: Array<unknown> }
    if (i >= 20) times.push(performance.now() - t)
    if (body.recent.length !== 50) throw new Error(`expected 50 recent runs, got ${body.recent.length}`)
  }
  report("GET /api/v1/state p50, 200 runs", pct(times, 0.5))
  report("GET /api/v1/state p95, 200 runs", pct(times, 0.95), "ms", "< 100")

  let weight = 0
  for (const file of ["/", "/app.js", "/app.css"])
    weight += (await (await fetch(`${base}${file}`)).arrayBuffer()).byteLength
  report("page weight", weight / 1024, "KB", "< 200")

  // Events of a run another process records, from its `at` to their arrival here.
  const abort = new AbortController()
  const res = await fetch(`${base}/api/v1/events`, { signal: abort.signal })
  const reader = res.body!.getReader()
  const lags: Array<number> = []
  let firstLag: number | undefined
  const decoder = new TextDecoder()
  const reading = (async () => {
    let buffer = ""
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }))
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        if (!block.startsWith("event: log")) continue
        const e = JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as { runId: string; at: string }
        if (e.runId !== "D-2-r1") continue
        const lag = Date.now() - Date.parse(e.at)
        firstLag ??= lag
        lags.push(lag)
      }
    }
  })()
  await new Promise((r) => setTimeout(r, 500))
  await new Promise<void>((resolve) =>
    spawn(process.execPath, [bin, "run", "D-2"], { cwd: repo, env, stdio: "ignore" }).on("exit", () => resolve())
  )
  await new Promise((r) => setTimeout(r, 1000))
  abort.abort()
  await reading
  if (firstLag === undefined) throw new Error("no live event arrived")
  report("first live event after it was recorded", firstLag, "ms", "< 1000")
  report("live events after they were recorded, p95", pct(lags, 0.95), "ms", undefined, `${lags.length} events`)
} finally {
  dashboard.kill("SIGTERM")
}
