/**
 * The `docs/specs/<mission>/plan.json` format: the original spec-orch's plan file, loaded unchanged,
 * plus two keys of ours the original ignores (`planner`, `created_at`). Parsing is pure; problems
 * name the file, line and key. A plan read and written back keeps the original's shape and order.
 */
import * as z from "zod/mini"
import { CommandSpec } from "./ConfigFile.js"
import { FileProblem } from "./FileProblem.js"
import { makeMissionId, makePacketId } from "./Ids.js"
import { RunClass, VerificationStep } from "./Issue.js"
import { positionOf, yamlLocator } from "./Locations.js"
import { validateWith } from "./Validation.js"
import { Plan, PlanStatus, Wave, WorkPacket } from "./Plan.js"

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/
const packetId = z
  .string()
  .check(z.regex(ID_PATTERN, "a packet id is letters, digits, '_', '-' or '.', starting with a letter or digit"))

const verificationCommands = z.union([
  z.record(
    z.string(),
    z.union([
      CommandSpec,
      z.object({ command: CommandSpec, timeout_seconds: z.optional(z.number().check(z.positive())) })
    ])
  ),
  /** A plain list of shell strings; steps are named `step-1`, `step-2`, … */
  z.array(z.string())
])

/** One work packet as the file writes it. */
export const WorkPacketFile = z.object({
  packet_id: packetId,
  title: z.string().check(z.minLength(1, "must not be empty")),
  spec_section: z._default(z.string(), ""),
  run_class: z._default(z.enum(RunClass.literals), "feature"),
  files_in_scope: z._default(z.array(z.string()), []),
  files_out_of_scope: z._default(z.array(z.string()), []),
  depends_on: z._default(z.array(packetId), []),
  acceptance_criteria: z._default(z.array(z.string()), []),
  verification_commands: z._default(verificationCommands, {}),
  builder_prompt: z._default(z.nullable(z.string()), ""),
  linear_issue_id: z.optional(z.nullable(z.string()))
})

/** One wave as the file writes it. */
export const WaveFile = z.object({
  wave_number: z
    .number()
    .check(z.int({ message: "must be a whole number" }))
    .check(z.nonnegative({ message: "must be 0 or more" })),
  description: z._default(z.string(), ""),
  work_packets: z._default(z.array(WorkPacketFile), [])
})

/** The whole `plan.json` (snake_case, as the original writes it). */
export const PlanFile = z.object({
  plan_id: z.string().check(z.minLength(1, "must not be empty")),
  mission_id: z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,127}$/, "a mission id is a lowercase slug")),
  status: z.optional(z.enum(PlanStatus.literals)),
  /** Ours: who approved the plan for `run-plan`, and when (ISO 8601). */
  approved_by: z.optional(z.string()),
  approved_at: z.optional(z.string()),
  /** Ours: `offline` or the model chain that wrote the plan. */
  planner: z.optional(z.string()),
  /** Ours: which model of the planner's chain answered, after how many calls, fallbacks and repair. */
  planner_model: z.optional(z.string()),
  /** Ours: what the planner's model call took (`cost_usd` null = unknown: a model without prices). */
  planner_usage: z.optional(
    z.object({
      calls: z.number().check(z.int()).check(z.nonnegative()),
      input_tokens: z.number().check(z.nonnegative()),
      output_tokens: z.number().check(z.nonnegative()),
      cost_usd: z.nullable(z.number().check(z.nonnegative())),
      latency_ms: z.number().check(z.nonnegative()),
      /** Each HTTP request of the call, in order. */
      requests: z.optional(
        z.array(
          z.object({
            model: z.string(),
            model_name: z.string(),
            provider: z.string(),
            attempt: z.number().check(z.int()).check(z.positive()),
            outcome: z.string(),
            http_status: z.optional(z.number().check(z.int())),
            latency_ms: z.number().check(z.nonnegative()),
            input_tokens: z.number().check(z.nonnegative()),
            output_tokens: z.number().check(z.nonnegative()),
            cost_usd: z.optional(z.number().check(z.nonnegative())),
            repair: z.optional(z.boolean()),
            fallback_reason: z.optional(z.string())
          })
        )
      )
    })
  ),
  /** Ours: when the plan was written (ISO 8601). */
  created_at: z.optional(z.string()),
  waves: z.array(WaveFile)
})
export type PlanFile = z.output<typeof PlanFile>

