/**
 * Evolution end to end with the real binary: a project whose verification checks that CHANGELOG.md was
 * written and a `command` agent that forgets it unless a learned rule in its prompt says so. Runs fail →
 * `evolution run` proposes a learning from their evidence → it is not used before it is validated and
 * approved → the next run's context.json lists it and the run passes → rollback removes it from the next run.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { makeProject } from "./utils/project.js"

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

describe("spec-orch evolution", () => {
  it("a recurring failure becomes a proposal that is used only once validated and approved, makes the next run pass, and rollback removes it", () => {
    const p = makeProject({ verification: { changelog: "test -s CHANGELOG.md" } })
    writeFileSync(join(p.root, "tools/agent.mjs"), LEARNER)
    spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "learner agent"], { cwd: p.root })
    for (const id of ["CL-1", "CL-2", "CL-3"])
      p.issue(id, { builder_prompt: "Add src/a.txt", target_files: ["src/a.txt", "CHANGELOG.md"] })
    for (const id of ["CL-1", "CL-2"]) {
      const r = p.cli("run", id, "--auto-approve", "--json")
      assert.strictEqual(r.status, 1, `${id} fails verification: ${r.stderr}`)
    }

    const none = p.cli("evolution", "run", "--min-runs", "3", "--json")
    assert.deepStrictEqual(json(none.stdout), [], none.stderr)
    const made = p.cli("evolution", "run", "--json")
    assert.strictEqual(made.status, 0, made.stderr)
    const [proposal] = json(made.stdout)
    assert.strictEqual(proposal.kind, "review-learning")
    assert.strictEqual(proposal.scope, "project", "the step failed for two issues")
    assert.strictEqual(proposal.state, "proposed")
    assert.deepStrictEqual(proposal.sources.runIds, ["CL-1-r1", "CL-2-r1"])
    assert.include(proposal.content, "test -s CHANGELOG.md")
    assert.strictEqual(
      json(p.cli("evolution", "run", "--json").stdout)[0].id,
      proposal.id,
      "the same evidence is the same proposal"
    )

    // Not used before it is validated and approved.
    const early = p.cli("evolution", "approve", proposal.id, "--by", "ana")
    assert.notStrictEqual(early.status, 0)
    assert.include(
      early.stderr,
      `${proposal.id} is proposed and cannot become approved; from proposed it may only become validated or rejected`
    )
    const unproven = p.cli("run", "CL-3", "--auto-approve", "--json")
    assert.strictEqual(unproven.status, 1, unproven.stderr)
    assert.notInclude(p.read(".spec-orch/runs/CL-3-r1/context.json"), proposal.id)
    assert.deepStrictEqual(json(p.read(".spec-orch/runs/CL-3-r1/report.json")).proposals, [])

    const few = p.cli(
      "evolution",
      "validate",
      proposal.id,
      "--candidate",
      "3/3",
      "--baseline",
      "1/3",
      "--min-sample",
      "3",
      "--json"
    )
    assert.strictEqual(few.status, 1)
    assert.strictEqual(json(few.stdout).decision.decision, "hold")
    assert.strictEqual(
      json(few.stdout).proposal.state,
      "proposed",
      "a higher raw rate on three runs each proves nothing"
    )
    const proven = p.cli(
      "evolution",
      "validate",
      proposal.id,
      "--candidate",
      "10/10",
      "--baseline",
      "1/10",
      "--min-sample",
      "10",
      "--by",
      "ana",
      "--json"
    )
    assert.strictEqual(proven.status, 0, proven.stderr)
    assert.strictEqual(json(proven.stdout).proposal.state, "validated")
    assert.isBelow(json(proven.stdout).decision.pValue, 0.05)
    const approved = p.cli("evolution", "approve", proposal.id, "--by", "ana", "--why", "the changelog rule is ours")
    assert.strictEqual(approved.status, 0, approved.stderr)

    const next = p.cli("run", "CL-1", "--json")
    assert.strictEqual(next.status, 0, `the next run passes with the learning: ${next.stderr}`)
    const context = json(readFileSync(join(p.root, `.spec-orch/runs/${json(next.stdout).runId}/context.json`), "utf8"))
    assert.include(context.learnings, `${proposal.id}@${proposal.contentHash}`)
    // The run's report says which learned rule it was given, with the hash of its text.
    const report = json(readFileSync(join(p.root, `.spec-orch/runs/${json(next.stdout).runId}/report.json`), "utf8"))
    assert.deepStrictEqual(report.proposals, [{ id: proposal.id, contentHash: proposal.contentHash }])
    assert.include(
      readFileSync(join(p.root, `.spec-orch/runs/${json(next.stdout).runId}/explain.md`), "utf8"),
      `Learned proposals in use (rules and skills offered to the builder, a policy that replaced it): \`${proposal.id}\` (sha256 \`${proposal.contentHash.slice(0, 12)}\`)`
    )

    // A review re-gates the run and rewrites its report: the proposals stay in it.
    assert.strictEqual(p.cli("review-issue", "CL-1", "--verdict", "pass", "--reviewed-by", "ana").status, 0)
    assert.deepStrictEqual(
      json(readFileSync(join(p.root, `.spec-orch/runs/${json(next.stdout).runId}/report.json`), "utf8")).proposals,
      [{ id: proposal.id, contentHash: proposal.contentHash }]
    )

    const status = json(p.cli("evolution", "status", "--json").stdout)
    assert.deepStrictEqual(
      status.inUse.map((u: any) => u.id),
      [proposal.id]
    )
    const rolled = p.cli("evolution", "rollback", proposal.id, "--by", "ana", "--why", "the agent learned it")
    assert.strictEqual(rolled.status, 0, rolled.stderr)
    const after = p.cli("run", "CL-2", "--json")
    assert.strictEqual(after.status, 1, "without the learning the agent forgets the changelog again")
    assert.notInclude(
      readFileSync(join(p.root, `.spec-orch/runs/${json(after.stdout).runId}/context.json`), "utf8"),
      proposal.id
    )

    const shown = json(p.cli("evolution", "show", proposal.id, "--json").stdout)
    assert.deepStrictEqual(
      shown.history.map((t: any) => `${t.from ?? "-"}>${t.to}:${t.actor.type}:${t.actor.id}`),
      [
        "->proposed:system:evolver:verification-learning",
        "proposed>validated:human:ana",
        "validated>approved:human:ana",
        "approved>rolled-back:human:ana"
      ]
    )
  })
})
