/**
 * Validation by offline replay, end to end with the real binary: a project whose verification checks that
 * CHANGELOG.md was written and a `command` agent that forgets it unless a learned rule in its prompt says so.
 * Runs fail → `evolution run` proposes the learning → `evolution validate <id> --replay` re-runs held-out
 * past issues twice each through the real workflow (builder, verification, gate), without and with the
 * proposal → validated only when the promotion rule says so → approved → used → rolled back. Replay runs
 * stay out of the user's runs, attempts and branches.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { makeProject, type TestProject, waitFor } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as any

/** Writes src/a.txt; writes CHANGELOG.md only when a learned rule in its prompt mentions it. */
const LEARNER = `
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
const prompt = readFileSync(0, "utf8")
appendFileSync(process.env.AGENT_LOG, process.pid + "\\n")
const say = (e) => console.log(JSON.stringify(e))
mkdirSync("src", { recursive: true })
writeFileSync("src/a.txt", "a\\n")
say({ type: "file_change", path: "src/a.txt", kind: "add" })
if (prompt.split("\\n").some((l) => l.includes("learned rule") && l.includes("CHANGELOG.md"))) {
  writeFileSync("CHANGELOG.md", "- added src/a.txt\\n")
  say({ type: "file_change", path: "CHANGELOG.md", kind: "add" })
}
say({ type: "result", text: "done" })
`

/** A project with the learning agent and issues CL-1…CL-n; CL-1 and CL-2 run (and fail) before `evolution run`, the rest after. */
const learningProject = (verification: Record<string, string>, issues: number) => {
  const p = makeProject({ verification })
  writeFileSync(join(p.root, "tools/agent.mjs"), LEARNER)
  spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "learner agent"], { cwd: p.root })
  const ids = Array.from({ length: issues }, (_, i) => `CL-${i + 1}`)
  for (const id of ids) p.issue(id, { builder_prompt: "Add src/a.txt", target_files: ["src/a.txt", "CHANGELOG.md"] })
  return { p, ids }
}

const runFails = (p: TestProject, id: string) => {
  const r = p.cli("run", id, "--auto-approve", "--json")
  assert.strictEqual(r.status, 1, `${id} fails verification: ${r.stderr}`)
}

const contextOf = (artifactsDir: string) => json(readFileSync(join(artifactsDir, "context.json"), "utf8"))

