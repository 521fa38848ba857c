/**
 * Publishing a run's result, host-side (the agent never holds a token): push the run branch, open
 * or update its pull request, set the `spec-orch/gate` commit status, comment on the tracker issue,
 * move the Linear issue, label it, merge when allowed. Every write is idempotent across retries and
 * resumes: each looks for what an earlier attempt left (by head branch, by hidden marker, by current
 * state) before writing, so calling any of them twice leaves one PR, one comment, one status.
 * Every text written (titles, bodies, descriptions, comments) is redacted first, before it is
 * compared with what is there, so a re-run finds its own redacted text unchanged.
 */
import { createHash } from "node:crypto"
import { type Issue, Project } from "@spec-orch/contract"
import { Redactor } from "@spec-orch/harness"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { GitHub, type GitHubPull } from "../trackers/GitHub.js"
import { runGit } from "../trackers/internal/git.js"
import { Linear, type LinearLabel } from "../trackers/Linear.js"
import { type TrackerError, TrackerFailure, TrackerNotFound } from "../trackers/TrackerError.js"

/** The commit status context spec-orch owns on GitHub. */
export const GATE_CONTEXT = "spec-orch/gate"

/** The hidden line that ties a pull request to its run. */
export const runKeyMarker = (runKey: string): string => `<!-- spec-orch:run-key=${runKey} -->`

/** The hidden line that identifies one spec-orch comment (`key` e.g. `run-summary:SON-12`). */
export const commentMarker = (key: string): string => `<!-- spec-orch:comment=${key} -->`

/** Where an issue lives, for comments, labels and state. */
export type IssueTarget =
  | { readonly tracker: "github"; readonly number: number }
  | { readonly tracker: "linear"; readonly id: string }

/** The tracker target of an issue read from Linear or GitHub; `undefined` for fixture issues. */
export const targetOf = (issue: Issue): IssueTarget | undefined => {
  if (issue.origin.kind === "linear") return { tracker: "linear", id: issue.origin.ref }
  if (issue.origin.kind === "github") {
    const n = /#(\d+)$/.exec(issue.origin.ref)?.[1] ?? /^GH-(\d+)$/.exec(issue.id)?.[1]
    return n !== undefined ? { tracker: "github", number: Number(n) } : undefined
  }
  return undefined
}

/** `git push` refused the branch (the remote has commits the run does not). */
export class PushRejected extends Schema.TaggedError<PushRejected>()("PushRejected", {
  remote: Schema.String,
  branch: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `git push to ${this.remote} refused ${this.branch} (${this.detail}): the remote branch has commits this run does not have; fetch and rebase the run branch, or push with force-with-lease`
  }
}

/** `git push` failed for another reason (no such remote, no credentials, network). */
export class PushFailed extends Schema.TaggedError<PushFailed>()("PushFailed", {
  remote: Schema.String,
  branch: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `git push of ${this.branch} to ${this.remote} failed: ${this.detail} (the host's git credentials are used; check them for this remote)`
  }
}

/** The Linear team has no workflow state with the configured name. */
export class LinearStateUnknown extends Schema.TaggedError<LinearStateUnknown>()("LinearStateUnknown", {
  state: Schema.String,
  team: Schema.String,
  known: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `Linear team ${this.team} has no workflow state "${this.state}" (it has: ${this.known.join(", ")}); set the [linear] state names in spec-orch.toml to one of these`
  }
}

/** A publishing step could not be done; `action` says which and `reason` why. */
export class PublishError extends Schema.TaggedError<PublishError>()("PublishError", {
  action: Schema.String,
  reason: Schema.Union([TrackerFailure, PushRejected, PushFailed, LinearStateUnknown])
}) {
  override get message(): string {
    return `${this.action}: ${this.reason.message}`
  }
}

/** What a write did: nothing was there (`created`), it differed (`updated`), or it already matched (`unchanged`). */
export type WriteOutcome = "created" | "updated" | "unchanged"

/** The result of pushing a branch. */
export interface PushResult {
  readonly remote: string
  readonly branch: string
  readonly sha: string
  readonly outcome: WriteOutcome
}

