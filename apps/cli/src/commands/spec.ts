/** `spec-orch spec show|approve` and `spec-orch questions list|add|answer`: an issue's frozen spec. */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./spec.run.js")
const issueArg = Argument.String("issue").pipe(Argument.withDescription("Issue id"))
const CATEGORIES = ["requirement", "environment", "architecture", "risk"] as const

const show = Command.make("show", { issue: issueArg, json: jsonFlag }, lazy(load, "show")).pipe(
  Command.withDescription("Show an issue's spec snapshot: content, approval state, open questions")
)

const approve = Command.make(
  "approve",
  { issue: issueArg, by: Flag.String("approved-by").pipe(Flag.withDescription("Who approves (default: git user.name)"), Flag.optional), json: jsonFlag },
  lazy(load, "approve")
).pipe(Command.withDescription("Approve (freeze) an issue's spec: records who, when and the content hash"))

export const spec = Command.make("spec").pipe(
  Command.withDescription("An issue's spec snapshot: what \"done\" means, frozen by approval"),
  Command.withSubcommands([show, approve])
)

const qList = Command.make("list", { issue: issueArg, json: jsonFlag }, lazy(load, "qList")).pipe(
  Command.withDescription("List the questions on an issue's spec")
)

const qAdd = Command.make(
  "add",
  {
    issue: issueArg,
    text: Flag.String("text").pipe(Flag.withAlias("t"), Flag.withDescription("The question")),
    category: Flag.Literals("category", CATEGORIES).pipe(Flag.withAlias("c"), Flag.withDefault("requirement")),
    blocking: Flag.Boolean("blocking").pipe(Flag.withDescription("Runs stop until this question is answered"), Flag.withDefault(false)),
    by: Flag.String("asked-by").pipe(Flag.optional),
    json: jsonFlag
  },
  lazy(load, "qAdd")
).pipe(Command.withDescription("Ask a question on an issue's spec"))

const qAnswer = Command.make(
  "answer",
  {
    issue: issueArg,
    question: Argument.String("question").pipe(Argument.withDescription("Question id, e.g. Q1")),
    answer: Flag.String("answer").pipe(Flag.withAlias("a")),
    by: Flag.String("decided-by").pipe(Flag.optional),
    json: jsonFlag
  },
  lazy(load, "qAnswer")
).pipe(Command.withDescription("Record the decision for a question"))

export const questions = Command.make("questions").pipe(
  Command.withDescription("Questions and decisions on an issue's spec"),
  Command.withSubcommands([qList, qAdd, qAnswer])
)
