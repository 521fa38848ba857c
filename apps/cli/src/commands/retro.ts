/** `spec-orch retro <issue|mission>`: a retrospective of an issue's runs, written from its evidence (docs/analytics.md). */
import { Argument, Command } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

export const retro = Command.make(
  "retro",
  {
    issue: Argument.String("issue").pipe(Argument.withDescription("Issue id (e.g. SPC-1) or mission id")),
    json: jsonFlag
  },
  lazy(() => import("./retro.run.js"), "retro", { reads: true })
).pipe(
  Command.withDescription(
    "Write retrospective.md in the issue's latest run directory from its evidence, without a model: each attempt's outcome, failed conditions and steps, deviations, findings, reviews, cost, time per stage; for a mission, every packet's runs in .spec-orch/missions/<mission>/"
  )
)
