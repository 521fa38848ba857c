/**
 * `spec-orch watch` end to end: the real binary without a TTY follows a run another process starts,
 * a line per stage in order and the verdict at the end; `--once` shows a blocked run's attention item
 * with the command that unblocks it. The renderer is checked on snapshots for what the TTY draws.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { makeMissionProject } from "./utils/mission-project.js"
import { BIN, makeProject, waitFor } from "./utils/project.js"
import { changeLine, renderIssue, renderOverview } from "../src/commands/watch.render.js"

describe("spec-orch watch", () => {
  it("without a TTY prints a plain line per change of a run another process starts: its stages in order, then its verdict", async () => {
    const p = makeProject({ verification: { check: "test -f src/a.txt" } })
    const gate = p.signal("go")
    p.issue("WATCH-1", { builder_prompt: `AWAIT ${gate}\nWRITE src/a.txt a`, target_files: ["src/"] })
    const child = p.spawn("watch")
    let out = ""
    let err = ""
    child.stdout!.on("data", (d) => (out += d))
    child.stderr!.on("data", (d) => (err += d))
    try {
      const run = p.cliAsync("run", "WATCH-1", "--auto-approve")
      // If the run ends early (it should wait for the gate file), what it said explains a silent watch.
      let ran = "the run is still going"
      void run.then((r) => (ran = `the run ended with exit ${r.status}:\n${r.stdout}${r.stderr}`))
      const seen = () => `watch stdout:\n${out}\nwatch stderr:\n${err}\n${ran}`
      await waitFor(() => /WATCH-1-r1 ▸ agent/.test(out), 60_000, seen)
      writeFileSync(gate, "")
      const done = await run
      assert.strictEqual(done.status, 0, done.stderr)
      await waitFor(() => /WATCH-1 WATCH-1-r1 succeeded · verdict mergeable/.test(out), 30_000, seen)
      assert.notMatch(out, /\x1b\[/, "no escape codes without a TTY")
      const lines = out.split("\n").filter((l) => l.includes("WATCH-1-r1"))
      const started = lines.flatMap((l) => /WATCH-1-r1 ▸ (\S+)/.exec(l)?.[1] ?? [])
      for (const stage of ["agent", "commit", "verify", "gate"]) assert.include(started, stage, out)
      assert.isBelow(started.indexOf("agent"), started.indexOf("verify"))
      assert.isBelow(started.indexOf("verify"), started.indexOf("gate"))
      const at = (re: RegExp) => lines.findIndex((l) => re.test(l))
      assert.isAbove(at(/gate: mergeable/), at(/▸ verify/), out)
      assert.strictEqual(at(/succeeded · verdict mergeable/), lines.length - 1, `the verdict line comes last:\n${out}`)
      assert.isAbove(at(/verify check: passed/), at(/▸ verify/), out)
    } finally {
      child.kill("SIGTERM")
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.on("exit", resolve)))
    }
    assert.notMatch(err, /spec-orch:/, err)
  }, 150_000)

  it("started while a run is already in its agent stage, shows that stage at once and follows the run to its verdict", async () => {
    const p = makeProject({ verification: { check: "test -f src/c.txt" } })
    const gate = p.signal("go-late")
    p.issue("WATCH-4", { builder_prompt: `AWAIT ${gate}\nWRITE src/c.txt c`, target_files: ["src/"] })
    const run = p.cliAsync("run", "WATCH-4", "--auto-approve")
    const stage = () => {
      const r = p.cli("watch", "--once", "--json")
      return r.status === 0
        ? (JSON.parse(r.stdout).running as Array<{ run: { run_id: string; stage: string } }>).find(
            (v) => v.run.run_id === "WATCH-4-r1"
          )?.run.stage
        : undefined
    }
    await waitFor(() => stage() === "agent", 60_000)
    const child = p.spawn("watch")
    let out = ""
    child.stdout!.on("data", (d) => (out += d))
    try {
      await waitFor(() => /WATCH-4-r1 ▸ agent/.test(out), 30_000)
      writeFileSync(gate, "")
      assert.strictEqual((await run).status, 0)
      await waitFor(() => /WATCH-4 WATCH-4-r1 succeeded · verdict mergeable/.test(out), 30_000)
      const started = out.split("\n").flatMap((l) => /WATCH-4-r1 ▸ (\S+)/.exec(l)?.[1] ?? [])
      assert.deepStrictEqual(
        started.filter((s) => ["agent", "verify", "gate"].includes(s)),
        ["agent", "verify", "gate"],
        out
      )
    } finally {
      child.kill("SIGTERM")
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.on("exit", resolve)))
    }
  }, 150_000)

  it("--once shows a blocked run first, with the exact command that unblocks it, then the recent verdict", () => {
    const p = makeProject({ profile: "reviewed" })
    p.issue("WATCH-2", { builder_prompt: "WRITE src/b.txt b", target_files: ["src/"] })
    assert.strictEqual(p.cli("run", "WATCH-2", "--auto-approve").status, 1, "blocked: nobody reviewed it yet")
    const r = p.cli("watch", "--once")
    assert.strictEqual(r.status, 0, r.stderr)
    const lines = r.stdout.trimEnd().split("\n")
    assert.strictEqual(lines[0], "Needs attention (1)")
    assert.match(lines[1]!, /^ {2}! review WATCH-2 \(WATCH-2-r1\): /)
    assert.match(lines[2]!, /^ {6}to unblock: .*spec-orch review-issue WATCH-2 /)
    assert.include(lines, "Running (0)")
    assert.isTrue(
      lines.some((l) => /^ {2}WATCH-2 WATCH-2-r1 blocked · verdict blocked · /.test(l)),
      r.stdout
    )
    assert.notMatch(r.stdout, /\x1b\[/)

    const json = p.cli("watch", "--once", "--json")
    const snapshot = JSON.parse(json.stdout)
    assert.deepStrictEqual(
      snapshot.attention.map((a: any) => [a.kind, a.issue_id]),
      [["review", "WATCH-2"]]
    )

    const one = p.cli("watch", "WATCH-2", "--once")
    assert.strictEqual(one.status, 0, one.stderr)
    assert.match(one.stdout, /^Stages$/m)
    assert.match(one.stdout, /^ {2}✓ gate \(/m)
    assert.match(one.stdout, /to unblock: .*spec-orch review-issue WATCH-2 /)

    const never = p.cli("watch", "NOPE-1", "--once")
    assert.strictEqual(never.status, 1)
    assert.match(never.stderr, /NOPE-1 has never run; start it with `spec-orch run NOPE-1`/)
  })

  it("without a TTY, on an issue that has never run, says it waits for it (on stderr) instead of printing nothing", async () => {
    const p = makeProject()
    const child = p.spawn("watch", "NEVER-1")
    let out = ""
    let err = ""
    child.stdout!.on("data", (d) => (out += d))
    child.stderr!.on("data", (d) => (err += d))
    try {
      await waitFor(
        () =>
          err.includes(
            "waiting for NEVER-1 to start: it has never run (start it with `spec-orch run NEVER-1`; Ctrl-C quits)"
          ),
        30_000,
        () => `watch stdout:\n${out}\nwatch stderr:\n${err}`
      )
      assert.strictEqual(out, "")
    } finally {
      child.kill("SIGTERM")
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.on("exit", resolve)))
    }
  })

  it("--json prints JSON Lines: an attention item as it opens, resolved when a review unblocks it, and the run's new verdict", async () => {
    const p = makeProject({ profile: "reviewed" })
    p.issue("WATCH-4", { builder_prompt: "WRITE src/d.txt d", target_files: ["src/"] })
    assert.strictEqual(p.cli("run", "WATCH-4", "--auto-approve").status, 1)
    const child = p.spawn("watch", "WATCH-4", "--json")
    let out = ""
    child.stdout!.on("data", (d) => (out += d))
    const changes = () =>
      out
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l))
    try {
      await waitFor(() => changes().some((c) => c.type === "attention"), 30_000)
      const item = changes().find((c) => c.type === "attention")
      assert.strictEqual(item.kind, "review")
      assert.strictEqual(item.issue_id, "WATCH-4")
      assert.isTrue(
        item.to_unblock.some((u: string) => /spec-orch review-issue WATCH-4 /.test(u)),
        JSON.stringify(item)
      )
      assert.isTrue(changes().some((c) => c.type === "run" && c.run_id === "WATCH-4-r1" && c.state === "blocked"))
      const review = p.cli("review-issue", "WATCH-4", "--verdict", "pass", "--reviewed-by", "Ada")
      assert.strictEqual(review.status, 0, review.stderr)
      await waitFor(
        () => changes().some((c) => c.type === "resolved" && c.kind === "review" && c.issue_id === "WATCH-4"),
        30_000
      )
      await waitFor(
        () => changes().some((c) => c.type === "run" && c.run_id === "WATCH-4-r1" && c.verdict === "mergeable"),
        30_000
      )
    } finally {
      child.kill("SIGTERM")
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.on("exit", resolve)))
    }
  })

  it("on a terminal (tmux) draws the screen in place, and q quits and restores the terminal", async () => {
    const p = makeProject({ profile: "reviewed" })
    p.issue("WATCH-3", { builder_prompt: "WRITE src/c.txt c", target_files: ["src/"] })
    assert.strictEqual(p.cli("run", "WATCH-3", "--auto-approve").status, 1)
    const socket = `watch-${process.pid}-${Date.now()}`
    const tmux = (...args: Array<string>) =>
      spawnSync("tmux", ["-L", socket, "-f", "/dev/null", ...args], {
        encoding: "utf8",
        env: { ...process.env, TERM: "xterm-256color" }
      })
    const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`
    const started = tmux(
      "new-session",
      "-d",
      "-s",
      "w",
      "-x",
      "120",
      "-y",
      "30",
      `cd ${q(p.root)} && ${q(process.execPath)} ${q(BIN)} watch; echo "watch exited $?"; sleep 60`
    )
    assert.strictEqual(started.status, 0, started.stderr)
    const screen = () => tmux("capture-pane", "-p", "-t", "w").stdout
    const flags = () => tmux("display-message", "-p", "-t", "w", "#{alternate_on} #{cursor_flag}").stdout.trim()
    try {
      await waitFor(() => /Needs attention \(1\)/.test(screen()), 30_000)
      const drawn = screen()
      assert.match(drawn, /^spec-orch watch · \d\d:\d\d:\d\d · q quits$/m)
      assert.match(drawn, /^› ! review WATCH-3 \(WATCH-3-r1\): /m, "the first run is selected")
      assert.match(drawn, /to unblock: .*spec-orch review-issue WATCH-3 /)
      assert.match(drawn, /^ {2}WATCH-3 WATCH-3-r1 blocked · verdict blocked/m)
      assert.strictEqual(flags(), "1 0", "the alternate screen, without a cursor")
      tmux("send-keys", "-t", "w", "q")
      await waitFor(() => /watch exited 0/.test(screen()), 15_000)
      assert.notMatch(screen(), /Needs attention/, "the normal screen is back as it was")
      assert.strictEqual(flags(), "0 1", "the terminal is restored: normal screen, cursor shown")

      // One issue: its stages and its agent's lines; Ctrl-C quits as cleanly.
      tmux(
        "respawn-pane",
        "-k",
        "-t",
        "w",
        `cd ${q(p.root)} && ${q(process.execPath)} ${q(BIN)} watch WATCH-3; echo "watch exited $?"; sleep 60`
      )
      await waitFor(() => /^Stages$/m.test(screen()), 30_000)
      const one = screen()
      assert.match(one, /^spec-orch watch WATCH-3 · /m)
      assert.match(one, /^ {2}✓ agent \(/m)
      assert.match(one, /^ {2}✓ gate \(/m)
      assert.match(one, /^Agent$/m)
      assert.match(one, /^ {2}\d\d:\d\d:\d\d created src\/c\.txt$/m)
      tmux("send-keys", "-t", "w", "C-c")
      await waitFor(() => /watch exited 0/.test(screen()), 15_000)
      assert.strictEqual(flags(), "0 1")
    } finally {
      tmux("kill-server")
    }
  })

  it("on a terminal (tmux), r reviews and a accepts the selected run after a y, t asks before it runs it again, and n cancels", async () => {
    const p = makeProject({ profile: "reviewed" })
    p.issue("WATCH-5", { builder_prompt: "WRITE src/e.txt e", target_files: ["src/"] })
    assert.strictEqual(p.cli("run", "WATCH-5", "--auto-approve").status, 1, "blocked until someone reviews it")
    const socket = `watch-keys-${process.pid}-${Date.now()}`
    const tmux = (...args: Array<string>) =>
      spawnSync("tmux", ["-L", socket, "-f", "/dev/null", ...args], {
        encoding: "utf8",
        env: { ...process.env, TERM: "xterm-256color" }
      })
    const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`
    const started = tmux(
      "new-session",
      "-d",
      "-s",
      "w",
      "-x",
      "160",
      "-y",
      "30",
      `cd ${q(p.root)} && SPEC_ORCH_USER=Ada ${q(process.execPath)} ${q(BIN)} watch; echo "watch exited $?"; sleep 60`
    )
    assert.strictEqual(started.status, 0, started.stderr)
    const screen = () => tmux("capture-pane", "-p", "-t", "w").stdout
    const keys = (...k: Array<string>) => tmux("send-keys", "-t", "w", ...k)
    try {
      await waitFor(() => /^› ! review WATCH-5 \(WATCH-5-r1\)/m.test(screen()), 30_000)
      assert.match(screen(), /^↑\/↓ select · r review · a accept · t retry$/m)

      // t asks first; n leaves the run alone.
      keys("t")
      await waitFor(() => /^\? Run WATCH-5 again \(a new attempt\)\? y\/n$/m.test(screen()), 10_000)
      keys("n")
      await waitFor(() => /· cancelled$/m.test(screen()), 10_000)
      assert.notMatch(p.cli("status", "WATCH-5").stdout, /WATCH-5-r2/, "nothing ran")

      // r, a verdict, then y: the review is recorded (as the CLI's review-issue does) and the gate re-judges.
      keys("r")
      await waitFor(() => /^\? Review WATCH-5 \(WATCH-5-r1\): p pass/m.test(screen()), 10_000)
      keys("p")
      await waitFor(() => /^\? Record the review "pass" of WATCH-5 as Ada\? y\/n$/m.test(screen()), 10_000)
      keys("y")
      await waitFor(() => /review of WATCH-5 recorded; the gate now says MERGEABLE/.test(screen()), 30_000)
      await waitFor(
        () =>
          /^Needs attention \(0\)$/m.test(screen()) &&
          /WATCH-5 WATCH-5-r1 succeeded · verdict mergeable/.test(screen()),
        15_000
      )
      const status = p.cli("status", "WATCH-5", "--json")
      assert.match(status.stdout, /mergeable/, status.stdout)

      // a on a run nobody needs to accept: the service's refusal is shown, in its words.
      keys("a")
      await waitFor(() => /^\? Accept the current diff of WATCH-5 as Ada\? y\/n$/m.test(screen()), 10_000)
      keys("y")
      await waitFor(() => /· (refused: .+|acceptance of WATCH-5 recorded.*)$/m.test(screen()), 30_000)
      keys("q")
      await waitFor(() => /watch exited 0/.test(screen()), 15_000)
    } finally {
      tmux("kill-server")
    }
  })

  it("--mission shows a mission's progress and its waves of packets with their runs; an unknown mission is an error", async () => {
    const p = makeMissionProject()
    p.mission("two", [
      [{ id: "a", files: ["a/"], prompt: "WRITE a/x.txt x" }],
      [{ id: "b", files: ["b/"], dependsOn: ["a"], prompt: "WRITE b/y.txt y" }]
    ])
    const before = p.cli("watch", "--mission", "two", "--once")
    assert.strictEqual(before.status, 0, before.stderr)
    assert.match(before.stdout, /^progress: 0\/2 packets succeeded · 2 not-started$/m)
    assert.strictEqual(p.cli("run-plan", "two").status, 0)
    const r = p.cli("watch", "--mission", "two", "--once")
    assert.strictEqual(r.status, 0, r.stderr)
    const lines = r.stdout.trimEnd().split("\n")
    assert.match(lines[0]!, /^two: Mission two \(completed, run-plan \w+\)$/, r.stdout)
    assert.strictEqual(lines[1], "progress: 2/2 packets succeeded · 2 succeeded")
    assert.isTrue(
      lines.some((l) => /^Wave 0\b/.test(l)),
      r.stdout
    )
    assert.isTrue(
      lines.some((l) => /^ {2}✓ a succeeded · two\.a-r1 · verdict mergeable/.test(l)),
      r.stdout
    )
    assert.isBelow(
      lines.findIndex((l) => /^ {2}✓ a /.test(l)),
      lines.findIndex((l) => /^ {2}✓ b /.test(l))
    )
    const json = JSON.parse(p.cli("watch", "--mission", "two", "--once", "--json").stdout)
    assert.deepStrictEqual(
      json.waves.map((w: any) => w.packets.map((x: any) => [x.packet_id, x.state])),
      [[["a", "succeeded"]], [["b", "succeeded"]]]
    )

    // Without a TTY: a line per packet, then one per change.
    const child = p.spawn("watch", "--mission", "two")
    let out = ""
    let err = ""
    child.stdout!.on("data", (d) => (out += d))
    child.stderr!.on("data", (d) => (err += d))
    try {
      await waitFor(() => /wave 1 ✓ b succeeded/.test(out), 30_000).catch((e) => assert.fail(`${e}: ${out} ${err}`))
      assert.match(out, /wave 0 ✓ a succeeded · two\.a-r1/)
    } finally {
      child.kill("SIGTERM")
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.on("exit", resolve)))
    }

    const unknown = p.cli("watch", "--mission", "nope", "--once")
    assert.notStrictEqual(unknown.status, 0)
    assert.match(unknown.stderr, /nope/)
  })

  it("renders the overview needs-attention first, running runs with stage, elapsed, cost and step, and one issue's stages and agent lines", () => {
    const now = Date.parse("2026-01-01T10:02:05Z")
    const run = (over: Record<string, unknown>) =>
      ({
        run_id: "A-1-r1",
        issue_id: "A-1",
        issue_identifier: "A-1",
        title: null,
        run_key: "A-1",
        attempt: 1,
        state: "running",
        stage: "agent",
        started_at: "2026-01-01T10:00:00Z",
        updated_at: "2026-01-01T10:00:00Z",
        finished_at: null,
        message: null,
        verdict: null,
        adapter: "command",
        tokens: null,
        cost_usd: 0.04,
        conditions: [],
        to_unblock: [],
        ...over
      }) as any
    const lines = renderOverview({
      now,
      attention: [
        {
          kind: "failed",
          issue_id: "B-2",
          run_id: "B-2-r1",
          since: "",
          message: "B-2 failed",
          to_unblock: ["spec-orch logs B-2"]
        }
      ],
      running: [{ run: run({}), step: "agent runs: npm test" }],
      recent: [
        run({
          run_id: "C-3-r2",
          issue_id: "C-3",
          state: "succeeded",
          verdict: "mergeable",
          finished_at: "2026-01-01T10:00:04Z",
          cost_usd: null,
          title: "Add a thing"
        })
      ]
    })
    assert.deepStrictEqual(lines, [
      "Needs attention (1)",
      "  ! failed B-2 (B-2-r1): B-2 failed",
      "      to unblock: spec-orch logs B-2",
      "",
      "Running (1)",
      "  A-1 A-1-r1 running · agent · 2m05s · $0.0400 · agent runs: npm test",
      "",
      "Recent (1)",
      "  C-3 C-3-r2 succeeded · verdict mergeable · 4s · - · Add a thing"
    ])
    const issue = renderIssue({
      now,
      issue: "A-1",
      run: run({}),
      attention: [],
      lastLines: ["10:02:01 says: done"],
      timeline: [
        { stage: "spec", state: "finished", started_at: null, finished_at: null, ms: 1200, ok: true, summary: null },
        { stage: "agent", state: "started", started_at: null, finished_at: null, ms: null, ok: null, summary: null }
      ]
    })
    // A hostile title or agent output cannot drive the terminal: its control characters are shown, not sent.
    const hostile = renderOverview({
      now,
      attention: [],
      running: [],
      recent: [run({ state: "failed", title: "\x1b[2J\x1b]0;pwned\x07 title" })]
    })
    assert.strictEqual(hostile.at(-1), "  A-1 A-1-r1 failed · 2m05s · $0.0400 · ?[2J?]0;pwned? title")
    const logged = changeLine({
      event: "log",
      agent: true,
      data: {
        runId: "A-1-r1",
        seq: 3,
        at: "2026-01-01T10:00:01Z",
        kind: "agent",
        data: { _tag: "message", role: "assistant", text: "hi\x1b[31m red" }
      } as any
    })
    assert.strictEqual(logged, "10:00:01 A-1-r1 agent says: hi?[31m red")
    assert.deepStrictEqual(issue, [
      "A-1 A-1-r1 running · agent · 2m05s · $0.0400",
      "",
      "Stages",
      "  ✓ spec (1.2s)",
      "  ▸ agent",
      "",
      "Agent",
      "  10:02:01 says: done"
    ])
  })
})
