/** Handlers for `spec-orch run-plan` and `spec-orch mission status`: run a mission's plan and show where it stands. */
import {
  checkMission,
  type MissionEvent,
  MissionRunner,
  missionCost,
  missionStatus as readMissionStatus,
  type MissionStatusView,
  type PacketStatus,
  type RunEvent,
  RunStore
} from "@spec-orch/control"
import { formatModelCost } from "@spec-orch/contract"
import { Effect, Fiber, Option, Stream } from "effect"
import { emit, ExitCode, setExitCode, table } from "../Output.js"
import { withEngine, withPlanes } from "../Planes.js"
import { runJson } from "./run.run.js"
import { preflight } from "./preflight.js"
import { requireApprovedPlan, unapproved } from "./plan.run.js"

const opt = <A>(o: Option.Option<A>) => Option.getOrUndefined(o)
const short = (sha: string | undefined) => (sha ?? "").slice(0, 10)

const ICON: Record<PacketStatus["state"], string> = {
  "not-started": "·",
  running: "▶",
  interrupted: "‖",
  succeeded: "✓",
  blocked: "✗",
  failed: "✗",
  waiting: "?",
  skipped: "⊘"
}

/** A mission status as plain JSON. */
export const missionStatusJson = (s: MissionStatusView) => ({
  missionId: s.missionId,
  title: s.title,
  status: s.status,
  specState: s.specState,
  planFile: s.planFile,
  branch: s.branch,
  worktree: s.missionRun?.worktree ?? null,
  missionRun:
    s.missionRun === undefined
      ? null
      : {
          outcome: s.missionRun.outcome === "running" && !s.missionRunAlive ? "interrupted" : s.missionRun.outcome,
          concurrency: s.missionRun.concurrency,
          stopOnFailure: s.missionRun.stopOnFailure,
          startedAt: s.missionRun.startedAt,
          finishedAt: s.missionRun.finishedAt ?? null,
          message: s.missionRun.message ?? null
        },
  counts: s.counts,
  waves: s.waves.map((w) => ({
    index: w.index,
    description: w.description,
    packets: w.packets.map((p) => ({
      packetId: p.packetId,
      runKey: p.runKey,
      title: p.title,
      dependsOn: p.dependsOn,
      filesInScope: p.filesInScope,
      state: p.state,
      reason: p.reason ?? null,
      next: p.next,
      run: p.run === undefined ? null : runJson(p.run),
      integration:
        p.integration === undefined
          ? null
          : {
              outcome: p.integration.outcome,
              commit: p.integration.commit ?? null,
              tip: p.integration.tip ?? null,
              files: p.integration.files,
              message: p.integration.message,
              at: p.integration.at
            }
    }))
  })),
  integrationProblems: s.integrationProblems.map((i) => ({
    packetId: i.packetId,
    outcome: i.outcome,
    files: i.files,
    message: i.message
  })),
  problems: s.problems,
  /** The summed cost of each packet's latest run (`costUsd` null = unknown; `agent`/`models` null = nothing reported). */
  cost: (({ runs, agent, models }) => ({ runs, agent: agent ?? null, models: models ?? null }))(missionCost(s))
})

/** `cost of the packets' latest runs (2): agent $0.02 (2000 in / 400 out tokens) · models $0.0031 (4 calls, …)`, or nothing before any run. */
const costLine = (s: MissionStatusView): Array<string> => {
  const c = missionCost(s)
  if (c.runs === 0) return []
  const agent =
    c.agent === undefined
      ? "agent usage not reported"
      : `agent ${formatModelCost(c.agent.costUsd)} (${c.agent.inputTokens} in / ${c.agent.outputTokens} out tokens)`
  const models =
    c.models === undefined
      ? "no model calls"
      : `models ${formatModelCost(c.models.costUsd)} (${c.models.calls} call${c.models.calls === 1 ? "" : "s"}, ${c.models.inputTokens} in / ${c.models.outputTokens} out tokens)`
  return [`cost of the packets' latest runs (${c.runs}): ${agent} · ${models}`]
}

const integrationText = (p: PacketStatus): string => {
  const i = p.integration
  if (i === undefined) return p.state === "succeeded" ? "not merged yet" : ""
  switch (i.outcome) {
    case "merged":
      return `merged @ ${short(i.commit)}`
    case "up-to-date":
      return "on the mission branch"
    case "conflict":
      return `CONFLICT in ${i.files.join(", ")}`
    default:
      return `merge failed`
  }
}

