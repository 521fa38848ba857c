/**
 * Handlers for `spec-orch discuss`, `discuss list` and `discuss freeze`.
 *
 * A thread is an append-only JSON Lines file, `<state dir>/threads/<id>.jsonl`: one line per event (the
 * thread's target, each message, each answer of the model with the questions and decisions it recorded,
 * each freeze). Appending a line is the only write, so a session killed mid-way keeps every earlier turn,
 * and resuming reads the lines back. The frozen spec is the reviewable artifact (a mission's spec.md in
 * git, an issue's approved snapshot); the thread is the working record behind it.
 *
 * The model's text is data: it is shown (control characters removed) and its decisions become list
 * items in the spec, each on one line and never a heading, so an answer cannot add sections (tasks,
 * verification) nor freeze, approve or run anything. Only the person's `@freeze` freezes.
 */
import { IssueSource, Missions, Project, sha256, Specs, specState } from "@spec-orch/contract"
import { Models, Redactor } from "@spec-orch/harness"
import { Console, Effect, FileSystem, Option, Path, Schema } from "effect"
import { emit, table } from "../Output.js"
import { ModelsLive, withContract } from "../Planes.js"
import { whoAmI } from "../Who.js"

/** Why `discuss` cannot go on: what, and how to fix it. */
export class DiscussError extends Schema.TaggedError<DiscussError>()("DiscussError", { reason: Schema.String }) {
  override get message(): string {
    return this.reason
  }
}

interface Target {
  readonly type: "issue" | "mission"
  readonly id: string
}
interface DecisionItem {
  readonly topic: string
  readonly decision: string
}
type Line =
  | { readonly kind: "thread"; readonly id: string; readonly target: Target; readonly at: string }
  | { readonly kind: "user"; readonly text: string; readonly at: string }
  | {
      readonly kind: "model"
      readonly reply: string
      readonly title: string
      readonly questions: ReadonlyArray<string>
      readonly decisions: ReadonlyArray<DecisionItem>
      readonly criteria: ReadonlyArray<string>
      readonly at: string
    }
  | { readonly kind: "frozen"; readonly file: string; readonly hash: string; readonly by: string; readonly at: string }

/** What the model answers each turn (as a structured object). */
const Answer = Schema.Struct({
  reply: Schema.String,
  title: Schema.String,
  questions: Schema.Array(Schema.String),
  decisions: Schema.Array(Schema.Struct({ topic: Schema.String, decision: Schema.String })),
  acceptance_criteria: Schema.Array(Schema.String)
}).annotate({ identifier: "discussion_turn" })

const SYSTEM = [
  "You are the planner of spec-orch, helping a person turn an issue or a mission into a precise spec.",
  "Each turn: answer briefly in `reply`, ask the clarifying questions that are still open in `questions` (at most three),",
  "record every decision the person has made so far in `decisions` (topic and decision, one sentence each),",
  "and give the acceptance criteria as they now stand in `acceptance_criteria` (each one checkable).",
  "`title` is a short title for the spec. You cannot run commands, change the gate, policy or verification; the person freezes the spec."
].join(" ")

const FREEZE = /(^|\s)@freeze\b/

/** One line of text without control characters (terminal escapes) or Markdown headings. */
const oneLine = (s: string) =>
  s
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^#+\s*/, "")
/** Text for the terminal: control characters other than newlines removed. */
const printable = (s: string) => s.replace(/\r\n?/g, "\n").replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, "")

const threadIdOk = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

