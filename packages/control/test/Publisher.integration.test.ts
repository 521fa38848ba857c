import { assert, describe, it } from "@effect/vitest"
import { tempRepo, type TempRepo } from "@spec-orch/test-kit"
import { Effect, Layer } from "effect"
import { commentMarker, GATE_CONTEXT, Publisher, runKeyMarker, stableUuid } from "../src/publish/Publisher.js"
import { GitHub } from "../src/trackers/GitHub.js"
import { publishingWorld, remoteHead, REPO, type World } from "./utils/publishing.js"
import { trackerWorld, type TomlLike } from "./utils/trackers.js"

const world = publishingWorld

/** Runs `body` with a Publisher over `w`. */
const publishing = <A, E>(
  w: World,
  body: Effect.Effect<A, E, Publisher | GitHub>,
  options: { readonly env?: Record<string, string>; readonly config?: TomlLike } = {}
) =>
  Effect.gen(function* () {
    const layer = trackerWorld({
      root: w.repo.path,
      config: {
        ...options.config,
        github: { repo: REPO, api_url: w.github.url, base_branch: "main", ...(options.config?.github ?? {}) },
        linear: { api_url: w.linear.url, team_key: "SON" }
      },
      env: options.env ?? { GITHUB_TOKEN: w.github.token, SPEC_ORCH_LINEAR_TOKEN: w.linear.token }
    })
    return yield* body.pipe(Effect.provide(Publisher.layer.pipe(Layer.provideMerge(layer))))
  })

const P = Publisher

/** Commits a change on branch `spec-orch/<key>` and returns its sha. */
const runBranch = (repo: TempRepo, key: string, content = "work\n") => {
  const branch = `spec-orch/${key}`
  if (repo.git("branch", "--list", branch) === "") repo.git("branch", branch, "main")
  repo.git("checkout", "-q", branch)
  const sha = repo.commit(`work on ${key}`, { [`${key}.txt`]: content })
  repo.git("checkout", "-q", "main")
  return { branch, sha }
}

describe("Publisher.push", () => {
  it.live("pushes the run branch to a bare remote, and a second push is a no-op", () =>
    Effect.gen(function* () {
      const w = yield* world
      const { branch, sha } = runBranch(w.repo, "SON-1")
      const first = yield* publishing(
        w,
        P.use((p) => p.push({ cwd: w.repo.path, branch }))
      )
      assert.deepStrictEqual(first, { remote: "origin", branch, sha, outcome: "created" })
      assert.strictEqual(remoteHead(w.bare, branch), sha)
      const again = yield* publishing(
        w,
        P.use((p) => p.push({ cwd: w.repo.path, branch }))
      )
      assert.strictEqual(again.outcome, "unchanged")
      const next = runBranch(w.repo, "SON-1", "more\n")
      const third = yield* publishing(
        w,
        P.use((p) => p.push({ cwd: w.repo.path, branch, sha: next.sha }))
      )
      assert.strictEqual(third.outcome, "updated")
      assert.strictEqual(remoteHead(w.bare, branch), next.sha)
    })
  )

  it.live("a remote branch that moved on is a rejection that says what to do", () =>
    Effect.gen(function* () {
      const w = yield* world
      const { branch } = runBranch(w.repo, "SON-2")
      yield* publishing(
        w,
        P.use((p) => p.push({ cwd: w.repo.path, branch }))
      )
      // Someone else pushes to the run branch from another clone.
      const other = yield* tempRepo({ files: { "x.txt": "x\n" } })
      other.git("fetch", "-q", w.bare, `${branch}:${branch}`)
      other.git("checkout", "-q", branch)
      other.commit("theirs", { "theirs.txt": "theirs\n" })
      other.git("push", "-q", w.bare, branch)
      const mine = runBranch(w.repo, "SON-2", "mine\n")
      const error = yield* publishing(
        w,
        P.use((p) => p.push({ cwd: w.repo.path, branch, sha: mine.sha }))
      ).pipe(Effect.flip)
      assert.strictEqual(error._tag, "PublishError")
      assert.strictEqual(error.reason._tag, "PushRejected")
      assert.match(error.message, /git push to origin refused spec-orch\/SON-2 .*fetch and rebase/)
      const missingRemote = yield* publishing(
        w,
        P.use((p) => p.push({ cwd: w.repo.path, branch, remote: "nowhere" }))
      ).pipe(Effect.flip)
      assert.strictEqual(missingRemote.reason._tag, "PushFailed")
      assert.match(
        missingRemote.message,
        /git push of spec-orch\/SON-2 to nowhere failed: fatal: 'nowhere' does not appear to be a git repository/
      )
    })
  )
})