const packetDetail = (p: PacketStatus): string => {
  if (p.state === "succeeded") return integrationText(p)
  if (p.state === "running") return `at ${p.run?.stage ?? "?"} (${p.run?.runId})`
  return p.reason ?? ""
}

/** The status as text: header, one table per wave, totals, integration problems. */
const statusLines = (s: MissionStatusView): Array<string> => {
  const total = s.waves.reduce((n, w) => n + w.packets.length, 0)
  const counts = Object.entries(s.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ")
  const run = s.missionRun
  const runLine =
    run === undefined
      ? "run-plan: never ran"
      : run.outcome === "running"
        ? s.missionRunAlive
          ? `run-plan: running now (since ${run.startedAt}, up to ${run.concurrency} at once)`
          : `run-plan: interrupted (its process is gone); \`spec-orch run-plan ${s.missionId}\` resumes it`
        : `run-plan: ${run.outcome} at ${run.finishedAt ?? run.updatedAt}${run.message ? ` — ${run.message}` : ""}`
  return [
    `${s.missionId}: ${s.title}`,
    `status: ${s.status}   spec: ${s.specState}   plan: ${s.planFile}`,
    `branch: ${s.branch}${run?.worktree !== undefined ? `   worktree: ${run.worktree}` : ""}`,
    runLine,
    ...s.waves.flatMap((w) => [
      "",
      `Wave ${w.index}${w.description ? `  ${w.description}` : ""}`,
      table(
        ["", "PACKET", "STATE", "RUN", "DETAIL"],
        w.packets.map((p) => [ICON[p.state], p.packetId, p.state, p.run?.runId ?? "-", packetDetail(p)])
      )
        .split("\n")
        .map((l) => `  ${l}`)
        .join("\n")
    ]),
    "",
    `${total} packet${total === 1 ? "" : "s"}: ${counts || "none"}`,
    ...costLine(s),
    ...s.integrationProblems.map((i) => `integration of ${i.packetId}: ${i.message}`),
    ...s.problems.map(
      (p) => `${p.severity}: ${p.file}${p.line !== undefined ? `:${p.line}` : ""} ${p.key}: ${p.message}`
    )
  ]
}

const nextText = (p: PacketStatus): string => {
  const r = p.run
  switch (p.next) {
    case "skip":
      return `skip: finished (${r?.runId}), ${integrationText(p)}`
    case "integrate":
      return `integrate only: finished (${r?.runId}), ${integrationText(p)}`
    case "resume":
      return `resume ${r?.runId} at ${r?.stage}`
    case "retry":
      return `retry as attempt ${(r?.attempt ?? 0) + 1} (attempt ${r?.attempt} ${p.state}${p.reason ? `: ${p.reason}` : ""})`
    case "busy":
      return `running now (${r?.runId} at ${r?.stage})`
    default:
      return p.dependsOn.length > 0 ? `run after ${p.dependsOn.join(", ")}` : "run"
  }
}

/** `spec-orch mission status <mission>`. */
export const missionStatus = (input: { mission: string; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const s = yield* readMissionStatus(input.mission)
      yield* emit(input.json, missionStatusJson(s), () => statusLines(s))
    })
  )

const dryRun = (input: { mission: string; concurrency: Option.Option<number>; autoApprove: boolean; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const cannotRun = yield* checkMission(input.mission).pipe(
        Effect.as(undefined),
        Effect.catchTag("MissionCannotRun", (e) => Effect.succeed(e.message))
      )
      const refused = cannotRun ?? (input.autoApprove ? undefined : yield* unapproved(input.mission))
      const s = yield* readMissionStatus(input.mission)
      const concurrency = opt(input.concurrency) ?? 3
      if (refused !== undefined) yield* setExitCode(ExitCode.failure)
      const plan = s.waves.map((w) => ({
        index: w.index,
        description: w.description,
        packets: w.packets.map((p) => ({ packetId: p.packetId, action: p.next, detail: nextText(p) }))
      }))
      yield* emit(
        input.json,
        { missionId: s.missionId, dryRun: true, concurrency, branch: s.branch, refused: refused ?? null, waves: plan },
        () => [
          `Dry run of mission ${s.missionId}: ${s.waves.reduce((n, w) => n + w.packets.length, 0)} packets in ${s.waves.length} waves, up to ${concurrency} at once, onto ${s.branch}`,
          ...(refused !== undefined ? [`would refuse to run: ${refused}`] : []),
          ...s.waves.flatMap((w) => [
            `Wave ${w.index}${w.description ? `  ${w.description}` : ""}`,
            table(
              ["PACKET", "ACTION", "FILES"],
              w.packets.map((p) => [p.packetId, nextText(p), p.filesInScope.join(", ") || "(any file)"])
            )
              .split("\n")
              .map((l) => `  ${l}`)
              .join("\n")
          ])
        ]
      )
    })
  )

