/**
 * Runs a mission's plan: waves in order, the packets of a wave in parallel up to a concurrency
 * limit, each packet one durable Run in its own worktree branched from the mission branch. After a
 * wave settles its finished packets are merged onto the mission branch in plan order (a dependency
 * order), so the next wave builds on them. Progress lives in the run store and the mission store:
 * running `run` again resumes unfinished packet runs, retries failed ones and skips finished ones.
 *
 * Failure rule: a packet that fails, is blocked by the gate, or cannot be integrated stops its
 * dependants (transitively) but not its independent siblings; with `stopOnFailure` the first such
 * packet halts the mission (nothing new starts; packets already running finish).
 */
import {
  type FileMissing,
  FileProblem,
  type InvalidFile,
  Missions,
  type MissionsError,
  renderError,
  type RunRecord,
  type WorkPacket
} from "@spec-orch/contract"
import { type PlanCheck, planNeedsApproval, Plans, scheduleWaves } from "@spec-orch/task"
import { Cause, Clock, Context, Effect, Exit, Layer, Path, Queue, Schema } from "effect"
import { missionFinishedNotice, notifyIfConfigured, notifyRun } from "../notify/Notifier.js"
import { ProcessToken } from "../run/EngineLock.js"
import { type RunResult, Runs } from "../run/Runs.js"
import { RunStore } from "../run/RunStore.js"
import { type MissionBranchFailed, MissionIntegration } from "./MissionIntegration.js"
import { describeStopper, missionStatus, type MissionStatusView, skipReason } from "./MissionStatus.js"
import { MissionRunRecord, MissionStore, PacketIntegration } from "./MissionStore.js"
import { missionNotReady, packetKey } from "./PacketIssue.js"

/** Packets run at once when no `--concurrency` is given. */
export const DEFAULT_MISSION_CONCURRENCY = 3

/** A mission that may not run as it is: not approved, or a plan that breaks the rules. */
export class MissionCannotRun extends Schema.TaggedError<MissionCannotRun>()("MissionCannotRun", {
  missionId: Schema.String,
  reason: Schema.String,
  problems: Schema.Array(FileProblem)
}) {
  override get message(): string {
    const lines = this.problems.map(
      (p) =>
        `  ${p.file}${p.line !== undefined ? `:${p.line}` : ""}${p.key !== "" ? ` ${p.key}` : ""}: ${p.message}${p.hint !== undefined ? ` (${p.hint})` : ""}`
    )
    return [this.reason, ...lines].join("\n")
  }
}

/** How to run a mission. */
export interface MissionRunOptions {
  readonly missionId: string
  /** Packets run at once (default 3). */
  readonly concurrency?: number | undefined
  /** The first failed packet halts the mission instead of only its dependants. */
  readonly stopOnFailure?: boolean | undefined
  /** Builder adapter for every packet (default `[builder] adapter`). */
  readonly adapter?: string | undefined
  /** Gate profile for every packet (default `[gate] profile`). */
  readonly profile?: string | undefined
  /** Progress, as it happens. */
  readonly onEvent?: ((event: MissionEvent) => Effect.Effect<void>) | undefined
}

/** Progress of a mission run, for displays. */
export type MissionEvent =
  | {
      readonly _tag: "MissionStarted"
      readonly missionId: string
      readonly branch: string
      readonly waves: number
      readonly packets: number
      readonly concurrency: number
    }
  | {
      readonly _tag: "WaveStarted"
      readonly index: number
      readonly description: string
      readonly packetIds: ReadonlyArray<string>
    }
  | { readonly _tag: "PacketStarted"; readonly packetId: string; readonly record: RunRecord; readonly resumed: boolean }
  | {
      readonly _tag: "PacketFinished"
      readonly packetId: string
      readonly status: RunRecord["status"]
      readonly message: string
      readonly record?: RunRecord | undefined
    }
  | { readonly _tag: "PacketSkipped"; readonly packetId: string; readonly reason: string }
  | { readonly _tag: "PacketIntegrated"; readonly packetId: string; readonly integration: PacketIntegration }

