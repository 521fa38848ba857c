/**
 * Memory feeds the reviewer too, in real runs against the scripted model server: the first review asks
 * for changes with a blocking finding; the second run's reviewer is told that finding and that review
 * (fenced, with the run they came from), and the run's context.json lists every learning each prompt
 * got, with its id and source. `[memory] enabled = false` tells the reviewer nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import { type ModelRequest, type Reply, startModelServer } from "@spec-orch/test-kit"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { makeProject } from "./utils/project.js"

const changes: Reply = {
  tool: {
    name: "review",
    input: {
      verdict: "changes_requested",
      summary: "Empty input is not handled.",
      findings: [
        {
          severity: "blocking",
          description: "parse of an empty string throws instead of returning []",
          file: "src/a.txt"
        }
      ]
    }
  }
}
const pass: Reply = { tool: { name: "review", input: { verdict: "pass", summary: "As asked.", findings: [] } } }
const isReview = (req: ModelRequest) => req.tools.some((t) => t.name === "review")

const project = (url: string, memory: boolean) =>
  makeProject({
    profile: "reviewed",
    verification: { check: "test -f src/a.txt" },
    toml: [
      "[reviewer]",
      'adapter = "llm"',
      'model_ref = "double"',
      "[models.double]",
      'model = "double-model"',
      'api_type = "anthropic"',
      'api_key_env = "DOUBLE_KEY"',
      'api_base_env = "DOUBLE_BASE"',
      ...(memory ? [] : ["[memory]", "enabled = false"])
    ].join("\n"),
    env: { DOUBLE_KEY: "sk-test-double", DOUBLE_BASE: url }
  })

const twoRuns = async (memory: boolean) => {
  let reviews = 0
  const server = await startModelServer({
    script: (req) => (isReview(req) ? (reviews++ === 0 ? changes : pass) : pass)
  })
  try {
    const p = project(server.url, memory)
    p.issue("RL-1", { builder_prompt: "WRITE src/a.txt a", target_files: ["src/a.txt"] })
    const first = await p.cliAsync("run", "RL-1", "--auto-approve", "--json")
    assert.strictEqual(JSON.parse(first.stdout).status, "blocked", first.stderr)
    const second = await p.cliAsync("run", "RL-1", "--auto-approve", "--json")
    assert.strictEqual(JSON.parse(second.stdout).runId, "RL-1-r2", second.stderr)
    const asked = server.requests.filter(isReview).map((r) => r.lastUserText)
    assert.strictEqual(asked.length, 2)
    const context = (run: string) =>
      JSON.parse(readFileSync(join(p.root, `.spec-orch/runs/${run}/context.json`), "utf8"))
    return { p, asked, first: context("RL-1-r1"), second: context("RL-1-r2") }
  } finally {
    await server.close()
  }
}

describe("memory learnings for the reviewer", () => {
  it("the second run's reviewer is told the first review's finding, and context.json lists it with its source", async () => {
    const { asked, first, p, second } = await twoRuns(true)
    assert.notInclude(asked[0]!, "Learned from earlier runs", "nothing to learn before the first run")
    assert.deepStrictEqual(first.reviewer, { learnings: [] })
    assert.match(
      asked[1]!,
      /Learned from earlier runs of this issue[^\n]*\n<<<BEGIN LEARNINGS-[0-9a-f]{16}>>>\n[\s\S]*parse of an empty string throws instead of returning \[\][\s\S]*\(from RL-1-r1\)[\s\S]*<<<END LEARNINGS-/
    )
    const reviewer = second.reviewer.learnings as Array<{ id: string; source: string }>
    // The entries the first run recorded (the second run's recording superseded them since).
    const ofFirst = (kind: string) =>
      json(p.cli("memory", "list", "--kind", kind, "--all", "--json").stdout).find(
        (e: any) => e.provenance.runIds.join() === "RL-1-r1"
      )
    const finding = ofFirst("finding")
    const review = ofFirst("review")
    assert.include(review.tags, "review:changes_requested")
    assert.includeDeepMembers(reviewer, [
      { id: finding.id, source: "RL-1-r1" },
      { id: review.id, source: "RL-1-r1" }
    ])
    // The builder of the second run got them too, listed with their sources.
    const builder = second.builder.learnings as Array<{ id: string; source: string }>
    assert.includeDeepMembers(builder, [{ id: finding.id, source: "RL-1-r1" }])
    assert.deepStrictEqual(
      second.learnings,
      builder.map((l) => l.id)
    )
  }, 180_000)

  it("with [memory] enabled = false the reviewer and the builder are told nothing", async () => {
    const { asked, second } = await twoRuns(false)
    assert.notInclude(asked[1]!, "Learned from earlier runs")
    assert.deepStrictEqual(
      [second.reviewer, second.builder, second.learnings],
      [{ learnings: [] }, { learnings: [] }, []]
    )
  }, 180_000)
})

const json = (text: string) => JSON.parse(text) as any