/** The state of a thread, folded from its lines. */
const fold = (lines: ReadonlyArray<Line>) => {
  const head = lines.find((l) => l.kind === "thread") as Extract<Line, { kind: "thread" }> | undefined
  const models = lines.filter((l): l is Extract<Line, { kind: "model" }> => l.kind === "model")
  const decisions = new Map<string, DecisionItem>()
  for (const m of models)
    for (const d of m.decisions) if (oneLine(d.topic) !== "") decisions.set(oneLine(d.topic).toLowerCase(), d)
  const withCriteria = [...models].reverse().find((m) => m.criteria.length > 0)
  const titled = [...models].reverse().find((m) => oneLine(m.title) !== "")
  const last = models.at(-1)
  const frozen = lines.filter((l): l is Extract<Line, { kind: "frozen" }> => l.kind === "frozen").at(-1)
  const firstUser = lines.find((l): l is Extract<Line, { kind: "user" }> => l.kind === "user")
  return {
    head,
    turns: lines.filter((l) => l.kind === "user").length,
    decisions: [...decisions.values()],
    criteria: withCriteria?.criteria ?? [],
    questions: last?.questions ?? [],
    title: titled !== undefined ? oneLine(titled.title) : undefined,
    intent: firstUser !== undefined ? oneLine(firstUser.text.replace(FREEZE, " ")) : "",
    lastReply: last?.reply,
    frozen
  }
}
type Folded = ReturnType<typeof fold>

/** A mission's spec.md written from a thread: the same thread always gives the same text. */
export const missionSpecFromThread = (title: string, t: Folded): string =>
  [
    `# ${oneLine(title)}`,
    "",
    "## Intent",
    "",
    t.intent !== "" ? t.intent : oneLine(title),
    "",
    "## Decisions",
    "",
    ...(t.decisions.length > 0
      ? t.decisions.map((d) => `- **${oneLine(d.topic)}**: ${oneLine(d.decision)}`)
      : ["- (none recorded)"]),
    "",
    "## Acceptance Criteria",
    "",
    ...t.criteria.map((c) => `- ${oneLine(c)}`).filter((c) => c !== "- "),
    ...(t.questions.length > 0 ? ["", "## Open Questions", "", ...t.questions.map((q) => `- ${oneLine(q)}`)] : []),
    ""
  ].join("\n")

const threads = Effect.gen(function* () {
  const project = yield* Project
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const redactor = yield* Redactor
  const dir = path.join(project.stateDir, "threads")
  const fileOf = (id: string) => path.join(dir, `${id}.jsonl`)
  const rel = (p: string) => path.relative(project.root, p)

  const read = (id: string) =>
    Effect.gen(function* () {
      const file = fileOf(id)
      const text = yield* fs.readFileString(file).pipe(Effect.option)
      if (Option.isNone(text)) return undefined
      const lines: Array<Line> = []
      let n = 0
      for (const raw of text.value.split("\n")) {
        n++
        if (raw.trim() === "") continue
        try {
          lines.push(JSON.parse(raw) as Line)
        } catch {
          // A line cut short by a crash is the last one: the turns before it are kept.
          yield* Console.error(`warning: ${rel(file)}:${n}: not a JSON line; skipped`)
        }
      }
      return lines
    })

  const append = (id: string, line: Line) =>
    Effect.gen(function* () {
      yield* fs.makeDirectory(dir, { recursive: true }).pipe(Effect.orDie)
      const redacted = JSON.parse(redactor.redact(JSON.stringify(line))) as Line
      yield* fs.writeFileString(fileOf(id), `${JSON.stringify(redacted)}\n`, { flag: "a" }).pipe(Effect.orDie)
    })

  const ids = fs.readDirectory(dir).pipe(
    Effect.map((names) =>
      names
        .filter((n) => n.endsWith(".jsonl"))
        .map((n) => n.slice(0, -".jsonl".length))
        .sort()
    ),
    Effect.orElseSucceed(() => [] as Array<string>)
  )
  return { read, append, ids, fileOf: (id: string) => rel(fileOf(id)) }
})

const now = Effect.map(
  Effect.clockWith((c) => c.currentTimeMillis),
  (ms) => new Date(ms).toISOString()
)

