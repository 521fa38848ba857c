/**
 * Publishing one finished run, host-side, as the Run workflow's `publish` stage: push the run
 * branch, open or update its pull request, set `spec-orch/gate` on the head commit, comment on the
 * tracker issue, move a Linear issue, and merge when the gate allows auto-merge. With no GitHub
 * token or repository (the default) nothing leaves the machine and the result says why; every write
 * goes through `Publisher`, which finds what an earlier attempt wrote before writing again. A run
 * whose `secrets` condition failed never pushes its branch or opens a pull request: the commit holds
 * the secret, and a push cannot be taken back.
 */
import { type GateVerdict, type Issue, Project, type SecretFinding } from "@spec-orch/contract"
import { Context, Effect, Layer, Schema } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { GitHub } from "../trackers/GitHub.js"
import { runGit } from "../trackers/internal/git.js"
import { Linear } from "../trackers/Linear.js"
import {
  GATE_CONTEXT,
  type GateStatusState,
  type IssueTarget,
  PublishError,
  Publisher,
  PushFailed,
  targetOf
} from "./Publisher.js"

const Outcome = Schema.Literals(["created", "updated", "unchanged"])

/** When a run publishes: never, only when the gate passes, or always (blocked runs as drafts). */
export const PublishWhen = Schema.Literals(["never", "mergeable", "always"])
export type PublishWhen = typeof PublishWhen.Type

/** The run-store event that keeps a run's `PublishResult`, readable on every host of a cluster (publish.json is on one). */
export const PUBLISH_RESULT_EVENT = "publish-result"

/** What publishing a run did, journaled by the workflow; absent fields were not done (see `notes`). */
export class PublishResult extends Schema.Class<PublishResult>("@spec-orch/control/PublishResult")({
  /** `remote`: something was written to a remote or tracker; `local`: nothing left the machine. */
  mode: Schema.Literals(["remote", "local"]),
  /** Why the run was published locally only (`mode: "local"`). */
  reason: Schema.optionalKey(Schema.String),
  /** Publishing was asked for and failed (a refused push, a tracker error): what went wrong. The run's verdict stands. */
  failed: Schema.optionalKey(Schema.String),
  /** The run branch as pushed. */
  push: Schema.optionalKey(
    Schema.Struct({ remote: Schema.String, ref: Schema.String, sha: Schema.String, outcome: Outcome })
  ),
  /** The run's pull request; `closed` means a person closed it and it was left alone. */
  pullRequest: Schema.optionalKey(
    Schema.Struct({
      number: Schema.Number,
      url: Schema.String,
      draft: Schema.Boolean,
      outcome: Schema.Literals(["created", "updated", "unchanged", "closed"])
    })
  ),
  /** The `spec-orch/gate` commit status on the head commit. */
  status: Schema.optionalKey(
    Schema.Struct({ context: Schema.String, sha: Schema.String, state: Schema.String, outcome: Outcome })
  ),
  /** The run-summary comment on the source issue. */
  comment: Schema.optionalKey(
    Schema.Struct({ tracker: Schema.Literals(["github", "linear"]), id: Schema.String, outcome: Outcome })
  ),
  /** The Linear issue's workflow state change. */
  linearState: Schema.optionalKey(
    Schema.Struct({ from: Schema.String, to: Schema.String, outcome: Schema.Literals(["moved", "unchanged"]) })
  ),
  /** The merge request (only when the gate allowed auto-merge). */
  merge: Schema.optionalKey(
    Schema.Struct({
      outcome: Schema.Literals(["merged", "already-merged", "refused"]),
      sha: Schema.optionalKey(Schema.String),
      detail: Schema.optionalKey(Schema.String)
    })
  ),
  /** Steps skipped and why (no token, a closed pull request, a draft that cannot be merged). */
  notes: Schema.Array(Schema.String)
}) {}

/** Everything the publish stage knows about a finished run. */
export interface PublishInput {
  readonly issue: Issue
  readonly runId: string
  readonly runKey: string
  readonly attempt: number
  /** The run branch (`spec-orch/<key>`). */
  readonly branch: string
  /** The commit this attempt made, if any (the branch tip is what gets published). */
  readonly headCommit?: string | undefined
  /** The commit the run branch started from; a tip equal to it means there is nothing to publish. */
  readonly baseCommit?: string | undefined
  readonly worktreePath: string
  readonly verdict: GateVerdict
  /** The run's explain.md. */
  readonly explainMarkdown: string
  /** The secret scan's findings on the run's diff: any finding refuses the push, whatever the policy judges. */
  readonly secrets?: ReadonlyArray<SecretFinding> | undefined
  readonly reportJsonPath: string
  /** Open or update the pull request and its commit status (default true; `[publish] pull_request`). */
  readonly pullRequest?: boolean | undefined
  /** Comment on the source issue (default true; `[publish] comment`). */
  readonly comment?: boolean | undefined
}

