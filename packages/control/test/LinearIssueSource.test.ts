import { assert, describe, it } from "@effect/vitest"
import { IssueSource } from "@spec-orch/contract"
import { type FakeLinear, fakeLinear, fastForwardClock, tempDir } from "@spec-orch/test-kit"
import { Clock, Effect, Layer } from "effect"
import { Linear } from "../src/trackers/Linear.js"
import { LinearIssueSource } from "../src/trackers/TrackerIssueSource.js"
import { trackerWorld, type TomlLike } from "./utils/trackers.js"

const TOKEN_ENV = "SPEC_ORCH_LINEAR_TOKEN"

/** Runs `body` with a Linear issue source pointed at `fake`, configured by `linear`/`daemon` overrides. */
const withLinear = <A, E>(
  fake: FakeLinear,
  body: Effect.Effect<A, E, IssueSource>,
  options: { readonly config?: TomlLike; readonly env?: Record<string, string>; readonly perMinute?: number } = {}
) =>
  Effect.gen(function* () {
    const root = yield* tempDir("linear-source-")
    const config: TomlLike = {
      issue: { source: "linear" },
      ...options.config,
      linear: { team_key: "SON", api_url: fake.url, ...(options.config?.linear ?? {}) }
    }
    const world = trackerWorld({
      root,
      config,
      env: options.env ?? { [TOKEN_ENV]: fake.token },
      ...(options.perMinute !== undefined ? { budget: { perMinute: options.perMinute, burst: 1 } } : {})
    })
    return yield* body.pipe(Effect.provide(LinearIssueSource.pipe(Layer.provideMerge(world))))
  })

const linearOnly = <A, E>(fake: FakeLinear, body: Effect.Effect<A, E, Linear>) =>
  Effect.gen(function* () {
    const root = yield* tempDir("linear-api-")
    return yield* body.pipe(
      Effect.provide(
        trackerWorld({ root, config: { linear: { api_url: fake.url } }, env: { [TOKEN_ENV]: fake.token } })
      )
    )
  })

const list = (query?: Parameters<IssueSource["Service"]["list"]>[0]) => IssueSource.use((s) => s.list(query))
const get = (id: string) => IssueSource.use((s) => s.get(id))

const LEGACY = `Add a health endpoint so the load balancer can probe the service.

## Builder Prompt
Add GET /health returning {"ok": true} in src/server.ts.

## Acceptance Criteria
- [ ] GET /health answers 200
- [ ] the body is {"ok": true}

## Context
- src/server.ts
- \`src/routes/index.ts\`
- The router is hand-written; keep it that way.
`

