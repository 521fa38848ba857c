import { assert, describe, it } from "@effect/vitest"
import { ReviewVerdict } from "@spec-orch/contract"
import { EvidenceLedger } from "@spec-orch/evidence"
import { tempRepo } from "@spec-orch/test-kit"
import { Effect } from "effect"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Daemon } from "../src/daemon/Daemon.js"
import { DaemonStore } from "../src/daemon/DaemonStore.js"
import { GATE_CONTEXT } from "../src/publish/Publisher.js"
import { RunStore } from "../src/run/RunStore.js"
import {
  agentLog,
  commentsWith,
  daemonLayer,
  daemonWorld,
  type DaemonWorld,
  readyIssue,
  REPO
} from "./utils/daemonWorld.js"

const D = Daemon.use((d) => Effect.succeed(d))

/** Runs one ready issue to a published PR and returns its identifier and PR. */
const published = (w: DaemonWorld) =>
  Effect.gen(function* () {
    const li = readyIssue(w.linear, "a health endpoint")
    const daemon = yield* D
    yield* daemon.tick
    yield* daemon.drain
    const pr = w.github.pulls(REPO).find((p) => p.head === `spec-orch/${li.identifier}`)!
    return { id: li.identifier, pr }
  })

/** Pushes a commit to the run branch from another clone, as a person working on the PR would. */
const pushAsPerson = (w: DaemonWorld, branch: string, files: Record<string, string>) =>
  Effect.gen(function* () {
    const other = yield* tempRepo({ files: { "x.txt": "x\n" } })
    other.git("fetch", "-q", w.bare, `${branch}:${branch}`)
    other.git("checkout", "-q", branch)
    const sha = other.commit("a person's fix", files)
    other.git("push", "-q", w.bare, branch)
    return sha
  })