/**
 * Why the run's branch must not leave the machine, or undefined: the diff adds a secret (the
 * `secrets` condition failed, required or advisory, or the scan found one under a policy that does
 * not judge it).
 */
export const pushRefusal = (input: Pick<PublishInput, "verdict" | "secrets">): string | undefined => {
  const condition = input.verdict.conditions.find((c) => c.condition === "secrets" && c.status === "failed")
  if (condition !== undefined)
    return `not pushed and no pull request: the change adds a secret (${condition.reason}); ${condition.unblock ?? "remove it, rotate it and re-run"}`
  const found = input.secrets ?? []
  if (found.length === 0) return undefined
  const places = [...new Set(found.map((f) => `${f.file}:${f.line}`))]
  return `not pushed and no pull request: the change adds a secret (${places.slice(0, 5).join(", ")}${places.length > 5 ? ` and ${places.length - 5} more` : ""}); remove it, rotate it and re-run`
}

/** Characters of explain.md quoted in the pull request body and in the tracker comment. */
export const PR_EXPLAIN_CHARS = 3000
export const COMMENT_EXPLAIN_CHARS = 2000

/** The comment key of a run summary (one comment per issue, updated by later runs). */
export const runSummaryKey = (issueId: string): string => `run-summary:${issueId}`

/** `[spec-orch] <id>: <title>`, the pull request title (the original's `[SpecOrch]` prefix, renamed). */
export const pullRequestTitle = (issue: Issue): string => `[spec-orch] ${issue.id}: ${issue.title}`.slice(0, 250)

/** The `spec-orch/gate` state for a verdict: success when mergeable, failure when a condition failed, else pending. */
export const gateStatusState = (v: GateVerdict): GateStatusState =>
  v.mergeable ? "success" : v.failed.length > 0 ? "failure" : "pending"

/** A one-line verdict for a commit status (GitHub keeps 140 characters). */
export const gateStatusDescription = (v: GateVerdict): string => {
  if (v.mergeable) return v.autoMergeable ? "mergeable (auto-merge allowed)" : "mergeable"
  const parts = [
    ...(v.failed.length > 0 ? [`failed: ${v.failed.join(", ")}`] : []),
    ...(v.notJudgeable.length > 0 ? [`not judged: ${v.notJudgeable.join(", ")}`] : [])
  ]
  return `blocked (${parts.join("; ")})`.slice(0, 140)
}

/** The line that closes the source issue when the pull request merges. */
export const closesLine = (issue: Issue): string | undefined => {
  const target = targetOf(issue)
  if (target?.tracker === "github") return `Closes #${target.number}`
  if (target?.tracker === "linear") return `Closes ${issue.id}`
  return undefined
}

const excerpt = (text: string, max: number): string => {
  const trimmed = text.trim()
  if (trimmed.length <= max) return trimmed
  const cut = trimmed.slice(0, max)
  const lastBreak = cut.lastIndexOf("\n")
  return `${lastBreak > max * 0.6 ? cut.slice(0, lastBreak) : cut}\n\n… (truncated; the full explain.md is in the run's evidence)`
}

const conditionLines = (v: GateVerdict): Array<string> =>
  v.conditions
    .filter((c) => c.status !== "disabled")
    .map(
      (c) => `- ${c.status === "passed" ? "✅" : c.status === "failed" ? "❌" : "❔"} **${c.condition}**: ${c.reason}`
    )

const headline = (v: GateVerdict): string =>
  v.mergeable ? (v.autoMergeable ? "MERGEABLE (auto-merge allowed)" : "MERGEABLE") : "BLOCKED"

/** The pull request body: verdict, an excerpt of explain.md, and the line that closes the issue. */
export const pullRequestBody = (input: PublishInput): string => {
  const closes = closesLine(input.issue)
  return [
    `**Gate: ${headline(input.verdict)}** · policy \`${input.verdict.policy}\`${input.verdict.profile !== null ? ` · profile \`${input.verdict.profile}\`` : ""}`,
    "",
    ...conditionLines(input.verdict),
    "",
    `Run \`${input.runId}\` (attempt ${input.attempt}) for ${input.issue.id}.`,
    "",
    "<details><summary>explain.md</summary>",
    "",
    excerpt(input.explainMarkdown, PR_EXPLAIN_CHARS),
    "",
    "</details>",
    ...(closes !== undefined ? ["", closes] : [])
  ].join("\n")
}

