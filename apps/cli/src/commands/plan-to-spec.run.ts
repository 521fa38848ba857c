/** Handler for `spec-orch plan-to-spec <mission>`. */
import { Missions, Project } from "@spec-orch/contract"
import { Plans, specFromPlan } from "@spec-orch/task"
import { Effect, FileSystem } from "effect"
import { emit } from "../Output.js"
import { withContract } from "../Planes.js"

export const planToSpec = ({ mission, dryRun, json }: { mission: string; dryRun: boolean; json: boolean }) =>
  withContract(
    Effect.gen(function* () {
      const missions = yield* Missions
      const view = yield* missions.get(mission)
      const plan = yield* (yield* Plans).read(mission)
      const spec = yield* missions.specText(mission)
      const r = specFromPlan(spec, plan.plan)
      const file = view.mission.specPath
      if (r.changed && !dryRun) {
        const fs = yield* FileSystem.FileSystem
        yield* fs.writeFileString((yield* Project).resolve(file), r.text).pipe(Effect.orDie)
      }
      const approved = r.changed && view.specState === "approved"
      yield* emit(
        json,
        {
          file,
          planFile: plan.file,
          changed: r.changed,
          dryRun,
          criteriaAdded: r.criteriaAdded,
          packets: r.packets,
          ...(dryRun ? { text: r.text } : {})
        },
        () =>
          dryRun
            ? [`Dry run: nothing written. ${file} would ${r.changed ? "be" : "stay"}:`, "", r.text.trimEnd()]
            : !r.changed
              ? `${file} is up to date with ${plan.file}.`
              : [
                  `Updated ${file} from ${plan.file}: ${r.criteriaAdded.length} acceptance criteri${r.criteriaAdded.length === 1 ? "on" : "a"} added, ${r.packets} packet${r.packets === 1 ? "" : "s"} listed.`,
                  ...r.criteriaAdded.map((c) => `  + ${c}`),
                  ...(approved
                    ? [
                        `The mission was approved: its spec changed, so approve it again with \`spec-orch mission approve ${mission}\`.`
                      ]
                    : [])
                ]
      )
    }).pipe(Effect.provide(Plans.layer))
  )
