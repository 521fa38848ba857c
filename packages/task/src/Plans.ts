/**
 * Plans on disk: `docs/specs/<mission>/plan.json`, in the original's format (see contract's
 * PlanFile). Reading validates the file (problems name file, line and key); `validate` also checks
 * the plan's rules and maps each problem to its line. Writes are atomic.
 */
import {
  atomicWriter,
  FileMissing,
  FileProblem,
  InvalidFile,
  Missions,
  parsePlanJson,
  type Plan,
  planToJson,
  Project,
  yamlLocator
} from "@spec-orch/contract"
import { Context, Effect, FileSystem, Layer, Path } from "effect"
import { missionCriteria } from "./OfflinePlanner.js"
import { locatePackets, outsideRepository, PlanProblem, validatePlan } from "./PlanValidation.js"
import { type Replanned, replanKeepingFinished } from "./Replan.js"

/** A plan read from disk. */
export interface PlanView {
  readonly plan: Plan
  /** Repository-relative path of plan.json. */
  readonly file: string
  /** Warnings found while loading (unknown keys); errors would have stopped the load. */
  readonly warnings: ReadonlyArray<FileProblem>
}

/** A plan with every problem found in it. */
export interface PlanCheck {
  readonly view: PlanView
  /** The rule problems (`validatePlan`), as data. */
  readonly planProblems: ReadonlyArray<PlanProblem>
  /** Load warnings and rule problems, each at its file, line and key. */
  readonly problems: ReadonlyArray<FileProblem>
}

/** Rule problems as file problems, located in the plan's text. */
export const locatePlanProblems = (
  problems: ReadonlyArray<PlanProblem>,
  file: string,
  text: string
): Array<FileProblem> => {
  const locate = yamlLocator(text)
  return problems.map((p) => {
    const pos = p.key === "" ? undefined : locate(p.key.split("."))
    return new FileProblem({
      file,
      ...(pos !== undefined ? { line: pos.line, column: pos.column } : {}),
      key: p.key,
      severity: p.severity,
      message: p.message,
      ...(p.hint !== undefined ? { hint: p.hint } : {})
    })
  })
}

/**
 * Why a plan may not run yet, or `undefined`: a plan a planner model wrote runs only once a person
 * approved it (`spec-orch plan approve`), as a spec does; offline and hand-written plans need no approval.
 */
export const planNeedsApproval = (plan: Plan): string | undefined =>
  plan.planner === "" || plan.planner === "offline" || plan.approvedBy !== undefined || plan.status === "approved"
    ? undefined
    : `the plan of mission ${plan.missionId} was written by the planner model ${plan.planner} and is not approved yet; ` +
      `review it (\`spec-orch plan show ${plan.missionId}\`) and approve it with \`spec-orch plan approve ${plan.missionId}\` ` +
      `(or run with \`spec-orch run-plan ${plan.missionId} --auto-approve\`)`

/** Reads, writes, validates and re-plans `plan.json` files. */
export class Plans extends Context.Service<
  Plans,
  {
    /** Repository-relative path of a mission's plan.json. */
    readonly fileOf: (missionId: string) => string
    /** The mission's plan, or `undefined` when it has none yet. */
    readonly find: (missionId: string) => Effect.Effect<PlanView | undefined, InvalidFile>
    /** The mission's plan; a missing file is `FileMissing`. */
    readonly read: (missionId: string) => Effect.Effect<PlanView, InvalidFile | FileMissing>
    /** Writes the plan to its mission's folder (atomically) and returns the file's repository-relative path. */
    readonly write: (plan: Plan) => Effect.Effect<string>
    /**
     * Reads the plan and checks its rules against the mission's acceptance criteria (mission.json,
     * else spec.md). Problems are data; only an unreadable plan fails.
     */
    readonly validate: (missionId: string) => Effect.Effect<PlanCheck, InvalidFile | FileMissing>
    /**
     * Replaces the mission's plan with `fresh`, keeping the packets in `finished` exactly as they are
     * in the current plan (see `replanKeepingFinished`); with no current plan, writes `fresh`.
     */
    /**
     * `files_in_scope` entries that stay inside the repository by name but lead out of it through a
     * symbolic link in the working tree (`vendor/lib` → `/etc`), as `path-outside-repository` errors.
     */
    readonly linkEscapes: (plan: Plan) => Effect.Effect<ReadonlyArray<PlanProblem>>
    readonly replan: (
      missionId: string,
      fresh: Plan,
      finished: Iterable<string>
    ) => Effect.Effect<Replanned & { readonly file: string }, InvalidFile>
  }