/** The spec text the model sees for the target (the issue's spec content, or the mission's spec.md). */
const targetText = (target: Target) =>
  Effect.gen(function* () {
    if (target.type === "issue") {
      const issue = yield* (yield* IssueSource).get(target.id)
      return (yield* (yield* Specs).sync(issue)).content
    }
    const missions = yield* Missions
    const exists = yield* missions.get(target.id).pipe(Effect.option)
    return Option.isSome(exists) ? yield* missions.specText(target.id) : `(a new mission, ${target.id}: no spec yet)`
  })

/** The planner's model, or a clear error naming where to configure one (no offline fallback). */
const plannerModel = Effect.gen(function* () {
  const models = yield* Models
  const role = models.role("planner")
  if (role.problem !== undefined) {
    return yield* new DiscussError({
      reason:
        `discuss needs the planner model, and it cannot be called: ${role.problem.message}. ` +
        "Configure one in spec-orch.toml ([planner] model_chain, model_ref or model, or [llm] default_model_chain with [models.<id>]), " +
        "or set SPEC_ORCH_LLM_MODEL and SPEC_ORCH_LLM_API_KEY (and SPEC_ORCH_LLM_API_BASE, SPEC_ORCH_LLM_API_TYPE) in the environment; " +
        "`spec-orch models` shows what each role resolves to"
    })
  }
  return yield* models
    .forRole("planner")
    .pipe(Effect.mapError((e) => new DiscussError({ reason: `discuss needs the planner model: ${e.message}` })))
})

/** The conversation for the model; a message the model never answered (a failed call, sent again) is left out. */
const transcript = (lines: ReadonlyArray<Line>) =>
  lines
    .flatMap((l, i) =>
      l.kind === "user"
        ? lines[i + 1]?.kind === "model"
          ? [`Person: ${l.text}`]
          : []
        : l.kind === "model"
          ? [`You: ${l.reply}${l.questions.length > 0 ? `\n(questions: ${l.questions.join(" | ")})` : ""}`]
          : []
    )
    .join("\n\n")

/** One turn: the person's message to the model, its answer appended to the thread. */
const turn = (store: Effect.Success<typeof threads>, threadId: string, target: Target, message: string) =>
  Effect.gen(function* () {
    const model = yield* plannerModel
    const before = (yield* store.read(threadId)) ?? []
    const spec = yield* targetText(target)
    yield* store.append(threadId, { kind: "user", text: message, at: yield* now })
    const state = fold(before)
    const prompt = [
      { role: "system" as const, content: SYSTEM },
      {
        role: "user" as const,
        content: [
          `Target: ${target.type} ${target.id}`,
          "",
          "Current spec:",
          spec.trimEnd(),
          "",
          ...(state.decisions.length > 0
            ? ["Decisions so far:", ...state.decisions.map((d) => `- ${d.topic}: ${d.decision}`), ""]
            : []),
          ...(before.some((l) => l.kind === "user") ? ["Conversation so far:", transcript(before), ""] : []),
          "The person says:",
          message
        ].join("\n")
      }
    ]
    const answer = yield* model.generateObject({ prompt, schema: Answer, objectName: "discussion_turn" }).pipe(
      Effect.mapError(
        (e) =>
          new DiscussError({
            reason: `the planner model did not answer: ${e.message} (the message is kept in thread ${threadId}; send it again to retry)`
          })
      )
    )
    const value = answer.value
    const line: Line = {
      kind: "model",
      reply: value.reply,
      title: value.title,
      questions: value.questions,
      decisions: value.decisions,
      criteria: value.acceptance_criteria,
      at: yield* now
    }
    yield* store.append(threadId, line)
    return line
  })