describe("LinearIssueSource.list", () => {
  it.live("lists the team's issues in the asked state, mapped to contract issues", () =>
    Effect.gen(function* () {
      const fake = yield* fakeLinear({ teams: ["SON", "OPS"] })
      fake.addIssue({ title: "Health endpoint", description: LEGACY, state: "Ready", labels: ["backend"] })
      fake.addIssue({ title: "Not ready yet", state: "Backlog" })
      fake.addIssue({ team: "OPS", title: "Other team", state: "Ready" })

      const { issues, problems } = yield* withLinear(fake, list({ states: ["Ready"] }))
      assert.deepStrictEqual(problems, [])
      assert.deepStrictEqual(
        issues.map((i) => i.id),
        ["SON-1"]
      )
      const issue = issues[0]!
      assert.strictEqual(issue.title, "Health endpoint")
      assert.strictEqual(issue.summary, "Add a health endpoint so the load balancer can probe the service.")
      assert.strictEqual(issue.builderPrompt, 'Add GET /health returning {"ok": true} in src/server.ts.')
      assert.deepStrictEqual(
        issue.acceptanceCriteria.map((c) => [c.id, c.text]),
        [
          ["AC-1", "GET /health answers 200"],
          ["AC-2", 'the body is {"ok": true}']
        ]
      )
      assert.deepStrictEqual(issue.filesToRead, ["src/server.ts", "src/routes/index.ts"])
      assert.strictEqual(issue.architectureNotes, "The router is hand-written; keep it that way.")
      assert.deepStrictEqual(issue.labels, ["backend"])
      assert.strictEqual(issue.verification, undefined, "tracker text never sets verification commands")
      assert.strictEqual(issue.origin.kind, "linear")
      assert.strictEqual(issue.origin.state, "Ready")
      assert.strictEqual(issue.origin.ref, fake.issue("SON-1").id)
      assert.match(issue.origin.url ?? "", /\/issue\/SON-1\//)
    })
  )

  it.live("applies labels, excluded labels, assigned_to_me and skips parents", () =>
    Effect.gen(function* () {
      const fake = yield* fakeLinear()
      const bob = fake.addUser({ name: "Bob Builder", email: "bob@example.com" })
      fake.addIssue({ title: "mine, labelled", state: "Ready", labels: ["agent"], assignee: "me" })
      fake.addIssue({ title: "mine, blocked", state: "Ready", labels: ["agent", "blocked"], assignee: "me" })
      fake.addIssue({ title: "bob's", state: "Ready", labels: ["agent"], assignee: bob.email })
      fake.addIssue({ title: "mine, no label", state: "Ready", assignee: "me" })
      const parent = fake.addIssue({ title: "mine, parent", state: "Ready", labels: ["agent"], assignee: "me" })
      fake.addIssue({ title: "child", state: "Backlog", parent: parent.identifier })

      const query = { states: ["Ready"], labels: ["agent"], excludeLabels: ["blocked", "needs-clarification"] }
      const mine = yield* withLinear(fake, list(query), { config: { linear: { issue_filter: "assigned_to_me" } } })
      assert.deepStrictEqual(
        mine.issues.map((i) => i.title),
        ["mine, labelled"]
      )

      const withParents = yield* withLinear(fake, list(query), {
        config: { linear: { issue_filter: "assigned_to_me" }, daemon: { skip_parents: false } }
      })
      assert.deepStrictEqual(
        withParents.issues.map((i) => i.title),
        ["mine, labelled", "mine, parent"]
      )
      assert.strictEqual(withParents.issues[1]!.origin.isParent, true)

      const everyone = yield* withLinear(fake, list(query))
      assert.deepStrictEqual(
        everyone.issues.map((i) => i.title),
        ["mine, labelled", "bob's"]
      )
    })
  )

  it.live("without states leaves out completed and canceled issues", () =>
    Effect.gen(function* () {
      const fake = yield* fakeLinear()
      fake.addIssue({ title: "open", state: "Todo" })
      fake.addIssue({ title: "done", state: "Done" })
      fake.addIssue({ title: "canceled", state: "Canceled" })
      const { issues } = yield* withLinear(fake, list())
      assert.deepStrictEqual(
        issues.map((i) => i.title),
        ["open"]
      )
    })
  )

  it.live("pages through more issues than one page holds", () =>
    Effect.gen(function* () {
      const fake = yield* fakeLinear()
      for (let i = 1; i <= 230; i++) fake.addIssue({ title: `issue ${i}`, state: "Ready" })
      const { issues } = yield* withLinear(fake, list({ states: ["Ready"] }))
      assert.strictEqual(issues.length, 230)
      assert.strictEqual(issues[229]!.id, "SON-230")
      const pages = fake.requestsTo("issues")
      assert.strictEqual(pages.length, 3)
      assert.strictEqual((pages[1]!.body as { variables: { after?: string } }).variables.after !== undefined, true)

      const limited = yield* withLinear(fake, list({ states: ["Ready"], limit: 10 }))
      assert.strictEqual(limited.issues.length, 10)
    })
  )
})

describe("LinearIssueSource.get", () => {
  it.live("reads one issue by identifier, and says which issue is missing", () =>
    Effect.gen(function* () {
      const fake = yield* fakeLinear()
      fake.addIssue({
        title: "Intake issue",
        state: "Ready",
        description:
          "## Problem\nLogins time out.\n\n## Goal\nMake login fast.\n\n## Acceptance\n### Success Conditions\n- login under 1 s\n### Failure Conditions\n- sessions are dropped\n"
      })
      const issue = yield* withLinear(fake, get("SON-1"))
      assert.strictEqual(issue.summary, "Logins time out.")
      assert.strictEqual(issue.builderPrompt, "Make login fast.\n\nProblem:\nLogins time out.")
      assert.deepStrictEqual(
        issue.acceptanceCriteria.map((c) => c.text),
        ["login under 1 s"]
      )
      assert.deepStrictEqual(issue.constraints, ["Must not: sessions are dropped"])

      const missing = yield* withLinear(fake, get("SON-99")).pipe(Effect.flip)
      assert.strictEqual(missing._tag, "IssueNotFound")
      assert.match(missing.message, /issue SON-99 not found in linear SON/)
    })
  )
})

describe("LinearIssueSource authors", () => {
  it.live("carries the creator and whether they are a member, a guest or an app; an integration's issue has none", () =>
    Effect.gen(function* () {
      const fake = yield* fakeLinear()
      fake.addUser({ name: "Gus Guest", email: "gus@partner.example", guest: true })
      fake.addUser({ name: "Intake Bot", email: "bot@apps.example", app: true })
      fake.addIssue({ title: "by the viewer" })
      fake.addIssue({ title: "by a guest", creator: "gus@partner.example" })
      fake.addIssue({ title: "by an app", creator: "bot@apps.example" })
      fake.addIssue({ title: "from an integration", creator: null })
      const { issues } = yield* withLinear(fake, list())
      assert.deepStrictEqual(
        issues.map((i) => [i.id, i.origin.author?.email, i.origin.author?.association]),
        [
          ["SON-1", "ada@example.com", "MEMBER"],
          ["SON-2", "gus@partner.example", "GUEST"],
          ["SON-3", "bot@apps.example", "APP"],
          ["SON-4", undefined, undefined]
        ]
      )
      assert.strictEqual(issues[0]!.origin.author?.name, "Ada Lovelace")
    })
  )
})

describe("LinearIssueSource errors", () => {
  it.live("a rejected token names the variable it came from", () =>
    Effect.gen(function* () {
      const fake = yield* fakeLinear()
      const error = yield* withLinear(fake, list(), { env: { [TOKEN_ENV]: "lin_api_wrong" } }).pipe(Effect.flip)
      assert.strictEqual(error._tag, "IssueSourceUnavailable")
      assert.match(
        error.message,
        /linear SON is unavailable: Linear rejected the token in SPEC_ORCH_LINEAR_TOKEN \(401 /
      )
      assert.strictEqual(fake.requests[0]!.status, 401)
    })
  )

  it.live("a missing token names the configured variable and the fallbacks", () =>
    Effect.gen(function* () {
      const fake = yield* fakeLinear()
      const error = yield* withLinear(fake, list(), { env: {} }).pipe(Effect.flip)
      assert.match(
        error.message,
        /no Linear token: set SPEC_ORCH_LINEAR_TOKEN \(also read: LINEAR_TOKEN, LINEAR_API_TOKEN\)/
      )
      assert.strictEqual(fake.requests.length, 0)
    })
  )

  it.live("reads the token from a fallback variable and from a configured token_env", () =>
    Effect.gen(function* () {
      const fake = yield* fakeLinear()
      fake.addIssue({ title: "x", state: "Ready" })
      const viaFallback = yield* withLinear(fake, list(), { env: { LINEAR_API_TOKEN: fake.token } })
      assert.strictEqual(viaFallback.issues.length, 1)
      const viaConfig = yield* withLinear(fake, list(), {
        env: { MY_LINEAR: fake.token },
        config: { linear: { token_env: "MY_LINEAR" } }
      })
      assert.strictEqual(viaConfig.issues.length, 1)
      const wrong = yield* withLinear(fake, list(), {
        env: { MY_LINEAR: "nope" },
        config: { linear: { token_env: "MY_LINEAR" } }
      }).pipe(Effect.flip)
      assert.match(wrong.message, /token in MY_LINEAR/)
    })
  )

  it.live("retries a read after a server error", () =>
    Effect.gen(function* () {
      const fake = yield* fakeLinear()
      fake.addIssue({ title: "x", state: "Ready" })
      fake.fail("issues", { status: 503 })
      const { issues } = yield* withLinear(fake, list())
      assert.strictEqual(issues.length, 1)
      assert.deepStrictEqual(
        fake.requestsTo("issues").map((r) => r.status),
        [503, 200]
      )
    })
  )

  it.live("a wrong api_url is reported as such, not as a bad token", () =>
    Effect.gen(function* () {
      const fake = yield* fakeLinear()
      const error = yield* withLinear(fake, list(), {
        config: { linear: { api_url: fake.url.replace(/\/graphql$/, "/nope") } }
      }).pipe(Effect.flip)
      assert.match(error.message, /rejected the request \(404\).*check \[linear\] api_url/)
    })
  )
})

describe("LinearIssueSource rate limits", () => {
  // The client and the fake share a clock that skips the waits: the resets are waited out in full on
  // that clock, and the test spends no wall time on them.
  it.live("waits for Linear's reset when its headers say the budget is spent", () =>
    Effect.gen(function* () {
      const ff = fastForwardClock()
      const fake = yield* fakeLinear({ now: ff.now })
      fake.addIssue({ title: "issue", state: "Ready" })
      fake.rateLimit(2, 700)
      const listing = list({ states: ["Ready"] })
      const results = yield* withLinear(fake, Effect.all([listing, listing, listing])).pipe(
        Effect.provideService(Clock.Clock, ff.clock)
      )
      assert.deepStrictEqual(
        results.map((r) => r.issues.length),
        [1, 1, 1]
      )
      const calls = fake.requestsTo("issues")
      assert.deepStrictEqual(
        calls.map((r) => r.status),
        [200, 200, 200],
        "no request was refused"
      )
      assert.isAtLeast(calls[2]!.at - calls[0]!.at, 650, "the third request waited for the window to reset")
    })
  )

  it.live("retries after a RATELIMITED answer once the reset time has passed", () =>
    Effect.gen(function* () {
      const ff = fastForwardClock()
      const fake = yield* fakeLinear({ now: ff.now })
      fake.addIssue({ title: "issue", state: "Ready" })
      fake.fail("issues", {
        status: 400,
        headers: { "x-ratelimit-requests-remaining": "0", "x-ratelimit-requests-reset": String(ff.now() + 600) }
      })
      const { issues } = yield* withLinear(fake, list({ states: ["Ready"] })).pipe(
        Effect.provideService(Clock.Clock, ff.clock)
      )
      assert.strictEqual(issues.length, 1)
      const calls = fake.requestsTo("issues")
      assert.deepStrictEqual(
        calls.map((r) => r.status),
        [400, 200]
      )
      assert.isAtLeast(calls[1]!.at - calls[0]!.at, 450, "the retry waited for the reset")
      const body = (calls[0]!.body as { query: string }).query
      assert.match(body, /query SpecOrchIssues/)
    })
  )

  it.live("a limit that resets later than the longest wait fails with the reset time", () =>
    Effect.gen(function* () {
      const fake = yield* fakeLinear()
      const reset = Date.now() + 3_600_000
      fake.fail("issues", {
        status: 400,
        headers: { "x-ratelimit-requests-remaining": "0", "x-ratelimit-requests-reset": String(reset) }
      })
      const error = yield* withLinear(fake, list()).pipe(Effect.flip)
      assert.strictEqual(error._tag, "IssueSourceUnavailable")
      assert.include(
        error.message,
        `Linear rate limit reached; requests are allowed again at ${new Date(reset).toISOString()}`
      )
      assert.strictEqual(fake.requestsTo("issues").length, 1, "it did not hammer Linear")
    })
  )

  it.live("a low request budget spreads requests out instead of failing", () =>
    Effect.gen(function* () {
      const ff = fastForwardClock()
      const fake = yield* fakeLinear({ now: ff.now })
      fake.addIssue({ title: "issue", state: "Ready" })
      // 600 per minute with a burst of 1 = one request per 100 ms.
      const again = yield* withLinear(
        fake,
        Effect.forEach([1, 2, 3, 4, 5], () => get("SON-1")),
        { perMinute: 600 }
      ).pipe(Effect.provideService(Clock.Clock, ff.clock))
      assert.strictEqual(again.length, 5)
      const reads = fake.requestsTo("issue").map((r) => r.at)
      const gaps = reads.slice(1).map((t, i) => t - reads[i]!)
      assert.isTrue(
        gaps.every((g) => g >= 60),
        `requests are spaced by the budget (gaps ${gaps.join(", ")} ms)`
      )
      assert.isAtLeast(reads[reads.length - 1]! - reads[0]!, 4 * 60)
      assert.isTrue(
        fake.requestsTo("issue").every((r) => r.status === 200),
        "nothing failed"
      )
    })
  )
})

describe("Linear.team", () => {
  it.live("finds a team by key with its workflow states, and answers None for an unknown key", () =>
    Effect.gen(function* () {
      const fake = yield* fakeLinear({ teams: ["SON", "OPS"] })
      const [son, none] = yield* linearOnly(
        fake,
        Linear.use((l) => Effect.all([l.team("OPS"), l.team("NOPE")]))
      )
      assert.strictEqual(son._tag, "Some")
      if (son._tag === "Some") {
        assert.strictEqual(son.value.key, "OPS")
        assert.deepStrictEqual(son.value.states.map((s) => `${s.name}:${s.type}`).slice(0, 3), [
          "Backlog:backlog",
          "Todo:unstarted",
          "Ready:unstarted"
        ])
      }
      assert.strictEqual(none._tag, "None")
      assert.deepStrictEqual(
        fake.requestsTo("teams").map((r) => (r.body as { variables: { key: string } }).variables.key),
        ["OPS", "NOPE"]
      )
    })
  )
})