/** The run-summary comment on the source issue. */
export const summaryComment = (
  input: PublishInput,
  pr: { readonly url: string; readonly draft: boolean } | undefined,
  sha: string | undefined
): string =>
  [
    `**spec-orch run summary: ${input.issue.id} ${headline(input.verdict)}**`,
    "",
    `Run \`${input.runId}\` (attempt ${input.attempt}) · branch \`${input.branch}\`${sha !== undefined ? ` @ \`${sha.slice(0, 10)}\`` : ""}`,
    ...(pr !== undefined ? [`Pull request: ${pr.url}${pr.draft ? " (draft)" : ""}`] : []),
    "",
    ...conditionLines(input.verdict),
    "",
    "<details><summary>explain.md</summary>",
    "",
    excerpt(input.explainMarkdown, COMMENT_EXPLAIN_CHARS),
    "",
    "</details>"
  ].join("\n")

/** One line saying what publishing did, for the run's event log. */
export const publishedNote = (r: PublishResult): string => {
  if (r.failed !== undefined) return `publishing failed (the verdict stands): ${r.failed}`
  if (r.mode === "local") return `published locally only: ${r.reason ?? "nothing configured"}`
  const parts = [
    ...(r.push !== undefined
      ? [`pushed ${r.push.ref.replace("refs/heads/", "")} @ ${r.push.sha.slice(0, 10)} (${r.push.outcome})`]
      : []),
    ...(r.pullRequest !== undefined
      ? [
          `pull request #${r.pullRequest.number}${r.pullRequest.draft ? " (draft)" : ""} ${r.pullRequest.url} (${r.pullRequest.outcome})`
        ]
      : []),
    ...(r.status !== undefined ? [`${r.status.context} ${r.status.state}`] : []),
    ...(r.comment !== undefined ? [`${r.comment.tracker} comment (${r.comment.outcome})`] : []),
    ...(r.linearState !== undefined ? [`Linear state ${r.linearState.to} (${r.linearState.outcome})`] : []),
    ...(r.merge !== undefined
      ? [`merge ${r.merge.outcome}${r.merge.detail !== undefined ? `: ${r.merge.detail}` : ""}`]
      : []),
    ...r.notes
  ]
  return `published: ${parts.join("; ")}`
}

/** A remote URL that is a path on this machine (a bare repository standing in for a remote). */
export const isLocalRemote = (url: string): boolean =>
  url.startsWith("/") ||
  url.startsWith("file://") ||
  url.startsWith("./") ||
  url.startsWith("../") ||
  /^[A-Za-z]:[\\/]/.test(url)

/** Publishes a finished run to git and the trackers, or says why it stayed local. */
export class RunPublisher extends Context.Service<
  RunPublisher,
  {
    /** Publishes the run; safe to call again for the same run (nothing is written twice). Configured writes that fail are errors. */
    readonly publish: (input: PublishInput) => Effect.Effect<PublishResult, PublishError>
  }