describe("Publisher.openPullRequest", () => {
  it.live("opens one draft PR with the run-key marker; calling again updates it instead of opening another", () =>
    Effect.gen(function* () {
      const w = yield* world
      const { branch, sha } = runBranch(w.repo, "SON-3")
      const spec = {
        runKey: "SON-3",
        head: branch,
        title: "[spec-orch] SON-3: add health",
        body: "Gate: passed\n\nCloses SON-3"
      }
      const result = yield* publishing(
        w,
        P.use((p) =>
          Effect.gen(function* () {
            yield* p.push({ cwd: w.repo.path, branch })
            const first = yield* p.openPullRequest(spec)
            const second = yield* p.openPullRequest(spec)
            const third = yield* p.openPullRequest({ ...spec, body: "Gate: failed\n\nCloses SON-3" })
            return { first, second, third }
          })
        )
      )
      assert.strictEqual(result.first.outcome, "created")
      assert.strictEqual(result.first.draft, true)
      assert.strictEqual(result.first.headSha, sha)
      assert.strictEqual(result.second.outcome, "unchanged")
      assert.strictEqual(result.third.outcome, "updated")
      assert.strictEqual(result.third.number, result.first.number)
      const pulls = w.github.pulls(REPO)
      assert.strictEqual(pulls.length, 1)
      assert.strictEqual(pulls[0]!.body, `Gate: failed\n\nCloses SON-3\n\n${runKeyMarker("SON-3")}`)
      assert.strictEqual(pulls[0]!.base, "main")
      assert.strictEqual(w.github.requestsTo("POST /repos/{owner}/{repo}/pulls").length, 1)
    })
  )

  it.live("a 422 'already exists' (an earlier attempt's lost answer) finds and updates the existing PR", () =>
    Effect.gen(function* () {
      const w = yield* world
      const { branch } = runBranch(w.repo, "SON-4")
      const spec = { runKey: "SON-4", head: branch, title: "SON-4", body: "first" }
      const result = yield* publishing(
        w,
        P.use((p) =>
          Effect.gen(function* () {
            yield* p.push({ cwd: w.repo.path, branch })
            yield* p.openPullRequest(spec)
            // The next lookup misses the PR (as if the create's answer had been lost), so the create hits GitHub's duplicate check.
            w.github.fail("GET /repos/{owner}/{repo}/pulls", { status: 200, body: [], times: 2 })
            return yield* p.openPullRequest({ ...spec, body: "second" })
          })
        )
      )
      assert.strictEqual(result.outcome, "updated")
      assert.deepStrictEqual(
        w.github.requestsTo("POST /repos/{owner}/{repo}/pulls").map((r) => r.status),
        [201, 422]
      )
      assert.strictEqual(w.github.pulls(REPO).length, 1)
      assert.match(w.github.pulls(REPO)[0]!.body ?? "", /^second\n/)
    })
  )

  it.live("a PR a person closed is left closed, not reopened or duplicated", () =>
    Effect.gen(function* () {
      const w = yield* world
      const { branch } = runBranch(w.repo, "SON-5")
      const spec = { runKey: "SON-5", head: branch, title: "SON-5", body: "b" }
      const result = yield* publishing(
        w,
        P.use((p) =>
          Effect.gen(function* () {
            yield* p.push({ cwd: w.repo.path, branch })
            const pr = yield* p.openPullRequest(spec)
            yield* Effect.promise(() =>
              fetch(`${w.github.url}/repos/${REPO}/pulls/${pr.number}`, {
                method: "PATCH",
                headers: { authorization: `token ${w.github.token}` },
                body: JSON.stringify({ state: "closed" })
              })
            )
            return yield* p.openPullRequest(spec)
          })
        )
      )
      assert.strictEqual(result.outcome, "closed")
      assert.strictEqual(w.github.pulls(REPO).length, 1)
    })
  )

  it.live("a head branch that was never pushed is GitHub's 422, reported with its detail", () =>
    Effect.gen(function* () {
      const w = yield* world
      const error = yield* publishing(
        w,
        P.use((p) => p.openPullRequest({ runKey: "SON-6", head: "spec-orch/SON-6", title: "t", body: "b" }))
      ).pipe(Effect.flip)
      assert.strictEqual(error.reason._tag, "TrackerRejected")
      assert.match(
        error.message,
        /open the pull request for spec-orch\/SON-6: GitHub rejected the request \(422\): Validation Failed: PullRequest head invalid/
      )
    })
  )
})

