/**
 * Where a mission stands: per packet, its latest run (not started, running, interrupted, succeeded,
 * blocked, failed, skipped because a dependency failed) and its integration onto the mission
 * branch, plus what `run-plan` would do next. Read-only: it needs the stores, never the engine, so
 * `mission status` works while `run-plan` runs.
 */
import {
  type FileMissing,
  type FileProblem,
  type InvalidFile,
  Missions,
  type MissionsError,
  type MissionStatus as MissionLifecycle,
  type Plan,
  type RunRecord
} from "@spec-orch/contract"
import { type BlockedPacket, Plans, scheduleWaves } from "@spec-orch/task"
import { Effect } from "effect"
import { ProcessToken } from "../run/EngineLock.js"
import { ownerAlive } from "../run/Runs.js"
import { RunStore } from "../run/RunStore.js"
import { type MissionRunRecord, MissionStore, type PacketIntegration } from "./MissionStore.js"
import { missionBranchOf, packetKey } from "./PacketIssue.js"

/** Where one packet stands. `blocked`: it ran and the gate said not mergeable. `skipped`: it cannot run because a dependency did not finish. */
export type PacketState =
  | "not-started"
  | "running"
  | "interrupted"
  | "succeeded"
  | "blocked"
  | "failed"
  | "waiting"
  | "skipped"

/** What `run-plan` would do with a packet now. */
export type PacketNext = "skip" | "run" | "resume" | "retry" | "integrate" | "busy"

/** One packet's status. */
export interface PacketStatus {
  readonly packetId: string
  readonly runKey: string
  /** wave_number of its wave. */
  readonly wave: number
  readonly title: string
  readonly dependsOn: ReadonlyArray<string>
  readonly filesInScope: ReadonlyArray<string>
  readonly state: PacketState
  /** Why it is failed, blocked, waiting or skipped (one sentence). */
  readonly reason?: string | undefined
  /** Its latest run, if any. */
  readonly run?: RunRecord | undefined
  readonly integration?: PacketIntegration | undefined
  readonly next: PacketNext
}

/** What is known about a packet from the stores. */
export interface PacketFacts {
  readonly run?: RunRecord | undefined
  /** Whether the process that owns a `running` run is alive. */
  readonly alive: boolean
  readonly integration?: PacketIntegration | undefined
}

/** A wave with its packets' status. */
export interface WaveStatus {
  readonly index: number
  readonly description: string
  readonly packets: ReadonlyArray<PacketStatus>
}

/** A mission's status. */
export interface MissionStatusView {
  readonly missionId: string
  readonly title: string
  /** mission.json's status (drafting, approved, in_progress, completed, failed, archived). */
  readonly status: MissionLifecycle
  readonly specState: "approved" | "unapproved" | "changed-since-approval"
  readonly planFile: string
  /** The mission branch (`spec-orch/mission/<id>`). */
  readonly branch: string
  /** The latest `run-plan`, and whether its process is alive. */
  readonly missionRun?: MissionRunRecord | undefined
  readonly missionRunAlive: boolean
  readonly waves: ReadonlyArray<WaveStatus>
  readonly counts: Readonly<Record<PacketState, number>>
  /** Packets whose integration conflicted or failed. */
  readonly integrationProblems: ReadonlyArray<PacketIntegration>
  /** Plan warnings and errors (file, line, key). */
  readonly problems: ReadonlyArray<FileProblem>
}

/** What the latest runs of a mission's packets cost: the agents' usage and the runs' model calls, summed. */
export interface MissionCost {
  /** Packets with a run. */
  readonly runs: number
  /** As the agents' adapters reported it; `costUsd` null = unknown (a run that used tokens reported no cost), absent = no run reported usage. */
  readonly agent:
    | { readonly inputTokens: number; readonly outputTokens: number; readonly costUsd: number | null }
    | undefined
  /** The runs' model calls (LLM reviewer, …); `costUsd` null = unknown (a model without prices), absent = none. */
  readonly models:
    | {
        readonly calls: number
        readonly inputTokens: number
        readonly outputTokens: number
        readonly costUsd: number | null
      }
    | undefined
}

