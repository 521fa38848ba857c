/**
 * A throwaway project for mission tests: a git repository with spec-orch.toml, a gate policy, and a
 * stand-in agent (`command` adapter) driven by directives in a packet's builder prompt:
 *   WRITE <path> <text>   write a file           SLEEP <seconds>   sleep (to be killed mid-turn)
 *   USAGE <in> <out> <usd>   report the turn's tokens and cost in its result
 *   FAIL <message>        exit 1                 (SLEEP is skipped once `noSleep()` was called)
 * The prompt holds the builder prompt twice (task and spec), so each distinct directive runs once.
 * Every invocation appends `<run key> <pid>` to the signals' agent-log. Missions are written as files
 * (spec.md, plan.json) in the original's format, then created and approved through the CLI.
 * Agents run in the OS sandbox, where the main checkout is hidden: they log to a signals directory
 * outside the project, shared writable with every box (`[sandbox] writable`). A pid a boxed agent
 * prints is its namespace's: `agentsRunning()` finds processes working in the project's worktrees.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, join } from "node:path"
import { processesUnder } from "@spec-orch/test-kit"
import { BIN as BUILT, writeGatePolicy } from "./project.js"

/** The CLI bundle under test; `$SPEC_ORCH_BIN` points at another build (e.g. one of your own while others rebuild dist/). */
export const BIN = process.env.SPEC_ORCH_BIN ?? BUILT

const AGENT = `
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { basename, dirname } from "node:path"
const prompt = readFileSync(0, "utf8")
appendFileSync(process.env.AGENT_LOG, basename(process.cwd()) + " " + process.pid + "\\n")
const say = (e) => console.log(JSON.stringify(e))
const seen = new Set()
let usage
for (const raw of prompt.split("\\n")) {
  const line = raw.trim()
  const m = /^(WRITE|SLEEP|FAIL|USAGE) (.*)$/.exec(line)
  if (!m || seen.has(line)) continue
  seen.add(line)
  if (m[1] === "USAGE") {
    const [i, o, usd] = m[2].split(" ").map(Number)
    usage = { input_tokens: i, output_tokens: o, cost_usd: usd }
  } else if (m[1] === "WRITE") {
    const [file, ...text] = m[2].split(" ")
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, text.join(" ") + "\\n")
    say({ type: "file_change", path: file, kind: "add" })
  } else if (m[1] === "SLEEP") {
    if (existsSync(process.env.AGENT_LOG + ".nosleep")) continue
    say({ type: "message", text: "sleeping " + m[2] })
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(m[2]) * 1000)
  } else {
    say({ type: "error", message: m[2] })
    process.exit(1)
  }
}
say({ type: "result", text: "done", ...(usage ? { usage } : {}) })
`

/** One packet as plan.json writes it (the fields a test cares about). */
export interface PacketSpec {
  readonly id: string
  readonly files: ReadonlyArray<string>
  readonly prompt: string
  readonly dependsOn?: ReadonlyArray<string>
  readonly verification?: Record<string, string>
  readonly outOfScope?: ReadonlyArray<string>
}

/** A project with missions. */
export interface MissionProject {
  readonly root: string
  /** Writes docs/specs/<id>/{spec.md, plan.json}, creates the mission and (by default) approves it. */
  readonly mission: (
    id: string,
    waves: ReadonlyArray<ReadonlyArray<PacketSpec>>,
    options?: { readonly approve?: boolean }
  ) => void
  /** Rewrites a mission's plan.json (e.g. to make a sleeping packet fast before a resume). */
  readonly writePlan: (id: string, waves: ReadonlyArray<ReadonlyArray<PacketSpec>>) => void
  readonly cli: (...args: Array<string>) => { status: number | null; stdout: string; stderr: string }
  /** Runs the CLI without blocking this process (a loopback server in this process can answer it). */
  readonly cliAsync: (
    args: Array<string>,
    env?: Record<string, string>
  ) => Promise<{ status: number | null; stdout: string; stderr: string }>
  readonly spawn: (...args: Array<string>) => ChildProcess
  /** `[run key, pid]` of every agent start, in order (the pid is the box's own: count starts, do not look it up). */
  readonly agentRuns: () => Array<readonly [string, number]>
  /** Processes working in one of the project's worktrees right now (agents, steps, what they started). */
  readonly agentsRunning: () => Array<string>
  readonly git: (...args: Array<string>) => string
  /** From now on the agent skips SLEEP (a resumed turn re-reads the journaled prompt, SLEEP included). */
  readonly noSleep: () => void
}

