/** Handlers for `spec-orch spec show|approve|draft|import` and `spec-orch questions list|add|answer`. */
import { IssueSource, type QuestionCategory, type SpecFormat, type SpecImportOutcome, SpecImports, type SpecSnapshot, Specs, specState, unresolvedBlocking } from "@spec-orch/contract"
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
  approval: s.approval ? { approvedBy: s.approval.approvedBy, approvedAt: s.approval.approvedAt, contentHash: s.approval.contentHash, version: s.approval.version } : null,
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
  Effect.gen(function*() {
    const issue = yield* (yield* IssueSource).get(id)
    const snapshot = yield* (yield* Specs).sync(issue)
    return { issue, snapshot }
  })

export const show = ({ issue, json }: { issue: string; json: boolean }) =>
  withContract(Effect.gen(function*() {
    const { snapshot } = yield* loadSnapshot(issue)
    const blocking = unresolvedBlocking(snapshot)
    yield* emit(json, snapshotJson(snapshot), () => [
      `spec ${snapshot.issueId}: ${stateLine(snapshot)}   sha256 ${snapshot.contentHash.slice(0, 12)}`,
      ...(blocking.length > 0 ? [`${blocking.length} blocking question(s) unresolved: ${blocking.map((q) => q.id).join(", ")}`] : []),
      "",
      snapshot.content.trimEnd()
    ])
  }))

export const approve = ({ issue, by, json }: { issue: string; by: Option.Option<string>; json: boolean }) =>
    withContract(Effect.gen(function*() {
      const who = yield* whoAmI(by)
      const found = yield* (yield* IssueSource).get(issue)
      const s = yield* (yield* Specs).approve(found, who)
      yield* emit(json, snapshotJson(s), () => `Approved spec ${s.issueId} v${s.version} (sha256 ${s.contentHash.slice(0, 12)}) by ${who}.`)
    }))

export const draft = ({ issue, json }: { issue: string; json: boolean }) =>
  withContract(Effect.gen(function*() {
    const found = yield* (yield* IssueSource).get(issue)
    const specs = yield* Specs
    const before = yield* specs.get(found.id)
    const s = yield* specs.sync(found)
    const action = before === undefined ? "created" : before.contentHash === s.contentHash ? "unchanged" : "refreshed"
    const state = specState(s)
    const notes = [
      ...(found.acceptanceCriteria.length === 0 ? [`note: ${found.id} has no acceptance criteria; add them to the issue so the review has something to check`] : []),
      ...(unresolvedBlocking(s).length > 0 ? [`note: blocking question(s) unresolved: ${unresolvedBlocking(s).map((q) => q.id).join(", ")}`] : [])
    ]
    yield* emit(json, { action, ...snapshotJson(s), notes }, () => [
      action === "created"
        ? `Drafted spec ${s.issueId} v${s.version} from the issue (not approved).`
        : action === "refreshed"
        ? `Refreshed spec ${s.issueId} from the issue: ${stateLine(s)}.`
        : `Spec ${s.issueId} is up to date with the issue: ${stateLine(s)}.`,
      ...notes,
      ...(state === "approved" ? [] : [`Review it, then approve it with \`spec-orch spec approve ${s.issueId}\` (or run with --auto-approve).`]),
      "",
      s.content.trimEnd()
    ])
  }))

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

const importLines = (r: SpecImportOutcome): Array<string> => {
  const id = r.view.mission.id
  const next = `Review ${r.view.mission.specPath}, then approve it with \`spec-orch mission approve ${id}\`.`
  if (r.action === "created") {
    return [
      `Imported ${r.source} (${r.format}) into mission ${id} (drafting): ${r.criteria} acceptance criteri${r.criteria === 1 ? "on" : "a"}${r.taskGroups > 0 ? `, ${plural(r.taskGroups, "task group")}` : ""}.`,
      next
    ]
  }
  if (r.action === "unchanged") return [`Mission ${id} is up to date with ${r.source} (${r.view.mission.status}; nothing changed).`]
  const c = r.changes
  const parts = [
    c.added.length > 0 ? `${c.added.length} added` : "",
    c.removed.length > 0 ? `${c.removed.length} removed` : "",
    c.moved > 0 ? `${c.moved} moved in the source` : ""
  ].filter((p) => p !== "")
  return [
    `Updated mission ${id} from ${r.source}: criteria ${parts.length > 0 ? parts.join(", ") : "unchanged"}${c.sections.length > 0 ? `; sections changed: ${c.sections.join(", ")}` : ""}.`,
    ...c.added.map((a) => `  + ${a}`),
    ...c.removed.map((a) => `  - ${a}`),
    ...(r.unapproved ? [`The mission was approved; it is a draft again.`] : []),
    next
  ]
}

export const importSpec = ({ path, format, mission, force, json }: { path: string; format: Option.Option<SpecFormat>; mission: Option.Option<string>; force: boolean; json: boolean }) =>
  withContract(Effect.gen(function*() {
    const r = yield* (yield* SpecImports).run({ path, format: Option.getOrUndefined(format), missionId: Option.getOrUndefined(mission), force })
    yield* emit(json, {
      action: r.action,
      format: r.format,
      source: r.source,
      mission: missionJson(r.view),
      criteria: r.criteria,
      taskGroups: r.taskGroups,
      changes: r.changes,
      unapproved: r.unapproved
    }, () => importLines(r))
  }).pipe(Effect.provide(SpecImports.layer)))

export const qList = ({ issue, json }: { issue: string; json: boolean }) =>
  withContract(Effect.gen(function*() {
    const { snapshot } = yield* loadSnapshot(issue)
    const rows = snapshot.questions.map((q) => {
      const d = snapshot.decisions.find((x) => x.questionId === q.id)
      return [q.id, q.category, q.blocking ? "yes" : "no", d ? `answered by ${d.decidedBy}` : "open", q.text]
    })
    yield* emit(json, snapshotJson(snapshot).questions, () => rows.length === 0 ? `No questions on ${issue}.` : table(["ID", "CATEGORY", "BLOCKING", "STATE", "QUESTION"], rows))
  }))

export const qAdd = ({ issue, text, category, blocking, by, json }: { issue: string; text: string; category: QuestionCategory; blocking: boolean; by: Option.Option<string>; json: boolean }) =>
    withContract(Effect.gen(function*() {
      const found = yield* (yield* IssueSource).get(issue)
      const q = yield* (yield* Specs).ask(found, { text, category, blocking, askedBy: yield* whoAmI(by) })
      yield* emit(json, q, () => `Added ${q.id} to ${issue}${blocking ? " (blocking: runs wait for an answer)" : ""}.`)
    }))

export const qAnswer = ({ issue, question, answer, by, json }: { issue: string; question: string; answer: string; by: Option.Option<string>; json: boolean }) =>
    withContract(Effect.gen(function*() {
      const found = yield* (yield* IssueSource).get(issue)
      const d = yield* (yield* Specs).answer(found, question, answer, yield* whoAmI(by))
      yield* emit(json, d, () => `Answered ${question} on ${issue}.`)
    }))

