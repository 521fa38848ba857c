/**
 * `spec-orch run-plan` and `spec-orch mission status` end to end with the real binary, real git,
 * real processes and the real state database: a 6-packet, 3-wave mission (concurrency shown by the
 * run store's timestamps, footprints never co-scheduled, merges in dependency order), a refused
 * plan, a failure that skips only its dependants, an integration conflict, resume after kill -9
 * mid-wave, and one wave with the real Claude Code CLI against the scripted model server.
 */
import { assert, describe, it } from "@effect/vitest"
import { footprintOverlap } from "@spec-orch/task"
import { ModelServer, type ModelRequest, type Reply, requireService, sideText, writeCall } from "@spec-orch/test-kit"
import { Effect } from "effect"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { makeMissionProject, type MissionProject, type PacketSpec } from "./utils/mission-project.js"
import { waitFor, writeGatePolicy } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as Record<string, any>
const exited = (child: import("node:child_process").ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal }))
  )

/** Every packet of a `mission status --json` answer, flattened. */
const packetsOf = (status: Record<string, any>): Array<Record<string, any>> =>
  status.waves.flatMap((w: any) => w.packets)
const byId = (status: Record<string, any>) => new Map(packetsOf(status).map((p) => [p.packetId as string, p]))

/** The agent stage's start and finish (epoch ms) of a packet's latest run, from the run store's event log. */
const agentInterval = (p: MissionProject, runKey: string): readonly [number, number] => {
  const events = p.cli("logs", runKey, "--json").stdout.trim().split("\n").map(json)
  const at = (state: string) =>
    Date.parse(events.find((e) => e.kind === "stage" && e.data.stage === "agent" && e.data.state === state)!.at)
  return [at("started"), at("finished")]
}

/** Subjects of the mission branch's merges, oldest first. */
const merges = (p: MissionProject, mission: string) =>
  p
    .git("log", "--first-parent", "--merges", "--reverse", "--format=%s", `spec-orch/mission/${mission}`)
    .split("\n")
    .filter(Boolean)

const SIX: ReadonlyArray<ReadonlyArray<PacketSpec>> = [
  [
    {
      id: "api",
      files: ["src/api/"],
      prompt: "SLEEP 1\nWRITE src/api/index.js api",
      verification: { check: "test -f src/api/index.js" }
    },
    {
      id: "ui",
      files: ["src/ui/"],
      prompt: "SLEEP 1\nWRITE src/ui/index.js ui",
      verification: { check: "test -f src/ui/index.js" }
    },
    { id: "docs", files: ["docs/guide.md"], prompt: "SLEEP 1\nWRITE docs/guide.md guide" }
  ],
  [
    // Verification reads the dependency's file: the packet's worktree must start from the mission branch.
    {
      id: "api-tests",
      files: ["test/api/"],
      dependsOn: ["api"],
      prompt: "SLEEP 1\nWRITE test/api/api.test.js t",
      verification: { check: "test -f src/api/index.js && test -f test/api/api.test.js" }
    },
    {
      id: "ui-tests",
      files: ["test/ui/"],
      dependsOn: ["ui"],
      prompt: "SLEEP 1\nWRITE test/ui/ui.test.js t",
      verification: { check: "test -f src/ui/index.js" }
    }
  ],
  [
    // Its footprint (docs/) overlaps wave 0's docs/guide.md: allowed across waves, never at the same time.
    {
      id: "release",
      files: ["docs/", "CHANGELOG.md"],
      dependsOn: ["api-tests", "ui-tests"],
      prompt: "WRITE CHANGELOG.md released",
      verification: { check: "test -f test/ui/ui.test.js && test -f docs/guide.md" }
    }
  ]
]

