/**
 * `linear-sync`: reconciles the states of a mission's promoted packet issues between Linear and the
 * mission. A packet that succeeded moves its Linear issue to the team's first `completed` state; an
 * issue someone canceled in Linear shows its packet as canceled. Running it again changes nothing
 * (an issue already completed or canceled is left alone).
 */
import { Effect } from "effect"
import { missionStatus, type PacketState } from "../mission/MissionStatus.js"
import { Linear } from "./Linear.js"
import { PromoteError, readPromotion } from "./Promote.js"

/** What happened (or, with `--dry-run`, would happen) to one packet's issue. */
export interface LinearSyncStep {
  readonly packet: string
  readonly issue: string
  readonly url: string
  readonly packetState: PacketState | "not-in-plan"
  /** The Linear state before the sync: name and type. */
  readonly linearState: { readonly name: string; readonly type: string }
  readonly action: "completed" | "would-complete" | "canceled" | "in-sync"
  /** The state the issue was moved to. */
  readonly movedTo?: string | undefined
}

export interface LinearSyncOutcome {
  readonly mission: string
  readonly team: string
  readonly dryRun: boolean
  readonly steps: ReadonlyArray<LinearSyncStep>
  /** Issues moved to a completed state. */
  readonly completed: number
  /** Packets whose issue is canceled in Linear. */
  readonly canceled: ReadonlyArray<string>
  readonly notes: ReadonlyArray<string>
}

/** Reconciles a mission's promoted Linear issues with its packets' states. */
export const linearSync = Effect.fn("LinearSync.linearSync")(function* (
  mission: string,
  options: { readonly dryRun: boolean }
) {
  const fail = (reason: string) => new PromoteError({ mission, reason })
  const promotion = yield* readPromotion(mission)
  if (promotion === undefined)
    return yield* fail(`it was never promoted; promote it first with \`spec-orch promote ${mission} --tracker linear\``)
  const { file, record } = promotion
  if (record.tracker !== "linear")
    return yield* fail(
      `${file} records a promotion to ${record.tracker} ${record.target}, not Linear; linear-sync reconciles Linear issues only`
    )
  const status = yield* missionStatus(mission).pipe(Effect.mapError((e) => fail(e.message)))
  const states = new Map(status.waves.flatMap((w) => w.packets.map((p) => [p.packetId, p.state] as const)))
  const linear = yield* Linear
  const steps: Array<LinearSyncStep> = []
  const notes: Array<string> = []
  let completed = 0
  for (const [packet, issue] of Object.entries(record.packets)) {
    const info = yield* linear
      .issueTeam(issue.id ?? issue.ref)
      .pipe(
        Effect.mapError((e) => fail(`${e.message}; nothing after packet ${packet} was synced, run linear-sync again`))
      )
    const packetState: LinearSyncStep["packetState"] = states.get(packet) ?? "not-in-plan"
    const base = {
      packet,
      issue: issue.ref,
      url: issue.url,
      packetState,
      linearState: { name: info.state.name, type: info.state.type }
    }
    if (info.state.type === "canceled") {
      steps.push({ ...base, action: "canceled" })
      continue
    }
    if (packetState === "succeeded" && info.state.type !== "completed") {
      const done = info.team.states.find((s) => s.type === "completed")
      if (done === undefined) {
        notes.push(`team ${info.team.key} has no completed state; ${issue.ref} stays ${info.state.name}`)
        steps.push({ ...base, action: "in-sync" })
        continue
      }
      if (!options.dryRun) {
        yield* linear
          .setState(info.issueId, done.id)
          .pipe(Effect.mapError((e) => fail(`${e.message}; run linear-sync again to finish`)))
        completed += 1
      }
      steps.push({ ...base, action: options.dryRun ? "would-complete" : "completed", movedTo: done.name })
      continue
    }
    steps.push({ ...base, action: "in-sync" })
  }
  return {
    mission,
    team: record.target,
    dryRun: options.dryRun,
    steps,
    completed,
    canceled: steps.filter((s) => s.action === "canceled").map((s) => s.packet),
    notes
  } satisfies LinearSyncOutcome
})
