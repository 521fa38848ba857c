/**
 * `spec-orch explain|review-issue|accept-issue|findings`: read and add to an issue's evidence. Every
 * command that adds evidence re-gates the issue and records the new verdict in the ledger.
 */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./evidence.run.js")
const issueArg = Argument.String("issue").pipe(Argument.withDescription("Issue id, e.g. SPC-1"))

export const explain = Command.make(
  "explain",
  { issue: issueArg, json: jsonFlag },
  lazy(load, "explain", { reads: true })
).pipe(
  Command.withDescription(
    "Print the issue's latest explain.md: verdict, each condition and why, failing output, deviations, findings, acceptance checklist (--json: report.json)"
  )
)

export const reviewIssue = Command.make(
  "review-issue",
  {
    issue: issueArg,
    verdict: Flag.Literals("verdict", ["pass", "changes_requested", "uncertain"]).pipe(
      Flag.withDescription("Your review verdict")
    ),
    reviewedBy: Flag.String("reviewed-by").pipe(Flag.withDescription("Who reviewed")),
    summary: Flag.String("summary").pipe(Flag.withDescription("One or two sentences: why"), Flag.optional),
    json: jsonFlag
  },
  lazy(load, "reviewIssue")
).pipe(Command.withDescription("Record a human review verdict for the issue's current diff, then re-gate"))

export const acceptIssue = Command.make(
  "accept-issue",
  {
    issue: issueArg,
    acceptedBy: Flag.String("accepted-by").pipe(Flag.withDescription("Who accepts")),
    note: Flag.String("note").pipe(Flag.withDescription("A note kept with the acceptance"), Flag.optional),
    json: jsonFlag
  },
  lazy(load, "acceptIssue")
).pipe(
  Command.withDescription(
    "Show the acceptance checklist and deviations, then record your acceptance of the current diff (by its hash) and re-gate"
  )
)

const findingsList = Command.make(
  "list",
  {
    issue: issueArg,
    all: Flag.Boolean("all").pipe(Flag.withDescription("Include resolved findings"), Flag.withDefault(false)),
    json: jsonFlag
  },
  lazy(load, "findingsList", { reads: true })
).pipe(Command.withDescription("List the issue's findings (unresolved only, unless --all)"))

const findingsAdd = Command.make(
  "add",
  {
    issue: issueArg,
    source: Flag.String("source").pipe(Flag.withDescription("Who found it: human, coderabbit, ci, …")),
    description: Flag.String("description").pipe(Flag.withDescription("What is wrong")),
    severity: Flag.Literals("severity", ["advisory", "blocking"]).pipe(Flag.withDefault("advisory")),
    scope: Flag.Literals("scope", ["in_spec", "out_of_spec"]).pipe(
      Flag.withDescription("Whether it is about what the spec asks"),
      Flag.withDefault("in_spec")
    ),
    filePath: Flag.String("file-path").pipe(Flag.optional),
    line: Flag.Int("line").pipe(Flag.optional),
    confidence: Flag.Finite("confidence").pipe(Flag.withDescription("0 to 1"), Flag.withDefault(0.5)),
    json: jsonFlag
  },
  lazy(load, "findingsAdd")
).pipe(Command.withDescription("Add a finding (recorded once per fingerprint), then re-gate"))

const findingsResolve = Command.make(
  "resolve",
  {
    issue: issueArg,
    finding: Argument.String("finding").pipe(Argument.withDescription("Finding id, e.g. f-1a2b3c4d")),
    resolvedBy: Flag.String("resolved-by").pipe(
      Flag.withDescription("Who resolved it (default: git user.name)"),
      Flag.optional
    ),
    json: jsonFlag
  },
  lazy(load, "findingsResolve")
).pipe(Command.withDescription("Mark a finding resolved, then re-gate"))

export const findings = Command.make("findings").pipe(
  Command.withDescription("Findings on an issue: what reviewers, bots and CI noticed"),
  Command.withSubcommands([findingsList, findingsAdd, findingsResolve])
)
