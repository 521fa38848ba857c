import { assert, describe, it } from "@effect/vitest"
import type { Project } from "@spec-orch/contract"
import { type FakeGitHub, fakeGitHub, fastForwardClock, tempDir } from "@spec-orch/test-kit"
import { Clock, Effect, Layer } from "effect"
import { GitHub } from "../src/trackers/GitHub.js"
import { GitHubIssueSource } from "../src/trackers/TrackerIssueSource.js"
import { trackerWorld } from "./utils/trackers.js"

const REPO = "acme/widgets"

/** Runs `body` against `fake` as the project's GitHub. */
const withGitHub = <A, E>(fake: FakeGitHub, body: Effect.Effect<A, E, GitHub | Project>) =>
  Effect.gen(function* () {
    const root = yield* tempDir("github-")
    const world = trackerWorld({
      root,
      config: { issue: { source: "github" }, github: { repo: REPO, api_url: fake.url } },
      env: { GITHUB_TOKEN: fake.token }
    })
    return yield* body.pipe(Effect.provide(GitHubIssueSource.pipe(Layer.provideMerge(world))))
  })

const pageOf = (fake: FakeGitHub) => (r: { readonly url: string }) =>
  new URL(r.url, fake.url).searchParams.get("page") ?? "1"

describe("GitHub listings", () => {
  it.live("reads every comment of an issue across three pages, in order", () =>
    Effect.gen(function* () {
      const fake = yield* fakeGitHub({})
      fake.addRepo(REPO)
      const issue = fake.addIssue(REPO, { title: "busy" })
      for (let i = 1; i <= 230; i++) fake.addComment(REPO, issue, `comment ${i}`)
      const comments = yield* withGitHub(
        fake,
        GitHub.use((g) => g.listComments(issue))
      )
      assert.strictEqual(comments.length, 230)
      assert.strictEqual(comments[0]!.body, "comment 1")
      assert.strictEqual(comments.at(-1)!.body, "comment 230")
      assert.deepStrictEqual(
        fake.requestsTo("GET /repos/{owner}/{repo}/issues/{issue_number}/comments").map(pageOf(fake)),
        ["1", "2", "3"]
      )
    })
  )

  it.live(
    "a secondary rate limit (403 + retry-after) on the second page is waited out, and that page asked for again",
    () =>
      Effect.gen(function* () {
        const ff = fastForwardClock()
        const fake = yield* fakeGitHub({ now: ff.now })
        fake.addRepo(REPO)
        for (let i = 1; i <= 250; i++) fake.addIssue(REPO, { title: `issue ${i}` })
        fake.secondaryLimit("GET /repos/{owner}/{repo}/issues", 2, 1, { page: "2" })
        const issues = yield* withGitHub(
          fake,
          GitHub.use((g) => g.listIssues({ state: "open" }))
        ).pipe(Effect.provideService(Clock.Clock, ff.clock))
        assert.strictEqual(issues.length, 250)
        assert.strictEqual(new Set(issues.map((i) => i.number)).size, 250)
        const calls = fake.requestsTo("GET /repos/{owner}/{repo}/issues")
        assert.deepStrictEqual(
          calls.map((r) => `${pageOf(fake)(r)}:${r.status}`),
          ["1:200", "2:403", "2:200", "3:200"]
        )
        assert.isAtLeast(calls[2]!.at - calls[1]!.at, 1950, "the retry waited for retry-after")
      })
  )
})

describe("GitHub answers", () => {
  it.live("an answer that is not an issue is a typed error naming the endpoint, not a crash later", () =>
    Effect.gen(function* () {
      const fake = yield* fakeGitHub({})
      fake.addRepo(REPO)
      fake.addIssue(REPO, { title: "x" })
      fake.fail("GET /repos/{owner}/{repo}/issues/{issue_number}", { status: 200, body: { hello: "from a proxy" } })
      const error = yield* Effect.flip(
        withGitHub(
          fake,
          GitHub.use((g) => g.getIssue(1))
        )
      )
      assert.strictEqual(error.reason._tag, "TrackerAnswerInvalid")
      assert.include(
        error.message,
        "read GitHub issue #1: GitHub answered /repos/acme/widgets/issues/1 with data spec-orch does not understand"
      )
    })
  )
})
