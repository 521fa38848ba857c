/**
 * Agent stream parsing throughput (events/s over a ~1 MB stream built from streams recorded from the
 * real CLIs, per protocol) and the orchestration overhead of one agent run excluding the agent:
 * `Agents.run` with the command adapter running `true`, minus a bare spawn of `true`. Medians.
 */
import { defaultConfig } from "@spec-orch/contract"
import { Effect, Layer } from "effect"
import { spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Agents } from "../src/index.js"
import { AcpUpdates } from "../src/internal/acp-client.js"
import { claudeStream } from "../src/internal/claude-stream.js"
import { codexStream } from "../src/internal/codex-stream.js"
import { droidStream } from "../src/internal/droid-stream.js"
import { opencodeStream } from "../src/internal/opencode-stream.js"
import type { LineProtocol } from "../src/internal/protocol.js"
import { testServices } from "../test/utils/layers.js"

const AgentsLive = Agents.layer.pipe(Layer.provide(testServices("off")))

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const report = (bench: string, metric: string, value: number, unit: string, target?: string, note?: string) =>
  console.log(JSON.stringify({ bench, metric, value, unit, ...(target ? { target } : {}), ...(note ? { note } : {}) }))

const fixtures = join(import.meta.dirname, "../test/fixtures/streams")
/** The recorded turn repeated until the stream is at least 1 MB (each repetition is a fresh turn). */
const megabyte = (file: string) => {
  const turn = readFileSync(join(fixtures, file), "utf8")
    .split("\n")
    .filter((l) => l !== "")
  const turns: Array<ReadonlyArray<string>> = []
  let bytes = 0
  while (bytes < 1024 * 1024) {
    turns.push(turn)
    bytes += turn.reduce((n, l) => n + l.length + 1, 0)
  }
  return { turns, bytes }
}

/** An ACP stream as the client sees it: JSON-RPC lines whose session/update notifications become events. */
const acpProtocol = (cwd: string): LineProtocol => {
  const updates = new AcpUpdates(cwd)
  return {
    parse: (line, at) => {
      const m = JSON.parse(line)
      return m.method === "session/update" ? updates.map(m.params.update, at) : []
    },
    finish: () => ({ kind: "completed" })
  }
}

const PROTOCOLS: ReadonlyArray<[string, (cwd: string) => LineProtocol, string]> = [
  ["claude_code", claudeStream, "claude.success.jsonl"],
  ["codex", codexStream, "codex.success.jsonl"],
  ["opencode", opencodeStream, "opencode.success.jsonl"],
  ["droid", droidStream, "droid.success.jsonl"],
  ["acp", acpProtocol, "acp-claude-code.success.jsonl"]
]

for (const [name, make, file] of PROTOCOLS) {
  const { turns, bytes } = megabyte(file)
  const rates: Array<number> = []
  const mbs: Array<number> = []
  let events = 0
  for (let run = 0; run < 7; run++) {
    const t = process.hrtime.bigint()
    events = 0
    for (const turn of turns) {
      const p = make("/tmp/ms/repo")
      for (const l of turn) events += p.parse(l, 0).length
    }
    const s = Number(process.hrtime.bigint() - t) / 1e9
    if (run >= 2) {
      rates.push(events / s)
      mbs.push(bytes / 1024 / 1024 / s)
    }
  }
  report(
    "agent-parse",
    `${name} events/s`,
    Math.round(median(rates)),
    "events/s",
    undefined,
    `${events} events from ${(bytes / 1024 / 1024).toFixed(2)} MB, ${median(mbs).toFixed(1)} MB/s`
  )
}

// Orchestration overhead: our wall time for a run of an instant agent, minus the bare process.
const bare = () =>
  new Promise<number>((resolve, reject) => {
    const t = process.hrtime.bigint()
    const c = spawn("true", [], { stdio: ["pipe", "pipe", "pipe"] })
    c.stdin.on("error", () => {})
    c.stdin.end("prompt")
    c.on("error", reject)
    c.on("close", () => resolve(Number(process.hrtime.bigint() - t) / 1e6))
  })

const root = mkdtempSync(join(tmpdir(), "spec-orch-agents-bench-"))
const cwd = join(root, "worktree")
mkdirSync(cwd)
const builder = { ...defaultConfig().builder, adapter: "command", command: ["true"] }
const RUNS = 25
const bareTimes: Array<number> = []
for (let i = 0; i < RUNS + 3; i++) {
  const ms = await bare()
  if (i >= 3) bareTimes.push(ms)
}
const runTimes = await Effect.runPromise(
  Effect.gen(function* () {
    const agents = yield* Agents
    const times: Array<number> = []
    for (let i = 0; i < RUNS + 3; i++) {
      const t = process.hrtime.bigint()
      const outcome = yield* agents.run({
        adapter: "command",
        cwd,
        prompt: "do nothing",
        runDir: join(root, `run-${i}`),
        builder
      })
      if (outcome.kind !== "completed") throw new Error(`instant agent did not complete: ${outcome.message}`)
      if (i >= 3) times.push(Number(process.hrtime.bigint() - t) / 1e6)
    }
    return times
  }).pipe(Effect.provide(AgentsLive))
)
rmSync(root, { recursive: true, force: true })
const overhead = median(runTimes) - median(bareTimes)
report("agent-overhead", "bare spawn of `true`", Math.round(median(bareTimes) * 10) / 10, "ms")
report("agent-overhead", "Agents.run (command adapter, `true`)", Math.round(median(runTimes) * 10) / 10, "ms")
report("agent-overhead", "orchestration overhead per run", Math.round(overhead * 10) / 10, "ms", "< 100 ms")