>()("@spec-orch/task/Plans") {
  static readonly layer: Layer.Layer<Plans, never, Project | Missions | FileSystem.FileSystem | Path.Path> =
    Layer.effect(
      Plans,
      Effect.gen(function* () {
        const project = yield* Project
        const missions = yield* Missions
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const writeAtomic = atomicWriter(fs, path)
        const fileOf = (missionId: string) => path.join("docs", "specs", missionId, "plan.json")

        const linkEscapes = Effect.fn("Plans.linkEscapes")(function* (plan: Plan) {
          const root = yield* fs.realPath(project.root).pipe(Effect.orElseSucceed(() => project.root))
          const inside = (p: string) => p === root || p.startsWith(root + path.sep)
          const problems: Array<PlanProblem> = []
          for (const l of locatePackets(plan)) {
            for (const [k, entry] of l.packet.filesInScope.entries()) {
              if (outsideRepository(entry) !== undefined) continue
              const segments = entry
                .replaceAll("\\", "/")
                .split("/")
                .filter((s) => s !== "" && s !== ".")
              const glob = segments.findIndex((s) => /[*?[{]/.test(s))
              const literal = glob < 0 ? segments : segments.slice(0, glob)
              for (let i = 1; i <= literal.length; i++) {
                const rel = literal.slice(0, i).join("/")
                const real = yield* fs.realPath(path.join(project.root, rel)).pipe(Effect.option)
                if (real._tag === "None") break
                if (inside(real.value)) continue
                problems.push(
                  new PlanProblem({
                    code: "path-outside-repository",
                    severity: "error",
                    message: `packet "${l.packet.id}" lists "${entry}" in files_in_scope, which leads outside the repository through the symbolic link "${rel}" (to ${real.value})`,
                    hint: "list the files inside the repository the packet may change; a link out of it is not part of the work",
                    key: `${l.key}.files_in_scope.${k}`,
                    packetIds: [l.packet.id]
                  })
                )
                break
              }
            }
          }
          return problems
        })

        const readText = Effect.fn("Plans.readText")(function* (missionId: string) {
          const file = fileOf(missionId)
          const text = yield* fs.readFileString(project.resolve(file)).pipe(Effect.option)
          if (text._tag === "None") return undefined
          const parsed = parsePlanJson(text.value, file, missionId)
          if (parsed.plan === undefined) return yield* new InvalidFile({ file, problems: parsed.problems })
          return { view: { plan: parsed.plan, file, warnings: parsed.problems } satisfies PlanView, text: text.value }
        })

        const find = Effect.fn("Plans.find")(function* (missionId: string) {
          return (yield* readText(missionId))?.view
        })

        const read = Effect.fn("Plans.read")(function* (missionId: string) {
          const found = yield* readText(missionId)
          if (found === undefined) {
            return yield* new FileMissing({
              file: fileOf(missionId),
              what: `plan of mission ${missionId}`,
              hint: `run \`spec-orch plan ${missionId}\` to write one`
            })
          }
          return found.view
        })

        const write = Effect.fn("Plans.write")(function* (plan: Plan) {
          const file = fileOf(plan.missionId)
          yield* writeAtomic(project.resolve(file), planToJson(plan))
          return file
        })

        const validate = Effect.fn("Plans.validate")(function* (missionId: string) {
          const found = yield* readText(missionId)
          if (found === undefined) {
            return yield* new FileMissing({
              file: fileOf(missionId),
              what: `plan of mission ${missionId}`,
              hint: `run \`spec-orch plan ${missionId}\` to write one`
            })
          }
          const mission = yield* missions.get(missionId).pipe(Effect.option)
          const spec = yield* missions.specText(missionId).pipe(Effect.orElseSucceed(() => ""))
          const criteria = missionCriteria(
            mission._tag === "Some" ? mission.value.mission.acceptanceCriteria : [],
            spec
          )
          const planProblems = [
            ...validatePlan(found.view.plan, { acceptanceCriteria: criteria }),
            ...(yield* linkEscapes(found.view.plan))
          ]
          const problems = [...found.view.warnings, ...locatePlanProblems(planProblems, found.view.file, found.text)]
          return { view: found.view, planProblems, problems } satisfies PlanCheck
        })

        const replan = Effect.fn("Plans.replan")(function* (
          missionId: string,
          fresh: Plan,
          finished: Iterable<string>
        ) {
          const current = yield* find(missionId)
          const result: Replanned =
            current === undefined
              ? {
                  plan: fresh,
                  kept: [],
                  removed: [],
                  added: fresh.waves.flatMap((w) => w.packets.map((p) => p.id)),
                  unknownFinished: [...finished],
                  moves: []
                }
              : replanKeepingFinished(current.plan, fresh, finished)
          const file = yield* write(result.plan)
          return { ...result, file }
        })

        return Plans.of({ fileOf, find, read, write, validate, linkEscapes, replan })
      })
    )
}
