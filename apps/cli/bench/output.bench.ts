/**
 * Memory and time of `spec-orch run` when the agent prints 100 MB: as one line with no newline, and as
 * a million lines of 100 bytes — next to the same run with an agent that prints nothing, and to
 * `node -e 0`, in the same process setup. Peak RSS (VmHWM) of the spec-orch process is read at its exit
 * through a preloaded hook. Target (issue 17): under 150 MB peak with 100 MB of output.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const root = new URL("../../..", import.meta.url).pathname
const bin = join(root, "apps/cli/dist/spec-orch.cjs")
const MB = 1024 * 1024
const CASES: Record<string, string> = {
  "silent agent": "cat > /dev/null",
  "one 100 MB line": `cat > /dev/null; head -c ${100 * MB} /dev/zero | tr '\\0' x`,
  "1M lines of 100 bytes": `cat > /dev/null; head -c ${100 * MB} /dev/zero | tr '\\0' x | fold -w 99`
}

const dir = mkdtempSync(join(tmpdir(), "bench-output-"))
const repo = join(dir, "repo")
mkdirSync(join(repo, "fixtures/issues"), { recursive: true })
const hook = join(dir, "peak.cjs")
writeFileSync(
  hook,
  `process.on("exit", () => { try { require("fs").writeFileSync(process.env.PEAK_FILE, /VmHWM:\\s+(\\d+)/.exec(require("fs").readFileSync("/proc/self/status", "utf8"))[1]) } catch {} })\n`
)
const git = (...args: Array<string>) =>
  execFileSync("git", args, {
    cwd: repo,
    stdio: "ignore",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "b",
      GIT_AUTHOR_EMAIL: "b@b",
      GIT_COMMITTER_NAME: "b",
      GIT_COMMITTER_EMAIL: "b@b"
    }
  })
const names = Object.keys(CASES)
names.forEach((name, i) => {
  writeFileSync(join(repo, `agent-${i}.sh`), `#!/bin/sh\n${CASES[name]}\n`)
  writeFileSync(
    join(repo, `fixtures/issues/OUT-${i}.json`),
    JSON.stringify({ issue_id: `OUT-${i}`, title: name, summary: "s", builder_prompt: "print" })
  )
})
writeFileSync(join(repo, ".gitignore"), ".spec-orch/\n")
git("init", "-q")
git("add", "-A")
git("commit", "-qm", "init")
const env = { ...process.env, SPEC_ORCH_COMPILE_CACHE: join(dir, "v8"), XDG_CACHE_HOME: join(dir, "cache") }

const peakOf = (args: Array<string>, cwd: string) => {
  const file = join(dir, "peak")
  rmSync(file, { force: true })
  const t = performance.now()
  const r = spawnSync(process.execPath, ["--require", hook, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...env, PEAK_FILE: file },
    maxBuffer: 64 * MB
  })
  const ms = performance.now() - t
  return { ms, mb: Number(readFileSync(file, "utf8")) / 1024, r }
}

const floor = peakOf(["-e", "0"], repo)
console.log(
  JSON.stringify({ bench: "agent output", metric: "floor: node -e 0", value: Math.round(floor.mb), unit: "MB" })
)
names.forEach((name, i) => {
  writeFileSync(
    join(repo, "spec-orch.toml"),
    [
      "[builder]",
      'adapter = "command"',
      `command = ["sh", ${JSON.stringify(join(repo, `agent-${i}.sh`))}]`,
      "[spec]",
      "require_approval = false",
      ""
    ].join("\n")
  )
  const { ms, mb, r } = peakOf([bin, "run", `OUT-${i}`, "--json"], repo)
  const record = JSON.parse(r.stdout || "{}")
  if (record.status === undefined) throw new Error(`run failed: ${r.stderr.slice(-2000)}`)
  const target = name === "silent agent" ? undefined : "< 150 MB"
  console.log(
    JSON.stringify({
      bench: "agent output",
      metric: `peak RSS, ${name}`,
      value: Math.round(mb),
      unit: "MB",
      ...(target ? { target } : {}),
      note: `run ${record.status}`
    })
  )
  console.log(JSON.stringify({ bench: "agent output", metric: `wall, ${name}`, value: Math.round(ms), unit: "ms" }))
})
rmSync(dir, { recursive: true, force: true })
