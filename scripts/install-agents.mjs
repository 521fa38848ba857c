#!/usr/bin/env node
// Installs the real agent CLIs the integration tests drive, at pinned versions, into a tool cache
// outside node_modules (they are test tools, not dependencies of any spec-orch package).
// Cache: $SPEC_ORCH_TOOLS or <repo>/.tools/agents. Idempotent: does nothing when the pins are present.
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

export const PINS = {
  "@anthropic-ai/claude-code": "2.1.331",
  "@openai/codex": "0.169.0",
  "opencode-ai": "1.18.33",
  droid: "0.215.0",
  "@zed-industries/claude-code-acp": "0.16.2"
}
const root = new URL("..", import.meta.url).pathname
const dir = process.env.SPEC_ORCH_TOOLS ?? join(root, ".tools", "agents")
const stamp = join(dir, "pins.json")
const wanted = JSON.stringify(PINS)
if (existsSync(stamp) && readFileSync(stamp, "utf8") === wanted) process.exit(0)
mkdirSync(dir, { recursive: true })
if (!existsSync(join(dir, "package.json")))
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "spec-orch-agent-tools", private: true }, null, 2))
console.log(`installing agent CLIs into ${dir} …`)
// npm 11 refuses --allow-scripts in a project folder and runs the postinstalls that swap the CLIs'
// JS shims for their native binaries anyway; the adapters also exec the platform binary directly.
const r = spawnSync(
  "npm",
  ["install", "--no-audit", "--no-fund", "--loglevel=error", ...Object.entries(PINS).map(([n, v]) => `${n}@${v}`)],
  { cwd: dir, stdio: "inherit" }
)
if (r.status !== 0) process.exit(1)
writeFileSync(stamp, wanted)
