import { assert, describe, it } from "@effect/vitest"
import {
  AcceptanceCriterion,
  ConditionResult,
  GateVerdict,
  Issue,
  IssueOrigin,
  SecretFinding
} from "@spec-orch/contract"
import { Effect, Layer } from "effect"
import { commentMarker, GATE_CONTEXT, Publisher, runKeyMarker } from "../src/publish/Publisher.js"
import { type PublishInput, RunPublisher, runSummaryKey } from "../src/publish/RunPublisher.js"
import type { TempRepo } from "@spec-orch/test-kit"
import { publishingWorld, remoteHead, REPO, type World } from "./utils/publishing.js"
import { trackerWorld, type TomlLike } from "./utils/trackers.js"

const world = Effect.tap(publishingWorld, (w) => Effect.sync(() => w.linear.addTeam({ key: "SON" })))

const layerFor = (w: World, options: { readonly env?: Record<string, string>; readonly config?: TomlLike } = {}) =>
  RunPublisher.layer.pipe(
    Layer.provideMerge(Publisher.layer),
    Layer.provideMerge(
      trackerWorld({
        root: w.repo.path,
        config: {
          ...options.config,
          github: { repo: REPO, api_url: w.github.url, base_branch: "main", ...(options.config?.github ?? {}) },
          linear: { api_url: w.linear.url, team_key: "SON", ...(options.config?.linear ?? {}) }
        },
        env: options.env ?? { GITHUB_TOKEN: w.github.token, SPEC_ORCH_LINEAR_TOKEN: w.linear.token }
      })
    )
  )

const publish = (
  w: World,
  input: PublishInput,
  options: { readonly env?: Record<string, string>; readonly config?: TomlLike } = {}
) => RunPublisher.use((p) => p.publish(input)).pipe(Effect.provide(layerFor(w, options)))

/** A run branch `spec-orch/<key>` with one commit on top of main; returns the branch, its tip and base. */
const runBranch = (repo: TempRepo, key: string, content = "work\n") => {
  const branch = `spec-orch/${key}`
  const base = repo.git("rev-parse", "main").trim()
  if (repo.git("branch", "--list", branch) === "") repo.git("branch", branch, "main")
  repo.git("checkout", "-q", branch)
  const sha = repo.commit(`work on ${key}`, { [`${key}.txt`]: content })
  repo.git("checkout", "-q", "main")
  return { branch, sha, base }
}

const cond = (condition: string, status: ConditionResult["status"], reason: string) =>
  new ConditionResult({ condition, required: true, status, reason })
const verdict = (kind: "mergeable" | "auto" | "failed" | "pending") =>
  new GateVerdict({
    policy: "built-in",
    profile: "daemon",
    mergeable: kind === "mergeable" || kind === "auto",
    autoMergeable: kind === "auto",
    conditions: [
      cond("builder", "passed", "the builder completed"),
      cond(
        "verification",
        kind === "failed" ? "failed" : "passed",
        kind === "failed" ? "test failed (exit 1)" : "2 steps passed"
      ),
      cond(
        "review",
        kind === "pending" ? "not_judgeable" : "passed",
        kind === "pending" ? "nobody has reviewed this change yet" : "review passed"
      )
    ],
    failed: kind === "failed" ? ["verification"] : [],
    notJudgeable: kind === "pending" ? ["review"] : []
  })

const issueFrom = (origin: IssueOrigin, id: string) =>
  new Issue({
    id: id as Issue["id"],
    title: "Add a health endpoint",
    summary: "GET /health answers 200",
    builderPrompt: "Add GET /health",
    acceptanceCriteria: [new AcceptanceCriterion({ id: "AC-1", text: "GET /health answers 200" })],
    constraints: [],
    filesToRead: [],
    targetFiles: [],
    labels: [],
    origin
  })

const EXPLAIN = "# SON-1: MERGEABLE\n\nThe builder completed; verification passed.\n"

const inputFor = (w: World, issue: Issue, key: string, v: GateVerdict, run = runBranch(w.repo, key)): PublishInput => ({
  issue,
  runId: `${key}-r1`,
  runKey: key,
  attempt: 1,
  branch: run.branch,
  headCommit: run.sha,
  baseCommit: run.base,
  worktreePath: w.repo.path,
  verdict: v,
  explainMarkdown: EXPLAIN,
  reportJsonPath: "/dev/null"
})