const planJson = (id: string, waves: ReadonlyArray<ReadonlyArray<PacketSpec>>) =>
  `${JSON.stringify(
    {
      plan_id: `plan-${id}`,
      mission_id: id,
      status: "approved",
      waves: waves.map((packets, i) => ({
        wave_number: i,
        description: `Wave ${i}`,
        work_packets: packets.map((p) => ({
          packet_id: p.id,
          title: `Packet ${p.id}`,
          spec_section: "",
          run_class: "feature",
          files_in_scope: p.files,
          files_out_of_scope: p.outOfScope ?? [],
          depends_on: p.dependsOn ?? [],
          acceptance_criteria: [`${p.id} is done`],
          verification_commands: p.verification ?? {},
          builder_prompt: p.prompt
        }))
      }))
    },
    null,
    2
  )}\n`

/** Creates the project. `builder` replaces the [builder] section (default: the stand-in agent). */
export const makeMissionProject = (
  options: { readonly builder?: ReadonlyArray<string>; readonly profile?: string } = {}
): MissionProject => {
  const root = mkdtempSync(join(tmpdir(), "e2e-mission-"))
  const signals = mkdtempSync(join(tmpdir(), "e2e-mission-signals-"))
  const agentLog = join(signals, "agent-log")
  const worktrees = join(root, "..", `${basename(root)}-worktrees`)
  const gitEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@t",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@t"
  }
  const git = (...args: Array<string>) => {
    const r = spawnSync("git", args, { cwd: root, encoding: "utf8", env: gitEnv })
    if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`)
    return r.stdout.trim()
  }
  mkdirSync(join(root, "tools"), { recursive: true })
  writeFileSync(join(root, "tools/agent.mjs"), AGENT)
  writeFileSync(join(root, ".gitignore"), ".spec-orch/\n")
  writeFileSync(
    join(root, "spec-orch.toml"),
    [
      ...(options.builder ?? [
        "[builder]",
        'adapter = "command"',
        `command = ["node", ${JSON.stringify(join(root, "tools/agent.mjs"))}]`,
        "timeout_seconds = 120",
        `env = { AGENT_LOG = ${JSON.stringify(agentLog)} }`
      ]),
      "[verification]",
      'check = "true"',
      "[workspace]",
      `root = ${JSON.stringify(worktrees)}`,
      "[gate]",
      `profile = ${JSON.stringify(options.profile ?? "e2e")}`,
      "[sandbox]",
      `writable = [${JSON.stringify(signals)}]`,
      ""
    ].join("\n")
  )
  writeGatePolicy(root, {
    e2e: ["review", "human_acceptance"],
    loose: ["review", "human_acceptance", "within_boundaries"]
  })
  writeFileSync(join(root, "README.md"), "mission test project\n")
  git("init", "-q", "-b", "main")
  git("add", "-A")
  git("commit", "-qm", "init")
  const env = { ...process.env, FORCE_COLOR: "0" }
  const cli = (...args: Array<string>) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: "utf8", env, timeout: 300_000 })
    return { status: r.status, stdout: r.stdout, stderr: r.stderr }
  }
  const writePlan = (id: string, waves: ReadonlyArray<ReadonlyArray<PacketSpec>>) =>
    writeFileSync(join(root, "docs/specs", id, "plan.json"), planJson(id, waves))
  return {
    root,
    mission: (id, waves, o = {}) => {
      const created = cli("mission", "create", `Mission ${id}`, "--id", id)
      if (created.status !== 0) throw new Error(created.stderr)
      const criteria = waves
        .flat()
        .map((p) => `- ${p.id} is done`)
        .join("\n")
      writeFileSync(
        join(root, "docs/specs", id, "spec.md"),
        `# Mission ${id}\n\n## Intent\n\nA test mission.\n\n## Acceptance Criteria\n\n${criteria}\n`
      )
      writePlan(id, waves)
      if (o.approve !== false) {
        const approved = cli("mission", "approve", id, "--approved-by", "Test Lead")
        if (approved.status !== 0) throw new Error(approved.stderr)
      }
    },
    writePlan,
    cli,
    cliAsync: (args, extra = {}) =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [BIN, ...args], {
          cwd: root,
          env: { ...env, ...extra },
          stdio: ["ignore", "pipe", "pipe"]
        })
        let stdout = ""
        let stderr = ""
        child.stdout.on("data", (d) => (stdout += d))
        child.stderr.on("data", (d) => (stderr += d))
        child.on("exit", (status) => resolve({ status, stdout, stderr }))
      }),
    spawn: (...args) => spawn(process.execPath, [BIN, ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] }),
    agentRuns: () =>
      existsSync(agentLog)
        ? readFileSync(agentLog, "utf8")
            .trim()
            .split("\n")
            .filter(Boolean)
            .map((l) => {
              const [key, pid] = l.split(" ")
              return [key!, Number(pid)] as const
            })
        : [],
    agentsRunning: () => processesUnder(worktrees),
    git,
    noSleep: () => writeFileSync(`${agentLog}.nosleep`, "")
  }
}