describe("Publisher.setGateStatus", () => {
  it.live("sets spec-orch/gate once per distinct verdict", () =>
    Effect.gen(function* () {
      const w = yield* world
      const { branch, sha } = runBranch(w.repo, "SON-7")
      const outcomes = yield* publishing(
        w,
        P.use((p) =>
          Effect.gen(function* () {
            yield* p.push({ cwd: w.repo.path, branch })
            const status = {
              sha,
              state: "success" as const,
              description: "gate passed: 7/7 conditions",
              targetUrl: "https://ci.example/runs/7"
            }
            return [
              yield* p.setGateStatus(status),
              yield* p.setGateStatus(status),
              yield* p.setGateStatus({ ...status, state: "failure", description: "gate failed: review" })
            ]
          })
        )
      )
      assert.deepStrictEqual(outcomes, ["created", "unchanged", "updated"])
      assert.deepStrictEqual(w.github.statuses(REPO, sha), [
        {
          state: "failure",
          context: GATE_CONTEXT,
          description: "gate failed: review",
          targetUrl: "https://ci.example/runs/7"
        },
        {
          state: "success",
          context: GATE_CONTEXT,
          description: "gate passed: 7/7 conditions",
          targetUrl: "https://ci.example/runs/7"
        }
      ])
      const unknown = yield* publishing(
        w,
        P.use((p) => p.setGateStatus({ sha: "f".repeat(40), state: "pending", description: "x" }))
      ).pipe(Effect.flip)
      assert.strictEqual(unknown.reason._tag, "TrackerNotFound")
    })
  )
})

describe("Publisher.comment", () => {
  it.live("keeps one comment per key on a GitHub issue, updating its body", () =>
    Effect.gen(function* () {
      const w = yield* world
      const number = w.github.addIssue(REPO, { title: "issue" })
      w.github.addComment(REPO, number, "a human said something", "octocat")
      const target = { tracker: "github" as const, number }
      const outcomes = yield* publishing(
        w,
        P.use((p) =>
          Effect.gen(function* () {
            const a = yield* p.comment({ target, key: "run-summary", body: "Run 1: gate failed" })
            const b = yield* p.comment({ target, key: "run-summary", body: "Run 1: gate failed" })
            const c = yield* p.comment({ target, key: "run-summary", body: "Run 2: gate passed" })
            return [a, b, c]
          })
        )
      )
      assert.deepStrictEqual(
        outcomes.map((o) => o.outcome),
        ["created", "unchanged", "updated"]
      )
      assert.strictEqual(outcomes[0]!.id, outcomes[2]!.id)
      const comments = w.github.comments(REPO, number)
      assert.deepStrictEqual(
        comments.map((c) => c.body),
        ["a human said something", `Run 2: gate passed\n\n${commentMarker("run-summary")}`]
      )
    })
  )

  it.live("keeps one comment per key on a Linear issue, updating its body", () =>
    Effect.gen(function* () {
      const w = yield* world
      const issue = w.linear.addIssue({ title: "issue", state: "In Progress" })
      w.linear.addComment(issue.identifier, "human note")
      const target = { tracker: "linear" as const, id: issue.id }
      const outcomes = yield* publishing(
        w,
        P.use((p) =>
          Effect.gen(function* () {
            const a = yield* p.comment({ target, key: "summary", body: "first" })
            const b = yield* p.comment({ target, key: "summary", body: "first" })
            const c = yield* p.comment({ target, key: "summary", body: "second" })
            return [a, b, c]
          })
        )
      )
      assert.deepStrictEqual(
        outcomes.map((o) => o.outcome),
        ["created", "unchanged", "updated"]
      )
      const comments = w.linear.comments(issue.identifier)
      assert.strictEqual(comments.length, 2)
      assert.strictEqual(comments[1]!.body, `second\n\n${commentMarker("summary")}`)
      assert.notStrictEqual(comments[1]!.editedAt, undefined)
      assert.strictEqual(w.linear.requestsTo("commentCreate").length, 1)
    })
  )
})

