/**
 * Issue spec snapshots, stored as `<state dir>/specs/<ISSUE>.json` (outside any worktree). The
 * snapshot's content is derived from the issue; approving freezes it with who, when and its hash,
 * and a later change to the issue is detected as "changed since approval".
 */
import { Context, Effect, FileSystem, Layer, Path, Schema } from "effect"
import { FileProblem, InvalidFile } from "./FileProblem.js"
import type { Issue } from "./Issue.js"
import { atomicWriter, nowIso, sha256 } from "./Files.js"
import { Project } from "./Project.js"
import { Decision, Question, type QuestionCategory, SpecApproval, SpecSnapshot, specState } from "./Spec.js"

/** The canonical text of what an issue asks for; its hash is what an approval freezes. */
export const specContent = (issue: Issue): string => {
  const list = (title: string, items: ReadonlyArray<string>) =>
    items.length === 0 ? [] : [`## ${title}`, ...items.map((i) => `- ${i}`), ""]
  return `${[
    `# ${issue.id}: ${issue.title}`,
    "",
    issue.summary,
    "",
    ...(issue.builderPrompt !== undefined ? ["## Task", issue.builderPrompt, ""] : []),
    ...list(
      "Acceptance Criteria",
      issue.acceptanceCriteria.map((c) => c.text)
    ),
    ...list("Constraints", issue.constraints),
    ...list("Files to Read", issue.filesToRead),
    ...list("Target Files", issue.targetFiles),
    ...list(
      "Verification",
      (issue.verification ?? []).map(
        (s) => `${s.name}: ${typeof s.command === "string" ? s.command : s.command.join(" ")}`
      )
    )
  ]
    .join("\n")
    .trimEnd()}\n`
}

/** A question id that does not exist on the snapshot. */
export class QuestionNotFound extends Schema.TaggedError<QuestionNotFound>()("QuestionNotFound", {
  issueId: Schema.String,
  questionId: Schema.String
}) {
  override get message(): string {
    return `issue ${this.issueId} has no question ${this.questionId} (see \`spec-orch questions list ${this.issueId}\`)`
  }
}

/** Reads and changes issue spec snapshots. */
export class Specs extends Context.Service<
  Specs,
  {
    /** The snapshot for `issue`, created (version 1, unapproved) or refreshed from the issue's current content. */
    readonly sync: (issue: Issue) => Effect.Effect<SpecSnapshot, InvalidFile>
    /** The stored snapshot, if any. */
    readonly get: (issueId: string) => Effect.Effect<SpecSnapshot | undefined, InvalidFile>
    /** Approves the current content: records who, when and its hash, and bumps the version. */
    readonly approve: (issue: Issue, approvedBy: string) => Effect.Effect<SpecSnapshot, InvalidFile>
    /** Adds a question. */
    readonly ask: (
      issue: Issue,
      q: { text: string; category: QuestionCategory; blocking: boolean; askedBy: string }
    ) => Effect.Effect<Question, InvalidFile>
    /** Records a decision for a question. */
    readonly answer: (
      issue: Issue,
      questionId: string,
      answer: string,
      decidedBy: string
    ) => Effect.Effect<Decision, InvalidFile | QuestionNotFound>
  }
>()("@spec-orch/contract/Specs") {
  static readonly layer: Layer.Layer<Specs, never, Project | FileSystem.FileSystem | Path.Path> = Layer.effect(
    Specs,
    Effect.gen(function* () {
      const project = yield* Project
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const writeAtomic = atomicWriter(fs, path)
      const fileOf = (id: string) => path.join(project.stateDir, "specs", `${id}.json`)
      const decode = Schema.decodeUnknownEffect(Schema.fromJsonString(SpecSnapshot))
      const encode = (s: SpecSnapshot) => `${JSON.stringify(Schema.encodeSync(SpecSnapshot)(s), null, 2)}\n`

      const get = Effect.fn("Specs.get")(function* (issueId: string) {
        const file = fileOf(issueId)
        const text = yield* fs.readFileString(file).pipe(Effect.option)
        if (text._tag === "None") return undefined
        return yield* decode(text.value).pipe(
          Effect.mapError(
            (e) =>
              new InvalidFile({
                file,
                problems: [
                  new FileProblem({
                    file,
                    key: "",
                    severity: "error",
                    message: `not a valid spec snapshot: ${e.message}`,
                    hint: "delete it to start a new snapshot"
                  })
                ]
              })
          )
        )
      })
      const save = (s: SpecSnapshot) => writeAtomic(fileOf(s.issueId), encode(s)).pipe(Effect.as(s))

      const sync = Effect.fn("Specs.sync")(function* (issue: Issue) {
        const content = specContent(issue)
        const hash = sha256(content)
        const now = yield* nowIso
        const existing = yield* get(issue.id)
        if (existing === undefined) {
          return yield* save(
            new SpecSnapshot({
              issueId: issue.id,
              version: 1,
              content,
              contentHash: hash,
              questions: [],
              decisions: [],
              createdAt: now,
              updatedAt: now
            })
          )
        }
        if (existing.contentHash === hash) return existing
        return yield* save(new SpecSnapshot({ ...existing, content, contentHash: hash, updatedAt: now }))
      })

      const approve = Effect.fn("Specs.approve")(function* (issue: Issue, approvedBy: string) {
        const current = yield* sync(issue)
        if (specState(current) === "approved") return current
        const now = yield* nowIso
        const version = current.approval === undefined ? current.version : current.version + 1
        return yield* save(
          new SpecSnapshot({
            ...current,
            version,
            approval: new SpecApproval({ approvedBy, approvedAt: now, contentHash: current.contentHash, version }),
            updatedAt: now
          })
        )
      })

      const ask = Effect.fn("Specs.ask")(function* (
        issue: Issue,
        q: { text: string; category: QuestionCategory; blocking: boolean; askedBy: string }
      ) {
        const current = yield* sync(issue)
        const now = yield* nowIso
        const question = new Question({ id: `Q${current.questions.length + 1}`, askedAt: now, ...q })
        yield* save(new SpecSnapshot({ ...current, questions: [...current.questions, question], updatedAt: now }))
        return question
      })

      const answer = Effect.fn("Specs.answer")(function* (
        issue: Issue,
        questionId: string,
        text: string,
        decidedBy: string
      ) {
        const current = yield* sync(issue)
        if (!current.questions.some((q) => q.id === questionId))
          return yield* new QuestionNotFound({ issueId: issue.id, questionId })
        const now = yield* nowIso
        const decision = new Decision({ questionId, answer: text, decidedBy, decidedAt: now })
        yield* save(
          new SpecSnapshot({
            ...current,
            decisions: [...current.decisions.filter((d) => d.questionId !== questionId), decision],
            updatedAt: now
          })
        )
        return decision
      })

      return Specs.of({ sync, get, approve, ask, answer })
    })
  )
}
