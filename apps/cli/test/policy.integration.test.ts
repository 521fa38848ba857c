/**
 * Distilled policies end to end with the real binary, real git, the sandboxed `command` agent, the real
 * ledger and the scripted model server: three labelled issues pass → `policy candidates` lists their class →
 * `policy distill` asks the planner's model once (titles and diffs fenced and redacted) and records its sh
 * script as a `policy` proposal → it cannot be approved before it is validated → a replay validates it (the
 * candidate arm runs the script, the baseline the stand-in agent; `policy run` is that candidate arm for one
 * issue) → approved, the next run of a matching
 * issue runs the script instead of the agent and passes verification → an issue without the labels gets
 * the agent → rollback, and the next matching run gets the agent again. A run killed during its policy
 * turn resumes with the policy it chose at its context stage, even once the policy is rolled back.
 */
import { assert, describe, it } from "@effect/vitest"
import { type ModelRequest, type Reply, startModelServer } from "@spec-orch/test-kit"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import {
  approvePolicy,
  GREETING_SCRIPT,
  passGreetings,
  POLICY_KEY,
  POLICY_MODELS,
  policyProject
} from "./utils/policy.js"
import { makeProject, waitFor } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as any
const exited = (child: import("node:child_process").ChildProcess) =>
  new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.on("exit", () => resolve())
  )

type Distiller = (req: ModelRequest) => Reply

/** Answers with one sh script (and prose around it). */
const distiller: Distiller = () => ({
  text: `This class writes the greeting file.\n\n\`\`\`sh\n${GREETING_SCRIPT}\n\`\`\`\n`
})

