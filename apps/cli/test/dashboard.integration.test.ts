/**
 * `spec-orch dashboard` end to end: the real binary serving on 127.0.0.1, real HTTP requests, and runs
 * started by `spec-orch run` in other processes — they appear in the JSON API and stream over the live
 * feed as they move; a person's review through the API (with the token) changes the verdict.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ChildProcess } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { hostname } from "node:os"
import { join } from "node:path"
import { makeMissionProject } from "./utils/mission-project.js"
import { makeProject, type TestProject, waitFor, writeGatePolicy } from "./utils/project.js"
import { HISTORY, seedRuns } from "./utils/seed-runs.js"

interface Served {
  readonly base: string
  readonly token: string
  readonly child: ChildProcess
}

/** Starts the dashboard on a free port and resolves once it printed where it listens. */
const serve = (p: Pick<TestProject, "spawn">, ...args: Array<string>): Promise<Served> =>
  new Promise((resolve, reject) => {
    const child = p.spawn("dashboard", "--json", ...args)
    let out = ""
    let err = ""
    child.stdout!.on("data", (d) => {
      out += d
      const line = out.split("\n").find((l) => l.startsWith("{"))
      if (line !== undefined && out.includes("\n")) {
        const info = JSON.parse(line) as { base: string; token: string }
        resolve({ base: info.base, token: info.token, child })
      }
    })
    child.stderr!.on("data", (d) => (err += d))
    child.on("exit", (code) => reject(new Error(`dashboard exited ${code}: ${err}`)))
  })

const stop = (s: Served) =>
  new Promise<void>((resolve) => {
    if (s.child.exitCode !== null) return resolve()
    s.child.on("exit", () => resolve())
    s.child.kill("SIGTERM")
  })

const getJson = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, init)
  return { status: res.status, body: (await res.json()) as any }
}

/** Reads the live feed into `events` until aborted. */
const follow = (url: string, events: Array<{ event: string; data: any; at: number }>) => {
  const abort = new AbortController()
  const done = (async () => {
    const res = await fetch(url, { signal: abort.signal })
    assert.strictEqual(res.headers.get("content-type"), "text/event-stream")
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let buffer = ""
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const event = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data), at: Date.now() })
      }
    }
  })().catch((e) => {
    if (!abort.signal.aborted) throw e
  })
  return {
    close: () => {
      abort.abort()
      return done
    }
  }
}

