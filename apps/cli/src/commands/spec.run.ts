/** Handlers for `spec-orch spec show|approve` and `spec-orch questions list|add|answer`: an issue's frozen spec. */
import { IssueSource, type QuestionCategory, type SpecSnapshot, Specs, specState, unresolvedBlocking } from "@spec-orch/contract"
import { Effect, Option } from "effect"
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

