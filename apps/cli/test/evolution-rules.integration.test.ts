/**
 * The compliance-rule evolver and the skills miner end to end with the real binary, a real git project and
 * a `command` agent. Two runs whose agent deletes the changelog fail verification; three runs that read,
 * grep and edit pass. `evolution run` proposes a compliance rule against `rm -f CHANGELOG.md` with its
 * back-test numbers (not one against `cat README.md`, which the successful runs ran too) and a skill for
 * the repeated tool calls. Neither reaches a run before a person approves it; then the next run's agent
 * events are judged by the rule (its violation names the proposal and fails the gate), the skill is in the
 * worktree during the agent's turn and not in its commit, and context.json and report.json name both.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { makeProject } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as any

/** Runs `RUN <command>` lines (and reports them), reports `TOOL <name>` calls, writes `WRITE <file> <text>`; records the skills it finds. */
const AGENT = `
import { execSync } from "node:child_process"
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
const prompt = readFileSync(0, "utf8")
appendFileSync(process.env.AGENT_LOG, process.pid + "\\n")
const say = (e) => console.log(JSON.stringify(e))
const skills = existsSync(".claude/skills") ? readdirSync(".claude/skills") : []
const agents = existsSync(".agents/skills") ? readdirSync(".agents/skills") : []
const read = (dir, names) => names.map((s) => readFileSync(dir + "/" + s + "/SKILL.md", "utf8"))
writeFileSync(process.env.SKILLS_SEEN, JSON.stringify({ claude: skills, agents, text: read(".claude/skills", skills), agentsText: read(".agents/skills", agents) }))
for (const line of prompt.split("\\n")) {
  const m = /^(RUN|TOOL|WRITE) (.*)$/.exec(line.trim())
  if (!m) continue
  if (m[1] === "RUN") {
    execSync(m[2], { stdio: "ignore" })
    say({ type: "command", command: m[2], exit_code: 0 })
  } else if (m[1] === "TOOL") {
    const id = "t" + Math.random().toString(16).slice(2)
    say({ type: "tool_call", id, name: m[2], input: {} })
    say({ type: "tool_result", id, ok: true, output: "ok" })
  } else {
    const [file, ...text] = m[2].split(" ")
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, text.join(" ") + "\\n")
    say({ type: "file_change", path: file, kind: "add" })
  }
}
say({ type: "result", text: "done" })
`

const POLICY = `conditions:
  spec_exists: { required: true }
  spec_approved: { required: true }
  builder: { required: true }
  verification: { required: true }
  compliance: { required: true }
profiles:
  e2e:
    disable: []
`