describe("spec-orch dashboard", () => {
  it("streams a run another process starts as it moves through its stages, and serves it in the JSON API", async () => {
    const p = makeProject({ verification: { check: "test -f src/a.txt" } })
    const gate = p.signal("go")
    p.issue("DASH-1", { builder_prompt: `AWAIT ${gate}\nWRITE src/a.txt a`, target_files: ["src/"] })
    const s = await serve(p)
    const events: Array<{ event: string; data: any; at: number }> = []
    const feed = follow(`${s.base}/api/v1/events`, events)
    try {
      const run = p.cliAsync("run", "DASH-1", "--auto-approve")
      // While the agent waits, the run is live in the state snapshot and on the feed.
      await waitFor(
        () =>
          events.some(
            (e) =>
              e.event === "run" &&
              e.data.run_id === "DASH-1-r1" &&
              e.data.state === "running" &&
              e.data.stage === "agent"
          ),
        60_000
      )
      const live = await getJson(`${s.base}/api/v1/state`)
      assert.strictEqual(live.status, 200)
      assert.deepStrictEqual(
        live.body.running.map((r: any) => [r.issue_identifier, r.state, r.stage]),
        [["DASH-1", "running", "agent"]]
      )
      assert.strictEqual(live.body.counts.running, 1)
      writeFileSync(gate, "")
      const done = await run
      assert.strictEqual(done.status, 0, done.stderr)
      await waitFor(
        () => events.some((e) => e.event === "run" && e.data.run_id === "DASH-1-r1" && e.data.state === "succeeded"),
        30_000
      )

      // The feed carried the run's log as it was written: its stages in order, the step and the verdict.
      const logged = events.filter((e) => e.event === "log" && e.data.runId === "DASH-1-r1").map((e) => e.data)
      const started = logged.filter((e) => e.kind === "stage" && e.data.state === "started").map((e) => e.data.stage)
      assert.includeMembers(started, ["agent", "commit", "verify", "gate"])
      assert.isBelow(started.indexOf("agent"), started.indexOf("verify"))
      assert.isTrue(logged.some((e) => e.kind === "step" && e.data.name === "check" && e.data.outcome === "passed"))
      assert.isTrue(logged.some((e) => e.kind === "verdict" && e.data.mergeable === true))
      const seqs = logged.map((e) => e.seq)
      assert.deepStrictEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        "log events arrive in order, once each"
      )
      assert.strictEqual(new Set(seqs).size, seqs.length)

      const state = await getJson(`${s.base}/api/v1/state`)
      assert.deepStrictEqual(state.body.running, [])
      const row = state.body.recent.find((r: any) => r.run_id === "DASH-1-r1")
      assert.strictEqual(row.state, "succeeded")
      assert.strictEqual(row.verdict, "mergeable")

      const detail = await getJson(`${s.base}/api/v1/runs/DASH-1-r1`)
      assert.strictEqual(detail.status, 200)
      assert.deepStrictEqual(
        detail.body.timeline.slice(0, 4).map((t: any) => [t.stage, t.state]),
        [
          ["load", "finished"],
          ["spec", "finished"],
          ["workspace", "finished"],
          ["context", "finished"]
        ]
      )
      assert.deepStrictEqual(
        detail.body.verification.map((v: any) => [v.name, v.outcome]),
        [["check", "passed"]]
      )
      assert.match(detail.body.explain, /\*\*Verdict: MERGEABLE\*\*/)
      assert.match(detail.body.diff, /^\+\+\+ b\/src\/a\.txt$/m)
      assert.isFalse(detail.body.diff_truncated)
      assert.strictEqual(detail.body.report.verdict.status, "mergeable")

      const stats = await getJson(`${s.base}/api/v1/stats`)
      assert.strictEqual(stats.body.runs, 1)
      assert.deepStrictEqual(
        stats.body.by_adapter.map((g: any) => [g.key, g.runs, g.pass_rate]),
        [["command", 1, 1]]
      )
      assert.deepStrictEqual(
        stats.body.by_profile.map((g: any) => [g.key, g.mergeable]),
        [["e2e", 1]]
      )
      assert.includeMembers(
        stats.body.stages.map((t: any) => t.stage),
        ["agent", "verify", "gate"]
      )

      const issue = await getJson(`${s.base}/api/v1/DASH-1`)
      assert.deepStrictEqual(
        issue.body.runs.map((r: any) => r.run_id),
        ["DASH-1-r1"]
      )
      assert.isTrue(
        issue.body.runs[0].conditions.some((c: any) => c.condition === "verification" && c.status === "passed")
      )
    } finally {
      await feed.close()
      await stop(s)
    }
  })

  it("serves pass rate, cost and time per stage over time, one series per adapter or per profile", async () => {
    const p = makeProject()
    p.issue("DASH-M", { builder_prompt: "WRITE src/m.txt m", target_files: ["src/"] })
    assert.strictEqual(p.cli("run", "DASH-M", "--auto-approve").status, 0)
    seedRuns(p.root, "DASH-M-r1", HISTORY)
    const today = new Date().toISOString().slice(0, 10)
    const s = await serve(p)
    try {
      const byAdapter = await getJson(`${s.base}/api/v1/metrics?by=adapter&bucket=day`)
      assert.strictEqual(byAdapter.status, 200, JSON.stringify(byAdapter.body))
      assert.deepStrictEqual(
        [byAdapter.body.runs, byAdapter.body.buckets],
        [5, ["2026-11-20", "2026-11-21", "2026-11-22", today]]
      )
      assert.deepStrictEqual(
        byAdapter.body.series.map((x: any) => [
          x.key,
          x.points.map((pt: any) => [pt.bucket, pt.runs, pt.pass_rate, pt.cost_usd])
        ]),
        [
          [
            "command",
            [
              ["2026-11-20", 1, 1, 0.5],
              ["2026-11-21", 1, 1, 1],
              [today, 1, 1, 0]
            ]
          ],
          [
            "codex",
            [
              ["2026-11-20", 1, 0, 0.25],
              ["2026-11-22", 1, 1, 0.1]
            ]
          ]
        ]
      )
      // Time per stage comes from the runs' stage events: the real run has them, the copies do not.
      assert.includeMembers(byAdapter.body.stages, ["agent", "verify", "gate"])
      assert.isAbove(byAdapter.body.overall.at(-1).stage_ms.agent, 0)
      assert.deepStrictEqual(byAdapter.body.overall[0].stage_ms, {})

      const byProfile = await getJson(`${s.base}/api/v1/metrics?by=profile&bucket=day`)
      assert.deepStrictEqual(
        byProfile.body.series.map((x: any) => [x.key, x.points.map((pt: any) => [pt.bucket, pt.runs, pt.pass_rate])]),
        [
          [
            "e2e",
            [
              ["2026-11-20", 2, 0.5],
              [today, 1, 1]
            ]
          ],
          [
            "strict",
            [
              ["2026-11-21", 1, 1],
              ["2026-11-22", 1, 1]
            ]
          ]
        ]
      )
      const weekly = await getJson(`${s.base}/api/v1/metrics?bucket=week`)
      assert.deepStrictEqual(
        [weekly.body.by, weekly.body.buckets[0], weekly.body.overall[0].runs],
        ["adapter", "2026-11-16", 4]
      )

      const bad = await getJson(`${s.base}/api/v1/metrics?by=issue`)
      assert.strictEqual(bad.status, 400)
      assert.strictEqual(bad.body.error.code, "bad_request")
      assert.match(bad.body.error.message, /adapter.*profile/)
    } finally {
      await stop(s)
    }
  })

  it("shows memory's state, the learnings each run was given, and the learned proposals", async () => {
    const p = makeProject()
    p.issue("DASH-E", { builder_prompt: "WRITE src/e.txt e", target_files: ["src/"] })
    assert.strictEqual(p.cli("run", "DASH-E", "--auto-approve").status, 0)
    const s = await serve(p)
    try {
      const first = await getJson(`${s.base}/api/v1/evolution`)
      assert.strictEqual(first.status, 200, JSON.stringify(first.body))
      // Every command migrates the proposals ledger; none was made yet.
      assert.deepStrictEqual(first.body.proposals, [])
      assert.strictEqual(first.body.proposals_note, null)
      // The finished run was recorded in memory (on by default); say which entry the run was given.
      const Database = createRequire(import.meta.url)("better-sqlite3") as new (
        file: string
      ) => {
        prepare: (q: string) => { all: (...a: Array<unknown>) => Array<any>; run: (...a: Array<unknown>) => unknown }
        exec: (q: string) => void
        close: () => void
      }
      const db = new Database(join(p.root, ".spec-orch/state.db"))
      const entries = db.prepare("SELECT id, key, layer FROM so_memory WHERE valid_to IS NULL").all()
      assert.isAbove(entries.length, 0, "memory recorded the run")
      assert.strictEqual(first.body.memory.status, "active")
      assert.strictEqual(first.body.memory.live, entries.length)
      const contextFile = join(p.root, ".spec-orch/runs/DASH-E-r1/context.json")
      writeFileSync(
        contextFile,
        JSON.stringify({ ...JSON.parse(readFileSync(contextFile, "utf8")), learnings: [entries[0].id, "gone-entry"] })
      )
      db.prepare(
        "INSERT INTO so_proposals (id, content_hash, kind, scope, sources, content, state, canary_share, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)"
      ).run(
        "P-1",
        "h-1",
        "review-learning",
        "project",
        "{}",
        "Raise the agent timeout",
        "proposed",
        "2026-12-01T00:00:00Z",
        "2026-12-01T00:00:00Z"
      )
      db.close()

      const shown = await getJson(`${s.base}/api/v1/evolution`)
      assert.deepStrictEqual(
        shown.body.runs.map((r: any) => [r.run_id, r.learnings.map((l: any) => [l.id, l.key])]),
        [
          [
            "DASH-E-r1",
            [
              [entries[0].id, entries[0].key],
              ["gone-entry", null]
            ]
          ]
        ]
      )
      assert.deepStrictEqual(
        shown.body.proposals.map((x: any) => [x.id, x.content, x.state]),
        [["P-1", "Raise the agent timeout", "proposed"]]
      )
      assert.strictEqual(shown.body.proposals_note, null)
    } finally {
      await stop(s)
    }
  })

  it("puts a run blocked on review in the attention queue; a review with the token unblocks it, one without is refused", async () => {
    const p = makeProject({ profile: "reviewed" })
    p.issue("DASH-2", { builder_prompt: "WRITE src/b.txt b", target_files: ["src/"] })
    assert.strictEqual(p.cli("run", "DASH-2", "--auto-approve").status, 1, "blocked: nobody reviewed it yet")
    const s = await serve(p)
    try {
      const attention = await getJson(`${s.base}/api/v1/attention`)
      assert.deepStrictEqual(
        attention.body.map((a: any) => [a.kind, a.issue_id, a.run_id]),
        [["review", "DASH-2", "DASH-2-r1"]]
      )
      assert.isTrue(
        attention.body[0].to_unblock.some((u: string) => /review/.test(u)),
        JSON.stringify(attention.body[0])
      )
      const blocked = await getJson(`${s.base}/api/v1/state`)
      assert.deepStrictEqual(
        blocked.body.blocked.map((r: any) => r.run_id),
        ["DASH-2-r1"]
      )
      assert.isNotEmpty(blocked.body.blocked[0].to_unblock)

      const review = { verdict: "pass", reviewedBy: "Ada", summary: "looks right" }
      const refused = await getJson(`${s.base}/api/v1/DASH-2/review`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(review)
      })
      assert.strictEqual(refused.status, 401)
      assert.strictEqual(refused.body.error.code, "unauthorized")
      const wrong = await getJson(`${s.base}/api/v1/DASH-2/review`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer nope" },
        body: JSON.stringify(review)
      })
      assert.strictEqual(wrong.status, 401)
      assert.strictEqual(
        (await getJson(`${s.base}/api/v1/DASH-2`)).body.runs[0].state,
        "blocked",
        "a refused action changes nothing"
      )

      const ok = await getJson(`${s.base}/api/v1/DASH-2/review`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${s.token}` },
        body: JSON.stringify(review)
      })
      assert.strictEqual(ok.status, 200, JSON.stringify(ok.body))
      assert.strictEqual(ok.body.report.verdict.status, "mergeable")
      const after = await getJson(`${s.base}/api/v1/DASH-2`)
      assert.strictEqual(after.body.runs[0].state, "succeeded")
      assert.strictEqual(after.body.runs[0].verdict, "mergeable")
      assert.deepStrictEqual((await getJson(`${s.base}/api/v1/attention`)).body, [])
      // The CLI sees the same verdict: the action went through the same evidence ledger.
      assert.match(p.cli("status", "DASH-2").stdout, /succeeded/)
    } finally {
      await stop(s)
    }
  })

  it("shows a mission as waves of packets with their runs and integration", async () => {
    const p = makeMissionProject()
    p.mission("two", [
      [{ id: "a", files: ["a/"], prompt: "WRITE a/x.txt x" }],
      [{ id: "b", files: ["b/"], dependsOn: ["a"], prompt: "WRITE b/y.txt y" }]
    ])
    const r = p.cli("run-plan", "two")
    assert.strictEqual(r.status, 0, r.stderr)
    const s = await serve(p)
    try {
      const list = await getJson(`${s.base}/api/v1/missions`)
      assert.deepStrictEqual(
        list.body.map((m: any) => [m.mission_id, m.status, m.packets, m.counts?.succeeded]),
        [["two", "completed", 2, 2]]
      )
      const mission = await getJson(`${s.base}/api/v1/missions/two`)
      assert.strictEqual(mission.status, 200)
      assert.strictEqual(mission.body.mission_run.outcome, "completed")
      assert.deepStrictEqual(
        mission.body.waves.map((w: any) =>
          w.packets.map((x: any) => [x.packet_id, x.state, x.run?.run_id, x.run?.verdict, x.integration?.outcome])
        ),
        [
          [["a", "succeeded", "two.a-r1", "mergeable", "merged"]],
          [["b", "succeeded", "two.b-r1", "mergeable", "merged"]]
        ]
      )
      assert.deepStrictEqual(mission.body.waves[1].packets[0].depends_on, ["a"])
      const unknown = await getJson(`${s.base}/api/v1/missions/nope`)
      assert.strictEqual(unknown.status, 404)
      assert.strictEqual(unknown.body.error.code, "mission_not_found")
    } finally {
      await stop(s)
    }
  })

  it("takes an acceptance of the current diff with the token, and the run becomes mergeable", async () => {
    const p = makeProject({ profile: "accepting" })
    writeGatePolicy(p.root, { accepting: ["review"] })
    p.issue("DASH-A", { builder_prompt: "WRITE src/acc.txt a", target_files: ["src/"] })
    assert.strictEqual(p.cli("run", "DASH-A", "--auto-approve").status, 1, "blocked until someone accepts it")
    const s = await serve(p)
    try {
      const attention = await getJson(`${s.base}/api/v1/attention`)
      assert.deepStrictEqual(
        attention.body.map((a: any) => [a.kind, a.issue_id]),
        [["acceptance", "DASH-A"]]
      )
      const accepted = await getJson(`${s.base}/api/v1/DASH-A/accept`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${s.token}` },
        body: JSON.stringify({ acceptedBy: "Grace", note: "as asked" })
      })
      assert.strictEqual(accepted.status, 200, JSON.stringify(accepted.body))
      assert.strictEqual(accepted.body.acceptance.acceptedBy, "Grace")
      assert.strictEqual(accepted.body.report.verdict.status, "mergeable")
      const run = await getJson(`${s.base}/api/v1/runs/DASH-A-r1`)
      assert.strictEqual(run.body.run.verdict, "mergeable")
      assert.isTrue(
        run.body.run.conditions.some((c: any) => c.condition === "human_acceptance" && c.status === "passed")
      )
      assert.match(run.body.explain, /\*\*Verdict: MERGEABLE\*\*/, "explain.md was brought up to date")
    } finally {
      await stop(s)
    }
  })

  it("runs an issue again from the API with the token: a new attempt in a process of its own, or the command's refusal", async () => {
    const p = makeProject({ verification: { check: "test -f src/fixed.txt" } })
    p.issue("DASH-R", { builder_prompt: "WRITE src/r.txt r", target_files: ["src/"] })
    assert.strictEqual(p.cli("run", "DASH-R", "--auto-approve").status, 1, "blocked: the check fails")
    const s = await serve(p)
    try {
      const post = (body: unknown, token?: string) =>
        getJson(`${s.base}/api/v1/DASH-R/retry`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(token !== undefined ? { authorization: `Bearer ${token}` } : {})
          },
          body: JSON.stringify(body)
        })
      assert.strictEqual((await post({ newAttempt: true })).status, 401)
      // The issue now asks for what the check wants; its spec changed, so the run refuses until it is approved again.
      const fixture = join(p.root, "fixtures/issues/DASH-R.json")
      writeFileSync(
        fixture,
        JSON.stringify({ ...JSON.parse(readFileSync(fixture, "utf8")), builder_prompt: "WRITE src/fixed.txt ok" })
      )
      const refused = await post({ newAttempt: true }, s.token)
      assert.strictEqual(refused.status, 409, JSON.stringify(refused.body))
      assert.match(refused.body.error.message, /spec of DASH-R changed after it was approved/)
      assert.strictEqual(p.cli("spec", "approve", "DASH-R").status, 0)
      const started = await post({ newAttempt: true }, s.token)
      assert.strictEqual(started.status, 202, JSON.stringify(started.body))
      assert.isTrue(started.body.started)
      let runs: Array<any> = []
      for (let i = 0; i < 600 && !runs.some((r) => r.run_id === "DASH-R-r2" && r.state === "succeeded"); i++) {
        runs = (await getJson(`${s.base}/api/v1/DASH-R`)).body.runs
        await new Promise((r) => setTimeout(r, 100))
      }
      assert.deepStrictEqual(
        runs.map((r) => [r.run_id, r.state]),
        [
          ["DASH-R-r2", "succeeded"],
          ["DASH-R-r1", "blocked"]
        ]
      )
    } finally {
      await stop(s)
    }
  })

  it("lists a run waiting for answers with its questions; an answer with the token lets it run", async () => {
    const p = makeProject()
    p.issue("DASH-Q", { builder_prompt: "WRITE src/q.txt q", target_files: ["src/"] })
    assert.strictEqual(p.cli("questions", "add", "DASH-Q", "--text", "Which port?", "--blocking").status, 0)
    const waiting = p.cli("run", "DASH-Q", "--auto-approve", "--json")
    assert.strictEqual(JSON.parse(waiting.stdout).status, "waiting", waiting.stderr)
    const s = await serve(p)
    try {
      const before = await getJson(`${s.base}/api/v1/attention`)
      assert.deepStrictEqual(
        before.body.map((a: any) => [a.kind, a.issue_id]),
        [["question", "DASH-Q"]]
      )
      assert.deepStrictEqual(before.body[0].questions, [{ id: "Q1", text: "Which port?" }])
      assert.match(before.body[0].message, /Q1 "Which port\?"/)
      const answer = { questionId: "Q1", answer: "8080", decidedBy: "Ada" }
      const refused = await getJson(`${s.base}/api/v1/DASH-Q/answer`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(answer)
      })
      assert.strictEqual(refused.status, 401)
      const wrong = await getJson(`${s.base}/api/v1/DASH-Q/answer`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${s.token}` },
        body: JSON.stringify({ ...answer, questionId: "Q9" })
      })
      assert.strictEqual(wrong.status, 409)
      assert.match(wrong.body.error.message, /Q9/)
      const ok = await getJson(`${s.base}/api/v1/DASH-Q/answer`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${s.token}` },
        body: JSON.stringify(answer)
      })
      assert.strictEqual(ok.status, 200, JSON.stringify(ok.body))
      const after = await getJson(`${s.base}/api/v1/attention`)
      assert.deepStrictEqual(after.body[0].to_unblock, ["spec-orch run DASH-Q"])
      assert.match(p.cli("questions", "list", "DASH-Q").stdout, /answered by Ada/)
      assert.strictEqual(p.cli("run", "DASH-Q", "--auto-approve").status, 0, "answered, the issue runs")
    } finally {
      await stop(s)
    }
  })

  it("releases a dead-lettered issue to the daemon with the token, as daemon dlq-retry", async () => {
    const p = makeProject()
    const s = await serve(p)
    try {
      // A dead letter as the daemon records it (its store's table; the dashboard created it on start).
      const Database = createRequire(import.meta.url)("better-sqlite3") as new (
        file: string
      ) => { prepare: (q: string) => { run: (...a: Array<unknown>) => unknown }; close: () => void }
      const db = new Database(join(p.root, ".spec-orch/state.db"))
      db.prepare(
        "INSERT INTO so_daemon_dead_letters (issue_id, reason, attempts, last_run_id, dead_at) VALUES (?, ?, ?, ?, ?)"
      ).run("DASH-D", "verification kept failing", 3, "DASH-D-r3", new Date().toISOString())
      db.close()
      const attention = await getJson(`${s.base}/api/v1/attention`)
      assert.deepStrictEqual(
        attention.body.map((a: any) => [a.kind, a.issue_id, a.run_id]),
        [["dead_letter", "DASH-D", "DASH-D-r3"]]
      )
      assert.match(attention.body[0].message, /after 3 attempt\(s\): verification kept failing/)
      const release = (issue: string, token?: string) =>
        getJson(`${s.base}/api/v1/${issue}/release`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(token !== undefined ? { authorization: `Bearer ${token}` } : {})
          },
          body: "{}"
        })
      assert.strictEqual((await release("DASH-D")).status, 401)
      const ok = await release("DASH-D", s.token)
      assert.strictEqual(ok.status, 200, JSON.stringify(ok.body))
      assert.deepStrictEqual([ok.body.issueId, ok.body.released], ["DASH-D", true])
      assert.deepStrictEqual((await getJson(`${s.base}/api/v1/attention`)).body, [])
      assert.deepStrictEqual((await getJson(`${s.base}/api/v1/daemon`)).body.dead_letters, [])
      const again = await release("DASH-D", s.token)
      assert.strictEqual(again.status, 409)
      assert.match(again.body.error.message, /DASH-D is not dead-lettered/)
    } finally {
      await stop(s)
    }
  })

  it("tells whether the project's daemon is working from its heartbeat", async () => {
    const p = makeProject()
    const s = await serve(p)
    try {
      const none = await getJson(`${s.base}/api/v1/daemon`)
      assert.strictEqual(none.status, 200)
      assert.strictEqual(none.body.health.state, "not-running")
      assert.match(none.body.health.message, /spec-orch daemon start/)
      assert.deepStrictEqual([none.body.claims, none.body.retrying, none.body.dead_letters], [[], [], []])
      // A daemon's heartbeat (this test process stands in for it: its pid is alive).
      mkdirSync(join(p.root, ".spec-orch/daemon"), { recursive: true })
      const now = new Date().toISOString()
      const heartbeat = {
        status: "healthy",
        pid: process.pid,
        host: hostname(),
        at: now,
        startedAt: now,
        pollIntervalSeconds: 60,
        processed: 3,
        inFlight: [],
        deadLetter: 0,
        consecutiveErrors: 0,
        lastError: null
      }
      writeFileSync(join(p.root, ".spec-orch/daemon/heartbeat.json"), JSON.stringify(heartbeat))
      const healthy = await getJson(`${s.base}/api/v1/daemon`)
      assert.strictEqual(healthy.body.health.state, "healthy", healthy.body.health.message)
      assert.isTrue(healthy.body.health.healthy)
      assert.strictEqual(healthy.body.heartbeat.processed, 3)
      writeFileSync(
        join(p.root, ".spec-orch/daemon/heartbeat.json"),
        JSON.stringify({ ...heartbeat, status: "degraded", consecutiveErrors: 2, lastError: "tracker unreachable" })
      )
      const degraded = await getJson(`${s.base}/api/v1/daemon`)
      assert.strictEqual(degraded.body.health.state, "degraded")
      assert.match(degraded.body.health.message, /tracker unreachable/)
    } finally {
      await stop(s)
    }
  })

  it("says why it cannot listen: a port in use, or no port at all", async () => {
    const p = makeProject()
    const s = await serve(p)
    try {
      const port = new URL(s.base).port
      const busy = await p.cliAsync("dashboard", "--port", port)
      assert.strictEqual(busy.status, 1)
      assert.include(
        busy.stderr,
        `the dashboard cannot listen on 127.0.0.1:${port}: the port is in use; pick another with --port, or --port 0 for a free one`
      )
      const bad = p.cli("dashboard", "--port", "70000")
      assert.strictEqual(bad.status, 1)
      assert.include(bad.stderr, "--port: 70000 is not a port")
    } finally {
      await stop(s)
    }
  })

  it("listening beyond loopback, answers no API call without the token", async () => {
    const p = makeProject()
    const s = await serve(p, "--host", "0.0.0.0")
    try {
      const local = s.base.replace(/\/\/[^:/]+|\/\/\[[^\]]+\]/, "//127.0.0.1")
      const open = await getJson(`${local}/api/v1/state`)
      assert.strictEqual(open.status, 401)
      assert.strictEqual(open.body.error.code, "unauthorized")
      assert.strictEqual((await fetch(`${local}/api/v1/events`)).status, 401)
      const authorized = await getJson(`${local}/api/v1/state`, { headers: { authorization: `Bearer ${s.token}` } })
      assert.strictEqual(authorized.status, 200)
      assert.deepStrictEqual(authorized.body.running, [])
      const abort = new AbortController()
      const feed = await fetch(`${local}/api/v1/events?token=${s.token}`, { signal: abort.signal })
      assert.strictEqual(
        feed.status,
        200,
        "the feed takes the token as a query parameter (EventSource sends no headers)"
      )
      abort.abort()
    } finally {
      await stop(s)
    }
  })

  it("answers unknown issues and runs with a JSON error, and serves its page without any outside resource", async () => {
    const p = makeProject()
    const hostile = `<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>`
    p.issue("DASH-3", { builder_prompt: "WRITE src/c.txt c", target_files: ["src/"] })
    const fixture = join(p.root, "fixtures/issues/DASH-3.json")
    writeFileSync(fixture, JSON.stringify({ ...JSON.parse(readFileSync(fixture, "utf8")), title: hostile }))
    assert.strictEqual(p.cli("run", "DASH-3", "--auto-approve").status, 0)
    const s = await serve(p)
    try {
      // A hostile title is data: the API returns it as it is, and the page only ever sets text.
      const shown = await getJson(`${s.base}/api/v1/DASH-3`)
      assert.strictEqual(shown.body.runs[0].title, hostile)
      const issue = await getJson(`${s.base}/api/v1/NOPE-9`)
      assert.strictEqual(issue.status, 404)
      assert.strictEqual(issue.body.error.code, "issue_not_found")
      assert.match(issue.body.error.message, /spec-orch run NOPE-9/)
      const run = await getJson(`${s.base}/api/v1/runs/NOPE-9-r1`)
      assert.strictEqual(run.status, 404)
      assert.strictEqual(run.body.error.code, "run_not_found")
      const bad = await getJson(`${s.base}/api/v1/NOPE-9/review`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${s.token}` },
        body: JSON.stringify({ verdict: "maybe", reviewedBy: "Ada" })
      })
      assert.strictEqual(bad.status, 400)
      assert.strictEqual(bad.body.error.code, "bad_request")
      assert.match(bad.body.error.message, /JSON body .*"pass" \| "changes_requested" \| "uncertain"/)
      const nothing = await getJson(`${s.base}/api/v1/NOPE-9/accept`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${s.token}` },
        body: JSON.stringify({ acceptedBy: "Ada" })
      })
      assert.strictEqual(nothing.status, 409)
      assert.strictEqual(nothing.body.error.code, "action_refused")
      assert.match(nothing.body.error.message, /never been run here/)
      const refresh = await getJson(`${s.base}/api/v1/refresh`, { method: "POST" })
      assert.strictEqual(refresh.status, 202)
      assert.strictEqual(refresh.body.queued, true)

      const page = await fetch(`${s.base}/`)
      assert.strictEqual(page.status, 200)
      assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'; script-src 'self'/)
      const html = await page.text()
      assert.notMatch(html, /https?:\/\//, "no CDN: the page loads only its own files")
      let weight = html.length
      for (const file of ["/app.js", "/app.css"]) {
        const res = await fetch(`${s.base}${file}`)
        assert.strictEqual(res.status, 200, file)
        const text = await res.text()
        // The SVG namespace is a name, not an address the page loads.
        assert.notMatch(
          text,
          /https?:\/\/(?!dashboard|www\.w3\.org\/2000\/svg")/,
          `${file} loads nothing from elsewhere`
        )
        assert.notMatch(
          text,
          /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/,
          `${file} never turns text into markup or code`
        )
        weight += text.length
      }
      assert.isBelow(weight, 200_000, "page weight under 200 KB")
    } finally {
      await stop(s)
    }
  })
})
