/**
 * `spec-orch spec show|approve|draft|import` and `spec-orch questions list|add|answer`: an issue's frozen
 * spec, and missions imported from spec-kit, OpenSpec, EARS or Gherkin.
 */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./spec.run.js")
const issueArg = Argument.String("issue").pipe(Argument.withDescription("Issue id"))
const CATEGORIES = ["requirement", "environment", "architecture", "risk"] as const
/** The formats of `spec import --format` (the list in @spec-orch/contract's SpecImport; kept here so --help needs no plane). */
const SPEC_FORMAT_NAMES = ["spec-kit", "openspec", "ears", "gherkin"] as const

const show = Command.make("show", { issue: issueArg, json: jsonFlag }, lazy(load, "show")).pipe(
  Command.withDescription("Show an issue's spec snapshot: content, approval state, open questions")
)

const approve = Command.make(
  "approve",
  {
    issue: issueArg,
    by: Flag.String("approved-by").pipe(Flag.withDescription("Who approves (default: git user.name)"), Flag.optional),
    json: jsonFlag
  },
  lazy(load, "approve")
).pipe(Command.withDescription("Approve (freeze) an issue's spec: records who, when and the content hash"))

const draft = Command.make("draft", { issue: issueArg, json: jsonFlag }, lazy(load, "draft")).pipe(
  Command.withDescription(
    "Write (or refresh) an issue's unapproved spec snapshot from the issue and show it; nothing else is created"
  )
)

const importCmd = Command.make(
  "import",
  {
    path: Argument.String("path").pipe(
      Argument.withDescription(
        "A spec-kit feature (specs/<feature>/), an OpenSpec change (openspec/changes/<id>/), a .feature file or folder, or a Markdown file of EARS requirements"
      )
    ),
    format: Flag.Literals("format", [...SPEC_FORMAT_NAMES, "bdd"]).pipe(
      Flag.withAlias("f"),
      Flag.withDescription("The source's format (default: detected from the files present); bdd is gherkin"),
      Flag.optional
    ),
    mission: Flag.String("mission").pipe(
      Flag.withAlias("mission-id"),
      Flag.withDescription(
        "Mission id (default: from the source: feature folder, change id, feature or document title)"
      ),
      Flag.optional
    ),
    title: Flag.String("title").pipe(
      Flag.withAlias("t"),
      Flag.withDescription("Mission title (default: the source's)"),
      Flag.optional
    ),
    force: Flag.Boolean("force").pipe(
      Flag.withDescription(
        "Replace an approved mission (it becomes a draft again) or a mission not imported from this source"
      ),
      Flag.withDefault(false)
    ),
    dryRun: Flag.Boolean("dry-run").pipe(
      Flag.withDescription("Show the draft and what would change; write nothing"),
      Flag.withDefault(false)
    ),
    json: jsonFlag
  },
  lazy(load, "importSpec")
).pipe(
  Command.withDescription(
    "Import a spec-kit, OpenSpec, EARS or Gherkin spec as an unapproved mission draft (docs/specs/<mission>/): one acceptance criterion per scenario, " +
      "requirement or FR, each noting its source file and line; importing again updates the same draft and says what changed"
  )
)

export const spec = Command.make("spec").pipe(
  Command.withDescription(
    "An issue's spec snapshot: what \"done\" means, frozen by approval; `spec import` turns other tools' specs into missions"
  ),
  Command.withSubcommands([show, approve, draft, importCmd])
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
    blocking: Flag.Boolean("blocking").pipe(
      Flag.withDescription("Runs stop until this question is answered"),
      Flag.withDefault(false)
    ),
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