/** One progress line per packet event, on stderr. */
const progressLine = (e: MissionEvent): string | undefined => {
  switch (e._tag) {
    case "MissionStarted":
      return `Running mission ${e.missionId}: ${e.packets} packets in ${e.waves} waves, up to ${e.concurrency} at once, onto ${e.branch}`
    case "WaveStarted":
      return `Wave ${e.index}${e.description ? ` (${e.description})` : ""}: ${e.packetIds.join(", ")}`
    case "PacketStarted":
      return `  ▶ ${e.packetId}  ${e.resumed ? `resumed ${e.record.runId} at ${e.record.stage}` : `started ${e.record.runId}`}`
    case "PacketFinished":
      return `  ${e.status === "succeeded" ? "✓" : "✗"} ${e.packetId}  ${e.status}: ${e.message}`
    case "PacketSkipped":
      return `  ⊘ ${e.packetId}  skipped: ${e.reason}`
    case "PacketIntegrated":
      return e.integration.outcome === "merged" || e.integration.outcome === "up-to-date"
        ? `  ⇢ ${e.packetId}  ${e.integration.message}`
        : `  ⚠ ${e.packetId}  ${e.integration.outcome}: ${e.integration.message}`
  }
}

/** `spec-orch run-plan <mission>`. */
export const runPlan = (input: {
  mission: string
  concurrency: Option.Option<number>
  dryRun: boolean
  stopOnFailure: boolean
  agent: Option.Option<string>
  profile: Option.Option<string>
  autoApprove: boolean
  wait: boolean
  json: boolean
}) => {
  if (input.dryRun) return dryRun(input)
  // Fail before work: no packet starts from a plan nobody approved, or when the gate could not judge it.
  return requireApprovedPlan(input.mission, input.autoApprove).pipe(
    Effect.andThen(preflight(`run-plan ${input.mission}`, opt(input.profile))),
    Effect.flatMap((ok) => (ok ? runPlanNow(input) : Effect.void))
  )
}

const runPlanNow = (input: {
  mission: string
  concurrency: Option.Option<number>
  stopOnFailure: boolean
  agent: Option.Option<string>
  profile: Option.Option<string>
  json: boolean
  wait: boolean
}) =>
  withEngine(
    `run-plan ${input.mission}`,
    { journal: `mission-${input.mission}`, what: `mission ${input.mission}`, wait: input.wait },
    Effect.gen(function* () {
      const store = yield* RunStore
      const started = Date.now()
      const packetOf = new Map<string, string>()
      const say = (line: string | undefined) =>
        input.json || line === undefined ? Effect.void : Effect.sync(() => void process.stderr.write(`${line}\n`))
      // The long stages of every packet run (agent, verify), from the run store's live feed.
      const follower = yield* Stream.runForEach(store.live, (e: RunEvent) => {
        const packet = packetOf.get(e.runId)
        const d = e.data as { stage?: string; state?: string }
        return packet !== undefined &&
          e.kind === "stage" &&
          d.state === "started" &&
          (d.stage === "agent" || d.stage === "verify")
          ? say(`    ${packet} › ${d.stage}`)
          : Effect.void
      }).pipe(Effect.forkChild)
      const result = yield* (yield* MissionRunner).run({
        missionId: input.mission,
        concurrency: opt(input.concurrency),
        stopOnFailure: input.stopOnFailure,
        adapter: opt(input.agent),
        profile: opt(input.profile),
        onEvent: (e) =>
          Effect.andThen(
            Effect.sync(() => e._tag === "PacketStarted" && packetOf.set(e.record.runId, e.packetId)),
            say(progressLine(e))
          )
      })
      yield* Fiber.interrupt(follower)
      if (result.outcome !== "completed") yield* setExitCode(ExitCode.failure)
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      yield* emit(
        input.json,
        { outcome: result.outcome, seconds: Number(seconds), ...missionStatusJson(result.status) },
        () => [
          `Mission ${input.mission}: ${result.outcome.toUpperCase()} in ${seconds}s`,
          "",
          ...statusLines(result.status)
        ]
      )
    })
  )