/** Writes the spec from the thread and approves it (the same approval `spec approve` / `mission approve` record). */
const freezeThread = (store: Effect.Success<typeof threads>, threadId: string, by: Option.Option<string>) =>
  Effect.gen(function* () {
    const lines = yield* store.read(threadId)
    if (lines === undefined)
      return yield* new DiscussError({
        reason: `no discussion thread ${threadId} (${store.fileOf(threadId)}); see \`spec-orch discuss list\``
      })
    const t = fold(lines)
    if (t.head === undefined)
      return yield* new DiscussError({
        reason: `${store.fileOf(threadId)} has no thread line; start a new thread with \`spec-orch discuss <issue> --thread <new id>\``
      })
    const who = yield* whoAmI(by)
    const target = t.head.target
    if (target.type === "mission") {
      const missions = yield* Missions
      const fs = yield* FileSystem.FileSystem
      const project = yield* Project
      const existing = yield* missions.get(target.id).pipe(Effect.option)
      const title = Option.isSome(existing) ? existing.value.mission.title : (t.title ?? target.id)
      const view = Option.isSome(existing) ? existing.value : yield* missions.create({ title, id: target.id })
      if (view.mission.status !== "drafting" && view.mission.status !== "approved") {
        return yield* new DiscussError({
          reason: `mission ${target.id} is ${view.mission.status}: its spec can no longer be frozen from a discussion (discuss a new mission with --mission <new id>)`
        })
      }
      const spec = missionSpecFromThread(title, t)
      yield* fs.writeFileString(project.resolve(view.mission.specPath), spec).pipe(Effect.orDie)
      const approved = yield* missions.approve(target.id, who)
      const hash = approved.mission.specHash ?? sha256(spec)
      yield* store.append(threadId, { kind: "frozen", file: approved.mission.specPath, hash, by: who, at: yield* now })
      return { target, file: approved.mission.specPath, hash, by: who, decisions: t.decisions.length }
    }
    const issue = yield* (yield* IssueSource).get(target.id)
    const specs = yield* Specs
    let snapshot = yield* specs.sync(issue)
    // Each decision becomes an answered question on the snapshot (topic as the question), once.
    for (const d of t.decisions) {
      const topic = oneLine(d.topic)
      const decision = oneLine(d.decision)
      const asked = snapshot.questions.find((q) => q.text === topic)
      const recorded =
        asked !== undefined && snapshot.decisions.some((x) => x.questionId === asked.id && x.answer === decision)
      if (recorded) continue
      const q =
        asked ??
        (yield* specs.ask(issue, {
          text: topic,
          category: "requirement",
          blocking: false,
          askedBy: `discuss:${threadId}`
        }))
      yield* specs.answer(issue, q.id, decision, who)
      snapshot = yield* specs.sync(issue)
    }
    const approved = yield* specs.approve(issue, who)
    const project = yield* Project
    const path = yield* Path.Path
    const snapshotFile = path.relative(project.root, path.join(project.stateDir, "specs", `${approved.issueId}.json`))
    yield* store.append(threadId, {
      kind: "frozen",
      file: snapshotFile,
      hash: approved.contentHash,
      by: who,
      at: yield* now
    })
    return {
      target,
      file: snapshotFile,
      hash: approved.contentHash,
      by: who,
      decisions: t.decisions.length,
      state: specState(approved)
    }
  })

const frozenLines = (r: { target: Target; file: string; hash: string; by: string; decisions: number }) => [
  `Froze ${r.target.type} ${r.target.id}: wrote ${r.file} from ${r.decisions} decision(s) and approved it (by ${r.by}).`,
  `sha256 ${r.hash}`
]