const toSteps = (v: z.output<typeof verificationCommands>): Array<VerificationStep> =>
  Array.isArray(v)
    ? v.map((command, i) => new VerificationStep({ name: `step-${i + 1}`, command }))
    : Object.entries(v).map(([name, entry]) =>
        typeof entry === "string" || Array.isArray(entry)
          ? new VerificationStep({ name, command: entry })
          : new VerificationStep({
              name,
              command: entry.command,
              ...(entry.timeout_seconds !== undefined ? { timeoutSeconds: entry.timeout_seconds } : {})
            })
      )

/** Builds the domain Plan from a validated file; waves and packets keep their file order. */
export const planFromFile = (f: PlanFile): Plan =>
  new Plan({
    id: f.plan_id,
    missionId: makeMissionId(f.mission_id),
    ...(f.status !== undefined ? { status: f.status } : {}),
    ...(f.approved_by !== undefined ? { approvedBy: f.approved_by } : {}),
    ...(f.approved_at !== undefined ? { approvedAt: f.approved_at } : {}),
    planner: f.planner ?? "",
    ...(f.planner_model !== undefined ? { plannerModel: f.planner_model } : {}),
    ...(f.planner_usage !== undefined
      ? {
          plannerUsage: {
            calls: f.planner_usage.calls,
            inputTokens: f.planner_usage.input_tokens,
            outputTokens: f.planner_usage.output_tokens,
            costUsd: f.planner_usage.cost_usd,
            latencyMs: f.planner_usage.latency_ms,
            ...(f.planner_usage.requests !== undefined
              ? {
                  requests: f.planner_usage.requests.map((r) => ({
                    model: r.model,
                    modelName: r.model_name,
                    provider: r.provider,
                    attempt: r.attempt,
                    outcome: r.outcome,
                    ...(r.http_status !== undefined ? { httpStatus: r.http_status } : {}),
                    latencyMs: r.latency_ms,
                    inputTokens: r.input_tokens,
                    outputTokens: r.output_tokens,
                    ...(r.cost_usd !== undefined ? { costUsd: r.cost_usd } : {}),
                    ...(r.repair !== undefined ? { repair: r.repair } : {}),
                    ...(r.fallback_reason !== undefined ? { fallbackReason: r.fallback_reason } : {})
                  }))
                }
              : {})
          }
        }
      : {}),
    createdAt: f.created_at ?? "",
    waves: f.waves.map(
      (w) =>
        new Wave({
          index: w.wave_number,
          description: w.description,
          packets: w.work_packets.map(
            (p) =>
              new WorkPacket({
                id: makePacketId(p.packet_id),
                title: p.title,
                specSection: p.spec_section,
                runClass: p.run_class,
                filesInScope: p.files_in_scope,
                filesOutOfScope: p.files_out_of_scope,
                dependsOn: p.depends_on.map((d) => makePacketId(d)),
                acceptanceCriteria: p.acceptance_criteria,
                verification: toSteps(p.verification_commands),
                builderPrompt: p.builder_prompt ?? "",
                ...(typeof p.linear_issue_id === "string" ? { trackerIssueId: p.linear_issue_id } : {})
              })
          )
        })
    )
  })

/**
 * The file form of a plan, keys in the original's order. `planner` and `created_at` are written
 * only when known, so an original plan read and written back is unchanged.
 */