/** How a mission run ended, with the mission's status afterwards. */
export interface MissionRunResult {
  /** `completed`: every packet finished and is on the mission branch. */
  readonly outcome: "completed" | "failed"
  readonly status: MissionStatusView
}

const INTEGRATED = new Set(["merged", "up-to-date"])

/**
 * The checks `run` makes before anything runs: the mission is approved and its plan has no
 * structural error (an uncovered criterion is the planner's business and does not stop a run).
 * Returns the plan as validated.
 */
export const checkMission = Effect.fn("checkMission")(function* (
  missionId: string
): Effect.fn.Return<PlanCheck, MissionCannotRun | MissionsError | InvalidFile | FileMissing, Missions | Plans> {
  const view = yield* Missions.use((m) => m.get(missionId))
  const notReady = missionNotReady(view)
  if (notReady !== undefined) return yield* new MissionCannotRun({ missionId, reason: notReady, problems: [] })
  const check = yield* Plans.use((p) => p.validate(missionId))
  const fatal = check.planProblems.filter((p) => p.severity === "error" && p.code !== "uncovered-criterion")
  if (fatal.length > 0) {
    const keys = new Set(fatal.map((p) => p.key))
    return yield* new MissionCannotRun({
      missionId,
      reason: `the plan of mission ${missionId} cannot run (${fatal.length} problem${fatal.length === 1 ? "" : "s"}); fix ${check.view.file} or re-plan with \`spec-orch plan ${missionId}\`:`,
      problems: check.problems.filter((p) => p.severity === "error" && keys.has(p.key))
    })
  }
  return check
})

const causeMessage = (cause: Cause.Cause<unknown>): string => renderError(Cause.squash(cause))

/** Runs missions' plans through `Runs`. */
export class MissionRunner extends Context.Service<
  MissionRunner,
  {
    /**
     * Runs (or resumes) the mission's plan to its end. Refuses, before anything runs, a mission that is
     * not approved, a model-written plan nobody approved, or a plan with structural errors (cycles, unknown dependencies, overlapping
     * footprints in one wave), naming each problem at its line.
     */
    readonly run: (
      options: MissionRunOptions
    ) => Effect.Effect<
      MissionRunResult,
      MissionCannotRun | MissionsError | InvalidFile | FileMissing | MissionBranchFailed
    >
  }
