/**
 * Validation by replay with a real agent: the Claude Code CLI (from the tool cache) is the builder, talking
 * to the scripted model server on 127.0.0.1, whose model writes CHANGELOG.md only when a learned rule in
 * the prompt names it. Runs fail the changelog check → `evolution run` proposes the learning → `evolution
 * validate --replay` re-runs the held-out issues with Claude twice each → the candidate passes where the
 * baseline fails → validated → approved → the next run's context.json lists it and passes.
 */
import { assert, describe, it } from "@effect/vitest"
import { type ModelRequest, type Reply, sideText, startModelServer, writeCall } from "@spec-orch/test-kit"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { makeProject } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as any

/** The prompt holds a `learned rule (…): …` line that names CHANGELOG.md (the request is JSON: a line ends at `\n`). */
const toldToUpdateChangelog = (req: ModelRequest) =>
  /learned rule \([^)]*\): (?:(?!\\n).)*CHANGELOG\.md/.test(JSON.stringify(req.body))

/** Writes src/a.txt; then CHANGELOG.md only when told to by a learned rule; then DONE. */
const learner = (req: ModelRequest): Reply => {
  if (req.tools.length === 0) return { text: sideText(req) }
  if (req.toolResults === 0) return writeCall(req, "src/a.txt", "a\n")
  if (req.toolResults === 1 && toldToUpdateChangelog(req)) return writeCall(req, "CHANGELOG.md", "- added src/a.txt\n")
  return { text: "DONE" }
}

describe("spec-orch evolution validate --replay with Claude Code", () => {
  it("replays held-out issues with the real CLI against the scripted model, validates the learning and the next run uses it", async () => {
    const server = await startModelServer({ script: learner })
    try {
      const p = makeProject({
        builder: ['adapter = "claude_code"', "timeout_seconds = 120"],
        verification: { changelog: "test -s CHANGELOG.md" },
        env: { SPEC_ORCH_AGENT_ENDPOINT: server.url }
      })
      const ids = ["CC-1", "CC-2", "CC-3", "CC-4", "CC-5", "CC-6"]
      for (const id of ids)
        p.issue(id, {
          builder_prompt: "Add src/a.txt containing a. Reply DONE.",
          target_files: ["src/a.txt", "CHANGELOG.md"]
        })
      const fails = async (id: string) => {
        const r = await p.cliAsync("run", id, "--auto-approve", "--json")
        assert.strictEqual(r.status, 1, `${id} fails the changelog check: ${r.stderr}`)
        assert.deepStrictEqual(json(r.stdout).failed, ["verification"])
      }
      for (const id of ids.slice(0, 2)) await fails(id)
      const made = await p.cliAsync("evolution", "run", "--json")
      assert.strictEqual(made.status, 0, made.stderr)
      const [proposal] = json(made.stdout)
      assert.include(proposal.content, "test -s CHANGELOG.md")
      for (const id of ids.slice(2)) await fails(id)
      const requestsBefore = server.requests.length

      const replayed = await p.cliAsync("evolution", "validate", proposal.id, "--replay", "--min-sample", "4", "--json")
      assert.strictEqual(replayed.status, 0, replayed.stderr)
      const out = json(replayed.stdout)
      assert.strictEqual(out.proposal.state, "validated", out.decision.reason)
      assert.deepStrictEqual(
        out.replay.outcomes.map((o: any) => [o.issueId, o.baseline.status, o.candidate.status]),
        [
          ["CC-6", "blocked", "succeeded"],
          ["CC-5", "blocked", "succeeded"],
          ["CC-4", "blocked", "succeeded"],
          ["CC-3", "blocked", "succeeded"]
        ]
      )
      const turns = server.requests.slice(requestsBefore).filter((q) => q.tools.length > 0 && q.toolResults === 0)
      assert.strictEqual(turns.length, 8, "Claude was asked for 4 issues × 2 arms")
      assert.strictEqual(
        turns.filter(toldToUpdateChangelog).length,
        4,
        "only the candidate arm's prompts held the rule"
      )

      assert.strictEqual((await p.cliAsync("evolution", "approve", proposal.id, "--by", "ana")).status, 0)
      const next = await p.cliAsync("run", "CC-3", "--json")
      assert.strictEqual(next.status, 0, next.stderr)
      assert.strictEqual(json(next.stdout).runId, "CC-3-r2")
      const context = json(readFileSync(join(json(next.stdout).artifactsDir, "context.json"), "utf8"))
      assert.include(context.learnings, `${proposal.id}@${proposal.contentHash}`)
      const evidence = json(readFileSync(join(json(next.stdout).artifactsDir, "evidence.json"), "utf8"))
      assert.strictEqual(evidence.builder.adapter, "claude_code")
    } finally {
      await server.close()
    }
  }, 900_000)
})
