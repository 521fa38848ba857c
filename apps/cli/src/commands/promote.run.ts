/** Handler for `spec-orch promote <mission>`. */
import { Project } from "@spec-orch/contract"
import { promote as promoteMission, type PromoteOutcome } from "@spec-orch/control"
import { Console, Effect, Option } from "effect"
import { emit } from "../Output.js"
import { withPlanes } from "../Planes.js"

const verb: Record<PromoteOutcome["steps"][number]["action"], string> = {
  created: "created",
  found: "found by its marker",
  recorded: "already promoted",
  "would-create": "would create",
  updated: "task list updated",
  "would-update": "would update its task list"
}

/** The outcome as lines: one per issue, then what changed. */
export const promoteLines = (o: PromoteOutcome): Array<string> => {
  const lines = o.steps.map((s) => {
    const what = s.packet === null ? "mission issue" : `packet ${s.packet}`
    const ref = s.issue !== null ? `${s.issue.ref} ${s.issue.url}` : "(new)"
    const after = s.dependsOn.length > 0 ? `  after ${s.dependsOn.join(", ")}` : ""
    // A packet's issue is only ever "updated" by making its missing tracker relations.
    const did =
      s.packet !== null && s.action === "updated"
        ? "relations made"
        : s.packet !== null && s.action === "would-update"
          ? "would relate"
          : verb[s.action]
    return `  ${did.padEnd(18)} ${what.padEnd(24)} ${ref}${after}`
  })
  const wouldCreate = o.steps.filter((s) => s.action === "would-create").length
  const head = o.dryRun
    ? wouldCreate === 0
      ? `Dry run: nothing to create in ${o.target}; every packet of mission ${o.mission} already has an issue.`
      : `Dry run: would create ${wouldCreate} issue${wouldCreate === 1 ? "" : "s"} in ${o.target} for mission ${o.mission}; nothing written.`
    : o.created === 0
      ? `Nothing new: every packet of mission ${o.mission} already has an issue in ${o.target} (${o.file}).`
      : `Created ${o.created} issue${o.created === 1 ? "" : "s"} in ${o.target} for mission ${o.mission}; mapping in ${o.file}.`
  return [head, ...lines]
}

export const promote = ({
  mission,
  tracker,
  dryRun,
  json
}: {
  mission: string
  tracker: Option.Option<"github" | "linear">
  dryRun: boolean
  json: boolean
}) =>
  withPlanes(
    Effect.gen(function* () {
      const project = yield* Project
      const source = project.config.issue.source
      const chosen = Option.getOrElse(tracker, () => (source === "linear" ? "linear" : "github"))
      const outcome = yield* promoteMission(mission, { tracker: chosen, dryRun })
      for (const note of outcome.notes) yield* Console.error(`note: ${note}`)
      yield* emit(json, outcome, () => promoteLines(outcome))
    })
  )
