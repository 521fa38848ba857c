/**
 * A throwaway project for end-to-end tests: a git repository with a spec-orch.toml, a gate policy, issue
 * fixtures, and a stand-in agent driven by directives in the issue's builder prompt:
 *   WRITE <path> <text>   write a file
 *   SLEEP <seconds> [<file>]   sleep (to be killed mid-turn), unless <file> exists
 *   AWAIT <file>          wait until <file> exists (at most 2 minutes)
 *   TOOL <name> [<ok|fail>]   report a tool call and its result (as a command agent's stream does)
 *   FAIL <message>        exit 1               every invocation appends a line to the signals' agent-log
 * Agents and verification steps run in the OS sandbox, where the main checkout is hidden: the test talks
 * to them through `signal(name)` files in a directory outside the project, shared writable with every box
 * (`[sandbox] writable`). Pids a boxed process prints are its own namespace's: to see whether an agent
 * is still running, `agentsRunning()` looks for processes working in the project's worktrees.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { copyFixture, type LibraryFixture, processesUnder } from "@spec-orch/test-kit"

export const BIN = join(import.meta.dirname, "../../dist/main.js")

const AGENT = `
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
const prompt = readFileSync(0, "utf8")
appendFileSync(process.env.AGENT_LOG, process.pid + "\\n")
const say = (e) => console.log(JSON.stringify(e))
for (const line of prompt.split("\\n")) {
  const m = /^(WRITE|SLEEP|AWAIT|TOOL|FAIL) (.*)$/.exec(line.trim())
  if (!m) continue
  if (m[1] === "WRITE") {
    const [file, ...text] = m[2].split(" ")
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, text.join(" ") + "\\n")
    say({ type: "file_change", path: file, kind: "add" })
  } else if (m[1] === "SLEEP") {
    const [seconds, unless] = m[2].split(" ")
    if (unless !== undefined && existsSync(unless)) continue
    say({ type: "message", text: "sleeping " + seconds })
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(seconds) * 1000)
  } else if (m[1] === "TOOL") {
    const [name, result] = m[2].split(" ")
    const id = "t" + Math.random().toString(16).slice(2)
    say({ type: "tool_call", id, name, input: {} })
    say({ type: "tool_result", id, ok: result !== "fail", output: result === "fail" ? "it failed" : "ok" })
  } else if (m[1] === "AWAIT") {
    say({ type: "message", text: "waiting for " + m[2] })
    for (let i = 0; i < 2400 && !existsSync(m[2]); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
  } else {
    say({ type: "error", message: m[2] })
    process.exit(1)
  }
}
say({ type: "result", text: "done" })
`

/**
 * gate.policy.yaml for test projects: every built-in condition required, and the given profiles, each
 * disabling the listed conditions.
 */
export const writeGatePolicy = (root: string, profiles: Readonly<Record<string, ReadonlyArray<string>>>): void =>
  writeFileSync(
    join(root, "gate.policy.yaml"),
    [
      "conditions:",
      ...[
        "spec_exists",
        "spec_approved",
        "within_boundaries",
        "builder",
        "verification",
        "review",
        "human_acceptance"
      ].map((c) => `  ${c}: { required: true }`),
      "profiles:",
      ...Object.entries(profiles).flatMap(([name, disabled]) => [
        `  ${name}:`,
        `    disable: [${disabled.join(", ")}]`
      ]),
      ""
    ].join("\n")
  )

export interface TestProject {
  readonly root: string
  /** Writes an issue fixture. */
  readonly issue: (
    id: string,
    fields: {
      builder_prompt: string
      verification?: Record<string, string | Array<string>>
      target_files?: Array<string>
      title?: string
      labels?: Array<string>
    }
  ) => void
  /** Runs the CLI to completion. */
  readonly cli: (...args: Array<string>) => { status: number | null; stdout: string; stderr: string }
  /** Runs the CLI to completion without blocking the event loop (for tests that serve HTTP themselves). */
  readonly cliAsync: (...args: Array<string>) => Promise<{ status: number | null; stdout: string; stderr: string }>
  /** Starts the CLI in the background. */
  readonly spawn: (...args: Array<string>) => ChildProcess
  /** Pids the stand-in agent was started with, in order (inside its box: count them, do not look them up). */
  readonly agentRuns: () => Array<number>
  /** Processes working in one of the project's worktrees right now (agents, steps, what they started). */
  readonly agentsRunning: () => Array<string>
  /** A file in the signals directory, which the test, agents and verification steps can all read and write. */
  readonly signal: (name: string) => string
  readonly read: (rel: string) => string
}