describe("spec-orch run-plan", () => {
  it("runs a 6-packet mission in 3 waves: a wave's packets concurrently, later waves on earlier work, merged in dependency order", () => {
    const p = makeMissionProject()
    p.mission("six", SIX)
    const dry = p.cli("run-plan", "six", "--dry-run", "--json")
    assert.strictEqual(dry.status, 0, dry.stderr)
    assert.deepStrictEqual(
      json(dry.stdout).waves.map((w: any) => w.packets.map((x: any) => `${x.packetId}:${x.action}`)),
      [["api:run", "ui:run", "docs:run"], ["api-tests:run", "ui-tests:run"], ["release:run"]]
    )
    assert.deepStrictEqual(p.agentRuns(), [], "a dry run runs nothing")

    const r = p.cli("run-plan", "six", "--concurrency", "3")
    assert.strictEqual(r.status, 0, r.stderr)
    assert.match(r.stdout, /^Mission six: COMPLETED in [\d.]+s$/m)
    const out = json(p.cli("mission", "status", "six", "--json").stdout)
    assert.strictEqual(out.status, "completed")
    assert.strictEqual(out.missionRun.outcome, "completed")
    assert.deepStrictEqual(out.counts.succeeded, 6)
    const packets = byId(out)
    for (const [id, x] of packets) {
      assert.strictEqual(x.state, "succeeded", `${id}: ${x.reason}`)
      assert.strictEqual(x.run.branch, `spec-orch/six.${id}`)
      assert.strictEqual(x.integration.outcome, "merged")
    }
    // Live progress went to stderr, one line per packet event.
    assert.match(
      r.stderr,
      /^Running mission six: 6 packets in 3 waves, up to 3 at once, onto spec-orch\/mission\/six$/m
    )
    assert.match(r.stderr, /^ {2}▶ api {2}started six\.api-r1$/m)
    assert.match(
      r.stderr,
      /^ {2}⇢ release {2}merged spec-orch\/six\.release into spec-orch\/mission\/six @ [0-9a-f]{10}$/m
    )

    // Really concurrent: every packet of a wave was in its agent turn at one common instant.
    const interval = new Map([...packets.keys()].map((id) => [id, agentInterval(p, `six.${id}`)] as const))
    for (const wave of [
      ["api", "ui", "docs"],
      ["api-tests", "ui-tests"]
    ]) {
      const latestStart = Math.max(...wave.map((id) => interval.get(id)![0]))
      const earliestEnd = Math.min(...wave.map((id) => interval.get(id)![1]))
      assert.isBelow(latestStart, earliestEnd, `the agents of ${wave.join(", ")} overlapped in time`)
    }
    // Waves in order: a wave's runs start only after the previous wave's runs finished.
    const runOf = (id: string) => packets.get(id)!.run
    for (const [before, after] of [
      [
        ["api", "ui", "docs"],
        ["api-tests", "ui-tests"]
      ],
      [["api-tests", "ui-tests"], ["release"]]
    ]) {
      const lastEnd = Math.max(...before!.map((id) => Date.parse(runOf(id).finishedAt)))
      for (const id of after!)
        assert.isAtLeast(
          Date.parse(runOf(id).startedAt),
          lastEnd,
          `${id} started after its wave's predecessors finished`
        )
    }
    // Never co-scheduled: any two packets whose runs overlapped in time have disjoint footprints.
    const ids = [...packets.keys()]
    let overlappingPairs = 0
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        const [a, b] = [packets.get(ids[i]!)!, packets.get(ids[j]!)!]
        const together =
          Date.parse(a.run.startedAt) < Date.parse(b.run.finishedAt) &&
          Date.parse(b.run.startedAt) < Date.parse(a.run.finishedAt)
        const clash = footprintOverlap(a.filesInScope, b.filesInScope)
        if (clash !== undefined) overlappingPairs++
        assert.isFalse(
          together && clash !== undefined,
          `${ids[i]} and ${ids[j]} share files (${clash}) and ran at the same time`
        )
      }
    }
    assert.isAtLeast(overlappingPairs, 1, "the plan has packets with overlapping footprints (docs and release)")

    // Merged in plan order, which is a dependency order; the mission branch has everything.
    assert.deepStrictEqual(
      merges(p, "six"),
      ["api", "ui", "docs", "api-tests", "ui-tests", "release"].map(
        (id) => `spec-orch: merge packet ${id} into mission six`
      )
    )
    for (const f of [
      "src/api/index.js",
      "src/ui/index.js",
      "docs/guide.md",
      "test/api/api.test.js",
      "test/ui/ui.test.js",
      "CHANGELOG.md"
    ]) {
      assert.strictEqual(p.git("cat-file", "-t", `spec-orch/mission/six:${f}`), "blob", f)
    }
    assert.isFalse(existsSync(join(p.root, "src")), "the main checkout is untouched")
    assert.strictEqual(json(readFileSync(join(p.root, "docs/specs/six/mission.json"), "utf8")).status, "completed")

    const status = p.cli("mission", "status", "six")
    assert.strictEqual(status.status, 0, status.stderr)
    assert.match(status.stdout, /^status: completed {3}spec: approved {3}plan: docs\/specs\/six\/plan\.json$/m)
    assert.match(status.stdout, /✓\s+api-tests\s+succeeded\s+six\.api-tests-r1\s+merged @ [0-9a-f]{10}/)
    assert.match(status.stdout, /^6 packets: 6 succeeded$/m)
    // A second run has nothing left to do.
    const again = p.cli("run-plan", "six", "--json")
    assert.strictEqual(again.status, 0, again.stderr)
    assert.strictEqual(p.agentRuns().length, 6, "finished packets are not run again")
  })

  it("refuses a plan whose wave has overlapping footprints, or an unapproved mission, before anything runs", () => {
    const p = makeMissionProject()
    p.mission("clash", [
      [
        { id: "lib", files: ["src/"], prompt: "WRITE src/lib.js x" },
        { id: "cli", files: ["src/cli.js"], prompt: "WRITE src/cli.js x" }
      ]
    ])
    const r = p.cli("run-plan", "clash")
    assert.strictEqual(r.status, 1)
    assert.match(r.stderr, /the plan of mission clash cannot run \(1 problem\)/)
    assert.match(
      r.stderr,
      /docs\/specs\/clash\/plan\.json:\d+ waves\.0\.work_packets\.1\.files_in_scope: packets "lib" and "cli" in wave 0 may change the same files: "src\/" overlaps "src\/cli\.js"/
    )
    const dry = p.cli("run-plan", "clash", "--dry-run")
    assert.strictEqual(dry.status, 1)
    assert.match(dry.stdout, /would refuse to run: the plan of mission clash cannot run/)
    assert.deepStrictEqual(p.agentRuns(), [])
    assert.strictEqual(p.git("branch", "--list", "spec-orch/*"), "", "no branch was created")

    p.mission("draft", [[{ id: "one", files: ["a.txt"], prompt: "WRITE a.txt a" }]], { approve: false })
    const unapproved = p.cli("run-plan", "draft")
    assert.strictEqual(unapproved.status, 1)
    assert.match(unapproved.stderr, /mission draft is not approved: .*`spec-orch mission approve draft`/)
    assert.deepStrictEqual(p.agentRuns(), [])
  })

  it("refuses a model-written plan nobody approved, naming the command; plan approve and --auto-approve record who approved", () => {
    const p = makeMissionProject()
    p.mission("drafted", [[{ id: "one", files: ["one.txt"], prompt: "WRITE one.txt one" }]])
    const file = join(p.root, "docs/specs/drafted/plan.json")
    const draft = { ...json(readFileSync(file, "utf8")), status: "draft", planner: "chain:main" }
    writeFileSync(file, JSON.stringify(draft, null, 2))

    const refused = p.cli("run-plan", "drafted")
    assert.strictEqual(refused.status, 1, refused.stdout)
    assert.include(
      refused.stderr,
      "the plan of mission drafted was written by the planner model chain:main and is not approved yet"
    )
    assert.include(refused.stderr, "`spec-orch plan approve drafted`")
    assert.deepStrictEqual(p.agentRuns(), [])
    const dry = p.cli("run-plan", "drafted", "--dry-run", "--json")
    assert.strictEqual(dry.status, 1)
    assert.include(json(dry.stdout).refused, "spec-orch plan approve drafted")

    const approved = p.cli("plan", "approve", "drafted", "--approved-by", "Ada Lovelace")
    assert.strictEqual(approved.status, 0, approved.stderr)
    assert.include(approved.stdout, "Approved docs/specs/drafted/plan.json for run-plan (by Ada Lovelace).")
    const after = json(readFileSync(file, "utf8"))
    assert.strictEqual(after.status, "approved")
    assert.strictEqual(after.approved_by, "Ada Lovelace")
    assert.strictEqual(p.cli("run-plan", "drafted", "--dry-run").status, 0)

    writeFileSync(file, JSON.stringify(draft, null, 2))
    const auto = p.cli("run-plan", "drafted", "--auto-approve")
    assert.strictEqual(auto.status, 0, auto.stderr)
    assert.match(auto.stderr, /^note: approved docs\/specs\/drafted\/plan\.json as .+ \(--auto-approve\)$/m)
    const recorded = json(readFileSync(file, "utf8"))
    assert.strictEqual(recorded.status, "approved")
    assert.isString(recorded.approved_by)
    assert.notStrictEqual(recorded.approved_by, "")
    assert.strictEqual(p.agentRuns().length, 1)
  })

  it("mission status sums what the packets' runs cost: the agents' tokens and USD (text and --json)", () => {
    const p = makeMissionProject()
    p.mission("costs", [
      [
        { id: "one", files: ["src/one.js"], prompt: "WRITE src/one.js one\nUSAGE 1000 200 0.01" },
        { id: "two", files: ["src/two.js"], prompt: "WRITE src/two.js two\nUSAGE 3000 600 0.025" }
      ]
    ])
    const before = json(p.cli("mission", "status", "costs", "--json").stdout)
    assert.deepStrictEqual(before.cost, { runs: 0, agent: null, models: null })
    const r = p.cli("run-plan", "costs", "--json")
    assert.strictEqual(r.status, 0, r.stderr)
    const out = json(p.cli("mission", "status", "costs", "--json").stdout)
    assert.deepStrictEqual(
      { ...out.cost, agent: { ...out.cost.agent, costUsd: Math.round(out.cost.agent.costUsd * 1e6) / 1e6 } },
      { runs: 2, agent: { inputTokens: 4000, outputTokens: 800, costUsd: 0.035 }, models: null }
    )
    const text = p.cli("mission", "status", "costs")
    assert.match(
      text.stdout,
      /^cost of the packets' latest runs \(2\): agent \$0\.04 \(4000 in \/ 800 out tokens\) · no model calls$/m
    )
  })

  it("a packet a person accepted is finished: the next run-plan merges it and does not run it again", () => {
    const p = makeMissionProject({ profile: "accepting" })
    writeGatePolicy(p.root, { accepting: ["review"] })
    p.git("commit", "-qam", "a profile that waits for a person's acceptance")
    p.mission("acc", [
      [{ id: "one", files: ["src/one.js"], prompt: "WRITE src/one.js one" }],
      [{ id: "two", files: ["src/two.js"], dependsOn: ["one"], prompt: "WRITE src/two.js two" }]
    ])
    const first = json(p.cli("run-plan", "acc", "--json").stdout)
    assert.strictEqual(byId(first).get("one")!.state, "blocked")
    assert.match(byId(first).get("one")!.reason, /human_acceptance/)
    const accepted = p.cli("accept-issue", "acc.one", "--accepted-by", "ada")
    assert.strictEqual(accepted.status, 0, accepted.stderr)
    assert.strictEqual(
      byId(json(p.cli("mission", "status", "acc", "--json").stdout)).get("one")!.state,
      "succeeded",
      "status counts the accepted packet as finished at once"
    )
    const dry = json(p.cli("run-plan", "acc", "--dry-run", "--json").stdout)
    assert.deepStrictEqual(
      dry.waves.flatMap((w: any) => w.packets.map((q: any) => `${q.packetId}:${q.action}`)),
      ["one:integrate", "two:run"],
      "merged, not run again"
    )
    p.cli("run-plan", "acc", "--json")
    assert.deepStrictEqual(
      p
        .agentRuns()
        .map(([k]) => k)
        .filter((k) => k === "acc.one"),
      ["acc.one"],
      "the accepted packet's agent ran once: its diff, and the acceptance, stand"
    )
    assert.include(merges(p, "acc").join("\n"), "one", "the accepted packet was merged onto the mission branch")
  })

  it("a failed packet skips only its dependants; running again retries it and leaves finished packets alone", () => {
    const p = makeMissionProject()
    const waves = (bad: string): ReadonlyArray<ReadonlyArray<PacketSpec>> => [
      [
        { id: "good", files: ["src/good.js"], prompt: "WRITE src/good.js ok" },
        { id: "bad", files: ["src/bad.js"], prompt: bad }
      ],
      [
        { id: "after-good", files: ["src/after-good.js"], dependsOn: ["good"], prompt: "WRITE src/after-good.js ok" },
        { id: "after-bad", files: ["src/after-bad.js"], dependsOn: ["bad"], prompt: "WRITE src/after-bad.js ok" },
        { id: "loner", files: ["src/loner.js"], prompt: "WRITE src/loner.js ok" }
      ],
      [{ id: "last", files: ["src/last.js"], dependsOn: ["after-bad"], prompt: "WRITE src/last.js ok" }]
    ]
    p.mission("partial", waves("FAIL the compiler crashed"))
    const r = p.cli("run-plan", "partial", "--json")
    assert.strictEqual(r.status, 1)
    const out = json(r.stdout)
    assert.strictEqual(out.outcome, "failed")
    assert.strictEqual(out.status, "failed")
    const x = byId(out)
    // The agent failed, so the gate blocked the run (a stage that cannot run at all would be "failed").
    // It changed nothing, so verification did not run on the base either: that condition fails too.
    assert.strictEqual(x.get("bad")!.state, "blocked")
    assert.strictEqual(x.get("bad")!.reason, "blocked by builder, verification")
    for (const id of ["good", "after-good", "loner"]) assert.strictEqual(x.get(id)!.state, "succeeded", id)
    assert.strictEqual(x.get("after-bad")!.state, "skipped")
    assert.strictEqual(x.get("after-bad")!.reason, 'dependency "bad" was blocked by the gate')
    assert.strictEqual(x.get("last")!.state, "skipped", "transitively")
    assert.deepStrictEqual(
      p
        .agentRuns()
        .map(([k]) => k)
        .sort(),
      ["partial.after-good", "partial.bad", "partial.good", "partial.loner"]
    )
    assert.deepStrictEqual(
      merges(p, "partial").map((s) => s.split(" ")[3]),
      ["good", "after-good", "loner"]
    )

    const shown = p.cli("mission", "status", "partial")
    assert.match(shown.stdout, /⊘\s+after-bad\s+skipped\s+-\s+dependency "bad" was blocked by the gate/)
    assert.match(shown.stdout, /✗\s+bad\s+blocked\s+partial\.bad-r1\s+blocked by builder/)
    const dry = json(p.cli("run-plan", "partial", "--dry-run", "--json").stdout)
    const actions = new Map(dry.waves.flatMap((w: any) => w.packets.map((q: any) => [q.packetId, q.action])))
    assert.deepStrictEqual(Object.fromEntries(actions), {
      good: "skip",
      bad: "retry",
      "after-good": "skip",
      "after-bad": "run",
      loner: "skip",
      last: "run"
    })

    p.writePlan("partial", waves("WRITE src/bad.js fixed"))
    const again = p.cli("run-plan", "partial", "--json")
    assert.strictEqual(again.status, 0, again.stderr)
    const y = byId(json(again.stdout))
    assert.strictEqual(y.get("bad")!.run.runId, "partial.bad-r2", "the failed packet was retried as a new attempt")
    for (const id of ["good", "after-good", "loner"]) assert.strictEqual(y.get(id)!.run.runId, `partial.${id}-r1`)
    const runs = p.agentRuns().map(([k]) => k)
    for (const id of ["good", "after-good", "loner"])
      assert.strictEqual(runs.filter((k) => k === `partial.${id}`).length, 1, `${id} ran once`)
    assert.strictEqual(json(again.stdout).status, "completed")
  })

  it("--stop-on-failure halts the mission at the first failure: nothing new starts", () => {
    const p = makeMissionProject()
    p.mission("halt", [
      [
        { id: "bad", files: ["a.js"], prompt: "FAIL no" },
        { id: "ok", files: ["b.js"], prompt: "WRITE b.js ok" }
      ],
      [{ id: "free", files: ["c.js"], prompt: "WRITE c.js ok" }]
    ])
    const r = p.cli("run-plan", "halt", "--stop-on-failure")
    assert.strictEqual(r.status, 1)
    assert.match(
      r.stderr,
      /^ {2}⊘ free {2}skipped: the mission stopped \(--stop-on-failure\) after "bad" was blocked by the gate$/m
    )
    const x = byId(json(p.cli("mission", "status", "halt", "--json").stdout))
    assert.strictEqual(x.get("bad")!.state, "blocked")
    assert.strictEqual(x.get("ok")!.state, "succeeded", "a packet already running finishes")
    assert.strictEqual(x.get("free")!.state, "skipped")
    assert.strictEqual(
      x.get("free")!.reason,
      'the mission stopped (--stop-on-failure) after "bad" was blocked by the gate'
    )
    assert.notInclude(
      p.agentRuns().map(([k]) => k),
      "halt.free"
    )
  })

  it("reports an integration conflict with its files, aborts the merge, and skips the packet's dependants", () => {
    // `loose` does not judge footprints, so two packets of one wave can both touch CHANGELOG.md.
    const p = makeMissionProject({ profile: "loose" })
    p.mission("merge", [
      [
        { id: "a", files: ["src/a.js"], prompt: "WRITE src/a.js a\nWRITE CHANGELOG.md from a" },
        { id: "b", files: ["src/b.js"], prompt: "WRITE src/b.js b\nWRITE CHANGELOG.md from b" }
      ],
      [
        { id: "after-a", files: ["src/c.js"], dependsOn: ["a"], prompt: "WRITE src/c.js c" },
        { id: "after-b", files: ["src/d.js"], dependsOn: ["b"], prompt: "WRITE src/d.js d" }
      ]
    ])
    const r = p.cli("run-plan", "merge")
    assert.strictEqual(r.status, 1)
    assert.match(r.stdout, /^Mission merge: FAILED in [\d.]+s$/m)
    const out = json(p.cli("mission", "status", "merge", "--json").stdout)
    const x = byId(out)
    assert.strictEqual(x.get("a")!.integration.outcome, "merged")
    assert.strictEqual(x.get("b")!.state, "succeeded", "the run itself succeeded")
    assert.strictEqual(x.get("b")!.integration.outcome, "conflict")
    assert.deepStrictEqual(x.get("b")!.integration.files, ["CHANGELOG.md"])
    assert.deepStrictEqual(
      out.integrationProblems.map((i: any) => [i.packetId, i.outcome, i.files]),
      [["b", "conflict", ["CHANGELOG.md"]]]
    )
    assert.strictEqual(x.get("after-a")!.state, "succeeded")
    assert.strictEqual(x.get("after-b")!.state, "skipped")
    assert.strictEqual(x.get("after-b")!.reason, 'dependency "b" could not be integrated (conflict in CHANGELOG.md)')
    assert.match(
      r.stderr,
      /^ {2}⚠ b {2}conflict: merging spec-orch\/merge\.b into spec-orch\/mission\/merge conflicts in CHANGELOG\.md; the merge was aborted/m
    )
    // The merge was aborted: the mission branch and its worktree are exactly as after a's merge.
    const worktree = out.worktree as string
    assert.strictEqual(p.git("-C", worktree, "status", "--porcelain"), "")
    assert.isFalse(existsSync(join(p.git("-C", worktree, "rev-parse", "--absolute-git-dir"), "MERGE_HEAD")))
    assert.strictEqual(p.git("show", "spec-orch/mission/merge:CHANGELOG.md"), "from a")
    assert.deepStrictEqual(
      merges(p, "merge").map((s) => s.split(" ")[3]),
      ["a", "after-a"]
    )
    const shown = p.cli("mission", "status", "merge")
    assert.match(shown.stdout, /✓\s+b\s+succeeded\s+merge\.b-r1\s+CONFLICT in CHANGELOG\.md/)
    assert.match(
      shown.stdout,
      /^integration of b: merging spec-orch\/merge\.b into spec-orch\/mission\/merge conflicts in CHANGELOG\.md/m
    )
  })

  it("resumes after kill -9 mid-wave: finished packets are not re-run, the interrupted one resumes, the mission completes", async () => {
    const p = makeMissionProject()
    p.mission("crash", [
      [
        { id: "quick", files: ["q.txt"], prompt: "WRITE q.txt q" },
        { id: "also-quick", files: ["r.txt"], prompt: "WRITE r.txt r" },
        { id: "slow", files: ["s.txt"], prompt: "SLEEP 60\nWRITE s.txt s" }
      ],
      [
        {
          id: "next",
          files: ["n.txt"],
          dependsOn: ["slow", "quick"],
          prompt: "WRITE n.txt n",
          verification: { check: "test -f s.txt && test -f q.txt" }
        }
      ]
    ])
    const first = p.spawn("run-plan", "crash")
    const status = () => json(p.cli("mission", "status", "crash", "--json").stdout)
    await waitFor(
      () =>
        p.agentRuns().some(([k]) => k === "crash.slow") &&
        status().counts.succeeded === 2 &&
        p.agentsRunning().length > 0,
      120_000
    )
    first.kill("SIGKILL")
    await exited(first)
    // The box (bubblewrap, --die-with-parent) ends the slow agent with the process that started it.
    await waitFor(() => p.agentsRunning().length === 0, 5_000)
    const during = status()
    assert.strictEqual(byId(during).get("slow")!.state, "interrupted")
    assert.strictEqual(during.missionRun.outcome, "interrupted")
    assert.strictEqual(byId(during).get("next")!.state, "not-started")
    const dry = json(p.cli("run-plan", "crash", "--dry-run", "--json").stdout)
    // The finished packets of the unsettled wave are not merged yet; the killed one resumes.
    assert.deepStrictEqual(
      dry.waves[0].packets.map((q: any) => q.action),
      ["integrate", "integrate", "resume"]
    )

    p.noSleep()
    const again = p.cli("run-plan", "crash")
    assert.strictEqual(again.status, 0, again.stderr)
    assert.match(again.stdout, /^Mission crash: COMPLETED in [\d.]+s$/m)
    const out = json(p.cli("mission", "status", "crash", "--json").stdout)
    assert.strictEqual(out.status, "completed")
    const x = byId(out)
    assert.strictEqual(x.get("slow")!.run.runId, "crash.slow-r1", "the same attempt was resumed")
    assert.match(again.stderr, /^ {2}▶ slow {2}resumed crash\.slow-r1 at agent$/m)
    assert.notMatch(again.stderr, /▶ quick/, "a finished packet is not started again")
    const runs = p.agentRuns().map(([k]) => k)
    assert.strictEqual(runs.filter((k) => k === "crash.quick").length, 1)
    assert.strictEqual(runs.filter((k) => k === "crash.also-quick").length, 1)
    assert.strictEqual(runs.filter((k) => k === "crash.slow").length, 2, "only the interrupted agent turn ran again")
    assert.deepStrictEqual(p.agentsRunning(), [], "nothing is left running")
    assert.deepStrictEqual(
      merges(p, "crash").map((s) => s.split(" ")[3]),
      ["quick", "also-quick", "slow", "next"]
    )
  }, 240_000)
})

