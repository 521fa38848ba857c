/**
 * Handlers for `spec-orch explain|review-issue|accept-issue|findings`. Reviews, acceptances and
 * findings come only from these commands' flags (a person), never from issue or agent text; each
 * addition re-gates the issue with the project's policy and records the new verdict.
 */
import { type EvidenceBundle, Project, RunRecord } from "@spec-orch/contract"
import { activeProposals, RunStore } from "@spec-orch/control"
import { Redactor } from "@spec-orch/harness"
import {
  acceptanceChecklist,
  EvidenceLedger,
  Gate,
  humanReview,
  makeAcceptance,
  makeFinding,
  markdownForTerminal,
  NoEvidence,
  NothingToAccept,
  renderExplain,
  reportJson,
  withEvidence
} from "@spec-orch/evidence"
import { RunMemory } from "@spec-orch/evolution"
import { Clock, Console, Effect, FileSystem, Option, Path, Schema } from "effect"
import { emit, table } from "../Output.js"
import { whoAmI } from "../Who.js"
import { withPlanes } from "../Planes.js"
import { clean, verdictLines } from "./gate.run.js"
import { ISSUE_LOOKUP_WAIT, issueIfKnown } from "./issue-lookup.js"

const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

const currentOrFail = (issue: string) =>
  Effect.gen(function* () {
    const ledger = yield* EvidenceLedger
    const bundle = yield* ledger.currentBundle(issue)
    if (Option.isNone(bundle)) return yield* new NoEvidence({ issueId: issue, ledger: ledger.location })
    return bundle.value
  })

/**
 * Judges `bundle` with the project's gate under the profile the issue was last judged with (the run's
 * `--profile`, not whatever `[gate] profile` says now), records bundle and verdict in the ledger, and
 * brings the run up to date: its record (`status` shows the new verdict at once) and its report files.
 */
const regate = (bundle: EvidenceBundle) =>
  Effect.gen(function* () {
    const gate = yield* Gate
    const ledger = yield* EvidenceLedger
    const previous = yield* ledger.latestVerdict(bundle.issueId)
    const verdict = yield* Option.match(previous, {
      onNone: () => gate.evaluate(bundle),
      onSome: (v) => gate.evaluate(bundle, v.profile)
    })
    yield* ledger.record(bundle, verdict)
    const runId = bundle.runId
    if (runId === undefined) return yield* Effect.as((yield* RunMemory).recordJudged(bundle), verdict)
    const store = yield* RunStore
    const updated = yield* store.update(runId, (r) =>
      r.status === "succeeded" || r.status === "blocked"
        ? new RunRecord({
            ...r,
            status: verdict.mergeable ? "succeeded" : "blocked",
            verdict,
            message: verdict.mergeable
              ? `mergeable after ${bundle.acceptance !== undefined ? "acceptance" : "review"}`
              : `blocked by ${[...verdict.failed, ...verdict.notJudgeable].join(", ")}`
          })
        : r
    )
    if (updated !== undefined) {
      const project = yield* Project
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const dir = path.join(project.stateDir, "runs", runId)
      if (yield* fs.exists(dir).pipe(Effect.orElseSucceed(() => false))) {
        const policy = yield* gate.policy.pipe(Effect.option)
        // The proposals the run was offered stay in its report (from its context.json; docs/evolution.md).
        const offered = yield* fs.readFileString(path.join(dir, "context.json")).pipe(Effect.orElseSucceed(() => ""))
        const options = {
          blockOn: Option.match(policy, { onNone: () => undefined, onSome: (p) => p.blockOn }),
          proposals: activeProposals(offered)
        }
        const known = yield* issueIfKnown(bundle.issueId)
        const redactor = yield* Redactor
        yield* fs
          .writeFileString(
            path.join(dir, "report.json"),
            redactor.redact(`${JSON.stringify(reportJson(bundle, verdict, known, options), null, 2)}\n`)
          )
          .pipe(Effect.ignore)
        yield* fs
          .writeFileString(
            path.join(dir, "explain.md"),
            redactor.redact(renderExplain(bundle, verdict, known, options))
          )
          .pipe(Effect.ignore)
      }
    }
    // What the person added reaches memory (best-effort: never fails the command); docs/memory.md.
    yield* (yield* RunMemory).recordJudged(bundle, updated)
    return verdict
  })

export const explain = ({ issue, json }: { issue: string; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const ledger = yield* EvidenceLedger
      const last = yield* ledger.latest(issue)
      if (Option.isNone(last)) return yield* new NoEvidence({ issueId: issue, ledger: ledger.location })
      const { bundle, verdict } = last.value
      const policy = yield* (yield* Gate).policy.pipe(Effect.option)
      const options = { blockOn: Option.match(policy, { onNone: () => undefined, onSome: (p) => p.blockOn }) }
      const known = yield* issueIfKnown(issue, ISSUE_LOOKUP_WAIT)
      yield* emit(json, reportJson(bundle, verdict, known, options), () =>
        clean(markdownForTerminal(renderExplain(bundle, verdict, known, options)))
      )
    })
  )