describe("Daemon.feedback", () => {
  it.live(
    "review comments and a failed check become findings; the CI reaction comments once per head; a passing re-run resolves the CI finding",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld()
        yield* Effect.gen(function* () {
          const { id, pr } = yield* published(w)
          w.github.addReview(REPO, pr.number, {
            login: "octocat",
            state: "COMMENTED",
            body: "[nit] the file name could be clearer"
          })
          w.github.addReviewComment(REPO, pr.number, {
            login: "coderabbitai[bot]",
            body: "Possible crash when the file is empty.",
            path: `done-${id}.txt`,
            line: 1
          })
          w.github.addCheckRun(REPO, pr.headSha, { name: "unit tests", conclusion: "failure" })
          const daemon = yield* D
          const first = yield* daemon.feedback
          assert.deepStrictEqual(first.checked, [id])
          assert.deepStrictEqual(first.reactions, [`${id} ci-failed comment_ci_failed`])
          const ledger = yield* EvidenceLedger
          const findings = yield* ledger.findings(id)
          assert.deepStrictEqual(
            findings.map((f) => [f.source, f.severity, f.filePath ?? null, f.line ?? null]).sort(),
            [
              ["ci", "blocking", null, null],
              ["github-review:coderabbit", "blocking", `done-${id}.txt`, 1],
              ["github-review:human", "advisory", null, null]
            ]
          )
          assert.match(
            findings.find((f) => f.source === "ci")!.description,
            /^CI check "unit tests" failed \(failure\) on [0-9a-f]{10}$/
          )

          const again = yield* daemon.feedback
          assert.deepStrictEqual(again.reactions, [], "one reaction per trigger and head")
          assert.strictEqual((yield* ledger.findings(id)).length, 3, "the same findings are recorded once")
          const reactionComments = commentsWith(w, id, `reaction:ci-failed:${pr.headSha}`)
          assert.strictEqual(reactionComments.length, 1)
          assert.match(
            reactionComments[0]!.body,
            new RegExp(`CI failed on \`${pr.headSha}\` of pull request #${pr.number} \\(${id}\\): unit tests`)
          )

          w.github.addCheckRun(REPO, pr.headSha, { name: "unit tests", conclusion: "success" })
          yield* daemon.feedback
          const after = yield* ledger.findings(id)
          assert.isTrue(after.find((f) => f.source === "ci")!.resolved)
          assert.strictEqual(
            after.find((f) => f.source === "ci")!.resolvedBy,
            `ci: unit tests passed on ${pr.headSha.slice(0, 10)}`
          )
          const trace = readFileSync(join(w.repo.path, ".spec-orch", "daemon", "reactions_trace.jsonl"), "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l))
          assert.deepStrictEqual(
            trace.map((t) => [t.issue_id, t.rule, t.action, t.ok]),
            [[id, "ci-failed", "comment_ci_failed", true]]
          )
        }).pipe(Effect.provide(daemonLayer(w)))
      })
  )

  it.live(
    "a person's commit on the PR re-enters the run: re-verified and re-gated without the agent; the status follows the new head",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld()
        yield* Effect.gen(function* () {
          const { id, pr } = yield* published(w)
          const daemon = yield* D
          const sha = yield* pushAsPerson(w, pr.head, { "broken.txt": "oops\n" })
          const report = yield* daemon.feedback
          assert.deepStrictEqual(report.reactions, [`${id} head-changed reverify`])
          yield* daemon.drain
          const runs = yield* RunStore.use((s) => s.list({ issueId: id }))
          assert.deepStrictEqual(
            runs.map((r) => [r.attempt, r.status]),
            [
              [2, "blocked"],
              [1, "succeeded"]
            ]
          )
          assert.deepStrictEqual(
            agentLog(w).filter((l) => l.startsWith("start")),
            [`start ${id}`],
            "the agent did not run again"
          )
          assert.deepStrictEqual(
            w.github.statuses(REPO, sha).map((s) => [s.context, s.state]),
            [[GATE_CONTEXT, "failure"]]
          )
          const row = yield* DaemonStore.use((s) => s.issue(id))
          assert.deepStrictEqual(
            [row?.status, row?.prHead],
            ["done", sha],
            "a person's failing commit is not retried by the agent"
          )
          assert.deepStrictEqual((yield* daemon.feedback).reactions, [], "its own re-publish does not trigger again")
          assert.strictEqual(w.github.pulls(REPO).length, 1)
          assert.strictEqual(w.linear.comments(id).length, 1, "the summary comment was updated, not added")
        }).pipe(Effect.provide(daemonLayer(w)))
      })
  )

  it.live(
    "with a requeue_ready rule (the original's reactions.yaml), changes requested send the issue back to Ready for a new attempt",
    () =>
      Effect.gen(function* () {
        const w = yield* daemonWorld()
        mkdirSync(join(w.repo.path, ".spec_orch"), { recursive: true })
        writeFileSync(
          join(w.repo.path, ".spec_orch", "reactions.yaml"),
          [
            "reactions:",
            "  - name: rework-on-review",
            "    trigger: changes_requested",
            "    action: requeue_ready",
            "  - name: tell-them",
            "    trigger: changes_requested",
            "    action: comment_changes_requested",
            "    params:",
            '      comment_template: "{issue_id}: review said {review_decision} on #{pr_number} ({unknown} stays)"',
            ""
          ].join("\n")
        )
        yield* Effect.gen(function* () {
          const { id, pr } = yield* published(w)
          const daemon = yield* D
          w.github.addReview(REPO, pr.number, {
            login: "octocat",
            state: "CHANGES_REQUESTED",
            body: "[blocking] handle an empty name"
          })
          const report = yield* daemon.feedback
          assert.deepStrictEqual(report.reactions, [
            `${id} rework-on-review requeue_ready`,
            `${id} tell-them comment_changes_requested`
          ])
          assert.strictEqual(w.linear.issue(id).state, "Ready")
          assert.match(
            w.linear
              .comments(id)
              .map((c) => c.body)
              .join("\n"),
            new RegExp(`${id}: review said CHANGES_REQUESTED on #${pr.number} \\(\\{unknown\\} stays\\)`)
          )
          const blocking = (yield* EvidenceLedger.use((l) => l.findings(id))).filter((f) => f.severity === "blocking")
          assert.deepStrictEqual(
            blocking.map((f) => f.description),
            ["[blocking] handle an empty name"]
          )
          // A person also records a review asking for changes (as `spec-orch review-issue` does).
          yield* EvidenceLedger.use((l) =>
            l.recordReview(
              id,
              new ReviewVerdict({
                verdict: "changes_requested",
                reviewedBy: "alice",
                source: "human",
                reviewedAt: new Date().toISOString(),
                summary: "Names must never be empty."
              })
            )
          )
          assert.deepStrictEqual((yield* daemon.tick).dispatched, [id])
          yield* daemon.drain
          assert.deepStrictEqual(
            agentLog(w).filter((l) => l.startsWith("start")),
            [`start ${id}`, `start ${id}`],
            "the agent worked on it again"
          )
          // The new attempt's prompt carries the open finding and the review, fenced as untrusted data.
          const [second, first] = yield* RunStore.use((s) => s.list({ issueId: id }))
          assert.strictEqual(second!.attempt, 2)
          const prompt = readFileSync(join(second!.artifactsDir!, "prompt.md"), "utf8")
          assert.match(
            prompt,
            new RegExp(
              `## Feedback on earlier attempts[^]*<untrusted-data source="review and findings of ${id}">\\nReview by alice \\(human, [^)]+\\): changes requested\\.\\nNames must never be empty\\.[^]*- \\[blocking, github-review:human\\] \\[blocking\\] handle an empty name\\n</untrusted-data>`
            )
          )
          assert.notMatch(
            readFileSync(join(first!.artifactsDir!, "prompt.md"), "utf8"),
            /Feedback on earlier attempts/,
            "the first attempt had nothing to address"
          )
          assert.deepStrictEqual((yield* daemon.feedback).reactions, [], "the same review does not re-queue twice")
        }).pipe(Effect.provide(daemonLayer(w)))
      })
  )

  it.live("approved and green: the default auto_merge reaction merges the PR and the Linear issue goes to Done", () =>
    Effect.gen(function* () {
      const w = yield* daemonWorld()
      yield* Effect.gen(function* () {
        const { id, pr } = yield* published(w)
        const daemon = yield* D
        w.github.setDraft(REPO, pr.number, false)
        w.github.addCheckRun(REPO, pr.headSha, { name: "unit tests", status: "in_progress" })
        w.github.addReview(REPO, pr.number, { login: "octocat", state: "APPROVED", body: "" })
        assert.deepStrictEqual((yield* daemon.feedback).reactions, [], "a check still running is not green")
        w.github.addCheckRun(REPO, pr.headSha, { name: "unit tests", conclusion: "success" })
        assert.deepStrictEqual((yield* daemon.feedback).reactions, [`${id} approved-and-green auto_merge`])
        assert.isTrue(w.github.pulls(REPO)[0]!.merged)
        assert.strictEqual(w.linear.issue(id).state, "Done")
        assert.deepStrictEqual((yield* daemon.feedback).checked, [], "a merged PR is not read again")
      }).pipe(Effect.provide(daemonLayer(w)))
    })
  )
})