describe("spec-orch evolution: compliance rules and skills", () => {
  it("a recurring failure becomes a back-tested compliance rule and repeated tool calls a skill; once approved the next run is judged by the rule and offered the skill", () => {
    const p = makeProject({ verification: { changelog: "test -s CHANGELOG.md" } })
    const seen = p.signal("skills-seen.json")
    writeFileSync(join(p.root, "tools/agent.mjs"), AGENT)
    writeFileSync(join(p.root, "gate.policy.yaml"), POLICY)
    writeFileSync(join(p.root, "CHANGELOG.md"), "# Changelog\n")
    // The repository's own skill of the same name, where Codex looks: it stays as it is.
    const own = "---\nname: learned-read-grep-edit\ndescription: the project's own\n---\nOurs.\n"
    mkdirSync(join(p.root, ".agents/skills/learned-read-grep-edit"), { recursive: true })
    writeFileSync(join(p.root, ".agents/skills/learned-read-grep-edit/SKILL.md"), own)
    const toml = readFileSync(join(p.root, "spec-orch.toml"), "utf8")
    writeFileSync(
      join(p.root, "spec-orch.toml"),
      toml.replace("env = { AGENT_LOG", `env = { SKILLS_SEEN = ${JSON.stringify(seen)}, AGENT_LOG`)
    )
    spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "add", "-A"], { cwd: p.root })
    spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "rules agent"], { cwd: p.root })
    const bad = "RUN cat README.md\nRUN rm -f CHANGELOG.md\nWRITE src/b.txt b"
    const good = "RUN cat README.md\nTOOL Read\nTOOL Grep\nTOOL Edit\nWRITE src/g.txt g"
    for (const id of ["B-1", "B-2"]) p.issue(id, { builder_prompt: bad, target_files: ["src/b.txt"] })
    for (const id of ["G-1", "G-2", "G-3"]) p.issue(id, { builder_prompt: good, target_files: ["src/g.txt"] })
    // Deletes the changelog and writes it again: verification passes; only a rule against the command blocks it.
    p.issue("B-3", {
      builder_prompt: "RUN rm -f CHANGELOG.md\nWRITE CHANGELOG.md restored\nTOOL Read\nTOOL Grep\nTOOL Edit",
      target_files: ["CHANGELOG.md"]
    })
    for (const id of ["B-1", "B-2"]) assert.strictEqual(p.cli("run", id, "--auto-approve", "--json").status, 1, id)
    for (const id of ["G-1", "G-2"]) assert.strictEqual(p.cli("run", id, "--auto-approve", "--json").status, 0, id)

    const early = p.cli("evolution", "run")
    assert.strictEqual(early.status, 0, early.stderr)
    assert.include(
      early.stdout,
      "compliance rules: nothing back-tested: 2 successful run(s) to back-test against; a rule needs at least 3"
    )
    assert.strictEqual(p.cli("run", "G-3", "--auto-approve", "--json").status, 0)

    const made = p.cli("evolution", "run", "--json")
    assert.strictEqual(made.status, 0, made.stderr)
    const proposals = json(made.stdout)
    const rules = proposals.filter((x: any) => x.kind === "compliance-rule")
    assert.strictEqual(rules.length, 1, "only the command no successful run ran becomes a rule")
    const [rule] = rules
    assert.strictEqual(rule.state, "validated", "its back-test is its validation; a person still approves it")
    assert.deepStrictEqual(rule.sources.runIds, ["B-1-r1", "B-2-r1"])
    assert.strictEqual(rule.evidence.signature, "rm -f CHANGELOG.md")
    assert.deepStrictEqual(
      [rule.evidence.falsePositives.k, rule.evidence.falsePositives.n, rule.evidence.falsePositives.low],
      [0, 3, 0]
    )
    assert.closeTo(rule.evidence.falsePositives.high, 0.5615, 1e-3)
    assert.include(rule.content, "severity: error")
    assert.notInclude(made.stdout, "cat README.md", "a candidate that fires on successful runs is not proposed")
    const text = p.cli("evolution", "run")
    assert.include(text.stdout, "dropped: `cat README.md` fired on 3 of 3 successful runs (G-1-r1, G-2-r1, G-3-r1)")
    assert.include(
      text.stdout,
      `${rule.id}: \`rm -f CHANGELOG.md\` in 2 failed runs (B-1-r1, B-2-r1); back-test: fired on 0 of 3 successful runs (false-positive rate 0.0%, 95% Wilson 0.0%–56.1%) and on 2 of 2 failed runs`,
      text.stdout
    )
    const [skill] = proposals.filter((x: any) => x.kind === "skill")
    assert.strictEqual(skill.evidence.name, "learned-read-grep-edit")
    assert.deepStrictEqual(skill.sources.runIds, ["G-1-r1", "G-2-r1", "G-3-r1"])
    assert.deepStrictEqual([skill.evidence.support.k, skill.evidence.support.n], [3, 3])
    assert.match(skill.content, /^---\nname: learned-read-grep-edit\ndescription: /)

    // Not used before a person approves it.
    const before = p.cli("run", "B-3", "--auto-approve", "--json")
    assert.strictEqual(before.status, 0, `without the rule B-3 passes: ${before.stderr}`)
    assert.deepStrictEqual(json(p.read(".spec-orch/runs/B-3-r1/context.json")).compliance.learned, [])
    assert.deepStrictEqual(json(readFileSync(seen, "utf8")).claude, [])

    for (const id of [rule.id, skill.id]) {
      const a = p.cli("evolution", "approve", id, "--by", "ana", "--why", "checked the back-test")
      assert.strictEqual(a.status, 0, a.stderr)
    }
    const after = p.cli("run", "B-3", "--json")
    assert.strictEqual(after.status, 1, "the approved rule is evaluated on the next run and fails its gate")
    const runId = json(after.stdout).runId
    const report = json(p.read(`.spec-orch/runs/${runId}/report.json`))
    const condition = report.conditions.find((c: any) => c.condition === "compliance")
    assert.strictEqual(condition.status, "failed")
    assert.include(condition.reason, `${rule.id} (command)`)
    assert.strictEqual(report.compliance.errorCount, 1)
    assert.deepStrictEqual(
      report.proposals.map((x: any) => x.id).sort(),
      [rule.id, skill.id].sort(),
      "report.json names the proposals the run used"
    )
    const context = json(p.read(`.spec-orch/runs/${runId}/context.json`))
    assert.deepStrictEqual(context.compliance.learned, [`${rule.id}@${rule.contentHash}`])
    assert.deepStrictEqual(context.skills, [
      {
        id: `${skill.id}@${skill.contentHash}`,
        name: "learned-read-grep-edit",
        paths: [".claude/skills/learned-read-grep-edit/SKILL.md", ".agents/skills/learned-read-grep-edit/SKILL.md"]
      }
    ])
    // The agent found the skill where agents look for skills, and it is not part of the agent's change.
    const offered = json(readFileSync(seen, "utf8"))
    assert.deepStrictEqual(offered.claude, ["learned-read-grep-edit"])
    assert.deepStrictEqual(offered.agents, ["learned-read-grep-edit"])
    assert.strictEqual(offered.text[0], skill.content)
    assert.strictEqual(offered.agentsText[0], own, "the repository's own skill of that name is not replaced")
    assert.notInclude(p.read(`.spec-orch/runs/${runId}/diff.patch`), ".claude")
    assert.notInclude(p.read(`.spec-orch/runs/${runId}/diff.patch`), ".agents")
    const status = json(after.stdout)
    assert.isString(status.branch)
    const changed = spawnSync("git", ["diff", "--name-only", "HEAD", status.branch], { cwd: p.root, encoding: "utf8" })
    assert.deepStrictEqual(
      changed.stdout.trim().split("\n"),
      ["CHANGELOG.md"],
      "the commit holds the agent's change only"
    )
    assert.isFalse(existsSync(join(status.worktree, ".claude")), "the skill is taken away after the turn")
    assert.strictEqual(
      readFileSync(join(status.worktree, ".agents/skills/learned-read-grep-edit/SKILL.md"), "utf8"),
      own
    )

    // A good run is judged by the rule too and passes.
    const fine = p.cli("run", "G-1", "--json")
    assert.strictEqual(fine.status, 0, fine.stderr)
    assert.deepStrictEqual(json(p.read(`.spec-orch/runs/${json(fine.stdout).runId}/context.json`)).compliance.learned, [
      `${rule.id}@${rule.contentHash}`
    ])

    // Rolled back: the next run is without it.
    assert.strictEqual(p.cli("evolution", "rollback", rule.id, "--by", "ana").status, 0)
    const rolled = p.cli("run", "B-3", "--json")
    assert.strictEqual(rolled.status, 0, rolled.stderr)
    assert.deepStrictEqual(
      json(p.read(`.spec-orch/runs/${json(rolled.stdout).runId}/context.json`)).compliance.learned,
      []
    )
  })
})