describe("spec-orch run-plan on Ctrl-C", () => {
  it("stops every packet's agent, records the mission run as cancelled, and a re-run resumes the packets", async () => {
    const p = makeMissionProject()
    p.mission("stop", [
      [
        { id: "a", files: ["a.txt"], prompt: "SLEEP 30\nWRITE a.txt a" },
        { id: "b", files: ["b.txt"], prompt: "SLEEP 30\nWRITE b.txt b" }
      ]
    ])
    const child = p.spawn("run-plan", "stop")
    await waitFor(() => p.agentRuns().length === 2 && p.agentsRunning().length >= 2)
    child.kill("SIGINT")
    assert.strictEqual((await exited(child)).code, 130)
    assert.deepStrictEqual(p.agentsRunning(), [], "both agents were killed")
    const status = json(p.cli("mission", "status", "stop", "--json").stdout)
    assert.strictEqual(status.missionRun.outcome, "cancelled")
    for (const x of packetsOf(status)) {
      assert.strictEqual(x.state, "interrupted")
      assert.strictEqual(x.reason, "cancelled; `spec-orch run-plan stop` resumes it at agent")
    }
    p.noSleep()
    const again = p.cli("run-plan", "stop")
    assert.strictEqual(again.status, 0, again.stderr)
    assert.match(again.stderr, /^ {2}▶ a {2}resumed stop\.a-r1 at agent$/m)
    assert.match(again.stderr, /^ {2}▶ b {2}resumed stop\.b-r1 at agent$/m)
  }, 120_000)
})

