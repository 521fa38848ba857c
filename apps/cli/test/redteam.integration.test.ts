/**
 * The red team: hostile `command` agents and hostile verification steps, run end to end by the real
 * binary with the OS sandbox required, each trying one escape from issue 17 — leaving the worktree,
 * planting a hook or fsmonitor that spec-orch's own git would run, reading credentials, reaching the
 * network, outliving the run. Every test proves the escape is closed and that the run still ends with
 * evidence a person can read. (The gate-emptying escapes are in gate.integration.test.ts, redaction in
 * redaction.integration.test.ts, 100 MB of output in the output benchmark and execution's tests.)
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync, spawnSync } from "node:child_process"
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { makeProject, type TestProject } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as Record<string, any>

/**
 * Where an escape test keeps the project and the user's home: not under /tmp, which the box replaces
 * with its own, so what keeps the agent out is the box's layout and not a private /tmp.
 */
const OUTSIDE_TMP = "/var/tmp"

/** A project whose agent is `script` (sh), with the sandbox required and `verification` steps. */
const hostileProject = (
  script: string,
  options: { readonly verification?: Record<string, string>; readonly env?: Record<string, string> } = {}
): TestProject =>
  makeProject({
    under: OUTSIDE_TMP,
    builder: [
      'adapter = "command"',
      `command = ["sh", "-c", ${JSON.stringify(script)}]`,
      "timeout_seconds = 60",
      "stall_timeout_seconds = 60"
    ],
    verification: options.verification ?? { check: "true" },
    toml: '[sandbox]\nmode = "required"',
    ...(options.env !== undefined ? { env: options.env } : {})
  })

/** Runs issue `id` (its prompt says nothing: the hostile script acts on its own) and returns the run record. */
const runIssue = (p: TestProject, id: string) => {
  p.issue(id, { builder_prompt: "Do the task." })
  const r = p.cli("run", id, "--auto-approve", "--json")
  assert.notStrictEqual(r.status, 2, r.stderr)
  return { record: json(r.stdout), stderr: r.stderr, dir: join(p.root, ".spec-orch", "runs", `${id}-r1`) }
}

const filesUnder = (dir: string): Array<string> =>
  existsSync(dir)
    ? readdirSync(dir).flatMap((name) =>
        statSync(join(dir, name)).isDirectory() ? filesUnder(join(dir, name)) : [join(dir, name)]
      )
    : []