const resolveTarget = (
  store: Effect.Success<typeof threads>,
  input: { issue: Option.Option<string>; mission: Option.Option<string>; thread: Option.Option<string> }
) =>
  Effect.gen(function* () {
    if (Option.isSome(input.issue) && Option.isSome(input.mission)) {
      return yield* new DiscussError({ reason: "discuss takes an issue or --mission <id>, not both" })
    }
    const named: Target | undefined = Option.isSome(input.issue)
      ? { type: "issue", id: input.issue.value }
      : Option.isSome(input.mission)
        ? { type: "mission", id: input.mission.value }
        : undefined
    const threadId = Option.getOrUndefined(input.thread) ?? named?.id
    if (threadId === undefined) {
      return yield* new DiscussError({
        reason:
          "discuss needs what to discuss: `spec-orch discuss <issue>`, `--mission <id>`, or `--thread <id>` to continue a thread (see `spec-orch discuss list`)"
      })
    }
    if (!threadIdOk.test(threadId)) {
      return yield* new DiscussError({
        reason: `"${threadId}" is not a usable thread id: use letters, digits, ".", "_" and "-" (at most 100), starting with a letter or digit`
      })
    }
    const lines = yield* store.read(threadId)
    const head = lines === undefined ? undefined : fold(lines).head
    if (head !== undefined) {
      if (named !== undefined && (named.type !== head.target.type || named.id !== head.target.id)) {
        return yield* new DiscussError({
          reason: `thread ${threadId} discusses ${head.target.type} ${head.target.id}, not ${named.type} ${named.id}; name another --thread`
        })
      }
      return { threadId, target: head.target, lines: lines!, resumed: true }
    }
    if (named === undefined)
      return yield* new DiscussError({
        reason: `no discussion thread ${threadId}; start it with \`spec-orch discuss <issue> --thread ${threadId}\` or \`--mission <id>\``
      })
    // The target must exist (an issue) before a thread about it is started; a mission may be new.
    if (named.type === "issue") yield* (yield* IssueSource).get(named.id)
    return { threadId, target: named, lines: [] as Array<Line>, resumed: false }
  })

const showAnswer = (line: Extract<Line, { kind: "model" }>) =>
  Effect.gen(function* () {
    yield* Console.log(printable(line.reply).trimEnd())
    for (const q of line.questions) yield* Console.log(`  ? ${oneLine(q)}`)
    for (const d of line.decisions) yield* Console.log(`  decided: ${oneLine(d.topic)}: ${oneLine(d.decision)}`)
  })

/** Reads one line from the terminal; undefined at end of input (Ctrl-D). */
const ask = (rl: import("node:readline").Interface) =>
  Effect.callback<string | undefined>((resume) => {
    let done = false
    const onClose = () => {
      if (!done) {
        done = true
        resume(Effect.succeed(undefined))
      }
    }
    rl.once("close", onClose)
    rl.question("you> ", (answer) => {
      if (done) return
      done = true
      rl.off("close", onClose)
      resume(Effect.succeed(answer))
    })
  })

