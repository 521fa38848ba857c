/** Handlers for `spec-orch spec show|approve|draft|import` and `spec-orch questions list|add|answer`. */
import {
  describeCriteriaChanges,
  IssueSource,
  type QuestionCategory,
  type SpecImportOutcome,
  SpecImports,
  type SpecSnapshot,
  Specs,
  specState,
  unresolvedBlocking
} from "@spec-orch/contract"
import { Effect, Option } from "effect"
import { missionJson } from "./mission.run.js"
import { emit, table } from "../Output.js"
import { withContract } from "../Planes.js"
import { whoAmI } from "../Who.js"

/** A snapshot as plain JSON. */
export const snapshotJson = (s: SpecSnapshot) => ({
  issueId: s.issueId,
  version: s.version,
  state: specState(s),
  contentHash: s.contentHash,
  approval: s.approval
    ? {
        approvedBy: s.approval.approvedBy,
        approvedAt: s.approval.approvedAt,
        contentHash: s.approval.contentHash,
        version: s.approval.version
      }
    : null,
  questions: s.questions.map((q) => ({ ...q, answer: s.decisions.find((d) => d.questionId === q.id)?.answer ?? null })),
  unresolvedBlocking: unresolvedBlocking(s).map((q) => q.id),
  content: s.content
})

const stateLine = (s: SpecSnapshot) => {
  const state = specState(s)
  return state === "approved"
    ? `approved v${s.version} by ${s.approval!.approvedBy} at ${s.approval!.approvedAt}`
    : state === "changed-since-approval"
      ? `CHANGED since approval by ${s.approval!.approvedBy} (v${s.version}); approve again to freeze the new content`
      : "not approved"
}

const loadSnapshot = (id: string) =>
  Effect.gen(function* () {
    const issue = yield* (yield* IssueSource).get(id)
    const snapshot = yield* (yield* Specs).sync(issue)
    return { issue, snapshot }
  })

export const show = ({ issue, json }: { issue: string; json: boolean }) =>
  withContract(
    Effect.gen(function* () {
      const { snapshot } = yield* loadSnapshot(issue)
      const blocking = unresolvedBlocking(snapshot)
      yield* emit(json, snapshotJson(snapshot), () => [
        `spec ${snapshot.issueId}: ${stateLine(snapshot)}   sha256 ${snapshot.contentHash.slice(0, 12)}`,
        ...(blocking.length > 0
          ? [`${blocking.length} blocking question(s) unresolved: ${blocking.map((q) => q.id).join(", ")}`]
          : []),
        "",
        snapshot.content.trimEnd()
      ])
    })
  )

export const approve = ({ issue, by, json }: { issue: string; by: Option.Option<string>; json: boolean }) =>
  withContract(
    Effect.gen(function* () {
      const who = yield* whoAmI(by)
      const found = yield* (yield* IssueSource).get(issue)
      const s = yield* (yield* Specs).approve(found, who)
      yield* emit(
        json,
        snapshotJson(s),
        () => `Approved spec ${s.issueId} v${s.version} (sha256 ${s.contentHash.slice(0, 12)}) by ${who}.`
      )
    })
  )

export const draft = ({ issue, json }: { issue: string; json: boolean }) =>
  withContract(
    Effect.gen(function* () {
      const found = yield* (yield* IssueSource).get(issue)
      const specs = yield* Specs
      const before = yield* specs.get(found.id)
      const s = yield* specs.sync(found)
      const action = before === undefined ? "created" : before.contentHash === s.contentHash ? "unchanged" : "refreshed"
      const state = specState(s)
      const notes = [
        ...(found.acceptanceCriteria.length === 0
          ? [`note: ${found.id} has no acceptance criteria; add them to the issue so the review has something to check`]
          : []),
        ...(unresolvedBlocking(s).length > 0
          ? [
              `note: blocking question(s) unresolved: ${unresolvedBlocking(s)
                .map((q) => q.id)
                .join(", ")}`
            ]
          : [])
      ]
      yield* emit(json, { action, ...snapshotJson(s), notes }, () => [
        action === "created"
          ? `Drafted spec ${s.issueId} v${s.version} from the issue (not approved).`
          : action === "refreshed"
            ? `Refreshed spec ${s.issueId} from the issue: ${stateLine(s)}.`
            : `Spec ${s.issueId} is up to date with the issue: ${stateLine(s)}.`,
        ...notes,
        ...(state === "approved"
          ? []
          : [`Review it, then approve it with \`spec-orch spec approve ${s.issueId}\` (or run with --auto-approve).`]),
        "",
        s.content.trimEnd()
      ])
    })
  )

