/** Handlers for `spec-orch plan <mission>` and `spec-orch plan show <mission>`: write and show plans. */
import { describeModelCalls, formatProblem, Plan, planToFile, summarizeModelCalls } from "@spec-orch/contract"
import { packetKey } from "@spec-orch/control"
import { Learnings, ModelUsage } from "@spec-orch/harness"
import { hasErrors, locatePlanProblems, planNeedsApproval, Planner, Plans } from "@spec-orch/task"
import { Clock, Console, Effect, Option, Schema } from "effect"
import { commandTraceId, traced } from "../CommandTrace.js"
import { emit, setExitCode } from "../Output.js"
import { withPlanes } from "../Planes.js"
import { whoAmI } from "../Who.js"

/**
 * What memory learned about the mission, the issues of its current plan's packets and the files they
 * name, for the planner model (none when planning offline, or with `[memory] enabled = false`).
 */
export const plannerLearnings = (mission: string) =>
  Effect.gen(function* () {
    const current = yield* (yield* Plans).find(mission).pipe(Effect.orElseSucceed(() => undefined))
    const packets = current?.plan.waves.flatMap((w) => w.packets) ?? []
    return yield* (yield* Learnings).forMission({
      missionId: mission,
      issueIds: packets.flatMap((p) => [
        packetKey(mission, p.id),
        ...(p.trackerIssueId !== undefined ? [p.trackerIssueId] : [])
      ]),
      files: packets.flatMap((p) => p.filesInScope.filter((f) => !/[*?[{]/.test(f) && !f.endsWith("/")))
    })
  })

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
      lines.push(
        `${last ? "└── " : "├── "}${p.id}  ${p.title}  [${p.runClass}]${p.trackerIssueId !== undefined ? `  ${p.trackerIssueId}` : ""}`
      )
      if (p.dependsOn.length > 0) lines.push(`${rail}after: ${p.dependsOn.join(", ")}`)
      lines.push(
        `${rail}files: ${p.filesInScope.length > 0 ? p.filesInScope.join(", ") : "(none listed: may change any file)"}`
      )
      if (p.filesOutOfScope.length > 0) lines.push(`${rail}not:   ${p.filesOutOfScope.join(", ")}`)
    })
  }
  return lines
}

export const plan = ({
  mission,
  offline,
  force,
  json
}: {
  mission: string
  offline: boolean
  force: boolean
  json: boolean
}) =>
  withPlanes(
    Effect.gen(function* () {
      const usage = yield* ModelUsage
      const traceId = yield* commandTraceId("plan", mission)
      const planner = yield* Planner
      const learnings = planner.hasModel && !offline ? yield* plannerLearnings(mission) : []
      const outcome = yield* traced(
        "Plan",
        traceId,
        { "mission.id": mission },
        planner.plan(mission, { offline, force, learnings })
      ).pipe(
        // A planner that gave up still spent its requests: say what they took.
        Effect.tapError(() =>
          Effect.flatMap(usage.calls, (calls) => {
            const spent = summarizeModelCalls(calls)
            return spent === undefined
              ? Effect.void
              : Console.error(`note: the planner's model calls before it gave up: ${describeModelCalls(spent)}`)
          })
        )
      )
      for (const note of outcome.notes) yield* Console.error(`note: ${note}`)
      const located = locatePlanProblems(
        outcome.problems,
        outcome.file,
        JSON.stringify(planToFile(outcome.plan), null, 2)
      )
      yield* emit(
        json,
        {
          file: outcome.file,
          planner: outcome.planner,
          attempts: outcome.attempts,
          notes: outcome.notes,
          context_file: outcome.contextFile,
          learnings: outcome.learnings.map((l) => ({ id: l.id, source: l.source })),
          moves: outcome.moves,
          replan: outcome.replan ?? null,
          problems: located,
          plan: planToFile(outcome.plan)
        },
        () => {
          const packets = outcome.plan.waves.reduce((n, w) => n + w.packets.length, 0)
          return [
            `Wrote ${outcome.file}: ${count(outcome.plan.waves.length, "wave")}, ${count(packets, "packet")} (planner: ${outcome.planner}).`,
            ...(outcome.learnings.length > 0
              ? [
                  `The planner was told ${count(outcome.learnings.length, "learning")} from earlier runs (listed in ${outcome.contextFile}).`
                ]
              : []),
            ...(outcome.replan !== undefined
              ? [
                  `Re-planned: kept ${outcome.replan.kept.length} finished, added ${outcome.replan.added.length}, removed ${outcome.replan.removed.length}.`
                ]
              : []),
            ...outcome.moves.map((m) => `moved ${m.packetId} from wave ${m.from} to wave ${m.to}: ${m.reason}`),
            "",
            ...planTree(outcome.plan),
            ...(located.length > 0 ? ["", "Problems:", ...located.map((p) => `  ${formatProblem(p)}`)] : [])
          ]
        }
      )
      yield* Console.error(`note: trace: \`spec-orch trace show ${traceId}\``)
      if (hasErrors(outcome.problems)) yield* setExitCode(1)
    }).pipe(Effect.provide(ModelUsage.layer))
  )

