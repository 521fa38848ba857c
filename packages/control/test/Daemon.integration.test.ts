import { assert, describe, it } from "@effect/vitest"
import { existsSync } from "node:fs"
import { git } from "@spec-orch/test-kit"
import { signBody } from "../src/daemon/Webhooks.js"
import { Effect, Exit, Fiber, Layer, Scope } from "effect"
import { Daemon } from "../src/daemon/Daemon.js"
import { DEAD_LETTER_LABEL, deadLetterKey } from "../src/daemon/DaemonRules.js"
import { DaemonStore } from "../src/daemon/DaemonStore.js"
import { readHeartbeat } from "../src/daemon/Heartbeat.js"
import { CLARIFICATION_LABEL, clarificationKey } from "../src/daemon/Triage.js"
import { GATE_CONTEXT } from "../src/publish/Publisher.js"
import { runSummaryKey } from "../src/publish/RunPublisher.js"
import { acquireEngineLock, ProcessToken, runLockName } from "../src/run/EngineLock.js"
import { RunStore } from "../src/run/RunStore.js"
import { RequestBudget } from "../src/trackers/RequestBudget.js"
import {
  agentLog,
  capturedLogs,
  agentsRunning,
  commentsWith,
  daemonLayer,
  daemonWithWebhooks,
  daemonWorld,
  type DaemonWorld,
  eventually,
  readyIssue,
  releaseAgents,
  REPO,
  webhookUrl
} from "./utils/daemonWorld.js"

const branches = (w: DaemonWorld) =>
  git(w.bare, ["for-each-ref", "--format=%(refname:short)", "refs/heads/"])
    .split("\n")
    .filter((b) => b !== "")

const D = Daemon.use((d) => Effect.succeed(d))