describe("Publisher.comment (Linear, lost answers)", () => {
  it.live(
    "two attempts commenting at once (or one whose answer was lost) leave one Linear comment: the create carries a stable id",
    () =>
      Effect.gen(function* () {
        const w = yield* world
        const issue = w.linear.addIssue({ title: "issue", state: "In Progress" })
        const target = { tracker: "linear" as const, id: issue.id }
        // Both attempts list the comments before either creates one.
        w.linear.fail("commentCreate", { delayMs: 300, times: 2 })
        const both = yield* publishing(
          w,
          P.use((p) =>
            Effect.all(
              [
                p.comment({ target, key: "run-summary:SON-1", body: "attempt A" }),
                p.comment({ target, key: "run-summary:SON-1", body: "attempt A" })
              ],
              { concurrency: 2 }
            )
          )
        )
        assert.strictEqual(w.linear.requestsTo("commentCreate").length, 2, "both tried to create")
        assert.strictEqual(w.linear.comments(issue.identifier).length, 1)
        assert.strictEqual(both[0]!.id, both[1]!.id)
        assert.strictEqual(w.linear.comments(issue.identifier)[0]!.id, stableUuid(`${issue.id}\nrun-summary:SON-1`))
      })
  )
})

describe("Publisher.moveLinearIssue and label", () => {
  it.live("moves to a state by name once, and names the states when the name is unknown", () =>
    Effect.gen(function* () {
      const w = yield* world
      const issue = w.linear.addIssue({ title: "issue", state: "In Progress" })
      const moves = yield* publishing(
        w,
        P.use((p) =>
          Effect.all([
            p.moveLinearIssue({ id: issue.identifier, state: "In Review" }),
            p.moveLinearIssue({ id: issue.identifier, state: "in review" })
          ])
        )
      )
      assert.deepStrictEqual(moves, [
        { from: "In Progress", to: "In Review", outcome: "moved" },
        { from: "In Review", to: "In Review", outcome: "unchanged" }
      ])
      assert.strictEqual(w.linear.issue(issue.identifier).state, "In Review")
      assert.strictEqual(w.linear.requestsTo("issueUpdate").length, 1)
      const error = yield* publishing(
        w,
        P.use((p) => p.moveLinearIssue({ id: issue.identifier, state: "Shipped" }))
      ).pipe(Effect.flip)
      assert.match(
        error.message,
        /Linear team SON has no workflow state "Shipped" \(it has: Backlog, Todo, Ready, In Progress, In Review, Done, Canceled\)/
      )
    })
  )

  it.live("adds and removes labels idempotently on Linear and GitHub", () =>
    Effect.gen(function* () {
      const w = yield* world
      const li = w.linear.addIssue({ title: "issue", state: "Ready", labels: ["agent"] })
      const gh = w.github.addIssue(REPO, { title: "issue", labels: ["agent"] })
      yield* publishing(
        w,
        P.use((p) =>
          Effect.gen(function* () {
            for (let i = 0; i < 2; i++) {
              yield* p.label({
                target: { tracker: "linear", id: li.identifier },
                add: ["dead-letter"],
                remove: ["agent"]
              })
              yield* p.label({ target: { tracker: "github", number: gh }, add: ["dead-letter"], remove: ["agent"] })
            }
          })
        )
      )
      assert.deepStrictEqual(w.linear.issue(li.identifier).labels, ["dead-letter"])
      assert.deepStrictEqual(w.github.labelsOf(REPO, gh), ["dead-letter"])
      assert.strictEqual(w.linear.requestsTo("issueLabelCreate").length, 1)
      assert.strictEqual(w.linear.requestsTo("issueAddLabel").length, 1)
      assert.strictEqual(w.github.requestsTo("POST /repos/{owner}/{repo}/issues/{issue_number}/labels").length, 1)
    })
  )
})

