/**
 * Gate throughput and CLI wall time. Evaluations per second of the original's policy on a
 * realistic bundle (each profile, median of 7 one-second rounds), and `spec-orch gate evaluate
 * --evidence` as a fresh process (median of 9 runs after 2 warm-ups). Build the CLI first
 * (`cd apps/cli && npx tsup`); the CLI part is skipped with a note when it is not built.
 */
import { Result } from "effect"
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { evaluate, evidenceJson, loadGatePolicy } from "../src/index.js"
import { goodBundle } from "../test/utils/evidence.js"

const here = new URL(".", import.meta.url).pathname
const root = join(here, "../../..")
const policyFile = join(here, "../test/fixtures/original.gate.policy.yaml")
const policy = Result.getOrThrow(loadGatePolicy(readFileSync(policyFile, "utf8"), "original.gate.policy.yaml"))
const bundle = goodBundle()
const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const report = (metric: string, value: number, unit: string, extra: Record<string, string> = {}) =>
  console.log(JSON.stringify({ bench: "gate", metric, value, unit, ...extra }))

const profiles = [null, "daemon", "ci", "strict", "hotfix"]
const rate = () => {
  let n = 0
  let sink = 0
  const start = performance.now()
  while (performance.now() - start < 1000) {
    for (let i = 0; i < 100; i++) {
      const v = evaluate(policy, profiles[n % profiles.length], bundle)
      if (v.mergeable) sink++
      n++
    }
  }
  if (sink < 0) console.log(sink)
  return n / ((performance.now() - start) / 1000)
}
rate() // warm-up
const rounds = Array.from({ length: 7 }, rate)
report(
  "evaluations/s (original policy, 5 profiles round-robin, 12-condition bundle)",
  Math.round(median(rounds)),
  "ops/s",
  { target: "> 50000/s" }
)

const bin = join(root, "apps/cli/dist/main.js")
if (!existsSync(bin)) {
  report("gate evaluate --evidence wall time", -1, "ms", {
    note: "apps/cli/dist/main.js not built: cd apps/cli && npx tsup"
  })
} else {
  const dir = mkdtempSync(join(tmpdir(), "gate-bench-"))
  const evidence = join(dir, "evidence.json")
  writeFileSync(evidence, JSON.stringify(evidenceJson(bundle)))
  writeFileSync(join(dir, "gate.policy.yaml"), readFileSync(policyFile, "utf8"))
  const samples: Array<number> = []
  for (let i = 0; i < 11; i++) {
    const t = process.hrtime.bigint()
    const r = spawnSync(
      process.execPath,
      [bin, "--cwd", dir, "gate", "evaluate", "SPC-7", "--evidence", evidence, "--profile", "ci"],
      { stdio: "ignore" }
    )
    if (r.status !== 0) throw new Error(`gate evaluate exited ${r.status}`)
    if (i >= 2) samples.push(Number(process.hrtime.bigint() - t) / 1e6)
  }
  report("spec-orch gate evaluate --evidence (fresh process)", Math.round(median(samples) * 10) / 10, "ms", {
    target: "original ≈ 1100 ms"
  })
}