describe("RunPublisher.publish", () => {
  it.live(
    "publishes a Linear issue's run: push, draft PR, failure status, one comment; a second publish writes nothing new",
    () =>
      Effect.gen(function* () {
        const w = yield* world
        const li = w.linear.addIssue({ team: "SON", title: "Add a health endpoint", state: "In Progress" })
        const issue = issueFrom(new IssueOrigin({ kind: "linear", ref: li.id, state: "In Progress" }), li.identifier)
        const input = inputFor(w, issue, li.identifier, verdict("failed"))
        const first = yield* publish(w, input)
        assert.strictEqual(first.mode, "remote")
        assert.deepStrictEqual(first.push, {
          remote: "origin",
          ref: `refs/heads/${input.branch}`,
          sha: input.headCommit!,
          outcome: "created"
        })
        assert.strictEqual(remoteHead(w.bare, input.branch), input.headCommit)
        assert.strictEqual(first.pullRequest?.outcome, "created")
        assert.strictEqual(first.pullRequest?.draft, true)
        assert.deepStrictEqual(first.status, {
          context: GATE_CONTEXT,
          sha: input.headCommit!,
          state: "failure",
          outcome: "created"
        })
        assert.strictEqual(first.comment?.tracker, "linear")
        assert.strictEqual(first.linearState, undefined, "a blocked run does not move the issue")

        const pulls = w.github.pulls(REPO)
        assert.strictEqual(pulls.length, 1)
        assert.strictEqual(pulls[0]!.title, `[spec-orch] ${li.identifier}: Add a health endpoint`)
        assert.match(pulls[0]!.body ?? "", /\*\*Gate: BLOCKED\*\*/)
        assert.match(pulls[0]!.body ?? "", /❌ \*\*verification\*\*: test failed \(exit 1\)/)
        assert.match(pulls[0]!.body ?? "", new RegExp(`Closes ${li.identifier}`))
        assert.include(pulls[0]!.body ?? "", runKeyMarker(li.identifier))
        const statuses = w.github.statuses(REPO, input.headCommit!)
        assert.deepStrictEqual(
          statuses.map((s) => [s.context, s.state, s.description]),
          [[GATE_CONTEXT, "failure", "blocked (failed: verification)"]]
        )
        const comments = w.linear.comments(li.identifier)
        assert.strictEqual(comments.length, 1)
        assert.include(comments[0]!.body, commentMarker(runSummaryKey(li.identifier)))
        assert.include(comments[0]!.body, `/pull/${pulls[0]!.number}`)

        const again = yield* publish(w, input)
        assert.strictEqual(again.push?.outcome, "unchanged")
        assert.strictEqual(again.pullRequest?.outcome, "unchanged")
        assert.strictEqual(again.status?.outcome, "unchanged")
        assert.strictEqual(again.comment?.outcome, "unchanged")
        assert.strictEqual(w.github.pulls(REPO).length, 1)
        assert.strictEqual(w.github.statuses(REPO, input.headCommit!).length, 1)
        assert.strictEqual(w.linear.comments(li.identifier).length, 1)
        assert.strictEqual(w.github.requestsTo("POST /repos/{owner}/{repo}/pulls").length, 1)
      })
  )

  it.live(
    "a later attempt with a passing gate updates the same PR, status and comment, and moves the issue to In Review",
    () =>
      Effect.gen(function* () {
        const w = yield* world
        const li = w.linear.addIssue({ team: "SON", title: "Add a health endpoint", state: "In Progress" })
        const issue = issueFrom(new IssueOrigin({ kind: "linear", ref: li.id }), li.identifier)
        const input = inputFor(w, issue, li.identifier, verdict("failed"))
        yield* publish(w, input)
        const fixed = runBranch(w.repo, li.identifier, "fixed\n")
        const second = yield* publish(w, {
          ...inputFor(w, issue, li.identifier, verdict("mergeable"), fixed),
          runId: `${li.identifier}-r2`,
          attempt: 2
        })
        assert.strictEqual(second.push?.outcome, "updated")
        assert.strictEqual(second.pullRequest?.outcome, "updated")
        assert.strictEqual(second.status?.state, "success")
        assert.strictEqual(second.comment?.outcome, "updated")
        assert.deepStrictEqual(second.linearState, { from: "In Progress", to: "In Review", outcome: "moved" })
        assert.strictEqual(w.github.pulls(REPO).length, 1)
        assert.strictEqual(w.github.pulls(REPO)[0]!.headSha, fixed.sha)
        assert.strictEqual(w.linear.comments(li.identifier).length, 1)
        assert.match(w.linear.comments(li.identifier)[0]!.body, /MERGEABLE/)
        assert.strictEqual(w.linear.issue(li.identifier).state, "In Review")
      })
  )

  it.live("an auto-mergeable verdict opens a ready PR and merges it; the Linear issue goes to Done", () =>
    Effect.gen(function* () {
      const w = yield* world
      const li = w.linear.addIssue({ team: "SON", title: "Add a health endpoint", state: "In Progress" })
      const issue = issueFrom(new IssueOrigin({ kind: "linear", ref: li.id }), li.identifier)
      const input = inputFor(w, issue, li.identifier, verdict("auto"))
      const result = yield* publish(w, input)
      assert.strictEqual(result.pullRequest?.draft, false)
      assert.strictEqual(result.merge?.outcome, "merged")
      assert.deepStrictEqual(result.linearState, { from: "In Progress", to: "Done", outcome: "moved" })
      assert.isTrue(w.github.pulls(REPO)[0]!.merged)
      const again = yield* publish(w, input)
      assert.strictEqual(again.merge?.outcome, "already-merged")
      assert.strictEqual(w.github.requestsTo("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge").length, 1)
    })
  )

  it.live("a GitHub issue gets its comment on the issue and `Closes #n` in the PR body", () =>
    Effect.gen(function* () {
      const w = yield* world
      const number = w.github.addIssue(REPO, { title: "Add a health endpoint", body: "GET /health" })
      const issue = issueFrom(new IssueOrigin({ kind: "github", ref: `${REPO}#${number}` }), `GH-${number}`)
      const result = yield* publish(w, inputFor(w, issue, `GH-${number}`, verdict("pending")))
      assert.strictEqual(result.status?.state, "pending")
      assert.strictEqual(result.comment?.tracker, "github")
      assert.match(w.github.pulls(REPO)[0]!.body ?? "", new RegExp(`\\nCloses #${number}\\n`))
      const comments = w.github.comments(REPO, number)
      assert.strictEqual(comments.length, 1)
      assert.match(comments[0]!.body, /spec-orch run summary: GH-\d+ BLOCKED/)
    })
  )

  it.live("without a GitHub token nothing leaves the machine, and the result says why", () =>
    Effect.gen(function* () {
      const w = yield* world
      w.repo.git("remote", "set-url", "origin", "https://github.com/acme/widgets.git")
      const issue = issueFrom(new IssueOrigin({ kind: "fixture", ref: "fixtures/issues/HELLO-1.json" }), "HELLO-1")
      const result = yield* publish(w, inputFor(w, issue, "HELLO-1", verdict("mergeable")), { env: {} })
      assert.strictEqual(result.mode, "local")
      assert.match(
        result.reason ?? "",
        /GitHub is not configured \(no GitHub token: set GITHUB_TOKEN \(also read: GH_TOKEN\)\); the branch spec-orch\/HELLO-1 stays local/
      )
      assert.strictEqual(w.github.requests.length, 0)
    })
  )

  it.live("a bare repository on this machine stands in for the remote: pushed, no pull request", () =>
    Effect.gen(function* () {
      const w = yield* world
      const issue = issueFrom(new IssueOrigin({ kind: "fixture", ref: "fixtures/issues/HELLO-1.json" }), "HELLO-1")
      const input = inputFor(w, issue, "HELLO-1", verdict("mergeable"))
      const result = yield* publish(w, input, { env: {} })
      assert.strictEqual(result.mode, "remote")
      assert.strictEqual(result.push?.outcome, "created")
      assert.strictEqual(remoteHead(w.bare, input.branch), input.headCommit)
      assert.strictEqual(result.pullRequest, undefined)
      assert.match(
        result.notes.join("\n"),
        /no pull request or commit status: GitHub is not configured \(no GitHub token/
      )
    })
  )

  it.live(
    "a run whose secrets condition failed pushes nothing and opens no PR; its comment is redacted and says why",
    () =>
      Effect.gen(function* () {
        const w = yield* world
        const li = w.linear.addIssue({ team: "SON", title: "Add a health endpoint", state: "In Progress" })
        const issue = issueFrom(new IssueOrigin({ kind: "linear", ref: li.id }), li.identifier)
        const base = verdict("failed")
        const leaked = new GateVerdict({
          ...base,
          conditions: [
            ...base.conditions,
            new ConditionResult({
              condition: "secrets",
              required: true,
              status: "failed",
              reason: "1 secret added: src/a.ts:3 (github)",
              unblock: "remove the secret from src/a.ts:3, rotate it, re-run"
            })
          ],
          failed: ["verification", "secrets"]
        })
        // The explain text quotes the GitHub token from the environment, as a failing test's output could.
        const input = {
          ...inputFor(w, issue, li.identifier, leaked),
          explainMarkdown: `${EXPLAIN}\ntest printed ${w.github.token}\n`
        }
        const result = yield* publish(w, input)
        assert.isUndefined(result.push)
        assert.isUndefined(result.pullRequest)
        assert.isUndefined(result.status)
        assert.strictEqual(
          w.repo.git("ls-remote", "--heads", "origin", input.branch).trim(),
          "",
          "the branch is not on the remote"
        )
        assert.strictEqual(w.github.pulls(REPO).length, 0)
        assert.include(
          result.notes.join("\n"),
          "not pushed and no pull request: the change adds a secret (1 secret added: src/a.ts:3 (github)); remove the secret from src/a.ts:3, rotate it, re-run"
        )
        const comments = w.linear.comments(li.identifier)
        assert.strictEqual(comments.length, 1)
        assert.notInclude(comments[0]!.body, w.github.token)
        assert.include(comments[0]!.body, "test printed [redacted:GITHUB_TOKEN]")

        // A policy that does not judge `secrets` (a mergeable verdict) still never pushes what the scan found.
        const fixture = issueFrom(new IssueOrigin({ kind: "fixture", ref: "fixtures/issues/HELLO-1.json" }), "HELLO-1")
        const found = [
          new SecretFinding({
            file: "src/a.ts",
            line: 3,
            rule: "@secretlint/secretlint-rule-github",
            message: "found GitHub Token"
          })
        ]
        const local = yield* publish(w, { ...inputFor(w, fixture, "HELLO-1", verdict("mergeable")), secrets: found })
        assert.strictEqual(local.mode, "local")
        assert.strictEqual(
          local.reason,
          "not pushed and no pull request: the change adds a secret (src/a.ts:3); remove it, rotate it and re-run; the branch spec-orch/HELLO-1 stays local"
        )
        assert.strictEqual(w.repo.git("ls-remote", "--heads", "origin", "spec-orch/HELLO-1").trim(), "")
      })
  )

  it.live("a run that made no commits has nothing to publish", () =>
    Effect.gen(function* () {
      const w = yield* world
      const base = w.repo.git("rev-parse", "main").trim()
      w.repo.git("branch", "spec-orch/SON-9", "main")
      const issue = issueFrom(new IssueOrigin({ kind: "linear", ref: "x" }), "SON-9")
      const result = yield* publish(w, {
        ...inputFor(w, issue, "SON-9", verdict("failed"), { branch: "spec-orch/SON-9", sha: base, base }),
        headCommit: undefined
      })
      assert.strictEqual(result.mode, "local")
      assert.match(result.reason ?? "", /made no commits on spec-orch\/SON-9/)
      assert.strictEqual(w.github.requests.length, 0)
    })
  )

  it.live("a tracker that refuses the write fails the publish with a message naming the step", () =>
    Effect.gen(function* () {
      const w = yield* world
      const li = w.linear.addIssue({ team: "SON", title: "x", state: "In Progress" })
      const issue = issueFrom(new IssueOrigin({ kind: "linear", ref: li.id }), li.identifier)
      w.github.fail("POST /repos/{owner}/{repo}/pulls", {
        status: 403,
        body: { message: "Resource not accessible by integration" }
      })
      const error = yield* publish(w, inputFor(w, issue, li.identifier, verdict("mergeable"))).pipe(Effect.flip)
      assert.strictEqual(error._tag, "PublishError")
      assert.match(
        error.message,
        /open the pull request for spec-orch\/SON-\d+: GitHub refused the request \(403 Resource not accessible by integration\)/
      )
    })
  )
})