const importLines = (r: SpecImportOutcome): Array<string> => {
  const id = r.view.mission.id
  const next = r.dryRun
    ? "Dry run: nothing written. The draft's spec.md would be:"
    : `Review ${r.view.mission.specPath}, then approve it with \`spec-orch mission approve ${id}\`.`
  const tail = r.dryRun ? ["", r.specText.trimEnd()] : []
  if (r.action === "created") {
    return [
      `${r.dryRun ? "Would import" : "Imported"} ${r.source} (${r.format}) into mission ${id} (drafting): ${r.criteria} acceptance criteri${r.criteria === 1 ? "on" : "a"}${r.taskGroups > 0 ? `, ${r.taskGroups} task group${r.taskGroups === 1 ? "" : "s"}` : ""}.`,
      next,
      ...tail
    ]
  }
  if (r.action === "unchanged")
    return [`Mission ${id} is up to date with ${r.source} (${r.view.mission.status}; nothing changed).`]
  const c = r.changes
  const what = [describeCriteriaChanges({ ...c, sections: [] }), c.moved > 0 ? `${c.moved} moved in the source` : ""]
    .filter((x) => x !== "")
    .join(", ")
  return [
    `${r.dryRun ? "Would update" : "Updated"} mission ${id} from ${r.source}: ${what || "criteria unchanged"}${c.sections.length > 0 ? `; sections changed: ${c.sections.join(", ")}` : ""}.`,
    ...c.added.map((a) => `  + ${a}`),
    ...c.removed.map((a) => `  - ${a}`),
    ...c.changed.map((x) => `  ~ ${x.to}`),
    ...(r.unapproved ? [`The mission was approved; it ${r.dryRun ? "would be" : "is"} a draft again.`] : []),
    next,
    ...tail
  ]
}

export const importSpec = ({
  path,
  format,
  mission,
  title,
  force,
  dryRun,
  json
}: {
  path: string
  format: Option.Option<"spec-kit" | "openspec" | "ears" | "gherkin" | "bdd">
  mission: Option.Option<string>
  title: Option.Option<string>
  force: boolean
  dryRun: boolean
  json: boolean
}) =>
  withContract(
    Effect.gen(function* () {
      const f = Option.getOrUndefined(format)
      const r = yield* (yield* SpecImports).run({
        path,
        format: f === "bdd" ? "gherkin" : f,
        missionId: Option.getOrUndefined(mission),
        title: Option.getOrUndefined(title),
        force,
        dryRun
      })
      yield* emit(
        json,
        {
          action: r.action,
          dryRun: r.dryRun,
          format: r.format,
          source: r.source,
          mission: missionJson(r.view),
          criteria: r.criteria,
          taskGroups: r.taskGroups,
          changes: r.changes,
          unapproved: r.unapproved,
          ...(r.dryRun ? { spec: r.specText } : {})
        },
        () => importLines(r)
      )
    }).pipe(Effect.provide(SpecImports.layer))
  )

export const qList = ({ issue, json }: { issue: string; json: boolean }) =>
  withContract(
    Effect.gen(function* () {
      const { snapshot } = yield* loadSnapshot(issue)
      const rows = snapshot.questions.map((q) => {
        const d = snapshot.decisions.find((x) => x.questionId === q.id)
        return [q.id, q.category, q.blocking ? "yes" : "no", d ? `answered by ${d.decidedBy}` : "open", q.text]
      })
      yield* emit(json, snapshotJson(snapshot).questions, () =>
        rows.length === 0
          ? `No questions on ${issue}.`
          : table(["ID", "CATEGORY", "BLOCKING", "STATE", "QUESTION"], rows)
      )
    })
  )

export const qAdd = ({
  issue,
  text,
  category,
  blocking,
  by,
  json
}: {
  issue: string
  text: string
  category: QuestionCategory
  blocking: boolean
  by: Option.Option<string>
  json: boolean
}) =>
  withContract(
    Effect.gen(function* () {
      const found = yield* (yield* IssueSource).get(issue)
      const q = yield* (yield* Specs).ask(found, { text, category, blocking, askedBy: yield* whoAmI(by) })
      yield* emit(json, q, () => `Added ${q.id} to ${issue}${blocking ? " (blocking: runs wait for an answer)" : ""}.`)
    })
  )

export const qAnswer = ({
  issue,
  question,
  answer,
  by,
  json
}: {
  issue: string
  question: string
  answer: string
  by: Option.Option<string>
  json: boolean
}) =>
  withContract(
    Effect.gen(function* () {
      const found = yield* (yield* IssueSource).get(issue)
      const d = yield* (yield* Specs).answer(found, question, answer, yield* whoAmI(by))
      yield* emit(json, d, () => `Answered ${question} on ${issue}.`)
    })
  )