/** Sums the cost of each packet's latest run. Pure. */
export const missionCost = (s: Pick<MissionStatusView, "waves">): MissionCost => {
  let runs = 0
  let agent: { inputTokens: number; outputTokens: number; costUsd: number | null } | undefined
  let models: { calls: number; inputTokens: number; outputTokens: number; costUsd: number | null } | undefined
  for (const p of s.waves.flatMap((w) => w.packets)) {
    const r = p.run
    if (r === undefined) continue
    runs++
    if (r.inputTokens !== undefined || r.costUsd !== undefined) {
      agent ??= { inputTokens: 0, outputTokens: 0, costUsd: 0 }
      agent.inputTokens += r.inputTokens ?? 0
      agent.outputTokens += r.outputTokens ?? 0
      agent.costUsd = agent.costUsd === null || r.costUsd === undefined ? null : agent.costUsd + r.costUsd
    }
    const m = r.modelCalls
    if (m !== undefined && m.calls > 0) {
      models ??= { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 }
      models.calls += m.calls
      models.inputTokens += m.inputTokens
      models.outputTokens += m.outputTokens
      models.costUsd = models.costUsd === null || m.costUsd === null ? null : models.costUsd + m.costUsd
    }
  }
  return { runs, agent, models }
}

const INTEGRATED = new Set(["merged", "up-to-date"])

const stateOf = (f: PacketFacts | undefined): PacketState => {
  const r = f?.run
  if (r === undefined) return "not-started"
  switch (r.status) {
    case "succeeded":
      return "succeeded"
    case "blocked":
      return "blocked"
    case "failed":
      return "failed"
    case "waiting":
      return "waiting"
    case "running":
      return f!.alive ? "running" : "interrupted"
    default:
      return "interrupted"
  }
}

/** How a packet that stops others reads in a sentence: `"api" failed`, `"api" could not be integrated (…)`. */
export const describeStopper = (
  id: string,
  state: PacketState | RunRecord["status"],
  integration: PacketIntegration | undefined
): string =>
  state === "succeeded" && integration !== undefined && !INTEGRATED.has(integration.outcome)
    ? `"${id}" could not be integrated (${integration.outcome === "conflict" ? `conflict in ${integration.files.join(", ")}` : "merge failed"})`
    : `"${id}" ${state === "blocked" ? "was blocked by the gate" : state === "waiting" ? "is waiting" : "failed"}`

/** Why a packet the schedule blocked will not run: its stopped dependencies, or the halted mission. */
export const skipReason = (
  b: BlockedPacket,
  failedRoots: ReadonlyArray<string>,
  describe: (id: string) => string
): string => {
  if (b.reason === "dependency-failed")
    return `${b.failedDependencies.length === 1 ? "dependency" : "dependencies"} ${b.failedDependencies.map(describe).join(", ")}`
  if (b.reason === "mission-halted")
    return `the mission stopped (--stop-on-failure) after ${failedRoots.map(describe).join(", ")}`
  return b.message
}

/**
 * Each packet's state from the facts (pure). A succeeded packet whose integration conflicted counts
 * as not finished for its dependants; `stopOnFailure` makes every failure stop the whole mission.
 */