/** What to put in a pull request. */
export interface PullRequestSpec {
  /** The run key; its marker goes into the body and identifies the PR on later attempts. */
  readonly runKey: string
  /** The head branch (`spec-orch/<key>`), already pushed. */
  readonly head: string
  /** The base branch; `[github] base_branch` when absent. */
  readonly base?: string | undefined
  readonly title: string
  /** Markdown body (verdict, explain excerpt, `Closes …`); the run-key marker is appended. */
  readonly body: string
  /** Open as a draft (default true); an existing PR's draft flag is left as it is. */
  readonly draft?: boolean | undefined
}

/** The pull request after `openPullRequest`; `closed` means a person closed the run's PR and it was left alone. */
export interface PullRequestResult {
  readonly number: number
  readonly url: string
  readonly state: string
  readonly draft: boolean
  readonly merged: boolean
  readonly headSha: string
  readonly outcome: WriteOutcome | "closed"
}

/** States of the `spec-orch/gate` status. */
export type GateStatusState = "success" | "failure" | "pending" | "error"

/** The outcome of a merge request: merged now, merged before, or refused by GitHub (with its reason). */
export type MergeResult =
  | { readonly outcome: "merged" | "already-merged"; readonly sha: string }
  | { readonly outcome: "refused"; readonly detail: string }

/** Host-side publishing of a run's result to git and the trackers. */
export class Publisher extends Context.Service<
  Publisher,
  {
    /** Pushes `sha` (default: the local branch) to `refs/heads/<branch>` of `remote` (default `[github] remote`). */
    readonly push: (input: {
      readonly cwd: string
      readonly branch: string
      readonly sha?: string | undefined
      readonly remote?: string | undefined
      readonly forceWithLease?: boolean | undefined
    }) => Effect.Effect<PushResult, PublishError>
    /** Finds the PR for `head` (open, or closed with this run's marker) and updates it, or opens one. */
    readonly openPullRequest: (spec: PullRequestSpec) => Effect.Effect<PullRequestResult, PublishError>
    /** Sets `spec-orch/gate` on `sha` unless the latest status there already says the same. */
    readonly setGateStatus: (input: {
      readonly sha: string
      readonly state: GateStatusState
      readonly description: string
      readonly targetUrl?: string | undefined
    }) => Effect.Effect<WriteOutcome, PublishError>
    /** Posts `body` as the comment identified by `key`, updating the earlier one instead of adding a second. */
    readonly comment: (input: {
      readonly target: IssueTarget
      readonly key: string
      readonly body: string
    }) => Effect.Effect<{ readonly id: string; readonly outcome: WriteOutcome }, PublishError>
    /** Moves a Linear issue to the workflow state named `state` (case-insensitive); a no-op when it is there. */
    readonly moveLinearIssue: (input: {
      readonly id: string
      readonly state: string
    }) => Effect.Effect<
      { readonly from: string; readonly to: string; readonly outcome: "moved" | "unchanged" },
      PublishError
    >
    /** Adds and removes labels (creating missing Linear labels in the issue's team); labels already right are left alone. */
    readonly label: (input: {
      readonly target: IssueTarget
      readonly add?: ReadonlyArray<string>
      readonly remove?: ReadonlyArray<string>
    }) => Effect.Effect<void, PublishError>
    /** Merges a pull request when GitHub allows it; `sha` guards against merging a head that moved. */
    readonly merge: (input: {
      readonly number: number
      readonly method?: "merge" | "squash" | "rebase" | undefined
      readonly sha?: string | undefined
    }) => Effect.Effect<MergeResult, PublishError>
  }
