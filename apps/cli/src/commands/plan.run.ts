/** Handlers for `spec-orch plan <mission>` and `spec-orch plan show <mission>`: write and show plans. */
import { formatProblem, type Plan, planToFile } from "@spec-orch/contract"
import { hasErrors, locatePlanProblems, Planner, Plans } from "@spec-orch/task"
import { Console, Effect } from "effect"
import { emit, setExitCode } from "../Output.js"
import { withPlanes } from "../Planes.js"

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`

/** The plan as a tree: waves, then packets with their dependencies and footprints. */
export const planTree = (plan: Plan): Array<string> => {
  const packets = plan.waves.reduce((n, w) => n + w.packets.length, 0)
  const lines = [
    [
      `Plan ${plan.id} for mission ${plan.missionId}`,
      ...(plan.status !== undefined ? [plan.status] : []),
      `${count(plan.waves.length, "wave")}, ${count(packets, "packet")}`,
      ...(plan.planner !== "" ? [`planner ${plan.planner}`] : []),
      ...(plan.createdAt !== "" ? [plan.createdAt] : [])
    ].join(" · ")
  ]
  for (const wave of plan.waves) {
    lines.push("", `Wave ${wave.index}${wave.description !== "" ? `  ${wave.description}` : ""}`)
    wave.packets.forEach((p, i) => {
      const last = i === wave.packets.length - 1
      const rail = last ? "    " : "│   "
      lines.push(`${last ? "└── " : "├── "}${p.id}  ${p.title}  [${p.runClass}]${p.trackerIssueId !== undefined ? `  ${p.trackerIssueId}` : ""}`)
      if (p.dependsOn.length > 0) lines.push(`${rail}after: ${p.dependsOn.join(", ")}`)
      lines.push(`${rail}files: ${p.filesInScope.length > 0 ? p.filesInScope.join(", ") : "(none listed: may change any file)"}`)
      if (p.filesOutOfScope.length > 0) lines.push(`${rail}not:   ${p.filesOutOfScope.join(", ")}`)
    })
  }
  return lines
}

export const plan = ({ mission, offline, force, json }: { mission: string; offline: boolean; force: boolean; json: boolean }) =>
  withPlanes(Effect.gen(function*() {
    const outcome = yield* (yield* Planner).plan(mission, { offline, force })
    for (const note of outcome.notes) yield* Console.error(`note: ${note}`)
    const located = locatePlanProblems(outcome.problems, outcome.file, JSON.stringify(planToFile(outcome.plan), null, 2))
    yield* emit(json, {
      file: outcome.file,
      planner: outcome.planner,
      attempts: outcome.attempts,
      notes: outcome.notes,
      moves: outcome.moves,
      replan: outcome.replan ?? null,
      problems: located,
      plan: planToFile(outcome.plan)
    }, () => {
      const packets = outcome.plan.waves.reduce((n, w) => n + w.packets.length, 0)
      return [
        `Wrote ${outcome.file}: ${count(outcome.plan.waves.length, "wave")}, ${count(packets, "packet")} (planner: ${outcome.planner}).`,
        ...(outcome.replan !== undefined
          ? [`Re-planned: kept ${outcome.replan.kept.length} finished, added ${outcome.replan.added.length}, removed ${outcome.replan.removed.length}.`]
          : []),
        ...outcome.moves.map((m) => `moved ${m.packetId} from wave ${m.from} to wave ${m.to}: ${m.reason}`),
        "",
        ...planTree(outcome.plan),
        ...(located.length > 0 ? ["", "Problems:", ...located.map((p) => `  ${formatProblem(p)}`)] : [])
      ]
    })
    if (hasErrors(outcome.problems)) yield* setExitCode(1)
  }))

export const show = ({ mission, json }: { mission: string; json: boolean }) =>
  withPlanes(Effect.gen(function*() {
    const check = yield* (yield* Plans).validate(mission)
    yield* emit(json, { file: check.view.file, problems: check.problems, plan: planToFile(check.view.plan) }, () => [
      check.view.file,
      ...planTree(check.view.plan),
      "",
      ...(check.problems.length > 0 ? ["Problems:", ...check.problems.map((p) => `  ${formatProblem(p)}`)] : ["No problems found."])
    ])
    if (check.problems.some((p) => p.severity === "error")) yield* setExitCode(1)
  }))
