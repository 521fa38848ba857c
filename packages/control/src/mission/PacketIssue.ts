/**
 * A mission's work packet as the Issue its Run works on. Packets are not in the IssueSource: the Run
 * builds the issue from `plan.json` and `mission.json`, and the mission's approval stands for the
 * packet's spec. A packet's issue id and run key are both `<mission>.<packet>`.
 */
import {
  AcceptanceCriterion,
  didYouMean,
  type FileMissing,
  Footprint,
  type InvalidFile,
  Issue,
  IssueOrigin,
  makeIssueId,
  type Mission,
  MissionRef,
  Missions,
  type MissionsError,
  type MissionView,
  type Plan,
  type WorkPacket
} from "@spec-orch/contract"
import { Plans } from "@spec-orch/task"
import { Effect, Option, Schema } from "effect"

/** Which packet of which mission a run works on (part of the Run payload). */
export const PacketRef = Schema.Struct({ missionId: Schema.String, packetId: Schema.String })
export type PacketRef = typeof PacketRef.Type

/** The run key (and issue id) of a packet: `<mission>.<packet>`. */
export const packetKey = (missionId: string, packetId: string): string => `${missionId}.${packetId}`

/** The branch a mission's finished packets are integrated onto. */
export const missionBranchOf = (missionId: string): string => `spec-orch/mission/${missionId}`

/** The plan has no packet with this id. */
export class PacketNotFound extends Schema.TaggedError<PacketNotFound>()("PacketNotFound", {
  missionId: Schema.String,
  packetId: Schema.String,
  file: Schema.String,
  known: Schema.Array(Schema.String)
}) {
  override get message(): string {
    const near = didYouMean(this.packetId, this.known)
    return (
      `mission ${this.missionId} has no packet "${this.packetId}" in ${this.file}` +
      (near !== undefined
        ? ` (did you mean "${near}"?)`
        : this.known.length > 0
          ? ` (packets: ${this.known.join(", ")})`
          : "")
    )
  }
}

/** The footprint a packet declares: `files_in_scope` allowed, `files_out_of_scope` forbidden. */
export const footprintOfPacket = (packet: WorkPacket): Footprint =>
  new Footprint({ allowed: packet.filesInScope, forbidden: packet.filesOutOfScope })

/**
 * The issue a packet's Run works on: the packet's title, prompt, criteria, verification and files,
 * with the mission's constraints and interface contracts. Text from plan.json is untrusted data, as
 * any issue text is. A packet with an empty builder prompt is asked for its title.
 */
export const packetIssue = (mission: Mission, packet: WorkPacket, planFile: string): Issue => {
  const section = packet.specSection.trim()
  const prompt =
    packet.builderPrompt.trim() !== ""
      ? packet.builderPrompt
      : `${packet.title}${section !== "" ? ` (spec section "${section}")` : ""}`
  return new Issue({
    id: makeIssueId(packetKey(mission.id, packet.id)),
    title: packet.title,
    summary: `Work packet "${packet.id}" of mission ${mission.id} (${mission.title})${section !== "" ? `, spec section "${section}"` : ""}.`,
    builderPrompt: prompt,
    acceptanceCriteria: packet.acceptanceCriteria.map(
      (text, i) => new AcceptanceCriterion({ id: `AC-${i + 1}`, text })
    ),
    constraints: [
      ...mission.constraints,
      ...(packet.filesOutOfScope.length > 0 ? [`Do not change: ${packet.filesOutOfScope.join(", ")}`] : [])
    ],
    filesToRead: [],
    targetFiles: packet.filesInScope,
    ...(mission.interfaceContracts.length > 0
      ? {
          architectureNotes: `Interface contracts of the mission:\n${mission.interfaceContracts.map((c) => `- ${c}`).join("\n")}`
        }
      : {}),
    // An empty list would mean "no verification"; a packet without commands uses the project's [verification].
    ...(packet.verification.length > 0 ? { verification: packet.verification } : {}),
    labels: [`mission:${mission.id}`],
    runClass: packet.runClass,
    mission: new MissionRef({
      missionId: mission.id,
      packetId: packet.id,
      ...(section !== "" ? { specSection: section } : {})
    }),
    origin: new IssueOrigin({ kind: "fixture", ref: planFile })
  })
}

/** A packet with everything its run needs: its issue, the mission (with its approval) and the plan. */
export interface LoadedPacket {
  readonly issue: Issue
  readonly packet: WorkPacket
  readonly mission: MissionView
  readonly plan: Plan
}

/**
 * Reads the mission and its plan and builds the packet's issue. Needs the contract plane's
 * `Missions` and the task plane's `Plans` in context; they are looked up, not required, so layers
 * that never run packets (tests of single-issue runs) need not provide them.
 */
export const loadPacket = (
  ref: PacketRef
): Effect.Effect<LoadedPacket, MissionsError | InvalidFile | FileMissing | PacketNotFound> =>
  Effect.gen(function* () {
    const missions = yield* Effect.serviceOption(Missions)
    const plans = yield* Effect.serviceOption(Plans)
    if (Option.isNone(missions) || Option.isNone(plans)) {
      return yield* Effect.die(
        new Error("running a mission packet needs the Missions and Plans services (the contract and task planes)")
      )
    }
    const mission = yield* missions.value.get(ref.missionId)
    const view = yield* plans.value.read(ref.missionId)
    const packets = view.plan.waves.flatMap((w) => w.packets)
    const packet = packets.find((p) => p.id === ref.packetId)
    if (packet === undefined) {
      return yield* new PacketNotFound({
        missionId: ref.missionId,
        packetId: ref.packetId,
        file: view.file,
        known: packets.map((p) => p.id)
      })
    }
    return { issue: packetIssue(mission.mission, packet, view.file), packet, mission, plan: view.plan }
  })

/** Why a mission's packets may not run yet, or `undefined` when its spec is approved and unchanged. */
export const missionNotReady = (view: MissionView): string | undefined => {
  const id = view.mission.id
  if (view.specState === "approved") return undefined
  return view.specState === "changed-since-approval"
    ? `the spec of mission ${id} (${view.mission.specPath}) changed after it was approved; review it and approve it again with \`spec-orch mission approve ${id}\``
    : `mission ${id} is not approved: review ${view.mission.specPath} and its plan (\`spec-orch plan show ${id}\`), then \`spec-orch mission approve ${id}\``
}