describe("Daemon.tick", () => {
  it.live(
    "runs a ready Linear issue: In Progress while it runs, then a PR with its status, one summary comment, In Review; it is not run twice",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld()
        const li = readyIssue(w.linear, "a health endpoint", "SLOW")
        yield* Effect.gen(function* () {
          const daemon = yield* D
          const report = yield* daemon.tick
          assert.deepStrictEqual(report.dispatched, [li.identifier])
          assert.strictEqual(w.linear.issue(li.identifier).state, "In Progress")
          yield* eventually("the agent to start", () => agentLog(w).includes(`start ${li.identifier}`))
          releaseAgents(w)
          yield* daemon.drain
          const row = yield* DaemonStore.use((s) => s.issue(li.identifier))
          assert.strictEqual(row?.status, "done")
          assert.strictEqual(row?.prNumber, 1)
          const again = yield* daemon.tick
          assert.deepStrictEqual(again.dispatched, [])
          const runs = yield* RunStore.use((s) => s.list({ issueId: li.identifier }))
          assert.deepStrictEqual(
            runs.map((r) => [r.runId, r.status]),
            [[`${li.identifier}-r1`, "succeeded"]]
          )
        }).pipe(Effect.provide(daemonLayer(w)))
        const pulls = w.github.pulls(REPO)
        assert.strictEqual(pulls.length, 1)
        assert.strictEqual(pulls[0]!.head, `spec-orch/${li.identifier}`)
        assert.deepStrictEqual(
          w.github.statuses(REPO, pulls[0]!.headSha).map((s) => [s.context, s.state]),
          [[GATE_CONTEXT, "success"]]
        )
        assert.strictEqual(commentsWith(w, li.identifier, runSummaryKey(li.identifier)).length, 1)
        assert.strictEqual(w.linear.comments(li.identifier).length, 1)
        assert.strictEqual(w.linear.issue(li.identifier).state, "In Review")
        assert.deepStrictEqual(branches(w), ["main", `spec-orch/${li.identifier}`])
      })
  )

  it.live(
    "an issue someone runs from a terminal is left to them: not a failed attempt; the daemon runs it once they are done",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld({ daemon: { max_retries: 0, poll_interval_seconds: 1 } })
        const li = readyIssue(w.linear, "a change a person is running")
        yield* Effect.gen(function* () {
          const daemon = yield* D
          const store = yield* DaemonStore
          const me = yield* ProcessToken
          // `spec-orch run <issue>` in another live process holds the issue's run lock.
          const person = ProcessToken.of({
            token: `${me.host}:${process.ppid}:terminal`,
            pid: process.ppid,
            host: me.host
          })
          const terminal = yield* Scope.make()
          yield* acquireEngineLock(`run ${li.identifier}`, { lock: runLockName(li.identifier) }).pipe(
            Effect.provideService(ProcessToken, person),
            Scope.provide(terminal)
          )
          assert.deepStrictEqual((yield* daemon.tick).dispatched, [li.identifier])
          yield* daemon.drain
          const waiting = yield* store.issue(li.identifier)
          assert.strictEqual(waiting?.status, "retry")
          assert.strictEqual(
            waiting?.retryCount,
            0,
            "not counted as a failed attempt (max_retries = 0 would dead-letter it)"
          )
          assert.match(waiting?.lastError ?? "", /already running .* \(pid \d+ .*`run /)
          assert.deepStrictEqual(agentLog(w), [])
          yield* Scope.close(terminal, Exit.void)
          let row = waiting
          for (let i = 0; i < 50 && row?.status !== "done"; i++) {
            yield* Effect.sleep("200 millis")
            yield* daemon.tick
            yield* daemon.drain
            row = yield* store.issue(li.identifier)
          }
          assert.strictEqual(row?.status, "done")
          assert.deepStrictEqual(
            agentLog(w).filter((l) => l.startsWith("end")),
            [`end ${li.identifier}`]
          )
        }).pipe(Effect.provide(daemonLayer(w)))
      })
  )

  it.live(
    "a run that fails verification is retried after the backoff, then dead-lettered with one comment and a label",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld({ daemon: { max_retries: 1, retry_base_delay_seconds: 0 } })
        const li = readyIssue(w.linear, "a broken change", "BREAK")
        yield* Effect.gen(function* () {
          const daemon = yield* D
          const store = yield* DaemonStore
          assert.deepStrictEqual((yield* daemon.tick).dispatched, [li.identifier])
          yield* daemon.drain
          const first = yield* store.issue(li.identifier)
          assert.strictEqual(first?.status, "retry")
          assert.strictEqual(first?.retryCount, 1)
          assert.match(first?.lastError ?? "", /gate failed: verification/)
          assert.deepStrictEqual(
            (yield* daemon.tick).dispatched,
            [li.identifier],
            "the retry is due at once with a 0 s base delay"
          )
          yield* daemon.drain
          const dead = yield* store.issue(li.identifier)
          assert.strictEqual(dead?.status, "dead")
          assert.deepStrictEqual(
            (yield* store.deadLetters).map((d) => [d.issueId, d.attempts]),
            [[li.identifier, 2]]
          )
          // The dead letter's worktree goes; its branch stays, it is pushed (nothing unpushed is lost either way).
          const cleaned = yield* daemon.cleanup
          assert.deepStrictEqual(cleaned.removed, [li.identifier])
          assert.include(branches(w), `spec-orch/${li.identifier}`)
          assert.deepStrictEqual((yield* daemon.tick).dispatched, [], "a dead letter is not picked up again")

          // Released (what `daemon dlq-retry` does), it runs again.
          assert.isTrue(yield* store.releaseDeadLetter(li.identifier))
          w.linear.moveIssue(li.identifier, "Ready")
          assert.deepStrictEqual((yield* daemon.tick).dispatched, [li.identifier])
          yield* daemon.drain
          const runs = yield* RunStore.use((s) => s.list({ issueId: li.identifier }))
          assert.deepStrictEqual(
            runs.map((r) => r.status),
            ["blocked", "blocked", "blocked"]
          )
        }).pipe(Effect.provide(daemonLayer(w)))
        assert.strictEqual(commentsWith(w, li.identifier, deadLetterKey(li.identifier)).length, 1)
        assert.match(
          commentsWith(w, li.identifier, deadLetterKey(li.identifier))[0]!.body,
          /gave up on SON-\d+\*\* after 2 failed attempt\(s\)[\s\S]*dlq-retry SON-\d+/
        )
        assert.strictEqual(
          commentsWith(w, li.identifier, runSummaryKey(li.identifier)).length,
          1,
          "every attempt updates the one summary comment"
        )
        assert.include(w.linear.issue(li.identifier).labels, DEAD_LETTER_LABEL)
        const pulls = w.github.pulls(REPO)
        assert.strictEqual(pulls.length, 1, "every attempt updates the one draft PR")
        assert.isTrue(pulls[0]!.draft)
        assert.deepStrictEqual(
          w.github
            .statuses(REPO, pulls[0]!.headSha)
            .map((s) => s.state)
            .slice(0, 1),
          ["failure"]
        )
      })
  )

  it.live("backs off exponentially: the retry waits retry_base_delay_seconds before it is due", () =>
    Effect.gen(function* () {
      const w = yield* daemonWorld({ daemon: { max_retries: 3, retry_base_delay_seconds: 600 } })
      const li = readyIssue(w.linear, "a broken change", "BREAK")
      yield* Effect.gen(function* () {
        const daemon = yield* D
        yield* daemon.tick
        yield* daemon.drain
        const row = yield* DaemonStore.use((s) => s.issue(li.identifier))
        assert.strictEqual(row?.status, "retry")
        assert.isAbove(row!.retryAt! - Date.parse(row!.updatedAt), 590_000)
        assert.deepStrictEqual((yield* daemon.tick).dispatched, [], "not due yet")
      }).pipe(Effect.provide(daemonLayer(w)))
    })
  )

  it.live(
    "an issue moved out of Ready mid-run is cancelled: its agent stops and nothing is published; moved back, it runs again",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld()
        const li = readyIssue(w.linear, "a slow change", "SLOW")
        yield* Effect.gen(function* () {
          const daemon = yield* D
          yield* daemon.tick
          yield* eventually(
            "the agent to start",
            () => agentLog(w).includes(`start ${li.identifier}`) && agentsRunning(w).length > 0
          )
          w.linear.moveIssue(li.identifier, "Backlog")
          const report = yield* daemon.tick
          assert.deepStrictEqual(report.cancelled, [li.identifier])
          yield* daemon.drain
          const run = yield* RunStore.use((s) => s.latest(li.identifier))
          assert.strictEqual(run?.status, "cancelled")
          assert.match(run?.message ?? "", /cancelled by the daemon: SON-\d+ is now "Backlog"/)
          assert.strictEqual((yield* DaemonStore.use((s) => s.issue(li.identifier)))?.status, "cancelled")
          assert.notInclude(agentLog(w), `end ${li.identifier}`, "the agent was stopped")
          assert.deepStrictEqual(agentsRunning(w), [], "nothing of the cancelled run is left running")
          assert.strictEqual(w.github.pulls(REPO).length, 0)
          assert.deepStrictEqual(branches(w), ["main"])

          // The cancelled run's worktree is finished: cleanup removes it (nothing was committed or pushed).
          const cleaned = yield* daemon.cleanup
          assert.deepStrictEqual(cleaned.removed, [li.identifier])
          assert.isFalse(existsSync(run!.worktree!), "the worktree is gone")

          w.linear.moveIssue(li.identifier, "Ready")
          releaseAgents(w)
          assert.deepStrictEqual((yield* daemon.tick).dispatched, [li.identifier])
          yield* daemon.drain
          const runs = yield* RunStore.use((s) => s.list({ issueId: li.identifier }))
          assert.deepStrictEqual(
            runs.map((r) => [r.attempt, r.status]),
            [
              [2, "succeeded"],
              [1, "cancelled"]
            ]
          )
        }).pipe(Effect.provide(daemonLayer(w)))
        assert.strictEqual(w.github.pulls(REPO).length, 1)
      })
  )

  it.live(
    "GitHub Issues: an open issue labelled with the consume state runs to a PR that closes it; closing the issue mid-run cancels another",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld()
        const config = {
          ...w.config,
          issue: { source: "github" },
          daemon: { ...(w.config.daemon as object), consume_state: "ready" }
        }
        const body = (marker: string) => `## Builder Prompt\nDo it. ${marker}\n\n## Acceptance Criteria\n- it works\n`
        const good = w.github.addIssue(REPO, { title: "a health endpoint", body: body(""), labels: ["ready"] })
        const slow = w.github.addIssue(REPO, { title: "a slow one", body: body("SLOW"), labels: ["ready"] })
        w.github.addIssue(REPO, { title: "not labelled", body: body("") })
        yield* Effect.gen(function* () {
          const daemon = yield* D
          const report = yield* daemon.tick
          assert.deepStrictEqual([...report.dispatched].sort(), [`GH-${good}`, `GH-${slow}`])
          yield* eventually("the slow agent to start", () => agentLog(w).includes(`start GH-${slow}`))
          yield* Effect.promise(() =>
            fetch(`${w.github.url}/repos/${REPO}/issues/${slow}`, {
              method: "PATCH",
              headers: { authorization: `token ${w.github.token}` },
              body: JSON.stringify({ state: "closed" })
            })
          )
          yield* eventually("the good run to finish", () => w.github.pulls(REPO).length === 1)
          const next = yield* daemon.tick
          assert.deepStrictEqual(next.cancelled, [`GH-${slow}`])
          yield* daemon.drain
          assert.deepStrictEqual(agentsRunning(w), [], "the slow agent was stopped")
        }).pipe(Effect.provide(daemonLayer({ ...w, config })))
        const pulls = w.github.pulls(REPO)
        assert.deepStrictEqual(
          pulls.map((p) => p.head),
          [`spec-orch/GH-${good}`]
        )
        assert.match(pulls[0]!.body ?? "", new RegExp(`\\nCloses #${good}\\n`))
        assert.strictEqual(w.github.comments(REPO, good).length, 1)
        assert.match(w.github.comments(REPO, good)[0]!.body, new RegExp(`spec-orch run summary: GH-${good} MERGEABLE`))
        assert.strictEqual(w.github.comments(REPO, slow).length, 0)
      })
  )

  it.live(
    "triage: an issue without acceptance criteria gets one clarification comment and a label, and waits until the label is removed",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld()
        const li = w.linear.addIssue({
          team: "SON",
          title: "make it better",
          state: "Ready",
          description: "## Builder Prompt\nMake it better.\n"
        })
        yield* Effect.gen(function* () {
          const daemon = yield* D
          const first = yield* daemon.tick
          assert.deepStrictEqual(first.clarifying, [li.identifier])
          assert.deepStrictEqual(first.dispatched, [])
          const second = yield* daemon.tick
          assert.deepStrictEqual([second.clarifying, second.dispatched], [[], []])
          assert.strictEqual(commentsWith(w, li.identifier, clarificationKey(li.identifier)).length, 1)
          assert.match(w.linear.comments(li.identifier)[0]!.body, /clarification needed[\s\S]*acceptance criteria/)
          assert.include(w.linear.issue(li.identifier).labels, CLARIFICATION_LABEL)
          assert.strictEqual(w.linear.issue(li.identifier).state, "Ready")

          w.linear.setLabels(li.identifier, [])
          assert.deepStrictEqual(
            (yield* daemon.tick).dispatched,
            [li.identifier],
            "a person removing the label means: build it"
          )
          yield* daemon.drain
        }).pipe(Effect.provide(daemonLayer(w)))
        assert.strictEqual(commentsWith(w, li.identifier, clarificationKey(li.identifier)).length, 1)
      })
  )

  it.live("a run that stays silent past timeout + stall is cancelled as stalled and dead-lettered", () =>
    Effect.gen(function* () {
      const w = yield* daemonWorld({
        daemon: { max_retries: 0 },
        extra: { verification: { hang: ["node", "-e", "setTimeout(() => {}, 60000)"] } }
      })
      const config = {
        ...w.config,
        builder: { ...(w.config.builder as object), timeout_seconds: 1, stall_timeout_seconds: 1 },
        verification: { hang: ["node", "-e", "setTimeout(() => {}, 60000)"] }
      }
      const li = readyIssue(w.linear, "a hanging check")
      yield* Effect.gen(function* () {
        const daemon = yield* D
        yield* daemon.tick
        yield* eventually("the verification to start", () => agentLog(w).includes(`end ${li.identifier}`))
        yield* Effect.sleep("2500 millis")
        const report = yield* daemon.tick
        assert.deepStrictEqual(report.cancelled, [li.identifier])
        yield* daemon.drain
        const row = yield* DaemonStore.use((s) => s.issue(li.identifier))
        assert.strictEqual(row?.status, "dead")
        assert.match(row?.lastError ?? "", /stalled: no event for \d+ s/)
        assert.deepStrictEqual(agentsRunning(w), [], "the hanging step was stopped")
      }).pipe(Effect.provide(daemonLayer({ ...w, config })))
    })
  )
})

