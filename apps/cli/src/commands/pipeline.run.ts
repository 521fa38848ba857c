/** Handler for `spec-orch pipeline <mission>`: each phase of a mission, read from its files and the stores. */
import { Missions } from "@spec-orch/contract"
import { missionStatus, readPromotion } from "@spec-orch/control"
import { Plans } from "@spec-orch/task"
import { Effect } from "effect"
import { emit } from "../Output.js"
import { withPlanes } from "../Planes.js"

type PhaseState = "done" | "pending" | "attention"

interface Phase {
  readonly phase: "spec" | "plan" | "approval" | "promotion" | "execution"
  readonly state: PhaseState
  readonly detail: string
  /** What to run next, when this phase is the one waiting. */
  readonly next: string | null
}

const mark: Record<PhaseState, string> = { done: "✓", pending: "·", attention: "!" }

export const pipeline = ({ mission, json }: { mission: string; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const view = yield* Missions.use((m) => m.get(mission))
      const phases: Array<Phase> = []
      phases.push(
        view.specState === "approved"
          ? {
              phase: "spec",
              state: "done",
              detail: `approved${view.mission.approvedBy !== undefined ? ` by ${view.mission.approvedBy}` : ""} (${view.mission.specPath})`,
              next: null
            }
          : view.specState === "changed-since-approval"
            ? {
                phase: "spec",
                state: "attention",
                detail: `${view.mission.specPath} changed since it was approved`,
                next: `spec-orch mission approve ${mission}`
              }
            : {
                phase: "spec",
                state: "pending",
                detail: `${view.mission.specPath} not approved yet`,
                next: `spec-orch mission approve ${mission}`
              }
      )
      const planView = yield* Plans.use((p) => p.find(mission))
      const plan = planView?.plan
      const packets = plan?.waves.reduce((n, w) => n + w.packets.length, 0) ?? 0
      phases.push(
        plan === undefined
          ? { phase: "plan", state: "pending", detail: "no plan yet", next: `spec-orch plan ${mission}` }
          : {
              phase: "plan",
              state: "done",
              detail: `${planView!.file}: ${plan.waves.length} wave${plan.waves.length === 1 ? "" : "s"}, ${packets} packet${packets === 1 ? "" : "s"} (planner ${plan.planner})`,
              next: null
            }
      )
      const approved =
        plan !== undefined &&
        (plan.approvedBy !== undefined ||
          plan.status === "approved" ||
          plan.status === "executing" ||
          plan.status === "completed")
      phases.push(
        plan === undefined
          ? { phase: "approval", state: "pending", detail: "no plan to approve", next: null }
          : approved
            ? {
                phase: "approval",
                state: "done",
                detail: `approved${plan.approvedBy !== undefined ? ` by ${plan.approvedBy}` : ""}${plan.approvedAt !== undefined ? ` at ${plan.approvedAt}` : ""}`,
                next: null
              }
            : {
                phase: "approval",
                state: "pending",
                detail: "plan not approved",
                next: `spec-orch plan approve ${mission}`
              }
      )
      const promotion = yield* readPromotion(mission).pipe(
        Effect.catchTag("PromoteError", (e) => Effect.succeed({ broken: e.message } as const))
      )
      if (promotion === undefined) {
        phases.push({
          phase: "promotion",
          state: "pending",
          detail: "not promoted to a tracker (optional)",
          next: approved ? `spec-orch promote ${mission}` : null
        })
      } else if ("broken" in promotion) {
        phases.push({ phase: "promotion", state: "attention", detail: promotion.broken, next: null })
      } else {
        const have = Object.keys(promotion.record.packets).length
        const complete = have >= packets && promotion.record.parent !== undefined
        phases.push({
          phase: "promotion",
          state: complete ? "done" : "attention",
          detail: `${have} of ${packets} packet${packets === 1 ? "" : "s"} have issues in ${promotion.record.tracker} ${promotion.record.target}${promotion.record.parent !== undefined ? ` (mission issue ${promotion.record.parent.ref})` : ""}`,
          next: complete ? null : `spec-orch promote ${mission}`
        })
      }
      const status = plan === undefined ? undefined : yield* missionStatus(mission)
      const issues = promotion !== undefined && !("broken" in promotion) ? promotion.record.packets : {}
      const waves = (status?.waves ?? []).map((w) => ({
        index: w.index,
        description: w.description,
        packets: w.packets.map((p) => ({
          packetId: p.packetId,
          title: p.title,
          state: p.state,
          issue: issues[p.packetId]?.ref ?? null,
          reason: p.reason ?? null
        }))
      }))
      if (status !== undefined) {
        const finished = status.counts.succeeded
        const stuck = status.counts.failed + status.counts.blocked + status.counts.interrupted
        phases.push({
          phase: "execution",
          state: finished === packets && packets > 0 ? "done" : stuck > 0 ? "attention" : "pending",
          detail: `${finished} of ${packets} packets succeeded${stuck > 0 ? `, ${stuck} failed, blocked or interrupted` : ""}; mission ${status.status}`,
          next: finished === packets || !approved ? null : `spec-orch run-plan ${mission}`
        })
      }
      yield* emit(json, { mission, title: view.mission.title, status: view.mission.status, phases, waves }, () => [
        `Mission ${mission}: ${view.mission.title} (${view.mission.status})`,
        "",
        ...phases.map(
          (p) => `${mark[p.state]} ${p.phase.padEnd(10)} ${p.detail}${p.next !== null ? `  → ${p.next}` : ""}`
        ),
        ...waves.flatMap((w) => [
          "",
          `Wave ${w.index}${w.description !== "" ? `  ${w.description}` : ""}`,
          ...w.packets.map(
            (p) =>
              `  ${p.state.padEnd(12)} ${p.packetId}  ${p.title}${p.issue !== null ? `  ${p.issue}` : ""}${p.reason !== null ? `  (${p.reason})` : ""}`
          )
        ])
      ])
    })
  )
