/**
 * The daemon's intake allow-list against the fake GitHub and Linear servers: who may put work in
 * front of an agent. Refused issues are not claimed, not commented on, not moved, and logged once.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { Daemon } from "../src/daemon/Daemon.js"
import { DaemonStore } from "../src/daemon/DaemonStore.js"
import { readHeartbeat } from "../src/daemon/Heartbeat.js"
import { signBody } from "../src/daemon/Webhooks.js"
import {
  agentLog,
  capturedLogs,
  daemonLayer,
  daemonWithWebhooks,
  daemonWorld,
  type DaemonWorld,
  eventually,
  REPO,
  webhookUrl
} from "./utils/daemonWorld.js"

const D = Daemon.use((d) => Effect.succeed(d))
const TEAM_ROUTE = "GET /orgs/{org}/teams/{team_slug}/memberships/{username}"
const SECRET = "SECRET-BODY-TEXT"
const body = (marker = "") => `## Builder Prompt\nDo it. ${marker} ${SECRET}\n\n## Acceptance Criteria\n- it works\n`

/** The world's config reading GitHub issues labelled `ready`, with extra `[github]` / `[daemon]` keys. */
const githubConfig = (w: DaemonWorld, github: Record<string, unknown> = {}, daemon: Record<string, unknown> = {}) => ({
  ...w.config,
  issue: { source: "github" },
  github: { ...(w.config.github as object), ...github },
  daemon: { ...(w.config.daemon as object), consume_state: "ready", ...daemon }
})