/** The scripted model: write the file named by the prompt's first `WRITE <path> <text>` line, then answer DONE. */
const writeFromPrompt = (req: ModelRequest): Reply => {
  if (req.tools.length === 0) return { text: sideText(req) }
  const m = /^WRITE (\S+) (.*)$/m.exec(req.lastUserText)
  if (req.toolResults === 0 && m !== null) return writeCall(req, m[1]!, `${m[2]}\n`)
  return { text: "DONE" }
}

/** The agent tool cache spec-orch itself looks in: $SPEC_ORCH_TOOLS, else the repository's .tools/agents. */
const tools = join(
  process.env.SPEC_ORCH_TOOLS || join(import.meta.dirname, "../../../.tools/agents"),
  "node_modules/.bin/claude"
)

describe("spec-orch run-plan with Claude Code", () => {
  const claude = requireService({
    what: "the Claude Code CLI",
    present: existsSync(tools),
    howTo: `install the agent CLIs with \`node scripts/install-agents.mjs\` (pnpm test does), or point SPEC_ORCH_TOOLS at a cache that has them; looked for ${tools}`,
    optOut: "SPEC_ORCH_SKIP_AGENTS"
  })
  it.live.skipIf(!claude.run)(
    "runs one wave with the real Claude Code CLI against the scripted model server, packets in parallel",
    () =>
      Effect.gen(function* () {
        const server = yield* ModelServer.scoped({ script: writeFromPrompt })
        const p = makeMissionProject({
          builder: ["[builder]", 'adapter = "claude_code"', "timeout_seconds = 180", "stall_timeout_seconds = 180"]
        })
        p.mission("claude", [
          [
            {
              id: "hello",
              files: ["hello.txt"],
              prompt: "WRITE hello.txt hello from claude",
              verification: { check: "grep -q claude hello.txt" }
            },
            {
              id: "bye",
              files: ["bye.txt"],
              prompt: "WRITE bye.txt bye from claude",
              verification: { check: "grep -q claude bye.txt" }
            }
          ]
        ])
        const r = yield* Effect.promise(() =>
          p.cliAsync(["run-plan", "claude", "--json"], { SPEC_ORCH_AGENT_ENDPOINT: server.url })
        )
        assert.strictEqual(r.status, 0, r.stderr)
        const out = json(r.stdout)
        const x = byId(out)
        for (const id of ["hello", "bye"]) {
          assert.strictEqual(x.get(id)!.state, "succeeded", `${id}: ${x.get(id)!.reason}`)
          assert.strictEqual(x.get(id)!.run.adapter, "claude_code")
        }
        assert.strictEqual(p.git("show", "spec-orch/mission/claude:hello.txt"), "hello from claude")
        assert.strictEqual(p.git("show", "spec-orch/mission/claude:bye.txt"), "bye from claude")
        // Both worktrees talked to the model, and their agent turns overlapped in time.
        const cwds = new Set(
          server.requests
            .map((q) => q.cwd)
            .filter((c): c is string => c !== undefined)
            .map((c) => c.split("/").pop())
        )
        assert.isTrue(cwds.has("claude.hello") && cwds.has("claude.bye"), [...cwds].join(", "))
        const [h, b] = [agentInterval(p, "claude.hello"), agentInterval(p, "claude.bye")]
        assert.isBelow(Math.max(h[0], b[0]), Math.min(h[1], b[1]), "the two Claude turns ran at the same time")
      }).pipe(Effect.scoped),
    300_000
  )
})