>()("@spec-orch/control/RunPublisher") {
  /** Publishing through `Publisher` when GitHub (token and repository) or a local bare remote is configured. */
  static readonly layer: Layer.Layer<
    RunPublisher,
    never,
    Project | Publisher | GitHub | Linear | ChildProcessSpawner.ChildProcessSpawner
  > = Layer.effect(
    RunPublisher,
    Effect.gen(function* () {
      const project = yield* Project
      const publisher = yield* Publisher
      const github = yield* GitHub
      const linear = yield* Linear
      const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
      const git = (cwd: string, args: ReadonlyArray<string>) =>
        runGit(cwd, args).pipe(Effect.provideService(ChildProcessSpawner.ChildProcessSpawner, spawner))
      const remote = project.config.github.remote

      const publish = Effect.fn("RunPublisher.publish")(function* (input: PublishInput) {
        const notes: Array<string> = []
        const local = (reason: string) => new PublishResult({ mode: "local", reason, notes })

        const gh = yield* github.availability
        const target: IssueTarget | undefined = targetOf(input.issue)
        const trackerOk =
          target === undefined ? undefined : target.tracker === "github" ? gh : yield* linear.availability

        // Pushing needs somewhere to push to: GitHub (token + repository) or a bare repository on this machine.
        const url = yield* git(input.worktreePath, ["remote", "get-url", remote])
        const remoteUrl = url.exitCode === 0 ? url.stdout.trim() : undefined
        const refusal = pushRefusal(input)
        const pushAllowed =
          refusal === undefined && remoteUrl !== undefined && (gh.available || isLocalRemote(remoteUrl))
        const commentAllowed = input.comment !== false && target !== undefined && trackerOk?.available === true
        if (!pushAllowed && !commentAllowed) {
          const why =
            refusal !== undefined
              ? refusal
              : remoteUrl === undefined
                ? `the repository has no "${remote}" remote ([github] remote)`
                : !gh.available
                  ? `GitHub is not configured (${gh.reason})`
                  : `nothing to publish to`
          return local(`${why}; the branch ${input.branch} stays local`)
        }

        // What there is to publish: the branch tip when the branch is ahead of the run's base (one git call).
        const tipResult =
          input.baseCommit !== undefined
            ? yield* git(input.worktreePath, [
                "log",
                "-1",
                "--format=%H",
                `${input.baseCommit}..refs/heads/${input.branch}`,
                "--"
              ])
            : yield* git(input.worktreePath, [
                "rev-parse",
                "--verify",
                "--quiet",
                `refs/heads/${input.branch}^{commit}`
              ])
        if (tipResult.exitCode !== 0) {
          return yield* new PublishError({
            action: `publish ${input.branch}`,
            reason: new PushFailed({
              remote,
              branch: input.branch,
              detail: `the branch does not exist in ${input.worktreePath}`
            })
          })
        }
        const sha = tipResult.stdout.trim()
        if (sha === "") return local(`the run made no commits on ${input.branch}; there is nothing to push`)

        let push: PublishResult["push"]
        let pullRequest: PublishResult["pullRequest"]
        let prMerged = false
        let status: PublishResult["status"]
        if (pushAllowed) {
          const pushed = yield* publisher.push({ cwd: input.worktreePath, branch: input.branch, sha, remote })
          push = { remote: pushed.remote, ref: `refs/heads/${pushed.branch}`, sha: pushed.sha, outcome: pushed.outcome }
        } else {
          notes.push(
            refusal ??
              (remoteUrl === undefined
                ? `not pushed: no "${remote}" remote`
                : `not pushed: GitHub is not configured (${!gh.available ? gh.reason : ""})`)
          )
        }

        if (push !== undefined && gh.available && input.pullRequest !== false) {
          const pr = yield* publisher.openPullRequest({
            runKey: input.runKey,
            head: input.branch,
            title: pullRequestTitle(input.issue),
            body: pullRequestBody(input),
            draft: !input.verdict.autoMergeable
          })
          pullRequest = { number: pr.number, url: pr.url, draft: pr.draft, outcome: pr.outcome }
          prMerged = pr.merged
          if (pr.outcome === "closed")
            notes.push(
              pr.merged
                ? `pull request #${pr.number} is already merged`
                : `pull request #${pr.number} was closed by a person; it was left closed`
            )
          const state = gateStatusState(input.verdict)
          const outcome = yield* publisher.setGateStatus({
            sha,
            state,
            description: gateStatusDescription(input.verdict)
          })
          status = { context: GATE_CONTEXT, sha, state, outcome }
        } else if (push !== undefined) {
          notes.push(
            input.pullRequest === false
              ? "no pull request or commit status: [publish] pull_request = false"
              : `no pull request or commit status: GitHub is not configured (${!gh.available ? gh.reason : ""})`
          )
        }

        let comment: PublishResult["comment"]
        if (target !== undefined && trackerOk?.available === true && input.comment !== false) {
          const c = yield* publisher.comment({
            target,
            key: runSummaryKey(input.issue.id),
            body: summaryComment(input, pullRequest, push?.sha)
          })
          comment = { tracker: target.tracker, id: c.id, outcome: c.outcome }
        } else if (target !== undefined && trackerOk?.available === false) {
          notes.push(`no comment on ${input.issue.id}: ${trackerOk.reason}`)
        }

        let merge: PublishResult["merge"]
        if (input.verdict.autoMergeable && pullRequest !== undefined && prMerged) {
          merge = { outcome: "already-merged" }
        } else if (input.verdict.autoMergeable && pullRequest !== undefined && pullRequest.outcome !== "closed") {
          const m = yield* publisher.merge({ number: pullRequest.number, sha, method: "squash" })
          merge =
            m.outcome === "refused" ? { outcome: "refused", detail: m.detail } : { outcome: m.outcome, sha: m.sha }
          if (m.outcome === "refused") notes.push(`auto-merge of #${pullRequest.number} refused: ${m.detail}`)
        }

        let linearState: PublishResult["linearState"]
        if (target?.tracker === "linear" && trackerOk?.available === true && input.verdict.mergeable) {
          const merged = merge !== undefined && merge.outcome !== "refused"
          const to = merged ? project.config.linear.done_state : project.config.linear.in_review_state
          linearState = yield* publisher.moveLinearIssue({ id: target.id, state: to })
        }

        return new PublishResult({
          mode: push !== undefined || comment !== undefined ? "remote" : "local",
          ...(push === undefined && comment === undefined ? { reason: notes.join("; ") } : {}),
          ...(push !== undefined ? { push } : {}),
          ...(pullRequest !== undefined ? { pullRequest } : {}),
          ...(status !== undefined ? { status } : {}),
          ...(comment !== undefined ? { comment } : {}),
          ...(linearState !== undefined ? { linearState } : {}),
          ...(merge !== undefined ? { merge } : {}),
          notes
        })
      })

      return RunPublisher.of({ publish })
    })
  )
}