describe("daemon intake: GitHub", () => {
  it.live(
    "by default a stranger's or a contributor's issue never runs: not claimed, not commented on, logged once; a member's runs",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld()
        const member = w.github.addIssue(REPO, { title: "a member's change", body: body(), labels: ["ready"] })
        const stranger = w.github.addIssue(REPO, {
          title: "a stranger's change",
          body: body(),
          labels: ["ready"],
          author: "mallory",
          association: "NONE"
        })
        const contributor = w.github.addIssue(REPO, {
          title: "a contributor's change",
          body: body(),
          labels: ["ready"],
          author: "carol",
          association: "CONTRIBUTOR"
        })
        const logs = capturedLogs()
        yield* Effect.gen(function* () {
          const daemon = yield* D
          const store = yield* DaemonStore
          const first = yield* daemon.tick
          assert.deepStrictEqual(first.dispatched, [`GH-${member}`])
          assert.sameMembers([...first.refused], [`GH-${stranger}`, `GH-${contributor}`])
          assert.deepStrictEqual(
            (yield* store.claims).map((c) => c.issueId),
            [`GH-${member}`],
            "refused issues are not claimed"
          )
          yield* daemon.drain
          const second = yield* daemon.tick
          assert.deepStrictEqual(second.dispatched, [])
          assert.sameMembers(
            [...second.refused],
            [`GH-${stranger}`, `GH-${contributor}`],
            "still refused on the next poll"
          )
          assert.isUndefined(yield* store.issue(`GH-${stranger}`), "never picked up")
          const refusals = yield* store.refusals
          assert.deepStrictEqual(
            refusals.find((r) => r.issueId === `GH-${stranger}`)?.who,
            "@mallory (author_association NONE)"
          )
          assert.deepStrictEqual(
            refusals.find((r) => r.issueId === `GH-${contributor}`)?.who,
            "@carol (author_association CONTRIBUTOR)"
          )
          // Closed, it is no longer waiting: it leaves the list of refusals.
          yield* Effect.promise(() =>
            fetch(`${w.github.url}/repos/${REPO}/issues/${contributor}`, {
              method: "PATCH",
              headers: { authorization: `token ${w.github.token}` },
              body: JSON.stringify({ state: "closed" })
            })
          )
          assert.deepStrictEqual((yield* daemon.tick).refused, [`GH-${stranger}`])
          assert.deepStrictEqual(
            (yield* store.refusals).map((r) => r.issueId),
            [`GH-${stranger}`]
          )
        }).pipe(Effect.provide(daemonLayer({ ...w, config: githubConfig(w) })), Effect.provide(logs.layer))
        assert.deepStrictEqual(
          agentLog(w).filter((l) => l.startsWith("start")),
          [`start GH-${member}`]
        )
        assert.deepStrictEqual(
          w.github.pulls(REPO).map((p) => p.head),
          [`spec-orch/GH-${member}`]
        )
        for (const n of [stranger, contributor]) {
          assert.deepStrictEqual(w.github.comments(REPO, n), [], "no comment, so nothing of its text is echoed back")
          assert.deepStrictEqual(w.github.labelsOf(REPO, n), ["ready"], "no label added or removed")
        }
        const refusedLines = logs.lines.filter((l) => l.includes(`GH-${stranger}: not dispatched`))
        assert.strictEqual(refusedLines.length, 1, "logged once, not on every poll")
        assert.match(
          refusedLines[0]!,
          /@mallory \(author_association NONE\) may not put work in front of an agent: no \[github\] intake rule admits it \(allowed_associations: OWNER, MEMBER, COLLABORATOR;/
        )
        assert.notInclude(logs.lines.join("\n"), SECRET, "the issue's text is never logged")
      })
  )

  it.live(
    "allowed_users, allowed_teams and allowed_labels each admit; a pending team invitation does not; membership answers are reused",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld()
        w.github.addTeam("acme", "core", ["bob"], { pending: ["dave"] })
        const issue = (author: string, labels: ReadonlyArray<string> = []) =>
          w.github.addIssue(REPO, {
            title: `${author}'s change`,
            body: body(),
            labels: ["ready", ...labels],
            author,
            association: "NONE"
          })
        const alice = issue("alice")
        const bob = issue("bob")
        const carol = issue("carol", ["agent-ok"])
        const dave = issue("dave")
        const eve = issue("eve")
        const config = githubConfig(w, {
          allowed_users: ["alice"],
          allowed_teams: ["core"],
          allowed_labels: ["agent-ok"]
        })
        yield* Effect.gen(function* () {
          const daemon = yield* D
          const first = yield* daemon.tick
          assert.sameMembers([...first.dispatched], [`GH-${alice}`, `GH-${bob}`, `GH-${carol}`])
          assert.sameMembers([...first.refused], [`GH-${dave}`, `GH-${eve}`])
          const asked = w.github.requestsTo(TEAM_ROUTE).map((r) => r.url.split("?")[0]!.split("/").pop())
          assert.sameMembers(
            asked,
            ["bob", "dave", "eve"],
            "teams are asked about only when no other rule admitted the author"
          )
          yield* daemon.drain
          const second = yield* daemon.tick
          assert.sameMembers([...second.refused], [`GH-${dave}`, `GH-${eve}`])
          assert.strictEqual(
            w.github.requestsTo(TEAM_ROUTE).length,
            3,
            "the membership answers are reused on the next poll"
          )
        }).pipe(Effect.provide(daemonLayer({ ...w, config })))
        assert.sameMembers(
          w.github.pulls(REPO).map((p) => p.head),
          [`spec-orch/GH-${alice}`, `spec-orch/GH-${bob}`, `spec-orch/GH-${carol}`]
        )
      })
  )

  it.live("allow_anyone = true runs a stranger's issue and says loudly, once, that the allow-list is off", () =>
    Effect.gen(function* () {
      const w = yield* daemonWorld()
      const stranger = w.github.addIssue(REPO, {
        title: "a stranger's change",
        body: body(),
        labels: ["ready"],
        author: "mallory",
        association: "NONE"
      })
      const logs = capturedLogs()
      yield* Effect.gen(function* () {
        const daemon = yield* D
        assert.deepStrictEqual((yield* daemon.tick).dispatched, [`GH-${stranger}`])
        yield* daemon.drain
        yield* daemon.tick
      }).pipe(
        Effect.provide(daemonLayer({ ...w, config: githubConfig(w, {}, { allow_anyone: true }) })),
        Effect.provide(logs.layer)
      )
      assert.strictEqual(w.github.pulls(REPO).length, 1)
      const warnings = logs.lines.filter((l) => l.includes("allow_anyone = true: the intake allow-list is OFF"))
      assert.strictEqual(warnings.length, 1)
      assert.match(warnings[0]!, /^Warn/i)
    })
  )

  it.live("a run left in flight for an issue the allow-list now refuses is not resumed", () =>
    Effect.gen(function* () {
      const w = yield* daemonWorld()
      const stranger = w.github.addIssue(REPO, {
        title: "a stranger's change",
        body: body(),
        labels: ["ready"],
        author: "mallory",
        association: "NONE"
      })
      yield* Effect.gen(function* () {
        const store = yield* DaemonStore
        // As a daemon with allow_anyone = true would have left it when it stopped.
        yield* store.upsert(`GH-${stranger}`, { status: "running" })
        assert.deepStrictEqual(yield* (yield* D).reclaim, [])
        const row = yield* store.issue(`GH-${stranger}`)
        assert.deepStrictEqual(
          [row?.status, row?.lastError],
          ["cancelled", "refused at intake: @mallory (author_association NONE) may not put work in front of an agent"]
        )
        assert.deepStrictEqual(yield* store.claims, [])
      }).pipe(Effect.provide(daemonLayer({ ...w, config: githubConfig(w) })))
      assert.deepStrictEqual(agentLog(w), [])
    })
  )

  it.live(
    "an issue a webhook announces goes through the same allow-list: a stranger's is refused and counted in the heartbeat",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld({ daemon: { poll_interval_seconds: 3600, webhook_port: 0 } })
        const webhooks = daemonWithWebhooks({ ...w, config: githubConfig(w) }, "s3cret")
        yield* Effect.gen(function* () {
          const d = yield* D
          const url = yield* webhookUrl
          const loop = yield* Effect.forkChild(d.run)
          yield* eventually("the first poll", () => w.github.requestsTo("GET /repos/{owner}/{repo}/issues").length > 0)
          const n = w.github.addIssue(REPO, {
            title: "a stranger's change",
            body: body(),
            labels: ["ready"],
            author: "mallory",
            association: "NONE"
          })
          const payload = JSON.stringify({
            action: "labeled",
            issue: { number: n, body: `${SECRET} run me`, user: { login: "mallory" }, author_association: "OWNER" }
          })
          const answer = yield* Effect.promise(() =>
            fetch(url, {
              method: "POST",
              headers: { "x-hub-signature-256": `sha256=${signBody("s3cret", payload)}`, "x-github-event": "issues" },
              body: payload
            }).then((r) => r.status)
          )
          assert.strictEqual(answer, 202)
          // The tick after the delivery records the refusal, then writes the heartbeat that counts it.
          let refused: number | undefined
          for (let i = 0; i < 300 && refused !== 1; i++) {
            yield* Effect.sleep("100 millis")
            refused = (yield* readHeartbeat()).heartbeat?.refused
          }
          yield* Fiber.interrupt(loop)
          assert.strictEqual(refused, 1, "the heartbeat counts the refusal")
          assert.deepStrictEqual(
            (yield* DaemonStore.use((s) => s.refusals)).map((r) => r.issueId),
            [`GH-${n}`]
          )
          assert.deepStrictEqual(
            agentLog(w),
            [],
            "the delivery's claim that the author is an OWNER changes nothing: the tracker is read"
          )
          assert.deepStrictEqual(w.github.comments(REPO, n), [])
        }).pipe(Effect.provide(webhooks))
      })
  )
})