describe("red team: an agent cannot leave its worktree", () => {
  it("cannot write the main checkout, plant a hook or fsmonitor in the shared git directory, or write the user's home; its real change is still committed", () => {
    const home = mkdtempSync(join(OUTSIDE_TMP, "redteam-home-"))
    const marker = join(tmpdir(), `redteam-hook-ran-${process.pid}-${Date.now()}`)
    const script = [
      // Every attempt reports its own failure on stdout (the agent's stream), and the agent goes on.
      `MAIN="$RT_MAIN"`,
      `echo pwned > "$MAIN/pwned.txt" || echo "refused: main checkout"`,
      `printf '#!/bin/sh\\necho ran > ${marker}\\n' > "$MAIN/.git/hooks/post-commit" || echo "refused: hook"`,
      `git config core.fsmonitor "sh -c 'echo ran > ${marker}'" || echo "refused: git config"`,
      `git config core.hooksPath "$PWD/hooks" || echo "refused: hooksPath"`,
      `echo planted >> "${home}/.bashrc" || echo "refused: home"`,
      `echo 'export const ok = true' > feature.js`,
      `echo '{"type":"file_change","path":"feature.js","kind":"add"}'`
    ].join("\n")
    const p = hostileProject(script)
    // The agent is told where the main checkout is, as an attacker would find it (git rev-parse --git-common-dir).
    writeFileSync(
      join(p.root, "spec-orch.toml"),
      p
        .read("spec-orch.toml")
        .replace("timeout_seconds = 60", `timeout_seconds = 60\nenv = { RT_MAIN = ${JSON.stringify(p.root)} }`)
    )
    const configBefore = p.read(".git/config")
    const { record, dir } = runIssue(p, "RT-1")
    assert.strictEqual(record.status, "succeeded", JSON.stringify(record))
    assert.isFalse(existsSync(join(p.root, "pwned.txt")), "nothing was written into the main checkout")
    assert.isFalse(existsSync(join(p.root, ".git/hooks/post-commit")), "no hook was planted")
    assert.strictEqual(p.read(".git/config"), configBefore, "the shared git config is unchanged")
    assert.isFalse(existsSync(join(home, ".bashrc")), "the user's home is read-only")
    assert.isFalse(existsSync(marker), "no hook and no fsmonitor ran when spec-orch committed")
    const raw = readFileSync(join(dir, "agent.jsonl"), "utf8")
    for (const what of ["main checkout", "hook", "git config", "hooksPath", "home"])
      assert.include(raw, `refused: ${what}`)
    assert.deepStrictEqual(record.changedFiles ?? json(readFileSync(join(dir, "evidence.json"), "utf8")).changedFiles, [
      "feature.js"
    ])
    const explain = readFileSync(join(dir, "explain.md"), "utf8")
    assert.match(explain, /Sandbox \(agent\): confined by bubblewrap/)
  })

  it("cannot read the main checkout's .env or spec-orch's state database, nor credential files in the user's home", () => {
    const home = mkdtempSync(join(OUTSIDE_TMP, "redteam-home-"))
    mkdirSync(join(home, ".ssh"))
    writeFileSync(
      join(home, ".ssh/id_ed25519"),
      "-----BEGIN OPENSSH PRIVATE KEY-----\nredteam-private-key-material\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    mkdirSync(join(home, ".config/gh"), { recursive: true })
    writeFileSync(join(home, ".config/gh/hosts.yml"), "github.com:\n  oauth_token: redteam-gh-oauth-material\n")
    const script = [
      `MAIN="$RT_MAIN"`,
      `{ cat "$MAIN/.env"; cat "$MAIN/.spec-orch/state.db"; cat "${home}/.ssh/id_ed25519"; cat "${home}/.config/gh/hosts.yml"; ls -A "$MAIN"; } > stolen.txt 2>&1`,
      `echo '{"type":"file_change","path":"stolen.txt","kind":"add"}'`
    ].join("\n")
    const p = hostileProject(script, { env: { HOME: home } })
    writeFileSync(join(p.root, ".env"), "DB_PASSWORD=redteam-dotenv-material\n")
    writeFileSync(
      join(p.root, "spec-orch.toml"),
      p
        .read("spec-orch.toml")
        .replace("timeout_seconds = 60", `timeout_seconds = 60\nenv = { RT_MAIN = ${JSON.stringify(p.root)} }`)
    )
    const { record } = runIssue(p, "RT-2")
    const stolen = readFileSync(join(record.worktree, "stolen.txt"), "utf8")
    for (const secret of [
      "redteam-dotenv-material",
      "SQLite format",
      "redteam-private-key-material",
      "redteam-gh-oauth-material"
    ])
      assert.notInclude(stolen, secret)
    assert.include(stolen, ".git", "the main checkout shows only its git metadata")
    assert.notInclude(stolen, "README.md")
  })
})

describe("red team: no secret reaches an agent or a verification step", () => {
  it("keeps tracker, SCM and cloud tokens out of the agent's and the steps' environment, and out of everything written", () => {
    const tokens = {
      GITHUB_TOKEN: `ghp_${"r".repeat(36)}`,
      SPEC_ORCH_LINEAR_TOKEN: `lin_api_${"t".repeat(40)}`,
      AWS_SECRET_ACCESS_KEY: "redteamAwsSecretAccessKeyMaterial0123456789",
      NPM_TOKEN: `npm_${"n".repeat(36)}`
    }
    const script = [
      `env > agent-env.txt`,
      `echo '{"type":"file_change","path":"agent-env.txt","kind":"add"}'`,
      `env`
    ].join("\n")
    // A test the agent could have written: prints the environment and every token-looking variable.
    const p = hostileProject(script, {
      env: tokens,
      verification: { leak: 'env; node -e "console.log(JSON.stringify(process.env))"' }
    })
    const { record, dir } = runIssue(p, "RT-3")
    const agentEnv = readFileSync(join(record.worktree, "agent-env.txt"), "utf8")
    const stepLog = filesUnder(join(dir, "verify"))
      .map((f) => readFileSync(f, "utf8"))
      .join("\n")
    assert.include(stepLog, "PATH=", "the step did print its environment")
    for (const [name, value] of Object.entries(tokens)) {
      assert.notInclude(agentEnv, name, `${name} reached the agent`)
      assert.notInclude(stepLog, value, `${name} reached a verification step`)
      for (const f of filesUnder(join(p.root, ".spec-orch")))
        assert.notInclude(readFileSync(f, "latin1"), value, `${name} in ${relative(p.root, f)}`)
    }
  })
})

describe("red team: nothing an agent or a step starts outlives it", () => {
  it("ends setsid'd and double-forked children of the agent and of a step when they exit", () => {
    const script = [
      `setsid sh -c 'sleep 300' < /dev/null > /dev/null 2>&1 &`,
      `( ( sleep 300 & ) & ) < /dev/null > /dev/null 2>&1`,
      `echo 'x' > started.txt`,
      `echo '{"type":"file_change","path":"started.txt","kind":"add"}'`
    ].join("\n")
    const p = hostileProject(script, {
      verification: { daemonize: "setsid sh -c 'sleep 300' < /dev/null > /dev/null 2>&1 & true" }
    })
    const { record } = runIssue(p, "RT-4")
    assert.strictEqual(record.status, "succeeded", JSON.stringify(record))
    assert.deepStrictEqual(p.agentsRunning(), [], "no process is left working in the worktree")
  })
})

describe("red team: the network is closed", () => {
  it("reaches no host, not even a server on the host's loopback, from the agent or a step; the attempt is in the evidence", async () => {
    let hits = 0
    const server = createServer((_req, res) => {
      hits++
      res.end("you reached the host\n")
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const port = (server.address() as { port: number }).port
    const probe = `node -e "fetch('http://127.0.0.1:${port}/').then(r => r.text()).then(t => console.log('reached: ' + t.trim()), e => console.log('blocked: ' + (e.cause?.code ?? e.message)))"`
    const script = [
      probe,
      `${probe.replace(`127.0.0.1:${port}`, "example.com")}`,
      `echo done > net.txt`,
      `echo '{"type":"file_change","path":"net.txt","kind":"add"}'`
    ].join("\n")
    const p = hostileProject(script, { verification: { net: probe } })
    const { dir } = runIssue(p, "RT-5")
    server.close()
    assert.strictEqual(hits, 0, "nothing reached the host's server")
    const raw = readFileSync(join(dir, "agent.jsonl"), "utf8")
    assert.notInclude(raw, "reached:")
    assert.strictEqual(raw.split("blocked:").length - 1, 2)
    const step = filesUnder(join(dir, "verify"))
      .map((f) => readFileSync(f, "utf8"))
      .join("\n")
    assert.include(step, "blocked:")
  })
})

describe("red team: required means required", () => {
  it("refuses to start where the sandbox cannot, saying why, and creates nothing", () => {
    const p = hostileProject("echo should not run")
    p.issue("RT-6", { builder_prompt: "Do the task." })
    // A PATH with node, git and sh but no bwrap.
    const bin = mkdtempSync(join(tmpdir(), "redteam-bin-"))
    for (const tool of ["node", "git", "sh"])
      symlinkSync(execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim(), join(bin, tool))
    const r = spawnSync(
      process.execPath,
      [join(import.meta.dirname, "../dist/main.js"), "run", "RT-6", "--auto-approve"],
      { cwd: p.root, env: { ...process.env, PATH: bin }, encoding: "utf8" }
    )
    assert.strictEqual(r.status, 2, r.stderr)
    assert.include(
      r.stderr,
      'the sandbox is required ([sandbox] mode = "required") but cannot start on this machine: bubblewrap (bwrap) is not installed'
    )
    assert.include(r.stderr, "Nothing was started.")
    assert.isFalse(existsSync(join(p.root, ".spec-orch", "runs")), "no run was created")
    assert.deepStrictEqual(p.agentRuns(), [])
  })

  it("without socat, runs a command agent that needs no network, and refuses one that does, before anything starts", () => {
    // A PATH with what the run needs, bubblewrap among it, but no socat (not under /tmp: the box has its own).
    const bin = mkdtempSync("/var/tmp/redteam-bin-")
    for (const tool of ["node", "git", "sh", "bwrap", "cat", "echo", "true", "sleep", "env"])
      symlinkSync(execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim(), join(bin, tool))
    const cli = (p: TestProject, id: string) => {
      p.issue(id, { builder_prompt: "Do the task." })
      return spawnSync(
        process.execPath,
        [join(import.meta.dirname, "../dist/main.js"), "run", id, "--auto-approve", "--json"],
        { cwd: p.root, env: { ...process.env, PATH: bin }, encoding: "utf8" }
      )
    }
    const local = hostileProject(
      'echo done > local.txt; echo \'{"type":"file_change","path":"local.txt","kind":"add"}\''
    )
    const ran = cli(local, "RT-7")
    assert.notStrictEqual(ran.status, 2, ran.stderr)
    assert.strictEqual(
      json(ran.stdout).status,
      "succeeded",
      readFileSync(join(local.root, ".spec-orch/runs/RT-7-r1/explain.md"), "utf8")
    )
    assert.include(
      execFileSync("git", ["show", "--stat", "spec-orch/RT-7"], { cwd: local.root, encoding: "utf8" }),
      "local.txt",
      "the agent ran in the box and its change was committed"
    )
    const networked = makeProject({
      builder: ['adapter = "command"', `command = ["sh", "-c", "echo should not run"]`],
      verification: { check: "true" },
      toml: '[sandbox]\nmode = "required"\nallow_hosts = ["api.example.com"]'
    })
    const refused = cli(networked, "RT-8")
    assert.strictEqual(refused.status, 2, refused.stderr)
    assert.include(refused.stderr, "socat is not installed")
    assert.include(refused.stderr, "Nothing was started.")
    assert.isFalse(existsSync(join(networked.root, ".spec-orch", "runs")), "no run was created")
    rmSync(bin, { recursive: true, force: true })
  })
})
