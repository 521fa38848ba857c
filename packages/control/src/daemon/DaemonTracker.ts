/**
 * The daemon's side of the tracker: reading an issue's current state, deciding at intake who may put work in
 * front of an agent, and the comments, labels and moves it writes. Rule: a tracker write never stops the
 * daemon's bookkeeping; a failed write is logged as a warning and the daemon goes on.
 */
import { type Issue, IssueSource, Project, renderError } from "@spec-orch/contract"
import { Clock, Effect, Ref } from "effect"
import { Publisher, targetOf } from "../publish/Publisher.js"
import { GitHub } from "../trackers/GitHub.js"
import { DaemonStore } from "./DaemonStore.js"
import { daemonRules, TEAM_MEMBERSHIP_TTL_SECONDS } from "./DaemonRules.js"
import type { DaemonState } from "./DaemonState.js"
import { admitIssue, intakeRules, type IntakeVerdict } from "./Intake.js"

/** The tracker's current view of an issue: the issue, `gone` when it no longer exists, or `unknown` when the tracker did not answer. */
export type TrackerView =
  | { readonly kind: "issue"; readonly issue: Issue }
  | { readonly kind: "gone" }
  | { readonly kind: "unknown" }

/** A warning for a tracker write that failed; the daemon goes on. */
const warn = (what: string) => (error: unknown) => Effect.logWarning(`${what}: ${renderError(error)}`)

/** Builds the daemon's tracker reads, intake and writes over the project's services. */
export const makeDaemonTracker = (state: DaemonState) =>
  Effect.gen(function* () {
    const project = yield* Project
    const source = yield* IssueSource
    const publisher = yield* Publisher
    const store = yield* DaemonStore
    const github = yield* GitHub
    const intake = intakeRules(project.config)
    const rules = daemonRules(project.config)

    const commentOn = (issue: Issue, key: string, body: string) => {
      const target = targetOf(issue)
      return target === undefined
        ? Effect.void
        : publisher.comment({ target, key, body }).pipe(Effect.asVoid, Effect.catch(warn(`comment on ${issue.id}`)))
    }
    const labelOn = (issue: Issue, change: { add?: ReadonlyArray<string>; remove?: ReadonlyArray<string> }) => {
      const target = targetOf(issue)
      return target === undefined
        ? Effect.void
        : publisher.label({ target, ...change }).pipe(Effect.catch(warn(`label ${issue.id}`)))
    }
    const moveTo = (issue: Issue, to: string) => {
      const target = targetOf(issue)
      return target?.tracker !== "linear"
        ? Effect.void
        : publisher
            .moveLinearIssue({ id: target.id, state: to })
            .pipe(Effect.asVoid, Effect.catch(warn(`move ${issue.id} to ${to}`)))
    }

    /** The issue as the tracker has it now: from this poll when it was in it, else asked for. */
    const current = (issueId: string, polled: ReadonlyMap<string, Issue> = new Map()) =>
      Effect.gen(function* () {
        const seen = polled.get(issueId)
        if (seen !== undefined) return { kind: "issue", issue: seen } satisfies TrackerView
        const got = yield* source.get(issueId).pipe(Effect.result)
        if (got._tag === "Success") return { kind: "issue", issue: got.success } satisfies TrackerView
        if (got.failure._tag === "IssueNotFound") return { kind: "gone" } satisfies TrackerView
        yield* Effect.logWarning(`${issueId}: cannot check its tracker state: ${renderError(got.failure)}`)
        return { kind: "unknown" } satisfies TrackerView
      })

    const isTeamMember = (org: string, slug: string, login: string) =>
      Effect.gen(function* () {
        const key = `${org}/${slug}/${login}`.toLowerCase()
        const now = yield* Clock.currentTimeMillis
        const known = (yield* Ref.get(state.teamAnswers)).get(key)
        if (known !== undefined && now - known.atMs < TEAM_MEMBERSHIP_TTL_SECONDS * 1000) return known.member
        const member = yield* github.isTeamMember(org, slug, login)
        yield* Ref.update(state.teamAnswers, (m) => new Map(m).set(key, { member, atMs: now }))
        return member
      })

    /** Records a refusal; it is logged once per issue (again only when who or why changed), without the issue's text. */
    const refuse = (issue: Issue, verdict: Extract<IntakeVerdict, { admitted: false }>) =>
      Effect.gen(function* () {
        const news = yield* store.refuse({ issueId: issue.id, who: verdict.who, reason: verdict.reason })
        if (news)
          yield* Effect.logWarning(
            `${issue.id}: not dispatched: ${verdict.who} may not put work in front of an agent: ${verdict.reason}`
          )
      })

    /** Forgets an earlier refusal of an issue that is admitted now. */
    const admitted = (issue: Issue, verdict: Extract<IntakeVerdict, { admitted: true }>) =>
      Effect.gen(function* () {
        if (yield* store.forgetRefusal(issue.id)) yield* Effect.logInfo(`${issue.id}: admitted now (${verdict.by})`)
      })

    return {
      source,
      rules,
      intake,
      commentOn,
      labelOn,
      moveTo,
      current,
      admit: (issue: Issue) => admitIssue(intake, issue, isTeamMember),
      refuse,
      admitted
    }
  })

/** The daemon's tracker reads, intake and writes. */
export type DaemonTracker = Effect.Success<ReturnType<typeof makeDaemonTracker>>