export const discuss = (input: {
  issue: Option.Option<string>
  mission: Option.Option<string>
  thread: Option.Option<string>
  message: Option.Option<string>
  by: Option.Option<string>
  json: boolean
}) =>
  withContract(
    Effect.gen(function* () {
      const store = yield* threads
      const interactive = Option.isNone(input.message)
      if (interactive && (process.stdin.isTTY !== true || process.stdout.isTTY !== true)) {
        return yield* new DiscussError({
          reason:
            "discuss needs a terminal for its prompt; without one, send each message with --message <text> (and `@freeze` in a message, or `spec-orch discuss freeze <thread>`, to freeze)"
        })
      }
      const { threadId, target, resumed } = yield* resolveTarget(store, input)
      // The model must be callable before anything is written.
      yield* plannerModel
      if (!resumed) yield* store.append(threadId, { kind: "thread", id: threadId, target, at: yield* now })

      /** Handles one message: a turn unless it is only `@freeze`, then the freeze it asks for. */
      const handle = (message: string) =>
        Effect.gen(function* () {
          const freezing = FREEZE.test(message)
          const rest = message.replace(FREEZE, " ").trim()
          const answer = rest !== "" ? yield* turn(store, threadId, target, freezing ? rest : message) : undefined
          const frozen = freezing ? yield* freezeThread(store, threadId, input.by) : undefined
          return { answer, frozen }
        })

      if (Option.isSome(input.message)) {
        const r = yield* handle(input.message.value)
        const state = fold((yield* store.read(threadId)) ?? [])
        if (input.json) {
          yield* emit(
            true,
            {
              thread: threadId,
              target,
              reply: r.answer?.reply ?? null,
              questions: r.answer?.questions ?? [],
              decisions: state.decisions,
              acceptanceCriteria: state.criteria,
              frozen: r.frozen ?? null
            },
            () => ""
          )
          return
        }
        if (r.answer !== undefined) yield* showAnswer(r.answer)
        if (r.frozen !== undefined) for (const l of frozenLines(r.frozen)) yield* Console.log(l)
        else
          yield* Console.log(
            `(thread ${threadId}: continue with \`spec-orch discuss --thread ${threadId} --message <text>\`; \`@freeze\` freezes the spec)`
          )
        return
      }

      const readline = yield* Effect.promise(() => import("node:readline"))
      const rl = yield* Effect.acquireRelease(
        Effect.sync(() => readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true })),
        (rl) => Effect.sync(() => rl.close())
      )
      yield* Console.log(
        `Discussing ${target.type} ${target.id} (thread ${threadId}${resumed ? ", resumed" : ""}). @freeze writes and approves the spec; Ctrl-D leaves (the thread is kept).`
      )
      if (resumed) {
        const last = [...((yield* store.read(threadId)) ?? [])]
          .reverse()
          .find((l): l is Extract<Line, { kind: "model" }> => l.kind === "model")
        if (last !== undefined) yield* showAnswer(last)
      }
      while (true) {
        const line = yield* ask(rl)
        if (line === undefined) {
          // Ctrl-D leaves the cursor after the prompt.
          yield* Console.log("")
          yield* Console.log(`Left thread ${threadId}; continue with \`spec-orch discuss --thread ${threadId}\`.`)
          return
        }
        if (line.trim() === "") continue
        const r = yield* handle(line).pipe(
          Effect.catchTag("DiscussError", (e) => Effect.as(Console.error(`error: ${e.message}`), undefined))
        )
        if (r === undefined) continue
        if (r.answer !== undefined) yield* showAnswer(r.answer)
        if (r.frozen !== undefined) {
          for (const l of frozenLines(r.frozen)) yield* Console.log(l)
          return
        }
      }
    }).pipe(Effect.scoped, Effect.provide(ModelsLive))
  )

export const freeze = ({ thread, by, json }: { thread: string; by: Option.Option<string>; json: boolean }) =>
  withContract(
    Effect.gen(function* () {
      const store = yield* threads
      const r = yield* freezeThread(store, thread, by)
      yield* emit(json, { thread, ...r }, () => frozenLines(r))
    })
  )

export const list = ({ json }: { json: boolean }) =>
  withContract(
    Effect.gen(function* () {
      const store = yield* threads
      const rows: Array<{
        thread: string
        target: Target | null
        turns: number
        decisions: number
        frozen: string | null
      }> = []
      for (const id of yield* store.ids) {
        const t = fold((yield* store.read(id)) ?? [])
        rows.push({
          thread: id,
          target: t.head?.target ?? null,
          turns: t.turns,
          decisions: t.decisions.length,
          frozen: t.frozen?.hash ?? null
        })
      }
      yield* emit(json, { threads: rows }, () =>
        rows.length === 0
          ? "No discussion threads. Start one with `spec-orch discuss <issue>` or `spec-orch discuss --mission <id>`."
          : table(
              ["THREAD", "TARGET", "TURNS", "DECISIONS", "FROZEN"],
              rows.map((r) => [
                r.thread,
                r.target === null ? "?" : `${r.target.type} ${r.target.id}`,
                String(r.turns),
                String(r.decisions),
                r.frozen === null ? "-" : r.frozen.slice(0, 12)
              ])
            )
      )
    })
  )