describe("Daemon.run", () => {
  it.live(
    "stopping the daemon mid-run leaves the run to the next daemon, which resumes it; nothing is published twice",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld()
        const li = readyIssue(w.linear, "a slow change", "SLOW")
        // The first daemon: starts the run, then stops (its scope closes, as on SIGTERM).
        const scope = yield* Scope.make()
        const context = yield* Layer.buildWithScope(daemonLayer(w), scope)
        yield* Effect.gen(function* () {
          const daemon = yield* D
          const loop = yield* Effect.forkDetach(daemon.run)
          yield* eventually(
            "the agent to start",
            () => agentLog(w).includes(`start ${li.identifier}`) && agentsRunning(w).length > 0
          ).pipe(Effect.ensuring(Fiber.interrupt(loop)))
        }).pipe(Effect.provideContext(context))
        yield* Scope.close(scope, Exit.void)
        assert.notInclude(agentLog(w), `end ${li.identifier}`)
        assert.deepStrictEqual(agentsRunning(w), [], "the agent stopped with the daemon")

        yield* Effect.gen(function* () {
          const store = yield* DaemonStore
          assert.strictEqual((yield* store.issue(li.identifier))?.status, "running", "left for the next daemon")
          const daemon = yield* D
          releaseAgents(w)
          assert.deepStrictEqual(yield* daemon.reclaim, [li.identifier])
          yield* daemon.drain
          assert.strictEqual((yield* store.issue(li.identifier))?.status, "done")
          const runs = yield* RunStore.use((s) => s.list({ issueId: li.identifier }))
          assert.deepStrictEqual(
            runs.map((r) => [r.runId, r.status]),
            [[`${li.identifier}-r1`, "succeeded"]],
            "the same attempt resumed"
          )
        }).pipe(Effect.provide(daemonLayer(w)))
        assert.deepStrictEqual(
          agentLog(w).filter((l) => l.startsWith("end")),
          [`end ${li.identifier}`]
        )
        assert.strictEqual(w.github.pulls(REPO).length, 1)
        assert.strictEqual(w.linear.comments(li.identifier).length, 1)
      })
  )

  it.live(
    "the same daemon run again after it stopped (a cluster's singleton that moved away and came back) dispatches new work",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld()
        yield* Effect.gen(function* () {
          const d = yield* D
          const first = yield* Effect.forkChild(d.run)
          yield* eventually("the first poll", () => w.linear.requests.length > 0)
          yield* Fiber.interrupt(first)
          const li = readyIssue(w.linear, "a change after the daemon came back")
          const again = yield* Effect.forkChild(d.run)
          yield* eventually("the run to finish", () => w.linear.issue(li.identifier).state === "In Review").pipe(
            Effect.ensuring(Fiber.interrupt(again))
          )
        }).pipe(Effect.provide(daemonLayer(w)))
      })
  )

  it.live(
    "as the cluster's leader it takes over at once a claim that a daemon on another machine still holds; as a plain daemon it waits for the lease",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld()
        const li = readyIssue(w.linear, "claimed by a host that is gone")
        yield* Effect.gen(function* () {
          const store = yield* DaemonStore
          // A daemon of another machine claimed it for five minutes (no process here to look for), then died.
          assert.isTrue(yield* store.claim(li.identifier, "another-machine:4242:gone", 300_000))
          const d = yield* D
          assert.deepStrictEqual((yield* d.tick).dispatched, [], "a plain daemon leaves a live-looking claim alone")
          const loop = yield* Effect.forkChild(d.runAsLeader)
          yield* eventually("the run to finish", () => w.linear.issue(li.identifier).state === "In Review").pipe(
            Effect.ensuring(Fiber.interrupt(loop))
          )
          const me = yield* ProcessToken
          assert.strictEqual(yield* store.leader, me.token)
          assert.isFalse(
            yield* store.claim(li.identifier, "another-machine:4242:gone", 300_000),
            "the old daemon, were it to wake, can claim nothing"
          )
        }).pipe(Effect.provide(daemonLayer(w)))
        assert.strictEqual(w.github.pulls(REPO).length, 1)
      })
  )

  it.live(
    "a leader that another daemon replaced (its runner stood still) polls, cancels and reads feedback no more",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld()
        const logs = capturedLogs()
        yield* Effect.gen(function* () {
          const store = yield* DaemonStore
          const d = yield* D
          const loop = yield* Effect.forkChild(d.runAsLeader)
          yield* eventually("the first poll", () => w.linear.requests.length > 0)
          // The singleton started on another runner while this one stood still.
          yield* store.lead("another-machine:4242:new-leader")
          const replaced = () => logs.lines.filter((l) => l.includes("another daemon leads the cluster now")).length
          yield* d.poke
          yield* eventually("a cycle that sees it was replaced", () => replaced() >= 1)
          const before = w.linear.requests.length
          readyIssue(w.linear, "an issue the replaced daemon must leave alone")
          yield* d.poke
          yield* eventually("another such cycle", () => replaced() >= 2).pipe(Effect.ensuring(Fiber.interrupt(loop)))
          assert.strictEqual(w.linear.requests.length, before, "no tracker request after it was replaced")
        }).pipe(Effect.provide(daemonLayer(w)), Effect.provide(logs.layer))
        assert.strictEqual(w.github.pulls(REPO).length, 0)
      })
  )

  it.live("a signed webhook delivery wakes the loop at once instead of waiting for the next poll", () =>
    Effect.gen(function* () {
      const w = yield* daemonWorld({ daemon: { poll_interval_seconds: 3600, webhook_port: 0 } })
      const webhooks = daemonWithWebhooks(w, "s3cret")
      yield* Effect.gen(function* () {
        const d = yield* D
        const url = yield* webhookUrl
        const loop = yield* Effect.forkChild(d.run)
        yield* eventually("the first poll", () => w.linear.requests.length > 0)
        const li = readyIssue(w.linear, "a webhook-triggered change")
        const body = JSON.stringify({
          action: "update",
          type: "Issue",
          data: { identifier: li.identifier },
          webhookTimestamp: Date.now()
        })
        const answer = yield* Effect.promise(() =>
          fetch(url, {
            method: "POST",
            headers: { "linear-signature": signBody("s3cret", body), "linear-event": "Issue" },
            body
          }).then((r) => r.status)
        )
        assert.strictEqual(answer, 202)
        yield* eventually("the run to finish", () => w.linear.issue(li.identifier).state === "In Review").pipe(
          Effect.ensuring(Fiber.interrupt(loop))
        )
      }).pipe(Effect.provide(webhooks))
    })
  )

  it.live(
    "a low request budget makes the daemon wait for slots; it finishes the work without a failed tick",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld()
        w.linear.rateLimit(2, 3000)
        const li = readyIssue(w.linear, "a health endpoint")
        yield* Effect.gen(function* () {
          const daemon = yield* D
          const loop = yield* Effect.forkChild(daemon.run)
          yield* eventually(
            "the run to finish",
            () => w.linear.issue(li.identifier).state === "In Review",
            90_000
          ).pipe(Effect.ensuring(Fiber.interrupt(loop)))
          const budget = yield* RequestBudget.use((b) => b.state("linear"))
          assert.isAbove(budget.waitedMs, 0, "the daemon waited for the budget")
          const limited = w.linear.requests.filter((r) => r.status !== 200)
          assert.isAbove(limited.length, 0, "Linear's own limit was hit and honoured")
          const { heartbeat } = yield* readHeartbeat()
          assert.deepStrictEqual(
            [heartbeat?.status, heartbeat?.consecutiveErrors, heartbeat?.lastError],
            ["stopped", 0, null],
            "no tick failed"
          )
        }).pipe(Effect.provide(daemonLayer(w, { budget: { perMinute: 120, burst: 2 } })))
        assert.strictEqual(w.github.pulls(REPO).length, 1)
        assert.strictEqual(w.linear.comments(li.identifier).length, 1)
      }),
    120_000
  )
})