export const makeProject = (
  options: {
    /** `[verification]` steps: a shell string, or a command with `may_modify`. */
    readonly verification?: Record<string, string | { readonly command: string; readonly may_modify?: boolean }>
    /** A test-kit library fixture whose files the project starts with (committed with the rest). */
    readonly fixture?: LibraryFixture
    /** More `[workspace]` lines (e.g. `copy = [...]`). */
    readonly workspace?: ReadonlyArray<string>
    readonly profile?: string
    /** `[builder]` lines replacing the stand-in agent (e.g. a real CLI). */
    readonly builder?: ReadonlyArray<string>
    /** More TOML appended to spec-orch.toml. */
    readonly toml?: string
    /** Extra environment for the CLI processes. */
    readonly env?: Readonly<Record<string, string>>
    /** `[sandbox] mode` (default the project's default, best-effort); ignored when `toml` has its own `[sandbox]`. */
    readonly sandboxMode?: "required"
    /**
     * Where the project, its worktrees and the signals live (default the OS temporary directory). The box's
     * /tmp is its own, so a test of what the box hides puts the project elsewhere (e.g. under /var/tmp).
     */
    readonly under?: string
  } = {}
): TestProject => {
  const base = options.under ?? tmpdir()
  const root = mkdtempSync(join(base, "e2e-"))
  const signals = mkdtempSync(join(base, "e2e-signals-"))
  const worktrees = mkdtempSync(join(base, "e2e-worktrees-"))
  if (options.fixture !== undefined) copyFixture(options.fixture, root)
  const git = (...args: Array<string>) =>
    spawnSync("git", args, {
      cwd: root,
      encoding: "utf8",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@t",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@t"
      }
    })
  mkdirSync(join(root, "fixtures/issues"), { recursive: true })
  mkdirSync(join(root, "tools"), { recursive: true })
  writeFileSync(join(root, "tools/agent.mjs"), AGENT)
  appendFileSync(join(root, ".gitignore"), ".spec-orch/\n")
  const verification = Object.entries(options.verification ?? { check: "true" })
    .map(
      ([k, v]) =>
        `${k} = ${typeof v === "string" ? JSON.stringify(v) : `{ command = ${JSON.stringify(v.command)}${v.may_modify !== undefined ? `, may_modify = ${v.may_modify}` : ""} }`}`
    )
    .join("\n")
  writeFileSync(
    join(root, "spec-orch.toml"),
    [
      "[builder]",
      ...(options.builder ?? [
        'adapter = "command"',
        `command = ["node", ${JSON.stringify(join(root, "tools/agent.mjs"))}]`,
        "timeout_seconds = 60",
        `env = { AGENT_LOG = ${JSON.stringify(join(signals, "agent-log"))} }`
      ]),
      "[verification]",
      verification,
      "[workspace]",
      `root = ${JSON.stringify(worktrees)}`,
      ...(options.workspace ?? []),
      "[gate]",
      `profile = ${JSON.stringify(options.profile ?? "e2e")}`,
      options.toml ?? "",
      ...(options.toml?.includes("[sandbox]") === true
        ? []
        : [
            "[sandbox]",
            ...(options.sandboxMode !== undefined ? [`mode = ${JSON.stringify(options.sandboxMode)}`] : []),
            `writable = [${JSON.stringify(signals)}]`
          ]),
      ""
    ].join("\n")
  )
  writeGatePolicy(root, { e2e: ["review", "human_acceptance"], reviewed: ["human_acceptance"] })
  writeFileSync(join(root, "README.md"), "test project\n")
  git("init", "-q")
  git("add", "-A")
  git("commit", "-qm", "init")
  const env = { ...process.env, FORCE_COLOR: "0", ...options.env }
  return {
    root,
    issue: (id, fields) => {
      writeFileSync(
        join(root, "fixtures/issues", `${id}.json`),
        JSON.stringify(
          {
            issue_id: id,
            title: fields.title ?? `Issue ${id}`,
            ...(fields.labels !== undefined ? { labels: fields.labels } : {}),
            summary: "An end-to-end test issue.",
            builder_prompt: fields.builder_prompt,
            ...(fields.verification ? { verification_commands: fields.verification } : {}),
            context: { target_files: fields.target_files ?? [] }
          },
          null,
          2
        )
      )
    },
    cli: (...args) => {
      const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: "utf8", env, timeout: 120_000 })
      return { status: r.status, stdout: r.stdout, stderr: r.stderr }
    },
    cliAsync: (...args) =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [BIN, ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] })
        let stdout = ""
        let stderr = ""
        child.stdout!.on("data", (d) => (stdout += d))
        child.stderr!.on("data", (d) => (stderr += d))
        child.on("exit", (status) => resolve({ status, stdout, stderr }))
      }),
    spawn: (...args) => spawn(process.execPath, [BIN, ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] }),
    agentRuns: () =>
      existsSync(join(signals, "agent-log"))
        ? readFileSync(join(signals, "agent-log"), "utf8").trim().split("\n").filter(Boolean).map(Number)
        : [],
    agentsRunning: () => processesUnder(worktrees),
    signal: (name) => join(signals, name),
    read: (rel) => readFileSync(join(root, rel), "utf8")
  }
}

/**
 * Resolves once `predicate` holds, polling every 50 ms (fails after `ms`); `seen` adds what the test had
 * observed by then (a child's output, say) to the failure message.
 */
export const waitFor = async (predicate: () => boolean, ms = 60_000, seen?: () => string): Promise<void> => {
  const end = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > end)
      throw new Error(`timed out waiting for a condition${seen === undefined ? "" : `; seen so far:\n${seen()}`}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