export const derivePacketStatus = (
  plan: Plan,
  missionId: string,
  facts: ReadonlyMap<string, PacketFacts>,
  stopOnFailure: boolean
): ReadonlyArray<WaveStatus> => {
  const states = new Map<string, PacketState>()
  const finished: Array<string> = []
  const failed: Array<string> = []
  const running: Array<string> = []
  for (const w of plan.waves) {
    for (const p of w.packets) {
      const f = facts.get(p.id)
      const state = stateOf(f)
      states.set(p.id, state)
      const integration = f?.integration
      const integrationFailed =
        integration !== undefined && integration.runId === f?.run?.runId && !INTEGRATED.has(integration.outcome)
      if (state === "succeeded" && !integrationFailed) finished.push(p.id)
      else if (state === "succeeded" || state === "failed" || state === "blocked" || state === "waiting")
        failed.push(p.id)
      else if (state === "running" || state === "interrupted") running.push(p.id)
    }
  }
  const schedule = scheduleWaves(plan, { finished, failed, running, stopDependantsOnly: !stopOnFailure })
  const blocked = new Map(schedule.blocked.map((b) => [b.packetId, b]))
  return plan.waves.map((w) => ({
    index: w.index,
    description: w.description,
    packets: w.packets.map((p): PacketStatus => {
      const f = facts.get(p.id)
      let state = states.get(p.id)!
      let reason: string | undefined
      const b = blocked.get(p.id)
      if (state === "not-started" && b !== undefined) {
        state = "skipped"
        reason = skipReason(b, failed, (d) => {
          const fd = facts.get(d)
          return describeStopper(
            d,
            states.get(d) ?? "failed",
            fd?.integration !== undefined && fd.integration.runId === fd.run?.runId ? fd.integration : undefined
          )
        })
      } else if (state === "failed" || state === "blocked" || state === "waiting") reason = f?.run?.message
      else if (state === "interrupted")
        reason = `${f?.run?.status === "cancelled" ? "cancelled" : "its process is gone"}; \`spec-orch run-plan ${missionId}\` resumes it at ${f?.run?.stage}`
      const integration =
        f?.integration !== undefined && f.integration.runId === f.run?.runId ? f.integration : undefined
      const next: PacketNext =
        state === "succeeded"
          ? integration !== undefined && INTEGRATED.has(integration.outcome)
            ? "skip"
            : "integrate"
          : state === "running"
            ? "busy"
            : state === "interrupted"
              ? "resume"
              : state === "failed" || state === "blocked" || state === "waiting"
                ? "retry"
                : "run"
      return {
        packetId: p.id,
        runKey: packetKey(missionId, p.id),
        wave: w.index,
        title: p.title,
        dependsOn: p.dependsOn,
        filesInScope: p.filesInScope,
        state,
        ...(reason !== undefined ? { reason } : {}),
        ...(f?.run !== undefined ? { run: f.run } : {}),
        ...(integration !== undefined ? { integration } : {}),
        next
      }
    })
  }))
}

/** Reads a mission, its plan and what the stores know, and derives its status. */
export const missionStatus = Effect.fn("missionStatus")(function* (
  missionId: string
): Effect.fn.Return<
  MissionStatusView,
  MissionsError | InvalidFile | FileMissing,
  Missions | Plans | RunStore | MissionStore | ProcessToken
> {
  const view = yield* Missions.use((m) => m.get(missionId))
  const check = yield* Plans.use((p) => p.validate(missionId))
  const runs = yield* RunStore
  const store = yield* MissionStore
  const me = yield* ProcessToken
  const plan = check.view.plan
  const integrations = yield* store.integrations(missionId)
  const facts = new Map<string, PacketFacts>()
  for (const p of plan.waves.flatMap((w) => w.packets)) {
    const run = yield* runs.latestForKey(packetKey(missionId, p.id))
    const alive =
      run !== undefined && run.status === "running" ? ownerAlive(yield* runs.owner(run.runId), me.host) : false
    facts.set(p.id, { run, alive, integration: integrations.get(p.id) })
  }
  const missionRun = yield* store.run(missionId)
  const missionRunAlive =
    missionRun !== undefined && missionRun.outcome === "running" && ownerAlive(missionRun.owner, me.host)
  const waves = derivePacketStatus(plan, missionId, facts, missionRun?.stopOnFailure ?? false)
  const counts: Record<PacketState, number> = {
    "not-started": 0,
    running: 0,
    interrupted: 0,
    succeeded: 0,
    blocked: 0,
    failed: 0,
    waiting: 0,
    skipped: 0
  }
  for (const w of waves) for (const p of w.packets) counts[p.state]++
  return {
    missionId,
    title: view.mission.title,
    status: view.mission.status,
    specState: view.specState,
    planFile: check.view.file,
    branch: missionBranchOf(missionId),
    ...(missionRun !== undefined ? { missionRun } : {}),
    missionRunAlive,
    waves,
    counts,
    integrationProblems: waves.flatMap((w) =>
      w.packets.flatMap((p) =>
        p.integration !== undefined && !INTEGRATED.has(p.integration.outcome) ? [p.integration] : []
      )
    ),
    problems: check.problems
  } satisfies MissionStatusView
})
