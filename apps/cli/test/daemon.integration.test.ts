/**
 * `spec-orch daemon` end to end: the real binary against a fake Linear and a fake GitHub on
 * 127.0.0.1 and a bare repository as the remote. Three ready issues: one good, one that fails
 * verification, one moved away mid-run; the daemon is killed with SIGKILL while publishing and
 * restarted, then stopped with Ctrl-C. Nothing is duplicated: pull requests, pushes, comments. A
 * SIGTERM mid-run stops the daemon cleanly (exit 0) and the next daemon resumes the run.
 * Agents and checks run in the OS sandbox: the agent's program lives outside the project (the box puts
 * it back read-only), it talks to the test through a signals directory (`[sandbox] writable`), and a
 * stopped agent is looked for by what still works in the worktrees (a boxed pid means nothing here).
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn, type ChildProcess } from "node:child_process"
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { processesUnder } from "@spec-orch/test-kit"
import { BIN, type DaemonProject, daemonCli, daemonProject, git, REPO, readyIssue } from "./utils/daemon-project.js"

const AGENT = `
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
const prompt = readFileSync(0, "utf8")
const id = (/\\bSON-\\d+\\b/.exec(prompt) ?? ["X"])[0]
const dir = process.env.SIGNALS
appendFileSync(join(dir, "agent.log"), "start " + id + " " + process.pid + "\\n")
console.log(JSON.stringify({ type: "message", text: "working on " + id }))
if (prompt.includes("SLOW")) {
  const until = Date.now() + 90000
  while (Date.now() < until && !existsSync(join(dir, "release-" + id))) await new Promise((r) => setTimeout(r, 100))
}
if (prompt.includes("BREAK")) writeFileSync("broken.txt", "the check rejects this\\n")
writeFileSync("done-" + id + ".txt", "done\\n")
console.log(JSON.stringify({ type: "file_change", path: "done-" + id + ".txt", kind: "add" }))
appendFileSync(join(dir, "agent.log"), "end " + id + " " + process.pid + "\\n")
`
type Setup = DaemonProject

const setup = (options: { readonly retryDelaySeconds?: number } = {}): Promise<Setup> =>
  daemonProject({
    agent: AGENT,
    daemon: ["max_concurrent = 3", "max_retries = 1", `retry_base_delay_seconds = ${options.retryDelaySeconds ?? 1}`]
  })

const ready = readyIssue
const cli = daemonCli

const daemon = (s: Setup) => {
  const child = spawn(process.execPath, [BIN, "daemon", "start"], {
    cwd: s.root,
    env: s.env,
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  return { child, output: () => output }
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.exitCode !== null || child.signalCode !== null
      ? resolve({ code: child.exitCode, signal: child.signalCode })
      : child.on("exit", (code, signal) => resolve({ code, signal }))
  )

/** Polls an async condition every 250 ms. */
const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 90_000) => {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** Processes working in one of the daemon's worktrees right now (boxed agents, steps, what they started). */
const agentsRunning = (s: Setup) => processesUnder(join(s.base, "worktrees"))

const agentLog = (s: Setup) =>
  existsSync(join(s.signals, "agent.log"))
    ? readFileSync(join(s.signals, "agent.log"), "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split(" ").slice(0, 2).join(" "))
    : []
const marked = (s: Setup, id: string, key: string) =>
  s.linear.comments(id).filter((c) => c.body.includes(`<!-- spec-orch:comment=${key} -->`))

describe("spec-orch daemon", () => {
  it("three ready issues: one PR merged-ready, one dead-lettered, one cancelled; SIGKILL mid-publish and a restart duplicate nothing", async () => {
    assert.isTrue(existsSync(BIN), `build the CLI first: cd apps/cli && npx tsup (looked for ${BIN})`)
    const s = await setup()
    try {
      const good = ready(s.linear, "a health endpoint", "SLOW")
      const broken = ready(s.linear, "a broken change", "BREAK")
      const moved = ready(s.linear, "a change nobody wants", "SLOW")

      const first = daemon(s)
      // The failing one fails, is retried after the backoff, and is dead-lettered while the others work.
      await until("the broken issue to be dead-lettered", () =>
        s.linear.issue(broken.identifier).labels.includes("dead-letter")
      )
      await until(
        "both slow agents to start",
        () => agentLog(s).includes(`start ${good.identifier}`) && agentLog(s).includes(`start ${moved.identifier}`)
      )
      assert.strictEqual(s.linear.issue(good.identifier).state, "In Progress")

      // A person moves one issue away mid-run: the daemon cancels it.
      s.linear.moveIssue(moved.identifier, "Backlog")
      let movedWorktree = ""
      await until("the moved issue's run to be cancelled", async () => {
        const r = await cli(s, "status", moved.identifier, "--json")
        movedWorktree = r.status === 0 ? (JSON.parse(r.stdout)[0]?.worktree ?? "") : ""
        return r.status === 0 && JSON.parse(r.stdout)[0]?.status === "cancelled"
      })
      assert.notInclude(agentLog(s), `end ${moved.identifier}`, "its agent was stopped")
      assert.include(movedWorktree, moved.identifier)
      await until(
        "nothing to work in the moved issue's worktree",
        () => processesUnder(movedWorktree).length === 0,
        5_000
      )

      // Kill -9 while the good issue's summary comment is being created (its answer is slow to come back).
      s.linear.fail("commentCreate", { delayMs: 4000, times: 1 })
      const creates = s.linear.requestsTo("commentCreate").length
      writeFileSync(join(s.signals, `release-${good.identifier}`), "")
      await until("the summary comment to be on its way", () => s.linear.requestsTo("commentCreate").length > creates)
      first.child.kill("SIGKILL")
      assert.strictEqual((await exited(first.child)).signal, "SIGKILL")
      assert.strictEqual(s.github.pulls(REPO).length, 2, "both PRs were open before the kill")

      // A new daemon reclaims the run the killed one left and finishes publishing it.
      const second = daemon(s)
      await until("the good issue to reach In Review", () => s.linear.issue(good.identifier).state === "In Review")
      await until("the good issue to be recorded done", async () => {
        const r = await cli(s, "daemon", "status", "--json")
        return (
          r.status === 0 &&
          JSON.parse(r.stdout).issues.some(
            (i: { issueId: string; status: string }) => i.issueId === good.identifier && i.status === "done"
          )
        )
      })
      const health = await cli(s, "daemon", "health")
      assert.strictEqual(health.status, 0, health.stdout + health.stderr)
      second.child.kill("SIGINT")
      const stopped = await exited(second.child)
      assert.strictEqual(stopped.code, 0, second.output())
      assert.match(second.output(), /resumed SON-\d+|resuming run SON-\d+-r1/)
      const after = await cli(s, "daemon", "health")
      assert.strictEqual(after.status, 1)
      assert.match(after.stdout, /unhealthy: the daemon \(pid \d+\) stopped at/)

      // Pull requests: one per published issue, each created once, with the gate as a commit status.
      const pulls = s.github.pulls(REPO)
      assert.deepStrictEqual(
        pulls.map((p) => p.head).sort(),
        [`spec-orch/${good.identifier}`, `spec-orch/${broken.identifier}`].sort()
      )
      assert.strictEqual(
        s.github.requestsTo("POST /repos/{owner}/{repo}/pulls").filter((r) => r.status === 201).length,
        2
      )
      const goodPr = pulls.find((p) => p.head === `spec-orch/${good.identifier}`)!
      const brokenPr = pulls.find((p) => p.head === `spec-orch/${broken.identifier}`)!
      assert.strictEqual(s.github.statuses(REPO, goodPr.headSha)[0]?.state, "success")
      assert.strictEqual(s.github.statuses(REPO, brokenPr.headSha)[0]?.state, "failure")
      assert.isTrue(brokenPr.draft)

      // Comments: one summary per issue (the killed create and the restart's create made one), one dead-letter notice.
      assert.strictEqual(marked(s, good.identifier, `run-summary:${good.identifier}`).length, 1)
      assert.strictEqual(s.linear.comments(good.identifier).length, 1)
      assert.strictEqual(marked(s, broken.identifier, `run-summary:${broken.identifier}`).length, 1)
      assert.strictEqual(marked(s, broken.identifier, `dead-letter:${broken.identifier}`).length, 1)
      assert.strictEqual(s.linear.comments(moved.identifier).length, 0)
      assert.strictEqual(s.linear.issue(moved.identifier).state, "Backlog")

      // Pushes: every ref update reached the remote once; the cancelled issue was never pushed.
      const pushes = readFileSync(s.pushesLog, "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split(" ").slice(1).join(" "))
      assert.deepStrictEqual(pushes, [...new Set(pushes)], "no ref update was repeated")
      const heads = git(s.bare, "for-each-ref", "--format=%(refname:short)", "refs/heads/").trim().split("\n").sort()
      assert.deepStrictEqual(heads, ["main", `spec-orch/${broken.identifier}`, `spec-orch/${good.identifier}`].sort())

      // Runs: the good one resumed in its first attempt (its agent ran once), two blocked attempts, one cancelled.
      const runs = JSON.parse((await cli(s, "status", "--all", "--json")).stdout) as Array<{
        runId: string
        issueId: string
        status: string
      }>
      const of = (id: string) => runs.filter((r) => r.issueId === id).map((r) => [r.runId, r.status])
      assert.deepStrictEqual(of(good.identifier), [[`${good.identifier}-r1`, "succeeded"]])
      assert.deepStrictEqual(
        of(broken.identifier).map((r) => r[1]),
        ["blocked", "blocked"]
      )
      assert.deepStrictEqual(of(moved.identifier), [[`${moved.identifier}-r1`, "cancelled"]])
      assert.strictEqual(
        agentLog(s).filter((l) => l === `start ${good.identifier}`).length,
        1,
        "the finished agent turn was not repeated"
      )
      const dlq = JSON.parse((await cli(s, "daemon", "dlq", "--json")).stdout) as Array<{
        issueId: string
        attempts: number
        reason: string
      }>
      assert.deepStrictEqual(
        dlq.map((d) => [d.issueId, d.attempts]),
        [[broken.identifier, 2]]
      )
      assert.match(dlq[0]!.reason, /blocked by verification\)$/, "the check rejected the agent's broken.txt")
    } finally {
      await s.close()
      rmSync(s.base, { recursive: true, force: true })
    }
  }, 240_000)

  it("SIGTERM mid-run: exit 0, heartbeat stopped, the run cancelled (resumable) and finished by the next daemon", async () => {
    assert.isTrue(existsSync(BIN), `build the CLI first: cd apps/cli && npx tsup (looked for ${BIN})`)
    const s = await setup()
    try {
      const slow = ready(s.linear, "a slow change", "SLOW")
      const first = daemon(s)
      await until(
        "the agent to start",
        () => agentLog(s).includes(`start ${slow.identifier}`) && agentsRunning(s).length > 0
      )
      first.child.kill("SIGTERM")
      const stopped = await exited(first.child)
      assert.strictEqual(stopped.code, 0, first.output())
      assert.match(first.output(), /daemon stopped; runs in flight resume when it starts again/)
      assert.deepStrictEqual(agentsRunning(s), [], "the agent was stopped with the daemon")

      const heartbeat = JSON.parse(readFileSync(join(s.root, ".spec-orch", "daemon", "heartbeat.json"), "utf8"))
      assert.strictEqual(heartbeat.status, "stopped")
      const health = await cli(s, "daemon", "health")
      assert.strictEqual(health.status, 1)
      assert.match(health.stdout, /unhealthy: the daemon \(pid \d+\) stopped at/)
      const run = JSON.parse((await cli(s, "status", slow.identifier, "--json")).stdout)[0]
      assert.strictEqual(run.status, "cancelled")
      assert.match(run.message, /the daemon stopped; the next `spec-orch daemon start` resumes it/)
      assert.strictEqual(s.linear.issue(slow.identifier).state, "In Progress", "the issue stays with the daemon")

      // The next daemon resumes the same attempt, and this time the agent may finish.
      writeFileSync(join(s.signals, `release-${slow.identifier}`), "")
      const once = await cli(s, "daemon", "start", "--once")
      assert.strictEqual(once.status, 0, once.stderr)
      assert.match(once.stderr, new RegExp(`resumed: ${slow.identifier}`))
      const runs = JSON.parse((await cli(s, "status", "--all", "--json")).stdout) as Array<{
        runId: string
        status: string
      }>
      assert.deepStrictEqual(
        runs.map((r) => [r.runId, r.status]),
        [[`${slow.identifier}-r1`, "succeeded"]]
      )
      assert.strictEqual(s.linear.issue(slow.identifier).state, "In Review")
    } finally {
      await s.close()
      rmSync(s.base, { recursive: true, force: true })
    }
  }, 240_000)

  it("dlq-retry releases a dead letter: label removed, back to Ready, and the next poll runs it again", async () => {
    assert.isTrue(existsSync(BIN), `build the CLI first: cd apps/cli && npx tsup (looked for ${BIN})`)
    const s = await setup({ retryDelaySeconds: 0 })
    try {
      const broken = ready(s.linear, "a broken change", "BREAK")
      const once = await cli(s, "daemon", "start", "--once")
      assert.strictEqual(once.status, 0, once.stderr)
      assert.match(once.stderr, /dispatched SON-1/)
      await cli(s, "daemon", "start", "--once")
      const dead = await cli(s, "daemon", "dlq")
      assert.match(dead.stdout, /SON-1\s+2\s.*blocked by verification\)/, "the check rejected the agent's broken.txt")
      const released = await cli(s, "daemon", "dlq-retry", broken.identifier)
      assert.strictEqual(released.status, 0, released.stderr)
      assert.match(
        released.stdout,
        /SON-1: released; the daemon tries it again on its next poll\n\s+removed the dead-letter label\n\s+moved it from In Progress to Ready/
      )
      assert.notInclude(s.linear.issue(broken.identifier).labels, "dead-letter")
      const again = await cli(s, "daemon", "dlq-retry", broken.identifier)
      assert.strictEqual(again.status, 1)
      assert.match(again.stderr, /SON-1 is not dead-lettered/)
      const third = await cli(s, "daemon", "start", "--once")
      assert.match(third.stderr, /dispatched SON-1/)
    } finally {
      await s.close()
      rmSync(s.base, { recursive: true, force: true })
    }
  }, 240_000)
})
