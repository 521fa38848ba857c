/** Handlers for `spec-orch mission create|list|show|approve`: missions under docs/specs/<id>/. */
import { Missions, type MissionView } from "@spec-orch/contract"
import { Console, Effect, type Option } from "effect"
import { emit, table } from "../Output.js"
import { withContract } from "../Planes.js"
import { whoAmI } from "../Who.js"

/** A mission as plain JSON. */
export const missionJson = (v: MissionView) => ({
  id: v.mission.id,
  title: v.mission.title,
  status: v.mission.status,
  specPath: v.mission.specPath,
  specState: v.specState,
  createdAt: v.mission.createdAt,
  approvedAt: v.mission.approvedAt ?? null,
  approvedBy: v.mission.approvedBy ?? null
})

export const create = ({ title, id, json }: { title: string; id: Option.Option<string>; json: boolean }) =>
  withContract(
    Effect.gen(function* () {
      const missions = yield* Missions
      const v = yield* missions.create({ title, id: id._tag === "Some" ? id.value : undefined })
      yield* emit(json, missionJson(v), () => [
        `Created mission ${v.mission.id} (drafting).`,
        `Write the spec in ${v.mission.specPath}, then run \`spec-orch mission approve ${v.mission.id}\`.`
      ])
    })
  )

export const list = ({ json }: { json: boolean }) =>
  withContract(
    Effect.gen(function* () {
      const { missions, problems } = yield* (yield* Missions).list
      yield* emit(json, { missions: missions.map(missionJson), problems }, () =>
        missions.length === 0
          ? 'No missions. Create one with `spec-orch mission create "<title>"`.'
          : table(
              ["ID", "STATUS", "SPEC", "TITLE"],
              missions.map((v) => [v.mission.id, v.mission.status, v.specState, v.mission.title])
            )
      )
      for (const p of problems)
        yield* Console.error(`warning: ${p.file}${p.line ? `:${p.line}` : ""}: ${p.key}: ${p.message}`)
    })
  )

export const show = ({ mission, json }: { mission: string; json: boolean }) =>
  withContract(
    Effect.gen(function* () {
      const missions = yield* Missions
      const v = yield* missions.get(mission)
      const spec = yield* missions.specText(mission)
      yield* emit(json, { ...missionJson(v), spec }, () => [
        `${v.mission.id}: ${v.mission.title}`,
        `status: ${v.mission.status}   spec: ${v.specState}${v.mission.approvedBy ? ` (approved by ${v.mission.approvedBy} at ${v.mission.approvedAt})` : ""}`,
        ...(v.specState === "changed-since-approval"
          ? [`warning: ${v.mission.specPath} changed after approval; approve it again to freeze the new text`]
          : []),
        "",
        spec.trimEnd()
      ])
    })
  )

export const approve = ({ mission, by, json }: { mission: string; by: Option.Option<string>; json: boolean }) =>
  withContract(
    Effect.gen(function* () {
      const who = yield* whoAmI(by)
      const v = yield* (yield* Missions).approve(mission, who)
      yield* emit(
        json,
        missionJson(v),
        () => `Approved mission ${v.mission.id}: spec frozen by ${who} (sha256 ${v.mission.specHash?.slice(0, 12)}).`
      )
    })
  )