describe("spec-orch policy", () => {
  it("a class of passing issues becomes a policy that runs instead of the agent once validated and approved, only for matching issues, until rolled back", async () => {
    const server = await startModelServer({ script: distiller })
    try {
      const p = makeProject({
        verification: { greeting: "grep -qx hello hello.txt" },
        toml: POLICY_MODELS,
        env: { TEST_POLICY_KEY: POLICY_KEY, TEST_POLICY_BASE: server.url }
      })
      const cli = async (...args: Array<string>) => p.cliAsync(...args)
      for (const id of ["G-1", "G-2", "G-3"])
        p.issue(id, {
          title: id === "G-1" ? `Greet (token ${POLICY_KEY})` : `Greet ${id}`,
          labels: ["greeting"],
          builder_prompt: "WRITE hello.txt hello",
          target_files: ["hello.txt"]
        })
      // The stand-in agent gets these wrong: only the policy passes them.
      for (const id of ["G-4", "G-5", "G-6", "G-7"])
        p.issue(id, {
          labels: ["Greeting", "extra"],
          builder_prompt: "WRITE hello.txt hullo",
          target_files: ["hello.txt"]
        })
      p.issue("N-1", { labels: ["other"], builder_prompt: "WRITE hello.txt hello", target_files: ["hello.txt"] })

      for (const id of ["G-1", "G-2", "G-3"]) {
        const r = await cli("run", id, "--auto-approve", "--json")
        assert.strictEqual(r.status, 0, `${id} passes: ${r.stderr}`)
      }
      for (const id of ["G-4", "G-5", "G-6", "G-7"]) {
        const r = await cli("run", id, "--auto-approve", "--json")
        assert.strictEqual(r.status, 1, `${id} fails with the agent: ${r.stderr}`)
      }
      assert.strictEqual(p.agentRuns().length, 7)

      const candidates = await cli("policy", "candidates", "--json")
      assert.strictEqual(candidates.status, 0, candidates.stderr)
      assert.deepStrictEqual(
        json(candidates.stdout).map((c: any) => [c.key, c.issues.map((i: any) => i.runId)]),
        [["greeting", ["G-1-r1", "G-2-r1", "G-3-r1"]]]
      )
      assert.strictEqual(server.requests.length, 0, "finding candidates asks no model")

      const unknown = await cli("policy", "distill", "nope")
      assert.strictEqual(unknown.status, 1)
      assert.include(unknown.stderr, 'no candidate "nope"')
      assert.include(unknown.stderr, 'the candidates are "greeting"')

      const distilled = await cli("policy", "distill", "greeting", "--json")
      assert.strictEqual(distilled.status, 0, distilled.stderr)
      assert.strictEqual(server.requests.length, 1)
      const asked = server.requests[0]!.lastUserText
      assert.include(asked, '<untrusted-data source="issue G-2">')
      assert.include(asked, "+hello")
      assert.notInclude(asked, POLICY_KEY, "the model never sees a secret")
      const proposal = json(distilled.stdout).proposal
      assert.deepStrictEqual([proposal.kind, proposal.state], ["policy", "proposed"])
      assert.strictEqual(
        proposal.content,
        `spec-orch policy: sh\nmatch-labels: ["greeting"]\n---\n${GREETING_SCRIPT}\n`
      )
      assert.deepStrictEqual(proposal.sources.runIds, ["G-1-r1", "G-2-r1", "G-3-r1"])
      const listed = await cli("policy", "list", "--json")
      assert.deepStrictEqual(
        json(listed.stdout).map((x: any) => [x.id, x.state]),
        [[proposal.id, "proposed"]]
      )

      const early = await cli("evolution", "approve", proposal.id, "--by", "ana")
      assert.strictEqual(early.status, 1)
      assert.include(early.stderr, `${proposal.id} is proposed and cannot become approved`)
      const unproven = await cli("run", "G-4", "--json")
      assert.strictEqual(unproven.status, 1, "a proposed policy is not used")
      assert.strictEqual(p.agentRuns().length, 8)

      // `policy run`: one candidate arm in the replay's state, for a matching issue only; it moves nothing.
      const tried = await cli("policy", "run", proposal.id, "--issue", "G-6", "--json")
      assert.strictEqual(tried.status, 0, tried.stderr)
      assert.deepStrictEqual([json(tried.stdout).status, json(tried.stdout).success], ["succeeded", true])
      assert.strictEqual(p.agentRuns().length, 8, "the script ran, not the agent")
      const mismatch = await cli("policy", "run", proposal.id, "--issue", "N-1")
      assert.strictEqual(mismatch.status, 2)
      assert.include(mismatch.stderr, `${proposal.id} does not match N-1: its labels (other)`)
      assert.strictEqual(json((await cli("evolution", "show", proposal.id, "--json")).stdout).state, "proposed")

      // The replay: each held-out issue without (the agent) and with (the script) the policy.
      const replayed = await cli(
        "evolution",
        "validate",
        proposal.id,
        "--replay",
        "--issues",
        "G-4,G-5,G-6,G-7",
        "--min-sample",
        "4",
        "--by",
        "ana",
        "--json"
      )
      assert.strictEqual(replayed.status, 0, replayed.stderr)
      const out = json(replayed.stdout)
      assert.strictEqual(out.proposal.state, "validated", out.decision.reason)
      assert.deepStrictEqual(
        out.replay.outcomes.map((o: any) => [o.baseline.status, o.candidate.status]),
        Array.from({ length: 4 }, () => ["blocked", "succeeded"])
      )
      assert.strictEqual(p.agentRuns().length, 12, "only the baseline arm started the agent")

      const approved = await cli("evolution", "approve", proposal.id, "--by", "ana", "--why", "read the script")
      assert.strictEqual(approved.status, 0, approved.stderr)

      const next = await cli("run", "G-4", "--json")
      assert.strictEqual(next.status, 0, `the policy passes verification: ${next.stderr}`)
      assert.strictEqual(p.agentRuns().length, 12, "the agent did not run")
      const dir = json(next.stdout).artifactsDir as string
      const context = json(readFileSync(join(dir, "context.json"), "utf8"))
      assert.deepStrictEqual(context.policy, {
        id: `${proposal.id}@${proposal.contentHash}`,
        labels: ["greeting"],
        adapter: "command",
        script: "policy.sh"
      })
      assert.strictEqual(readFileSync(join(dir, "policy.sh"), "utf8"), `${GREETING_SCRIPT}\n`)
      const report = json(readFileSync(join(dir, "report.json"), "utf8"))
      assert.deepStrictEqual(report.proposals, [{ id: proposal.id, contentHash: proposal.contentHash }])
      const evidence = json(readFileSync(join(dir, "evidence.json"), "utf8"))
      assert.strictEqual(evidence.builder.adapter, "command")
      assert.strictEqual(evidence.verification.steps[0].outcome, "passed")
      const log = (await cli("logs", "G-4", "--json")).stdout.trim().split("\n").map(json)
      assert.isTrue(log.some((e: any) => e.kind === "policy" && e.data.proposalId === proposal.id))
      assert.isTrue(
        log.some((e: any) => e.kind === "note" && /runs as a command agent instead of command/.test(e.data.text))
      )

      const other = await cli("run", "N-1", "--auto-approve", "--json")
      assert.strictEqual(other.status, 0, other.stderr)
      assert.strictEqual(p.agentRuns().length, 13, "an issue without the labels gets the agent")
      assert.notInclude(readFileSync(join(json(other.stdout).artifactsDir, "context.json"), "utf8"), proposal.id)

      const rolled = await cli("evolution", "rollback", proposal.id, "--by", "ana", "--why", "not needed")
      assert.strictEqual(rolled.status, 0, rolled.stderr)
      const after = await cli("run", "G-5", "--json")
      assert.strictEqual(after.status, 1, "without the policy the agent gets it wrong again")
      assert.strictEqual(p.agentRuns().length, 14)
      assert.notInclude(readFileSync(join(json(after.stdout).artifactsDir, "context.json"), "utf8"), proposal.id)
    } finally {
      await server.close()
    }
  }, 900_000)

  it("a run killed in its policy turn resumes with the policy it chose, even after the policy was rolled back", async () => {
    // The script logs its start, then sleeps until the test lets it finish.
    const { p: project, server } = await policyProject(
      (p) => `echo start >> ${p.signal("policy-log")}\n[ -f ${p.signal("fast")} ] || sleep 30\n${GREETING_SCRIPT}`
    )
    try {
      await passGreetings(project, "R")
      project.issue("R-4", {
        labels: ["greeting"],
        builder_prompt: "WRITE hello.txt hullo",
        target_files: ["hello.txt"]
      })
      const { id } = await approvePolicy(project)

      const first = project.spawn("run", "R-4", "--auto-approve")
      await waitFor(() => existsSync(project.signal("policy-log")) && project.agentsRunning().length > 0)
      first.kill("SIGKILL")
      await exited(first)
      await waitFor(() => project.agentsRunning().length === 0, 5_000)
      assert.strictEqual((await project.cliAsync("evolution", "rollback", id, "--by", "ana")).status, 0)
      writeFileSync(project.signal("fast"), "")

      const again = await project.cliAsync("run", "R-4", "--json")
      assert.strictEqual(again.status, 0, again.stderr)
      assert.isTrue(json(again.stdout).resumed)
      assert.strictEqual(json(again.stdout).runId, "R-4-r1")
      assert.strictEqual(readFileSync(project.signal("policy-log"), "utf8"), "start\nstart\n", "the script ran again")
      assert.strictEqual(project.agentRuns().length, 3, "the agent never ran for R-4")
      const events = (await project.cliAsync("logs", "R-4", "--json")).stdout.trim().split("\n").map(json)
      assert.strictEqual(events.filter((e: any) => e.kind === "policy" && e.data.proposalId === id).length, 2)

      const next = await project.cliAsync("run", "R-4", "--json")
      assert.strictEqual(next.status, 1, "a new run after the rollback gets the agent")
      assert.strictEqual(project.agentRuns().length, 4)
    } finally {
      await server.close()
    }
  }, 900_000)
})
