/** Handler for `spec-orch linear-sync <mission>`. */
import { linearSync as sync, type LinearSyncOutcome } from "@spec-orch/control"
import { Console, Effect } from "effect"
import { emit } from "../Output.js"
import { withPlanes } from "../Planes.js"

const shown: Record<LinearSyncOutcome["steps"][number]["action"], string> = {
  completed: "completed",
  "would-complete": "would complete",
  canceled: "canceled",
  "in-sync": "in sync"
}

export const linearSyncLines = (o: LinearSyncOutcome): Array<string> => {
  const would = o.steps.filter((s) => s.action === "would-complete").length
  const head = o.dryRun
    ? `Dry run: would move ${would} issue${would === 1 ? "" : "s"} in ${o.team} to completed for mission ${o.mission}; nothing changed.`
    : o.completed === 0
      ? `In sync: mission ${o.mission}'s issues in ${o.team} already match its packets.`
      : `Moved ${o.completed} issue${o.completed === 1 ? "" : "s"} in ${o.team} to completed for mission ${o.mission}.`
  const lines = o.steps.map(
    (s) =>
      `  ${shown[s.action].padEnd(15)} packet ${s.packet.padEnd(16)} ${s.issue.padEnd(8)} packet ${s.packetState}, Linear ${s.linearState.name}${s.movedTo !== undefined ? ` → ${s.movedTo}` : ""}`
  )
  const canceled =
    o.canceled.length > 0
      ? [
          `Canceled in Linear: ${o.canceled.join(", ")} (run-plan still runs them; remove them from the plan to drop them).`
        ]
      : []
  return [head, ...lines, ...canceled]
}

export const linearSync = ({ mission, dryRun, json }: { mission: string; dryRun: boolean; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const outcome = yield* sync(mission, { dryRun })
      for (const note of outcome.notes) yield* Console.error(`note: ${note}`)
      yield* emit(json, outcome, () => linearSyncLines(outcome))
    })
  )