describe("Publisher.merge", () => {
  it.live("merges when allowed, reports refusals as data, and a second merge is a no-op", () =>
    Effect.gen(function* () {
      const w = yield* world
      const a = runBranch(w.repo, "SON-8")
      const b = runBranch(w.repo, "SON-9")
      const results = yield* publishing(
        w,
        P.use((p) =>
          Effect.gen(function* () {
            yield* p.push({ cwd: w.repo.path, branch: a.branch })
            yield* p.push({ cwd: w.repo.path, branch: b.branch })
            const draft = yield* p.openPullRequest({ runKey: "SON-8", head: a.branch, title: "a", body: "a" })
            const ready = yield* p.openPullRequest({
              runKey: "SON-9",
              head: b.branch,
              title: "b",
              body: "b",
              draft: false
            })
            const refusedDraft = yield* p.merge({ number: draft.number })
            const stale = yield* p.merge({ number: ready.number, sha: a.sha })
            const merged = yield* p.merge({ number: ready.number, sha: b.sha })
            const again = yield* p.merge({ number: ready.number })
            return { refusedDraft, stale, merged, again }
          })
        )
      )
      assert.deepStrictEqual(results.refusedDraft, { outcome: "refused", detail: "the pull request is a draft" })
      assert.deepStrictEqual(results.stale, {
        outcome: "refused",
        detail: "Head branch was modified. Review and try the merge again."
      })
      assert.deepStrictEqual(results.merged, { outcome: "merged", sha: b.sha })
      assert.strictEqual(results.again.outcome, "already-merged")
      assert.strictEqual(
        w.github.requestsTo("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge").filter((r) => r.status === 200)
          .length,
        1
      )
      const missing = yield* publishing(
        w,
        P.use((p) => p.merge({ number: 999 }))
      ).pipe(Effect.flip)
      assert.match(missing.message, /merge pull request #999: GitHub: pull request #999 not found/)
    })
  )
})

describe("Publisher errors and limits", () => {
  it.live("a bad GitHub token fails every write with a message naming the variable", () =>
    Effect.gen(function* () {
      const w = yield* world
      const number = w.github.addIssue(REPO, { title: "issue" })
      const error = yield* publishing(
        w,
        P.use((p) => p.comment({ target: { tracker: "github", number }, key: "k", body: "b" })),
        {
          env: { GITHUB_TOKEN: "ghp_nope", SPEC_ORCH_LINEAR_TOKEN: w.linear.token }
        }
      ).pipe(Effect.flip)
      assert.match(
        error.message,
        /comment on GitHub #\d+: GitHub rejected the token in GITHUB_TOKEN \(401 Bad credentials\)/
      )
      assert.strictEqual(w.github.comments(REPO, number).length, 0)
    })
  )

  it.live("publishing under an exhausted rate limit waits and then writes once", () =>
    Effect.gen(function* () {
      const w = yield* world
      const { branch, sha } = runBranch(w.repo, "SON-10")
      w.github.rateLimit(2, 1500)
      yield* publishing(
        w,
        P.use((p) =>
          Effect.gen(function* () {
            yield* p.push({ cwd: w.repo.path, branch })
            yield* p.openPullRequest({ runKey: "SON-10", head: branch, title: "t", body: "b" })
            yield* p.setGateStatus({ sha, state: "success", description: "ok" })
          })
        )
      )
      const calls = w.github.requests
      assert.isTrue(
        calls.every((r) => r.status < 400),
        `nothing was refused: ${calls.map((r) => `${r.route} ${r.status}`).join("; ")}`
      )
      assert.strictEqual(w.github.pulls(REPO).length, 1)
      assert.strictEqual(w.github.statuses(REPO, sha).length, 1)
      assert.isAtLeast(
        calls[calls.length - 1]!.at - calls[0]!.at,
        1400,
        "the requests beyond the budget waited for the next window"
      )
    })
  )

  it.live("reads the repository from the origin remote's GitHub URL", () =>
    Effect.gen(function* () {
      const w = yield* world
      w.repo.git("remote", "set-url", "origin", "git@github.com:acme/widgets.git")
      const repo = yield* publishing(
        w,
        GitHub.use((g) => g.repo),
        { config: { github: { repo: undefined } } }
      )
      assert.deepStrictEqual(repo, { owner: "acme", name: "widgets" })
      w.repo.git("remote", "set-url", "origin", w.bare)
      const error = yield* publishing(
        w,
        GitHub.use((g) => g.repo),
        { config: { github: { repo: undefined } } }
      ).pipe(Effect.flip)
      assert.match(
        error.message,
        /the origin remote \(.*\) is not a GitHub URL; set repo = "owner\/name" \(spec-orch.toml \[github\] repo\)/
      )
    })
  )
})