/**
 * Records a person's review of the issue's current diff and re-gates it (`review-issue`, and the
 * dashboard's review action).
 */
export const recordReview = (input: {
  issue: string
  verdict: "pass" | "changes_requested" | "uncertain"
  reviewedBy: string
  summary?: string | undefined
}) =>
  Effect.gen(function* () {
    const ledger = yield* EvidenceLedger
    const bundle = yield* currentOrFail(input.issue)
    const review = humanReview(
      { verdict: input.verdict, reviewedBy: input.reviewedBy, summary: input.summary, diffHash: bundle.diffHash },
      yield* now
    )
    yield* ledger.recordReview(input.issue, review, bundle.runId)
    const next = withEvidence(bundle, { review })
    const verdict = yield* regate(next)
    return { bundle, review, verdict, report: reportJson(next, verdict) }
  })

export const reviewIssue = (input: {
  issue: string
  verdict: "pass" | "changes_requested" | "uncertain"
  reviewedBy: string
  summary: Option.Option<string>
  json: boolean
}) =>
  withPlanes(
    Effect.gen(function* () {
      const { bundle, review, verdict, report } = yield* recordReview({
        ...input,
        summary: Option.getOrUndefined(input.summary)
      })
      yield* emit(input.json, { review, report }, () => [
        `recorded review of ${input.issue}: ${input.verdict} by ${clean(input.reviewedBy)}${bundle.diffHash !== undefined ? ` (diff ${bundle.diffHash.slice(0, 12)})` : ""}`,
        "",
        ...verdictLines(input.issue, verdict)
      ])
    })
  )

/** The acceptance checklist of the issue's current diff (what a person accepts), or why there is nothing to accept. */
export const acceptanceOf = (issueId: string) =>
  Effect.gen(function* () {
    const bundle = yield* currentOrFail(issueId)
    const issue = yield* issueIfKnown(issueId)
    const policy = yield* (yield* Gate).policy.pipe(Effect.option)
    const checklist = acceptanceChecklist(bundle, issue, Option.getOrUndefined(policy)?.protected)
    if (checklist.diffHash === undefined) {
      return yield* new NothingToAccept({
        issueId,
        reason: "the latest run recorded no diff hash, so there is no exact change to accept (re-run the issue first)"
      })
    }
    return { bundle, issue, checklist: { ...checklist, diffHash: checklist.diffHash } }
  })

/** Records a person's acceptance of the checked diff and re-gates it (`accept-issue`, and the dashboard's accept action). */
export const recordAcceptance = (
  input: { issue: string; acceptedBy: string; note?: string | undefined },
  checked: Effect.Success<ReturnType<typeof acceptanceOf>>
) =>
  Effect.gen(function* () {
    const { bundle, issue, checklist } = checked
    const acceptance = makeAcceptance(
      { acceptedBy: input.acceptedBy, diffHash: checklist.diffHash, note: input.note },
      yield* now
    )
    yield* (yield* EvidenceLedger).recordAcceptance(input.issue, acceptance, bundle.runId)
    const next = withEvidence(bundle, { acceptance })
    const verdict = yield* regate(next)
    return { acceptance, checklist, verdict, report: reportJson(next, verdict, issue) }
  })

export const acceptIssue = (input: { issue: string; acceptedBy: string; note: Option.Option<string>; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const checked = yield* acceptanceOf(input.issue)
      const { issue, checklist } = checked
      // The checklist and deviations come first, so the person sees what they are accepting.
      if (!input.json) {
        yield* Console.log(
          [
            `Accepting ${input.issue}${issue !== undefined ? `: ${clean(issue.title)}` : ""}`,
            `diff ${checklist.diffHash.slice(0, 12)}, ${checklist.changedFiles.length} changed file(s)`,
            "",
            "Acceptance criteria:",
            ...(checklist.criteria.length > 0
              ? checklist.criteria.map((c) => `  [ ] ${c.id} ${clean(c.text)}`)
              : ["  (the issue lists none)"]),
            "",
            checklist.deviations.length > 0 ? "Deviations:" : "Deviations: none",
            ...checklist.deviations.map((d) => `  ${d.severity.padEnd(8)} ${clean(d.description)} (${d.resolution})`),
            ...(checklist.protectedChanges.length > 0
              ? [
                  "",
                  "Protected files the agent changed (accepting this diff accepts them):",
                  ...checklist.protectedChanges.map((c) => `  ${clean(c.path)}: ${clean(c.why)}`)
                ]
              : []),
            ""
          ].join("\n")
        )
      }
      const { acceptance, verdict, report } = yield* recordAcceptance(
        { issue: input.issue, acceptedBy: input.acceptedBy, note: Option.getOrUndefined(input.note) },
        checked
      )
      yield* emit(input.json, { acceptance, checklist, report }, () => [
        `recorded acceptance of ${input.issue} by ${clean(input.acceptedBy)} for diff ${checklist.diffHash.slice(0, 12)}`,
        "",
        ...verdictLines(input.issue, verdict)
      ])
    })
  )