>()("@spec-orch/control/Publisher") {
  /** Publishing through `GitHub`, `Linear` and the host's git; text is redacted by `Redactor`. */
  static readonly layer: Layer.Layer<
    Publisher,
    never,
    Project | GitHub | Linear | Redactor | ChildProcessSpawner.ChildProcessSpawner
  > = Layer.effect(
    Publisher,
    Effect.gen(function* () {
      const project = yield* Project
      const { redact } = yield* Redactor
      const github = yield* GitHub
      const linear = yield* Linear
      const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
      const git = (cwd: string, args: ReadonlyArray<string>) =>
        runGit(cwd, args).pipe(Effect.provideService(ChildProcessSpawner.ChildProcessSpawner, spawner))
      const failAs = (action: string) => (e: TrackerError) => new PublishError({ action, reason: e.reason })

      const push = Effect.fn("Publisher.push")(function* (input: {
        readonly cwd: string
        readonly branch: string
        readonly sha?: string | undefined
        readonly remote?: string | undefined
        readonly forceWithLease?: boolean | undefined
      }) {
        const remote = input.remote ?? project.config.github.remote
        const action = `push ${input.branch} to ${remote}`
        const source = input.sha ?? `refs/heads/${input.branch}`
        const resolved = yield* git(input.cwd, ["rev-parse", "--verify", "--quiet", `${source}^{commit}`])
        if (resolved.exitCode !== 0) {
          return yield* new PublishError({
            action,
            reason: new PushFailed({
              remote,
              branch: input.branch,
              detail: `${source} is not a commit in ${input.cwd}`
            })
          })
        }
        const sha = resolved.stdout.trim()
        const args = [
          "push",
          "--porcelain",
          ...(input.forceWithLease === true ? ["--force-with-lease"] : []),
          remote,
          `${sha}:refs/heads/${input.branch}`
        ]
        const result = yield* git(input.cwd, args)
        const line = result.stdout.split("\n").find((l) => /^[ +\-*!=]\t/.test(l))
        const flag = line?.[0]
        if (result.exitCode !== 0 || flag === "!") {
          const detail = redact(redactUrls(line?.split("\t")[2] ?? lastLines(result.stderr)))
          const rejected =
            flag === "!" || /\[rejected\]|non-fast-forward|fetch first|stale info/.test(result.stdout + result.stderr)
          return yield* new PublishError({
            action,
            reason: rejected
              ? new PushRejected({ remote, branch: input.branch, detail })
              : new PushFailed({ remote, branch: input.branch, detail })
          })
        }
        const outcome: WriteOutcome = flag === "*" ? "created" : flag === "=" ? "unchanged" : "updated"
        return { remote, branch: input.branch, sha, outcome }
      })

      const openPullRequest = Effect.fn("Publisher.openPullRequest")(function* (input: PullRequestSpec) {
        const spec: PullRequestSpec = { ...input, title: redact(input.title), body: redact(input.body) }
        const action = `open the pull request for ${spec.head}`
        const marker = runKeyMarker(spec.runKey)
        const body = withMarker(spec.body, marker)
        const base = spec.base ?? project.config.github.base_branch
        const result = (p: GitHubPull, outcome: PullRequestResult["outcome"]): PullRequestResult => ({
          number: p.number,
          url: p.url,
          state: p.state,
          draft: p.draft,
          merged: p.merged,
          headSha: p.headSha,
          outcome
        })
        const refresh = (p: GitHubPull) =>
          Effect.gen(function* () {
            if (p.title === spec.title && (p.body ?? "") === body && p.base === base) return result(p, "unchanged")
            const updated = yield* github.updatePull(p.number, {
              title: spec.title,
              body,
              ...(p.base !== base ? { base } : {})
            })
            return result(updated, "updated")
          })

        const open = yield* github.pullsForHead(spec.head, "open").pipe(Effect.mapError(failAs(action)))
        if (open[0] !== undefined) return yield* refresh(open[0]).pipe(Effect.mapError(failAs(action)))
        const closed = yield* github.pullsForHead(spec.head, "closed").pipe(Effect.mapError(failAs(action)))
        const ours = closed.find((p) => (p.body ?? "").includes(marker))
        if (ours !== undefined) return result(ours, "closed")

        const created = yield* github
          .createPull({ head: spec.head, base, title: spec.title, body, draft: spec.draft ?? true })
          .pipe(Effect.result)
        if (created._tag === "Success") return result(created.success, "created")
        const failure = created.failure
        // A create that raced another attempt (or whose answer was lost) finds GitHub's duplicate check.
        if (
          failure.reason._tag === "TrackerRejected" &&
          failure.reason.status === 422 &&
          /already exists/i.test(failure.reason.detail)
        ) {
          const again = yield* github.pullsForHead(spec.head, "open").pipe(Effect.mapError(failAs(action)))
          if (again[0] !== undefined) return yield* refresh(again[0]).pipe(Effect.mapError(failAs(action)))
        }
        return yield* failAs(action)(failure)
      })

      const setGateStatus = Effect.fn("Publisher.setGateStatus")(function* (input: {
        readonly sha: string
        readonly state: GateStatusState
        readonly description: string
        readonly targetUrl?: string | undefined
      }) {
        const action = `set ${GATE_CONTEXT} on ${input.sha.slice(0, 12)}`
        const description = redact(input.description).slice(0, 140)
        const statuses = yield* github.listStatuses(input.sha).pipe(Effect.mapError(failAs(action)))
        const latest = statuses.find((s) => s.context === GATE_CONTEXT)
        if (
          latest !== undefined &&
          latest.state === input.state &&
          (latest.description ?? "") === description &&
          (latest.targetUrl ?? undefined) === input.targetUrl
        ) {
          return "unchanged" as const
        }
        yield* github
          .createStatus(input.sha, {
            state: input.state,
            context: GATE_CONTEXT,
            description,
            targetUrl: input.targetUrl
          })
          .pipe(Effect.mapError(failAs(action)))
        return latest === undefined ? ("created" as const) : ("updated" as const)
      })

      const comment = Effect.fn("Publisher.comment")(function* (input: {
        readonly target: IssueTarget
        readonly key: string
        readonly body: string
      }) {
        const marker = commentMarker(input.key)
        const full = withMarker(redact(input.body), marker)
        if (input.target.tracker === "github") {
          const number = input.target.number
          const action = `comment on GitHub #${number}`
          const comments = yield* github.listComments(number).pipe(Effect.mapError(failAs(action)))
          const existing = comments.find((c) => c.body.includes(marker))
          if (existing !== undefined && existing.body === full)
            return { id: String(existing.id), outcome: "unchanged" as const }
          if (existing !== undefined) {
            yield* github.updateComment(existing.id, full).pipe(Effect.mapError(failAs(action)))
            return { id: String(existing.id), outcome: "updated" as const }
          }
          const created = yield* github.createComment(number, full).pipe(Effect.mapError(failAs(action)))
          return { id: String(created.id), outcome: "created" as const }
        }
        const id = input.target.id
        const action = `comment on Linear issue ${id}`
        const comments = yield* linear.listComments(id).pipe(Effect.mapError(failAs(action)))
        const existing = comments.find((c) => c.body.includes(marker))
        if (existing !== undefined && existing.body === full) return { id: existing.id, outcome: "unchanged" as const }
        if (existing !== undefined) {
          yield* linear.updateComment(existing.id, full).pipe(Effect.mapError(failAs(action)))
          return { id: existing.id, outcome: "updated" as const }
        }
        // A deterministic comment id: a create whose answer was lost (or that raced another attempt) cannot add a second comment.
        const commentId = stableUuid(`${id}\n${input.key}`)
        const created = yield* linear.createComment(id, full, commentId).pipe(Effect.result)
        if (created._tag === "Success") return { id: created.success || commentId, outcome: "created" as const }
        const again = (yield* linear.listComments(id).pipe(Effect.mapError(failAs(action)))).find((c) =>
          c.body.includes(marker)
        )
        if (again !== undefined)
          return { id: again.id, outcome: again.body === full ? ("unchanged" as const) : ("created" as const) }
        // The id is taken by something we cannot see (a deleted comment): create without it.
        const createdId = yield* linear.createComment(id, full).pipe(Effect.mapError(failAs(action)))
        return { id: createdId, outcome: "created" as const }
      })

      const moveLinearIssue = Effect.fn("Publisher.moveLinearIssue")(function* (input: {
        readonly id: string
        readonly state: string
      }) {
        const action = `move Linear issue ${input.id} to ${input.state}`
        const current = yield* linear.issueTeam(input.id).pipe(Effect.mapError(failAs(action)))
        const wanted = input.state.trim().toLowerCase()
        if (current.state.name.toLowerCase() === wanted)
          return { from: current.state.name, to: current.state.name, outcome: "unchanged" as const }
        const target = current.team.states.find((s) => s.name.toLowerCase() === wanted)
        if (target === undefined) {
          return yield* new PublishError({
            action,
            reason: new LinearStateUnknown({
              state: input.state,
              team: current.team.key,
              known: current.team.states.map((s) => s.name)
            })
          })
        }
        yield* linear.setState(current.issueId, target.id).pipe(Effect.mapError(failAs(action)))
        return { from: current.state.name, to: target.name, outcome: "moved" as const }
      })

      const label = Effect.fn("Publisher.label")(function* (input: {
        readonly target: IssueTarget
        readonly add?: ReadonlyArray<string>
        readonly remove?: ReadonlyArray<string>
      }) {
        const add = input.add ?? []
        const remove = input.remove ?? []
        if (input.target.tracker === "github") {
          const number = input.target.number
          const action = `label GitHub #${number}`
          const issue = yield* github.getIssue(number).pipe(Effect.mapError(failAs(action)))
          const has = new Set(
            Option.match(issue, { onNone: () => [], onSome: (i) => i.labels.map((l) => l.toLowerCase()) })
          )
          const missing = add.filter((l) => !has.has(l.toLowerCase()))
          if (missing.length > 0) yield* github.addLabels(number, missing).pipe(Effect.mapError(failAs(action)))
          for (const l of remove.filter((x) => has.has(x.toLowerCase())))
            yield* github.removeLabel(number, l).pipe(Effect.mapError(failAs(action)))
          return
        }
        const id = input.target.id
        const action = `label Linear issue ${id}`
        const found = yield* linear.getIssue(id).pipe(Effect.mapError(failAs(action)))
        if (Option.isNone(found))
          return yield* new PublishError({
            action,
            reason: new TrackerNotFound({ tracker: "linear", what: `issue ${id}` })
          })
        const issue = found.value
        const has = new Map(issue.labels.map((l) => [l.name.toLowerCase(), l.id]))
        for (const name of add.filter((l) => !has.has(l.toLowerCase()))) {
          const candidates: ReadonlyArray<LinearLabel> = yield* linear
            .findLabels(name)
            .pipe(Effect.mapError(failAs(action)))
          const usable = candidates.find((l) => l.teamId === issue.team.id) ?? candidates.find((l) => l.teamId === null)
          const labelId =
            usable?.id ?? (yield* linear.createLabel(issue.team.id, name).pipe(Effect.mapError(failAs(action))))
          yield* linear.addLabel(issue.id, labelId).pipe(Effect.mapError(failAs(action)))
        }
        for (const name of remove) {
          const labelId = has.get(name.toLowerCase())
          if (labelId !== undefined) yield* linear.removeLabel(issue.id, labelId).pipe(Effect.mapError(failAs(action)))
        }
      })

      const merge = Effect.fn("Publisher.merge")(function* (input: {
        readonly number: number
        readonly method?: "merge" | "squash" | "rebase" | undefined
        readonly sha?: string | undefined
      }) {
        const action = `merge pull request #${input.number}`
        const found = yield* github.getPull(input.number).pipe(Effect.mapError(failAs(action)))
        if (Option.isNone(found))
          return yield* new PublishError({
            action,
            reason: new TrackerNotFound({ tracker: "github", what: `pull request #${input.number}` })
          })
        const pull = found.value
        if (pull.merged) return { outcome: "already-merged" as const, sha: pull.headSha }
        if (pull.state !== "open") return { outcome: "refused" as const, detail: "the pull request is closed" }
        if (pull.draft) return { outcome: "refused" as const, detail: "the pull request is a draft" }
        const merged = yield* github
          .mergePull(input.number, { method: input.method ?? "squash", sha: input.sha })
          .pipe(Effect.result)
        if (merged._tag === "Success") return { outcome: "merged" as const, sha: merged.success.sha }
        const reason = merged.failure.reason
        if (reason._tag === "TrackerRejected" && (reason.status === 405 || reason.status === 409))
          return { outcome: "refused" as const, detail: reason.detail }
        return yield* failAs(action)(merged.failure)
      })

      return Publisher.of({ push, openPullRequest, setGateStatus, comment, moveLinearIssue, label, merge })
    })
  )
}

/** A UUID v4-shaped id derived from `text` (the same text, the same id). */
export const stableUuid = (text: string): string => {
  const h = createHash("sha256").update(text).digest("hex")
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/** `body` with `marker` as its last line (replacing an older copy of the marker). */
const withMarker = (body: string, marker: string): string => `${body.split(marker).join("").trimEnd()}\n\n${marker}`

/** git's `fatal:`/`error:` lines (else its last lines), for messages. */
const lastLines = (text: string): string => {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("hint:"))
  const errors = lines.filter((l) => /^(fatal|error):/.test(l))
  return (errors.length > 0 ? errors : lines.slice(-3)).join("; ") || "no output"
}

/** Removes credentials embedded in URLs (`https://user:token@host`), user names included. */
const redactUrls = (text: string): string => text.replace(/(\w+:\/\/)[^/@\s]+@/g, "$1***@")