export const show = ({ mission, json }: { mission: string; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const check = yield* (yield* Plans).validate(mission)
      yield* emit(json, { file: check.view.file, problems: check.problems, plan: planToFile(check.view.plan) }, () => [
        check.view.file,
        ...planTree(check.view.plan),
        "",
        ...(check.problems.length > 0
          ? ["Problems:", ...check.problems.map((p) => `  ${formatProblem(p)}`)]
          : ["No problems found."])
      ])
      if (check.problems.some((p) => p.severity === "error")) yield* setExitCode(1)
    })
  )

/** Marks the mission's plan approved by `who`, now, and writes it back; returns the file. */
export const approvePlan = (mission: string, who: string) =>
  Effect.gen(function* () {
    const plans = yield* Plans
    const view = yield* plans.read(mission)
    const at = new Date(yield* Clock.currentTimeMillis).toISOString()
    const plan = new Plan({
      ...view.plan,
      status: view.plan.status === undefined || view.plan.status === "draft" ? "approved" : view.plan.status,
      approvedBy: who,
      approvedAt: at
    })
    const file = yield* plans.write(plan)
    return { file, plan }
  })

export const approve = ({ mission, by, json }: { mission: string; by: Option.Option<string>; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const check = yield* (yield* Plans).validate(mission)
      const errors = check.problems.filter((p) => p.severity === "error")
      if (errors.length > 0) {
        yield* Console.error(
          [
            `spec-orch: the plan of mission ${mission} has ${errors.length} error${errors.length === 1 ? "" : "s"}; fix them before approving it:`,
            ...errors.map((p) => `  ${formatProblem(p)}`)
          ].join("\n")
        )
        return yield* setExitCode(1)
      }
      const who = yield* whoAmI(by)
      const { file, plan } = yield* approvePlan(mission, who)
      yield* emit(
        json,
        { file, approvedBy: plan.approvedBy, approvedAt: plan.approvedAt, plan: planToFile(plan) },
        () => `Approved ${file} for run-plan (by ${who}).`
      )
    })
  )

/** Why `run-plan` must not run the mission's plan yet (a model-written plan nobody approved), or `undefined`. */
export const unapproved = (mission: string) =>
  Effect.gen(function* () {
    const view = yield* (yield* Plans).find(mission).pipe(Effect.orElseSucceed(() => undefined))
    return view === undefined ? undefined : planNeedsApproval(view.plan)
  })

/** `run-plan` refused a model-written plan nobody approved. */
export class PlanNotApproved extends Schema.TaggedError<PlanNotApproved>()("PlanNotApproved", {
  reason: Schema.String
}) {
  override get message(): string {
    return this.reason
  }
}

/**
 * Before `run-plan` runs anything: a model-written plan must be approved. With `autoApprove` it is
 * approved now in the name of whoever runs the command (recorded in plan.json, and said on stderr).
 */
export const requireApprovedPlan = (mission: string, autoApprove: boolean) =>
  withPlanes(
    Effect.gen(function* () {
      const why = yield* unapproved(mission)
      if (why === undefined) return
      if (!autoApprove) return yield* new PlanNotApproved({ reason: why })
      const who = yield* whoAmI(Option.none())
      const { file } = yield* approvePlan(mission, who)
      yield* Console.error(`note: approved ${file} as ${who} (--auto-approve)`)
    })
  )