export const planToFile = (plan: Plan) => ({
  plan_id: plan.id,
  mission_id: plan.missionId,
  ...(plan.status !== undefined ? { status: plan.status } : {}),
  ...(plan.approvedBy !== undefined ? { approved_by: plan.approvedBy } : {}),
  ...(plan.approvedAt !== undefined ? { approved_at: plan.approvedAt } : {}),
  ...(plan.planner !== "" ? { planner: plan.planner } : {}),
  ...(plan.plannerModel !== undefined ? { planner_model: plan.plannerModel } : {}),
  ...(plan.plannerUsage !== undefined
    ? {
        planner_usage: {
          calls: plan.plannerUsage.calls,
          input_tokens: plan.plannerUsage.inputTokens,
          output_tokens: plan.plannerUsage.outputTokens,
          cost_usd: plan.plannerUsage.costUsd,
          latency_ms: plan.plannerUsage.latencyMs,
          ...(plan.plannerUsage.requests !== undefined
            ? {
                requests: plan.plannerUsage.requests.map((r) => ({
                  model: r.model,
                  model_name: r.modelName,
                  provider: r.provider,
                  attempt: r.attempt,
                  outcome: r.outcome,
                  ...(r.httpStatus !== undefined ? { http_status: r.httpStatus } : {}),
                  latency_ms: r.latencyMs,
                  input_tokens: r.inputTokens,
                  output_tokens: r.outputTokens,
                  ...(r.costUsd !== undefined ? { cost_usd: r.costUsd } : {}),
                  ...(r.repair !== undefined ? { repair: r.repair } : {}),
                  ...(r.fallbackReason !== undefined ? { fallback_reason: r.fallbackReason } : {})
                }))
              }
            : {})
        }
      }
    : {}),
  ...(plan.createdAt !== "" ? { created_at: plan.createdAt } : {}),
  waves: plan.waves.map((w) => ({
    wave_number: w.index,
    description: w.description,
    work_packets: w.packets.map((p) => ({
      packet_id: p.id,
      title: p.title,
      spec_section: p.specSection,
      run_class: p.runClass,
      files_in_scope: p.filesInScope,
      files_out_of_scope: p.filesOutOfScope,
      depends_on: p.dependsOn,
      acceptance_criteria: p.acceptanceCriteria,
      verification_commands: Object.fromEntries(
        p.verification.map((s) => [
          s.name,
          s.timeoutSeconds !== undefined ? { command: s.command, timeout_seconds: s.timeoutSeconds } : s.command
        ])
      ),
      builder_prompt: p.builderPrompt,
      linear_issue_id: p.trackerIssueId ?? null
    }))
  }))
})

/** The text of `plan.json` for a plan (two-space JSON, trailing newline). */
export const planToJson = (plan: Plan): string => `${JSON.stringify(planToFile(plan), null, 2)}\n`

export interface ParsedPlan {
  readonly plan?: Plan
  readonly problems: ReadonlyArray<FileProblem>
}

/**
 * Parses `plan.json` text. With `expectedMissionId` (the mission directory's name), a plan that
 * names another mission is refused. Unknown keys are warnings; the plan still loads.
 */
export const parsePlanJson = (text: string, file: string, expectedMissionId?: string): ParsedPlan => {
  const fail = (message: string, key = "", at?: { line: number; column: number }, hint?: string): ParsedPlan => ({
    problems: [
      new FileProblem({ file, key, severity: "error", message, ...(at ?? {}), ...(hint !== undefined ? { hint } : {}) })
    ]
  })
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (e) {
    const message = String((e as Error).message)
    const offset = /position (\d+)/.exec(message)
    return fail(
      `not valid JSON: ${message.replace(/ in JSON at position \d+.*$/, "")}`,
      "",
      offset ? positionOf(text, Number(offset[1])) : undefined
    )
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    return fail("a plan file must hold one JSON object", "", { line: 1, column: 1 })
  const locate = yamlLocator(text)
  const { value, problems } = validateWith(PlanFile, raw, file, locate)
  if (value === undefined) return { problems }
  if (expectedMissionId !== undefined && value.mission_id !== expectedMissionId) {
    return {
      problems: [
        ...problems,
        ...fail(
          `is "${value.mission_id}" but the plan is in the folder of mission ${expectedMissionId}`,
          "mission_id",
          locate(["mission_id"]),
          `set mission_id to "${expectedMissionId}"`
        ).problems
      ]
    }
  }
  return { plan: planFromFile(value), problems }
}