export const findingsList = ({ issue, all, json }: { issue: string; all: boolean; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const found = yield* (yield* EvidenceLedger).findings(issue, { unresolvedOnly: !all })
      yield* emit(json, { issueId: issue, findings: found }, () =>
        found.length === 0
          ? `No ${all ? "" : "unresolved "}findings on ${issue}.`
          : table(
              ["ID", "SEVERITY", "SCOPE", "SOURCE", "WHERE", "DESCRIPTION", ...(all ? ["RESOLVED"] : [])],
              found.map((f) => [
                f.id,
                f.severity,
                f.scope,
                clean(f.source),
                f.filePath !== undefined ? clean(`${f.filePath}${f.line !== undefined ? `:${f.line}` : ""}`) : "-",
                clean(f.description.replace(/\s+/g, " ")),
                ...(all
                  ? [f.resolved ? `yes${f.resolvedBy !== undefined ? ` (${clean(f.resolvedBy)})` : ""}` : "no"]
                  : [])
              ])
            )
      )
    })
  )

/** Re-gates the issue when it has recorded evidence; findings may be added before any run. */
const regateIfRun = (issue: string) =>
  Effect.gen(function* () {
    const ledger = yield* EvidenceLedger
    const bundle = yield* ledger.currentBundle(issue)
    if (Option.isNone(bundle)) yield* (yield* RunMemory).recordFindings(issue, yield* ledger.findings(issue))
    return Option.isSome(bundle) ? Option.some(yield* regate(bundle.value)) : Option.none()
  })

export const findingsAdd = (input: {
  issue: string
  source: string
  description: string
  severity: "advisory" | "blocking"
  scope: "in_spec" | "out_of_spec"
  filePath: Option.Option<string>
  line: Option.Option<number>
  confidence: number
  json: boolean
}) =>
  withPlanes(
    Effect.gen(function* () {
      const ledger = yield* EvidenceLedger
      if (input.confidence < 0 || input.confidence > 1)
        return yield* new InvalidFlagValue({
          flag: "--confidence",
          reason: `must be between 0 and 1, got ${input.confidence}`
        })
      const finding = makeFinding(
        {
          source: input.source,
          description: input.description,
          severity: input.severity,
          scope: input.scope,
          confidence: input.confidence,
          filePath: Option.getOrUndefined(input.filePath),
          line: Option.getOrUndefined(input.line)
        },
        yield* now
      )
      const before = yield* ledger.findings(input.issue)
      const duplicate = before.some((f) => f.fingerprint === finding.fingerprint)
      yield* ledger.addFindings(input.issue, [finding])
      const verdict = yield* regateIfRun(input.issue)
      yield* emit(input.json, { finding, duplicate, verdict: Option.getOrNull(verdict) }, () => [
        duplicate
          ? `${finding.id} is already recorded on ${input.issue} (same fingerprint); nothing added`
          : `added ${finding.id} (${finding.severity}, ${finding.scope}) to ${input.issue}`,
        ...Option.match(verdict, { onNone: () => [], onSome: (v) => ["", ...verdictLines(input.issue, v)] })
      ])
    })
  )

export const findingsResolve = (input: {
  issue: string
  finding: string
  resolvedBy: Option.Option<string>
  json: boolean
}) =>
  withPlanes(
    Effect.gen(function* () {
      const who = yield* whoAmI(input.resolvedBy)
      const resolved = yield* (yield* EvidenceLedger).resolveFinding(input.issue, input.finding, who)
      const verdict = yield* regateIfRun(input.issue)
      yield* emit(input.json, { finding: resolved, verdict: Option.getOrNull(verdict) }, () => [
        `resolved ${resolved.id} on ${input.issue} (by ${clean(who)})`,
        ...Option.match(verdict, { onNone: () => [], onSome: (v) => ["", ...verdictLines(input.issue, v)] })
      ])
    })
  )

/** A flag value outside its documented range. */
export class InvalidFlagValue extends Schema.TaggedError<InvalidFlagValue>()("InvalidFlagValue", {
  flag: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.flag}: ${this.reason}`
  }
}
