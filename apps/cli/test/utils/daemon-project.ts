/**
 * A project the real `spec-orch daemon` works on, for end-to-end tests: a git repository whose remote is
 * a bare repository, a fake Linear (team SON) as tracker and a fake GitHub serving that bare repository,
 * a `command` agent written outside the project (the sandbox puts it back read-only) and a verification
 * check. Agents talk to the test through `signals` (`[sandbox] writable`, `$SIGNALS` in their
 * environment); the bare repository logs every ref update it receives in `pushes.log`.
 */
import { execFileSync, spawn } from "node:child_process"
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type FakeGitHub, type FakeLinear, startFakeGitHub, startFakeLinear } from "@spec-orch/test-kit"

/** The binary under test (`cd apps/cli && npx tsup` builds it); SPEC_ORCH_CLI points at another build. */
export const BIN = process.env.SPEC_ORCH_CLI ?? join(import.meta.dirname, "../../dist/main.js")
export const REPO = "acme/widgets"

/** Fails verification when the agent wrote broken.txt. */
export const BROKEN_CHECK = `import { existsSync } from "node:fs"
if (existsSync("broken.txt")) { console.error("broken.txt must not exist"); process.exit(1) }
`

export const git = (cwd: string, ...args: Array<string>): string =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@t",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@t"
    }
  })

export interface DaemonProject {
  readonly base: string
  readonly root: string
  readonly bare: string
  readonly agentDir: string
  /** Written by the agents and the test alike. */
  readonly signals: string
  /** Every ref update the remote received: `<old> <new> <ref>` per line. */
  readonly pushesLog: string
  readonly github: FakeGitHub
  readonly linear: FakeLinear
  readonly env: Record<string, string>
  /** Stops the fake tracker servers. */
  readonly close: () => Promise<void>
}

export const daemonProject = async (options: {
  /** The agent's program (an ES module reading the prompt on stdin, printing its event stream). */
  readonly agent: string
  /** The verification check's program (`node check.mjs`); BROKEN_CHECK when absent. */
  readonly check?: string
  /** `[daemon]` lines after `poll_interval_seconds = 1`. */
  readonly daemon: ReadonlyArray<string>
  /** More TOML at the end of spec-orch.toml. */
  readonly toml?: ReadonlyArray<string>
}): Promise<DaemonProject> => {
  const base = mkdtempSync(join(tmpdir(), "daemon-e2e-"))
  const root = join(base, "project")
  const bare = join(base, "origin.git")
  const agentDir = join(base, "agent")
  const signals = join(base, "signals")
  const pushesLog = join(base, "pushes.log")
  for (const dir of [root, agentDir, signals]) mkdirSync(dir)
  const github = await startFakeGitHub()
  const linear = await startFakeLinear()
  linear.addTeam({ key: "SON" })
  writeFileSync(join(agentDir, "agent.mjs"), options.agent)
  writeFileSync(join(root, "check.mjs"), options.check ?? BROKEN_CHECK)
  writeFileSync(join(root, "README.md"), "# widgets\n")
  writeFileSync(join(root, ".gitignore"), ".spec-orch/\n")
  writeFileSync(
    join(root, "gate.policy.yaml"),
    "conditions:\n  builder: { required: true }\n  verification: { required: true }\nprofiles:\n  daemon:\n    disable: []\n"
  )
  writeFileSync(
    join(root, "spec-orch.toml"),
    [
      "[issue]",
      'source = "linear"',
      "[linear]",
      `api_url = ${JSON.stringify(linear.url)}`,
      'team_key = "SON"',
      "[github]",
      `repo = ${JSON.stringify(REPO)}`,
      `api_url = ${JSON.stringify(github.url)}`,
      "[builder]",
      'adapter = "command"',
      `command = ["node", ${JSON.stringify(join(agentDir, "agent.mjs"))}]`,
      "timeout_seconds = 120",
      `env = { SIGNALS = ${JSON.stringify(signals)} }`,
      "[verification]",
      'check = ["node", "check.mjs"]',
      "[workspace]",
      `root = ${JSON.stringify(join(base, "worktrees"))}`,
      "[sandbox]",
      `writable = [${JSON.stringify(signals)}]`,
      "[daemon]",
      "poll_interval_seconds = 1",
      ...options.daemon,
      ...(options.toml ?? []),
      ""
    ].join("\n")
  )
  git(root, "init", "-q", "-b", "main")
  git(root, "add", "-A")
  git(root, "commit", "-qm", "init")
  git(base, "init", "-q", "--bare", bare)
  writeFileSync(
    join(bare, "hooks", "post-receive"),
    `#!/bin/sh\nwhile read old new ref; do echo "$old $new $ref" >> ${JSON.stringify(pushesLog)}; done\n`
  )
  chmodSync(join(bare, "hooks", "post-receive"), 0o755)
  git(root, "remote", "add", "origin", bare)
  git(root, "push", "-q", "origin", "main")
  github.addRepo(REPO, { gitDir: bare })
  return {
    base,
    root,
    bare,
    agentDir,
    signals,
    pushesLog,
    github,
    linear,
    env: {
      ...process.env,
      FORCE_COLOR: "0",
      GITHUB_TOKEN: github.token,
      SPEC_ORCH_LINEAR_TOKEN: linear.token
    } as Record<string, string>,
    close: async () => {
      await github.close()
      await linear.close()
    }
  }
}

/** A Linear issue in the Ready state with a builder prompt and one acceptance criterion. */
export const readyIssue = (linear: FakeLinear, title: string, marker = "") =>
  linear.addIssue({
    team: "SON",
    title,
    state: "Ready",
    description: `## Builder Prompt\nImplement ${title}.${marker === "" ? "" : ` ${marker}`}\n\n## Acceptance Criteria\n- ${title} works\n`
  })

/** Runs the CLI in the project to its end, without blocking the test's event loop (the fakes serve from it). */
export const daemonCli = (p: Pick<DaemonProject, "root" | "env">, ...args: Array<string>) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: p.root,
      env: p.env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (d) => (stdout += d))
    child.stderr!.on("data", (d) => (stderr += d))
    child.on("exit", (status) => resolve({ status, stdout, stderr }))
  })
