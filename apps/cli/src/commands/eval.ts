/**
 * `spec-orch evidence summary` and `spec-orch eval compare|degradation`: what the finished runs say,
 * every rate with its Wilson 95% interval and n, every comparison with its test and p-value
 * (docs/analytics.md).
 */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./eval.run.js")

const SELECTOR_HELP =
  "key=value pairs joined by commas, all of which must hold (adapter, issue, profile, status, since, until; a|b for either value), e.g. adapter=codex,since=2026-12-01; or all"

const summaryInput = {
  select: Flag.String("select").pipe(
    Flag.withDescription(`Only these runs: ${SELECTOR_HELP}`),
    Flag.withDefault("all")
  ),
  json: jsonFlag
}
const SUMMARY =
  "Runs by outcome, the pass rate with its 95% interval and n, per adapter, what blocked, time per stage, cost"

const summary = Command.make("summary", summaryInput, lazy(load, "summary", { reads: true })).pipe(
  Command.withDescription(SUMMARY)
)

export const evidence = Command.make("evidence").pipe(
  Command.withDescription("Evidence across runs: summary"),
  Command.withSubcommands([summary])
)

const compare = Command.make(
  "compare",
  {
    a: Argument.String("A").pipe(Argument.withDescription(`First set of runs: ${SELECTOR_HELP}`)),
    b: Argument.String("B").pipe(Argument.withDescription("Second set of runs, same syntax")),
    json: jsonFlag
  },
  lazy(load, "compare", { reads: true })
).pipe(
  Command.withDescription(
    "Compare the pass rates of two sets of runs: each with its interval and n, the difference, the test used and its p-value"
  )
)

const degradation = Command.make(
  "degradation",
  {
    recent: Flag.Int("recent").pipe(
      Flag.withDescription("The most recent finished runs to judge"),
      Flag.withDefault(10)
    ),
    baseline: Flag.Int("baseline").pipe(
      Flag.withDescription("The finished runs before them to compare with"),
      Flag.withDefault(30)
    ),
    json: jsonFlag
  },
  lazy(load, "degradation", { reads: true })
).pipe(
  Command.withDescription(
    "Whether the most recent runs pass less often than the ones before them, with the test and p-value"
  )
)

export const evalCommand = Command.make("eval").pipe(
  Command.withDescription("Evaluate sets of runs with honest statistics: run, compare, degradation"),
  Command.withSubcommands([
    Command.make("run", summaryInput, lazy(load, "summary", { reads: true })).pipe(
      Command.withDescription(`${SUMMARY} (the same as \`evidence summary\`)`)
    ),
    compare,
    degradation
  ])
)
