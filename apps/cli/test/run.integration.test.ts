/**
 * `spec-orch run` end to end with the real binary, real git, real processes and the real state
 * database: the verdict and evidence, a failing verification, resume after kill -9 in the agent and
 * verify stages, Ctrl-C, and two runs of one project at once.
 */
import { assert, describe, it } from "@effect/vitest"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { makeProject, waitFor } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as Record<string, any>
const exited = (child: import("node:child_process").ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal }))
  )

describe("spec-orch run", () => {
  it("runs an issue end to end: commit on the run branch, verification, a mergeable verdict and its evidence", () => {
    const p = makeProject()
    p.issue("E2E-1", {
      builder_prompt: "WRITE src/hello.txt hi",
      verification: { check: "test -f src/hello.txt" },
      target_files: ["src/"]
    })
    const r = p.cli("run", "E2E-1", "--auto-approve", "--json")
    assert.strictEqual(r.status, 0, r.stderr)
    const out = json(r.stdout)
    assert.strictEqual(out.status, "succeeded")
    assert.isTrue(out.mergeable)
    assert.strictEqual(out.branch, "spec-orch/E2E-1")
    assert.isFalse(existsSync(join(p.root, "src/hello.txt")), "the main checkout is untouched")
    assert.strictEqual(readFileSync(join(out.worktree, "src/hello.txt"), "utf8"), "hi\n")
    const dir = join(p.root, ".spec-orch/runs/E2E-1-r1")
    for (const f of [
      "agent.jsonl",
      "events.jsonl",
      "prompt.md",
      "diff.patch",
      "evidence.json",
      "report.json",
      "explain.md",
      "verify"
    ])
      assert.isTrue(existsSync(join(dir, f)), f)
    assert.isFalse(existsSync(join(out.worktree, ".spec-orch")), "artifacts never land in the worktree")
    assert.match(readFileSync(join(dir, "explain.md"), "utf8"), /\*\*Verdict: MERGEABLE\*\*/)
    const report = json(readFileSync(join(dir, "report.json"), "utf8"))
    assert.strictEqual(report.schemaVersion, 1)
    const log = p.cli("logs", "E2E-1")
    assert.match(log.stdout, /✓ agent/)
    assert.match(log.stdout, /verify check: passed/)
  })

  it("blocks on a failing verification step and puts its output in explain.md", () => {
    const p = makeProject()
    p.issue("E2E-2", {
      builder_prompt: "WRITE src/a.txt a",
      verification: { unit: "echo 'expected 2 but got 3' >&2; exit 1" }
    })
    const r = p.cli("run", "E2E-2", "--auto-approve", "--json")
    assert.strictEqual(r.status, 1)
    const out = json(r.stdout)
    assert.strictEqual(out.status, "blocked")
    assert.deepStrictEqual(out.failed, ["verification"])
    const explain = readFileSync(join(p.root, ".spec-orch/runs/E2E-2-r1/explain.md"), "utf8")
    assert.match(explain, /\*\*Verdict: BLOCKED\*\*/)
    assert.match(explain, /unit/)
    assert.match(explain, /expected 2 but got 3/)
  })

  it("refuses to start before the spec is approved and says how to approve it", () => {
    const p = makeProject()
    p.issue("E2E-3", { builder_prompt: "WRITE a.txt a" })
    const r = p.cli("run", "E2E-3")
    assert.strictEqual(r.status, 1)
    assert.match(r.stderr, /the spec of E2E-3 is not approved: .*spec-orch spec approve E2E-3/)
    assert.deepStrictEqual(p.agentRuns(), [], "nothing ran")
    assert.strictEqual(p.cli("spec", "approve", "E2E-3").status, 0)
    assert.strictEqual(p.cli("run", "E2E-3").status, 0)
  })

  it("resumes after kill -9 in the agent stage without repeating the stages before it; the boxed agent dies with spec-orch", async () => {
    const p = makeProject()
    const fast = p.signal("fast")
    p.issue("E2E-4", {
      builder_prompt: `SLEEP 30 ${fast}\nWRITE done.txt yes`,
      verification: { check: "test -f done.txt" }
    })
    const first = p.spawn("run", "E2E-4", "--auto-approve")
    await waitFor(() => p.agentRuns().length === 1 && p.agentsRunning().length > 0)
    first.kill("SIGKILL")
    await exited(first)
    // The box (bubblewrap, --die-with-parent) ends the agent with the process that started it.
    await waitFor(() => p.agentsRunning().length === 0, 5_000)
    writeFileSync(fast, "") // the resumed turn does not sleep
    const again = p.cli("run", "E2E-4", "--json")
    assert.strictEqual(again.status, 0, again.stderr)
    const out = json(again.stdout)
    assert.isTrue(out.resumed)
    assert.strictEqual(out.runId, "E2E-4-r1", "the same attempt was resumed")
    assert.deepStrictEqual(p.agentsRunning(), [], "nothing is left running")
    assert.strictEqual(p.agentRuns().length, 2, "only the unfinished agent stage ran again")
    const events = p.cli("logs", "E2E-4", "--json").stdout.trim().split("\n").map(json)
    const starts = (stage: string) =>
      events.filter((e) => e.kind === "stage" && e.data.stage === stage && e.data.state === "started").length
    assert.strictEqual(starts("workspace"), 1)
    assert.strictEqual(starts("context"), 1)
    assert.strictEqual(starts("agent"), 2)
    assert.strictEqual(starts("verify"), 1)
  })

  it("resumes after kill -9 in the verify stage without running the agent again; the step dies with spec-orch", async () => {
    const p = makeProject()
    const marker = p.signal("verify-log")
    const fast = p.signal("fast")
    p.issue("E2E-5", {
      builder_prompt: "WRITE out.txt 1",
      verification: { slow: `echo run >> ${marker}; [ -f ${fast} ] || sleep 30; test -f out.txt` }
    })
    const first = p.spawn("run", "E2E-5", "--auto-approve")
    await waitFor(() => existsSync(marker) && p.agentsRunning().length > 0)
    first.kill("SIGKILL")
    await exited(first)
    // The orphaned step does not keep running beside the resumed one: its box ended with spec-orch.
    await waitFor(() => p.agentsRunning().length === 0, 5_000)
    writeFileSync(fast, "")
    const again = p.cli("run", "E2E-5", "--json")
    assert.strictEqual(again.status, 0, again.stderr)
    assert.isTrue(json(again.stdout).resumed)
    assert.strictEqual(p.agentRuns().length, 1, "the finished agent turn was not repeated")
    assert.strictEqual(
      readFileSync(marker, "utf8").trim().split("\n").length,
      2,
      "the unfinished verify stage ran again"
    )
    const log = p.cli("logs", "E2E-5", "--json").stdout.trim().split("\n").map(json)
    assert.strictEqual(
      log.filter((e) => e.kind === "stage" && e.data.stage === "commit" && e.data.state === "finished").length,
      1,
      "one commit"
    )
  })

  it("cancels cleanly on Ctrl-C: agent tree killed, run marked cancelled, and a re-run resumes it", async () => {
    const p = makeProject()
    const fast = p.signal("fast")
    p.issue("E2E-6", { builder_prompt: `SLEEP 30 ${fast}\nWRITE x.txt x` })
    const child = p.spawn("run", "E2E-6", "--auto-approve")
    await waitFor(() => p.agentRuns().length === 1 && p.agentsRunning().length > 0)
    child.kill("SIGINT")
    const { code } = await exited(child)
    assert.strictEqual(code, 130)
    assert.deepStrictEqual(p.agentsRunning(), [], "the agent process was killed")
    const status = json(p.cli("status", "E2E-6", "--json").stdout)
    assert.strictEqual(status[0].status, "cancelled")
    writeFileSync(fast, "")
    const again = p.cli("run", "E2E-6", "--json")
    assert.strictEqual(again.status, 0, again.stderr)
    assert.isTrue(json(again.stdout).resumed)
  })

  it("runs two issues from two terminals at once; the same issue twice is refused, naming who runs it", async () => {
    const p = makeProject()
    const release = p.signal("release")
    p.issue("E2E-7", { builder_prompt: `AWAIT ${release}\nWRITE y.txt y` })
    p.issue("E2E-8", { builder_prompt: "WRITE z.txt z" })
    const first = p.spawn("run", "E2E-7", "--auto-approve")
    await waitFor(() => p.agentsRunning().length > 0)
    const twice = p.cli("run", "E2E-7", "--auto-approve")
    assert.strictEqual(twice.status, 1, twice.stderr)
    assert.match(
      twice.stderr,
      /another spec-orch process is already running E2E-7 in this project \(pid \d+ .*run E2E-7/
    )
    // Another issue does not wait for the first: it runs to its verdict while E2E-7's agent still runs.
    const other = p.cli("run", "E2E-8", "--auto-approve", "--json")
    assert.strictEqual(other.status, 0, other.stderr)
    assert.strictEqual(json(other.stdout).status, "succeeded")
    const both = json(p.cli("status", "--all", "--json").stdout)
    assert.deepStrictEqual(both.map((r: any) => [r.runId, r.status]).sort(), [
      ["E2E-7-r1", "running"],
      ["E2E-8-r1", "succeeded"]
    ])
    writeFileSync(release, "")
    const { code } = await exited(first)
    assert.strictEqual(code, 0)
    const status = json(p.cli("status", "E2E-7", "--all", "--json").stdout)
    assert.deepStrictEqual(
      status.map((r: any) => [r.runId, r.status]),
      [["E2E-7-r1", "succeeded"]]
    )
  })
})