>()("@spec-orch/control/MissionRunner") {
  static readonly layer: Layer.Layer<
    MissionRunner,
    never,
    Runs | RunStore | MissionStore | MissionIntegration | Missions | Plans | ProcessToken | Path.Path
  > = Layer.effect(
    MissionRunner,
    Effect.gen(function* () {
      const runs = yield* Runs
      const runStore = yield* RunStore
      const store = yield* MissionStore
      const integration = yield* MissionIntegration
      const missions = yield* Missions
      const plans = yield* Plans
      const me = yield* ProcessToken
      const path = yield* Path.Path
      const statusContext = Context.make(Missions, missions).pipe(
        Context.add(Plans, plans),
        Context.add(RunStore, runStore),
        Context.add(MissionStore, store),
        Context.add(ProcessToken, me)
      )
      const nowIso = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

      const run = Effect.fn("MissionRunner.run")(function* (options: MissionRunOptions) {
        const missionId = options.missionId
        const emit = (e: MissionEvent) => options.onEvent?.(e) ?? Effect.void
        const check = yield* checkMission(missionId).pipe(Effect.provide(statusContext))
        const plan = check.view.plan
        // A plan a planner model wrote runs only once a person approved it (`spec-orch plan approve`,
        // or `run-plan --auto-approve`), whoever asks this runner to run it.
        const unapproved = planNeedsApproval(plan)
        if (unapproved !== undefined)
          return yield* new MissionCannotRun({ missionId, reason: unapproved, problems: [] })
        const packets = new Map<string, { packet: WorkPacket; wave: number }>()
        for (const w of plan.waves) for (const p of w.packets) packets.set(p.id, { packet: p, wave: w.index })
        const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_MISSION_CONCURRENCY))
        const stopOnFailure = options.stopOnFailure ?? false
        const branch = yield* integration.ensureBranch(missionId)

        const previous = yield* store.run(missionId)
        const startedAt = yield* nowIso
        yield* store.putRun(
          new MissionRunRecord({
            missionId,
            owner: me.token,
            outcome: "running",
            concurrency,
            stopOnFailure,
            branch: branch.branch,
            ...(previous?.worktree !== undefined ? { worktree: previous.worktree } : {}),
            startedAt,
            updatedAt: startedAt
          })
        )
        yield* missions.setStatus(missionId, "in_progress")
        yield* emit({
          _tag: "MissionStarted",
          missionId,
          branch: branch.branch,
          waves: plan.waves.length,
          packets: packets.size,
          concurrency
        })

        // What earlier mission runs left: finished packets are skipped; the rest run, resume or retry.
        const finished = new Set<string>()
        const failed = new Set<string>()
        const latest = new Map<string, RunRecord>()
        for (const id of packets.keys()) {
          const r = yield* runStore.latestForKey(packetKey(missionId, id))
          if (r === undefined) continue
          latest.set(id, r)
          if (r.status === "succeeded") finished.add(id)
        }
        const integrations = new Map(yield* store.integrations(missionId))
        const settledWaves = new Set<number>()
        const skipped = new Set<string>()
        const running = new Set<string>()
        const completions = yield* Queue.unbounded<{
          readonly packetId: string
          readonly exit: Exit.Exit<RunResult, unknown>
        }>()
        let currentWave: number | undefined

        /** Merges the finished packets of a settled wave onto the mission branch, in plan order. */
        const integrateWave = Effect.fnUntraced(function* (packetIds: ReadonlyArray<string>) {
          for (const id of packetIds) {
            if (!finished.has(id)) continue
            const record = latest.get(id)
            if (record === undefined) continue
            const known = integrations.get(id)
            if (known !== undefined && known.runId === record.runId && INTEGRATED.has(known.outcome)) continue
            const key = packetKey(missionId, id)
            // Workspaces puts every run key's worktree in one directory per repository; the mission's goes there too.
            const done =
              record.worktree === undefined
                ? {
                    worktree: undefined,
                    integration: new PacketIntegration({
                      packetId: id,
                      runId: record.runId,
                      outcome: "error",
                      files: [],
                      message: `run ${record.runId} recorded no worktree, so its branch cannot be located`,
                      at: yield* nowIso
                    })
                  }
                : yield* integration.integrate({
                    missionId,
                    packetId: id,
                    runId: record.runId,
                    title: packets.get(id)!.packet.title,
                    branch: record.branch ?? `spec-orch/${key}`,
                    worktreesDir: path.dirname(record.worktree)
                  })
            integrations.set(id, done.integration)
            yield* store.putIntegration(missionId, done.integration)
            if (done.worktree !== undefined)
              yield* store.updateRun(missionId, (r) => new MissionRunRecord({ ...r, worktree: done.worktree! }))
            yield* emit({ _tag: "PacketIntegrated", packetId: id, integration: done.integration })
            if (!INTEGRATED.has(done.integration.outcome)) {
              finished.delete(id)
              failed.add(id)
            }
          }
        })

        const start = (packet: WorkPacket) =>
          runs
            .start({
              issueId: packetKey(missionId, packet.id),
              runKey: packetKey(missionId, packet.id),
              packet: { missionId, packetId: packet.id },
              base: branch.branch,
              adapter: options.adapter,
              profile: options.profile,
              onStart: (record, resumed) =>
                Effect.andThen(
                  Effect.sync(() => latest.set(packet.id, record)),
                  emit({ _tag: "PacketStarted", packetId: packet.id, record, resumed })
                )
            })
            .pipe(
              Effect.exit,
              Effect.flatMap((exit) => Queue.offer(completions, { packetId: packet.id, exit })),
              Effect.forkChild
            )

        const loop = Effect.gen(function* () {
          for (;;) {
            const schedule = scheduleWaves(plan, { finished, failed, running, stopDependantsOnly: !stopOnFailure })
            for (const b of schedule.blocked) {
              if (skipped.has(b.packetId)) continue
              skipped.add(b.packetId)
              const describe = (id: string) =>
                describeStopper(id, latest.get(id)?.status ?? "failed", integrations.get(id))
              yield* emit({ _tag: "PacketSkipped", packetId: b.packetId, reason: skipReason(b, [...failed], describe) })
            }
            // A wave is integrated once, when it settles, before anything of a later wave starts.
            const toSettle = schedule.waves.filter((w) => w.state === "settled" && !settledWaves.has(w.index))
            if (toSettle.length > 0) {
              for (const w of toSettle) {
                settledWaves.add(w.index)
                yield* integrateWave(w.packetIds)
              }
              continue
            }
            if (schedule.currentWave !== undefined && schedule.currentWave !== currentWave) {
              currentWave = schedule.currentWave
              const w = schedule.waves.find((x) => x.index === currentWave)!
              yield* emit({ _tag: "WaveStarted", index: w.index, description: w.description, packetIds: w.packetIds })
            }
            for (const p of schedule.runnable.slice(0, Math.max(0, concurrency - running.size))) {
              running.add(p.id)
              yield* start(p)
            }
            if (running.size === 0) return
            const { packetId, exit } = yield* Queue.take(completions)
            running.delete(packetId)
            if (Exit.isSuccess(exit)) {
              const record = exit.value.record
              latest.set(packetId, record)
              if (record.status === "succeeded") finished.add(packetId)
              else failed.add(packetId)
              yield* notifyRun(record)
              yield* emit({
                _tag: "PacketFinished",
                packetId,
                status: record.status,
                message: record.message ?? record.status,
                record
              })
            } else {
              failed.add(packetId)
              const record = yield* runStore.latestForKey(packetKey(missionId, packetId))
              if (record !== undefined) latest.set(packetId, record)
              yield* emit({
                _tag: "PacketFinished",
                packetId,
                status: "failed",
                message: causeMessage(exit.cause),
                record
              })
            }
          }
        })

        yield* loop.pipe(
          Effect.onInterrupt(() =>
            Effect.flatMap(nowIso, (at) =>
              store.updateRun(
                missionId,
                (r) =>
                  new MissionRunRecord({
                    ...r,
                    outcome: "cancelled",
                    finishedAt: at,
                    message: `cancelled; \`spec-orch run-plan ${missionId}\` resumes it`
                  })
              )
            )
          )
        )

        const complete = [...packets.keys()].every((id) => finished.has(id))
        const outcome = complete ? "completed" : "failed"
        yield* missions.setStatus(missionId, outcome)
        const finishedAt = yield* nowIso
        const notDone = [...packets.keys()].filter((id) => !finished.has(id))
        yield* store.updateRun(
          missionId,
          (r) =>
            new MissionRunRecord({
              ...r,
              outcome,
              finishedAt,
              message: complete
                ? `all ${packets.size} packets finished and are on ${branch.branch}`
                : `${notDone.length} of ${packets.size} packets did not finish: ${notDone.join(", ")}`
            })
        )
        yield* notifyIfConfigured(
          missionFinishedNotice(missionId, outcome, finishedAt, (yield* store.run(missionId))?.message ?? outcome)
        )
        const status = yield* missionStatus(missionId).pipe(Effect.provide(statusContext))
        return { outcome, status } satisfies MissionRunResult
      })

      return MissionRunner.of({ run })
    })
  )
}