describe("daemon intake: Linear", () => {
  it.live(
    "a member's issue of the team, a named creator's and a labelled one run; an app's and an unlabelled integration's stay in Ready, untouched",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld()
        w.linear.addUser({ name: "Gus Guest", email: "gus@partner.example", guest: true })
        w.linear.addUser({ name: "Intake Bot", email: "bot@apps.example", app: true })
        const issue = (title: string, creator: string | null | undefined, labels: ReadonlyArray<string> = []) =>
          w.linear.addIssue({
            team: "SON",
            title,
            state: "Ready",
            description: body(),
            labels: [...labels],
            ...(creator !== undefined ? { creator } : {})
          })
        const member = issue("a member's change", undefined)
        const guest = issue("a guest's change", "gus@partner.example")
        const app = issue("an app's change", "bot@apps.example")
        const labelled = issue("an integration's labelled change", null, ["agent-ok"])
        const integration = issue("an integration's change", null)
        const config = {
          ...w.config,
          linear: {
            ...(w.config.linear as object),
            allowed_creators: ["gus@partner.example"],
            allowed_labels: ["agent-ok"]
          }
        }
        yield* Effect.gen(function* () {
          const daemon = yield* D
          const report = yield* daemon.tick
          assert.sameMembers([...report.dispatched], [member.identifier, guest.identifier, labelled.identifier])
          yield* daemon.drain
          // Issues after the third are looked at once a slot is free (max_concurrent = 3).
          const next = yield* daemon.tick
          assert.deepStrictEqual(next.dispatched, [])
          assert.sameMembers(
            [...new Set([...report.refused, ...next.refused])],
            [app.identifier, integration.identifier]
          )
          const refusals = yield* DaemonStore.use((s) => s.refusals)
          assert.deepStrictEqual(
            refusals.find((r) => r.issueId === app.identifier)?.who,
            "Intake Bot <bot@apps.example> (app)"
          )
          assert.deepStrictEqual(
            refusals.find((r) => r.issueId === integration.identifier)?.who,
            "no Linear user (created by an integration, or the account was deleted)"
          )
        }).pipe(Effect.provide(daemonLayer({ ...w, config })))
        for (const refused of [app, integration]) {
          assert.strictEqual(w.linear.issue(refused.identifier).state, "Ready", "not moved to In Progress")
          assert.deepStrictEqual(w.linear.comments(refused.identifier), [])
        }
        assert.strictEqual(w.linear.issue(member.identifier).state, "In Review")
      })
  )
})