describe("spec-orch evolution validate --replay", () => {
  it("replays held-out issues with and without a proposal, validates it only when the candidate beats the baseline, and leaves the user's runs alone", () => {
    const { p, ids } = learningProject({ changelog: "test -s CHANGELOG.md" }, 6)
    for (const id of ids.slice(0, 2)) runFails(p, id)
    const made = p.cli("evolution", "run", "--json")
    assert.strictEqual(made.status, 0, made.stderr)
    const [proposal] = json(made.stdout)
    assert.strictEqual(proposal.state, "proposed")
    assert.deepStrictEqual(proposal.sources.runIds, ["CL-1-r1", "CL-2-r1"])
    // Four more issues fail while the proposal is not in use: they are the held-out set.
    for (const id of ids.slice(2)) runFails(p, id)
    const before = json(p.cli("status", "--all", "--json").stdout)
    const learned = `${proposal.id}@${proposal.contentHash}`

    // Counts or a replay, not both and not neither.
    const both = p.cli("evolution", "validate", proposal.id, "--replay", "--candidate", "4/4", "--baseline", "0/4")
    assert.strictEqual(both.status, 2)
    assert.include(both.stderr, "give either --replay or --candidate and --baseline, not both")
    const neither = p.cli("evolution", "validate", proposal.id)
    assert.strictEqual(neither.status, 2)
    assert.include(neither.stderr, "or --replay to measure them by re-running held-out past issues")
    // An issue it was learned from is not held out.
    const notHeldOut = p.cli("evolution", "validate", proposal.id, "--replay", "--issues", "CL-1,CL-3")
    assert.strictEqual(notHeldOut.status, 2)
    assert.include(notHeldOut.stderr, `CL-1 is where ${proposal.id} was learned from`)
    // One issue: the candidate passes and the baseline fails, a raw 100% against 0%, and still not validated.
    const few = p.cli("evolution", "validate", proposal.id, "--replay", "--issues", "CL-3", "--json")
    assert.strictEqual(few.status, 1, few.stderr)
    const fewOut = json(few.stdout)
    assert.strictEqual(fewOut.decision.decision, "hold")
    assert.strictEqual(fewOut.decision.pValue, null)
    assert.include(fewOut.decision.reason, "too few trials: candidate 1/1, baseline 0/1")
    assert.strictEqual(fewOut.proposal.state, "proposed")
    assert.strictEqual(fewOut.replay.outcomes[0].candidate.success, true)
    assert.strictEqual(fewOut.replay.outcomes[0].baseline.success, false)

    // Two replay runs at a time: the same outcomes, in the held-out issues' order.
    const replayed = p.cli(
      "evolution",
      "validate",
      proposal.id,
      "--replay",
      "--min-sample",
      "4",
      "--concurrency",
      "2",
      "--json"
    )
    assert.strictEqual(replayed.status, 0, replayed.stderr)
    const out = json(replayed.stdout)
    assert.strictEqual(out.decision.decision, "promote", out.decision.reason)
    assert.strictEqual(out.decision.test, "fisher-exact")
    assert.closeTo(out.decision.pValue, 1 / 70, 1e-9)
    assert.strictEqual(out.proposal.state, "validated")
    assert.deepStrictEqual(out.replay.issues, ["CL-6", "CL-5", "CL-4", "CL-3"], "the most recent held-out issues")
    assert.deepStrictEqual(out.replay.learnedFrom, ["CL-2", "CL-1"])
    assert.strictEqual(out.replay.runs, 8)
    for (const o of out.replay.outcomes) {
      assert.strictEqual(o.baseline.status, "blocked", `${o.issueId} without the learning`)
      assert.strictEqual(o.baseline.verification, "failed")
      assert.strictEqual(o.candidate.status, "succeeded", `${o.issueId} with the learning`)
      assert.strictEqual(o.candidate.verification, "passed")
      // Real runs in the replay's own state: the candidate's builder was offered the proposal, the baseline's not.
      const base = join(p.root, ".spec-orch/replay", proposal.id, "runs")
      const candidateContext = contextOf(join(base, o.candidate.runId))
      assert.include(candidateContext.learnings, learned)
      assert.deepStrictEqual(candidateContext.replay, { proposalId: proposal.id, arm: "candidate" })
      const baselineContext = contextOf(join(base, o.baseline.runId))
      assert.notInclude(baselineContext.learnings, learned)
      assert.deepStrictEqual(baselineContext.replay, { proposalId: proposal.id, arm: "baseline" })
      assert.match(o.candidate.runId, new RegExp(`^replay\\.${proposal.id}\\.candidate\\.${o.issueId}-r\\d+$`))
      assert.isFalse(
        existsSync(join(base, o.candidate.runId, "publish.json")) &&
          json(readFileSync(join(base, o.candidate.runId, "publish.json"), "utf8")).mode !== "local",
        "a replay run publishes nothing"
      )
    }
    assert.isTrue(existsSync(join(p.root, ".spec-orch/replay", proposal.id, "replay.json")))

    // The user's runs are as they were: no replay run, no new attempt, no replay branch or worktree left.
    assert.deepStrictEqual(
      json(p.cli("status", "--all", "--json").stdout).map((r: any) => `${r.runId}:${r.attempt}`),
      before.map((r: any) => `${r.runId}:${r.attempt}`)
    )
    const branches = spawnSync("git", ["branch", "--list", "spec-orch/replay.*"], { cwd: p.root, encoding: "utf8" })
    assert.strictEqual(branches.stdout.trim(), "")
    assert.strictEqual(
      json(p.cli("evolution", "status", "--json").stdout).inUse.length,
      0,
      "validated is not in use: a replay only measures"
    )

    // The validation evidence is on the proposal's move: who, why (the numbers) and every issue's outcome.
    const shown = json(p.cli("evolution", "show", proposal.id, "--json").stdout)
    const validated = shown.history.find((t: any) => t.to === "validated")
    assert.deepStrictEqual(validated.actor, { type: "system", id: "replay" })
    assert.include(validated.why, "replay of 4 held-out issue(s) (CL-6, CL-5, CL-4, CL-3)")
    assert.include(validated.why, "candidate 4/4 beats baseline 0/4")
    assert.deepStrictEqual(
      validated.detail.replay.outcomes.map((o: any) => [o.issueId, o.baseline.success, o.candidate.success]),
      [
        ["CL-6", false, true],
        ["CL-5", false, true],
        ["CL-4", false, true],
        ["CL-3", false, true]
      ]
    )

    // Approved, the next real run is offered it and passes; rolled back, the next is not and fails.
    const approved = p.cli("evolution", "approve", proposal.id, "--by", "ana", "--why", "the replay showed it")
    assert.strictEqual(approved.status, 0, approved.stderr)
    const next = p.cli("run", "CL-3", "--json")
    assert.strictEqual(next.status, 0, `the next run passes with the learning: ${next.stderr}`)
    assert.strictEqual(json(next.stdout).runId, "CL-3-r2", "replays were not the issue's attempts")
    const nextContext = contextOf(json(next.stdout).artifactsDir)
    assert.include(nextContext.learnings, learned)
    assert.isUndefined(nextContext.replay)
    const rolled = p.cli("evolution", "rollback", proposal.id, "--by", "ana", "--why", "enough")
    assert.strictEqual(rolled.status, 0, rolled.stderr)
    const after = p.cli("run", "CL-4", "--json")
    assert.strictEqual(after.status, 1, "without the learning the agent forgets the changelog again")
    assert.notInclude(contextOf(json(after.stdout).artifactsDir).learnings, learned)
  }, 600_000)

  it("does not validate a proposal that does not beat the baseline on replay, however many issues", () => {
    // Two steps fail; the changelog learning alone fixes one of them, so no run passes the gate with it.
    const { p, ids } = learningProject({ changelog: "test -s CHANGELOG.md", notes: "test -s NOTES.md" }, 6)
    for (const id of ids.slice(0, 2)) runFails(p, id)
    const made = p.cli("evolution", "run", "--json")
    assert.strictEqual(made.status, 0, made.stderr)
    const proposal = json(made.stdout).find((x: any) => x.content.includes("CHANGELOG.md"))
    assert.isDefined(proposal, made.stdout)
    for (const id of ids.slice(2)) runFails(p, id)

    const replayed = p.cli("evolution", "validate", proposal.id, "--replay", "--min-sample", "4", "--json")
    assert.strictEqual(replayed.status, 1, replayed.stderr)
    const out = json(replayed.stdout)
    assert.strictEqual(out.decision.decision, "hold")
    assert.include(out.decision.reason, "not shown better: candidate 0/4 against baseline 0/4")
    assert.strictEqual(out.proposal.state, "proposed")
    for (const o of out.replay.outcomes) {
      assert.strictEqual(o.candidate.status, "blocked")
      assert.strictEqual(o.baseline.status, "blocked")
    }
    const human = p.cli("evolution", "validate", proposal.id, "--replay", "--issues", "CL-3")
    assert.strictEqual(human.status, 1)
    assert.include(human.stdout, `${proposal.id} is NOT validated and stays proposed`)
    assert.deepStrictEqual(
      json(p.cli("evolution", "show", proposal.id, "--json").stdout).history.map((t: any) => t.to),
      ["proposed"]
    )
    const approve = p.cli("evolution", "approve", proposal.id, "--by", "ana")
    assert.notStrictEqual(approve.status, 0, "a proposal replay did not validate cannot be approved")
  }, 600_000)

  it("an interrupted replay stops its agent and leaves no worktree or branch behind", async () => {
    // The stand-in agent of makeProject: CL-1 and CL-2 fail for want of a changelog and teach the learning;
    // CL-3 failed too and is held out, then its builder prompt waits for a signal that never comes.
    const p = makeProject({ verification: { changelog: "test -s CHANGELOG.md" } })
    for (const id of ["CL-1", "CL-2", "CL-3"])
      p.issue(id, { builder_prompt: "WRITE src/a.txt a", target_files: ["src/a.txt", "CHANGELOG.md"] })
    for (const id of ["CL-1", "CL-2"]) runFails(p, id)
    const made = p.cli("evolution", "run", "--json")
    assert.strictEqual(made.status, 0, made.stderr)
    const [proposal] = json(made.stdout)
    runFails(p, "CL-3")
    p.issue("CL-3", { builder_prompt: `AWAIT ${p.signal("never")}`, target_files: ["src/a.txt", "CHANGELOG.md"] })
    const replayWorktrees = () =>
      spawnSync("git", ["worktree", "list", "--porcelain"], { cwd: p.root, encoding: "utf8" })
        .stdout.split("\n")
        .filter((l) => l.startsWith("worktree ") && l.includes(`replay.${proposal.id}.`))

    const agentsBefore = p.agentRuns().length
    const child = p.spawn("evolution", "validate", proposal.id, "--replay", "--issues", "CL-3", "--min-sample", "1")
    let stderr = ""
    child.stderr!.on("data", (d) => {
      stderr += String(d)
    })
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    await waitFor(
      () => p.agentRuns().length > agentsBefore && replayWorktrees().length === 1,
      120_000,
      () => stderr
    )
    child.kill("SIGINT")
    assert.strictEqual(await exited, 130, stderr)
    assert.deepStrictEqual(replayWorktrees(), [], "the arm's worktree is removed")
    const branches = spawnSync("git", ["branch", "--list", "spec-orch/replay.*"], { cwd: p.root, encoding: "utf8" })
    assert.strictEqual(branches.stdout.trim(), "", "and its branch")
    assert.deepStrictEqual(p.agentsRunning(), [], "the agent stopped")
    const shown = json(p.cli("evolution", "show", proposal.id, "--json").stdout)
    assert.strictEqual(shown.state, "proposed", "an interrupted replay decides nothing")
  }, 300_000)
})
