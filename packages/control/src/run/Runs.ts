/**
 * Starting, resuming and inspecting runs. `start` is what `spec-orch run <issue>` does: check the
 * spec, pick the attempt (resume an unfinished one, else the next), take ownership, execute the
 * durable workflow, and keep the run record truthful when it ends, fails or is cancelled.
 */
import {
  type Footprint,
  IssueSource,
  type IssueSourceError,
  makeRunId,
  makeRunKey,
  makeIssueId,
  Project,
  RunRecord,
  Specs,
  specState,
  unresolvedBlocking
} from "@spec-orch/contract"
import { Context, Effect, Fiber, Layer, Schedule, Schema } from "effect"
import type { InvalidFile, MissionsError } from "@spec-orch/contract"
import { Gate, type PolicyUnavailable, type UnknownProfile } from "@spec-orch/evidence"
import {
  footprintOfPacket,
  loadPacket,
  missionNotReady,
  type PacketNotFound,
  type PacketRef
} from "../mission/PacketIssue.js"
import { acquireEngineLock, type EngineBusy, ProcessToken, runLockName } from "./EngineLock.js"
import { RunStore } from "./RunStore.js"

export { ownerAlive } from "./EngineLock.js"
import type { PublishWhen } from "../publish/RunPublisher.js"
import { type ReplayArm, Run, type RunOutcome, type RunPayload, type StageFailed } from "./RunWorkflow.js"
import type { WorkflowEngine } from "effect/workflow"
import { SqlClient } from "effect/sql"

/** The spec must be approved (or --auto-approve given) before a run starts. */
export class SpecNotReady extends Schema.TaggedError<SpecNotReady>()("SpecNotReady", {
  issueId: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return this.reason
  }
}

/** What to run and how. */
export interface StartOptions {
  readonly issueId: string
  /** Who approves the spec on the user's behalf (`--auto-approve`). */
  readonly autoApprovedBy?: string | undefined
  readonly adapter?: string | undefined
  readonly profile?: string | undefined
  /** A run key other than the issue id (mission packets: `<mission>.<packet>`). */
  readonly runKey?: string | undefined
  readonly footprint?: Footprint | undefined
  /** Start a new attempt even if the last one is unfinished. */
  readonly newAttempt?: boolean | undefined
  /** Re-verify and re-gate: reuse this earlier run's agent outcome instead of running the agent. */
  readonly reuseAgentOf?: string | undefined
  /** Called once the run record exists, before the workflow starts (for progress displays). */
  readonly onStart?: ((record: RunRecord, resumed: boolean) => Effect.Effect<void>) | undefined
  /**
   * [mission packets] Run this packet of a mission: the issue comes from plan.json, the spec check is
   * the mission's approval, the run key and footprint default to `<mission>.<packet>` and the packet's files.
   */
  readonly packet?: PacketRef | undefined
  /** [mission packets] What a new worktree branches from (the mission branch). */
  readonly base?: string | undefined
  /** What the run may publish (default `[publish] runs`). */
  readonly publish?: PublishWhen | undefined
  /** A NEW attempt starts over from the base instead of continuing the previous one's branch (a resumed run is never reset). */
  readonly fresh?: boolean | undefined
  /** [evolution replay] The arm of a replay this run is: which proposal it is offered or denied (docs/evolution.md). */
  readonly trial?: ReplayArm | undefined
  /**
   * Whether the run key's lock may be taken from the process `owner` that holds it, alive or not (a cluster's
   * daemon singleton takes over the runs of the singleton before it, docs/cluster.md); by default never.
   */
  readonly takeLockFrom?: ((owner: string) => Effect.Effect<boolean>) | undefined
  /**
   * [cluster] Chooses a new attempt's placement salt (RunPlacement), which picks the runner it executes on;
   * undefined keeps the run id's own shard. A resumed run keeps the salt its record has.
   */
  readonly place?: ((run: { readonly runId: string }) => Effect.Effect<string | undefined>) | undefined
}

/** The final record of a run and whether it resumed an earlier attempt. */
export interface RunResult {
  readonly record: RunRecord
  readonly resumed: boolean
}

const UNFINISHED = new Set(["queued", "running", "cancelled"])

/** Runs issues through the durable workflow. */
export class Runs extends Context.Service<
  Runs,
  {
    /**
     * Runs (or resumes) an issue to its verdict. Fails before anything is created or started when the
     * gate could not judge the run (its policy file is unusable, or the profile is not in it).
     */
    readonly start: (
      options: StartOptions
    ) => Effect.Effect<
      RunResult,
      | SpecNotReady
      | IssueSourceError
      | InvalidFile
      | StageFailed
      | MissionsError
      | PacketNotFound
      | UnknownProfile
      | PolicyUnavailable
      | EngineBusy
    >
  }
>()("@spec-orch/control/Runs") {
  static readonly layer: Layer.Layer<
    Runs,
    never,
    RunStore | ProcessToken | Project | IssueSource | Specs | Gate | WorkflowEngine.WorkflowEngine | SqlClient.SqlClient
  > = Layer.effect(
    Runs,
    Effect.gen(function* () {
      const store = yield* RunStore
      const me = yield* ProcessToken
      const project = yield* Project
      const issues = yield* IssueSource
      const specs = yield* Specs
      const gate = yield* Gate
      const engine = yield* Effect.context<WorkflowEngine.WorkflowEngine>()
      const sql = yield* SqlClient.SqlClient
      const nowIso = Effect.map(
        Effect.clockWith((c) => c.currentTimeMillis),
        (ms) => new Date(ms).toISOString()
      )

      const start = Effect.fn("Runs.start")(function* (options: StartOptions) {
        // Fail before work: the gate must be able to judge the run before an agent spends anything on it.
        yield* gate.plan(options.profile)
        // [mission packets] A packet's issue comes from the plan; the mission's approval is its spec's.
        const packet = options.packet !== undefined ? yield* loadPacket(options.packet) : undefined
        const issue = packet !== undefined ? packet.issue : yield* issues.get(options.issueId)
        let autoApprovedBy = options.autoApprovedBy
        if (packet !== undefined) {
          const notReady = missionNotReady(packet.mission)
          if (notReady !== undefined) return yield* new SpecNotReady({ issueId: issue.id, reason: notReady })
          autoApprovedBy = `mission ${packet.mission.mission.id} approved by ${packet.mission.mission.approvedBy ?? "unknown"}`
        }
        const runKey = options.runKey ?? issue.id
        // One run of a key at a time across the project's processes (a terminal, a mission, the daemon).
        yield* acquireEngineLock(`run ${runKey}`, { lock: runLockName(runKey), takeFrom: options.takeLockFrom }).pipe(
          Effect.provideService(SqlClient.SqlClient, sql),
          Effect.provideService(ProcessToken, me)
        )
        const latest = yield* store.latestForKey(runKey)
        const resume = latest !== undefined && UNFINISHED.has(latest.status) && options.newAttempt !== true
        // Fail fast, before any run exists, when the spec is not ready. A resumed attempt already passed
        // its spec stage, and its journal pins the issue text it started with.
        if (autoApprovedBy === undefined && !resume) {
          const snapshot = yield* specs.sync(issue)
          const blocking = unresolvedBlocking(snapshot)
          if (blocking.length > 0) {
            return yield* new SpecNotReady({
              issueId: issue.id,
              reason: `${issue.id} has ${blocking.length} unanswered blocking question(s): ${blocking.map((q) => `${q.id} "${q.text}"`).join("; ")}. Answer with \`spec-orch questions answer ${issue.id} <id> --answer …\`.`
            })
          }
          const state = specState(snapshot)
          if (project.config.spec.require_approval && state !== "approved") {
            return yield* new SpecNotReady({
              issueId: issue.id,
              reason:
                state === "changed-since-approval"
                  ? `the spec of ${issue.id} changed after it was approved (v${snapshot.version}); review it with \`spec-orch spec show ${issue.id}\` and approve it again, or run with --auto-approve`
                  : `the spec of ${issue.id} is not approved: review it with \`spec-orch spec show ${issue.id}\`, approve it with \`spec-orch spec approve ${issue.id}\`, or run with --auto-approve (or set [spec] require_approval = false)`
            })
          }
        }

        const footprint = options.footprint ?? (packet !== undefined ? footprintOfPacket(packet.packet) : undefined)
        const now = yield* nowIso
        let record: RunRecord
        if (resume) {
          record = new RunRecord({ ...latest!, status: "running", updatedAt: now, message: "resumed" })
          yield* store.put(record, me.token)
          yield* store.append(record.runId, "note", { text: `resumed by pid ${me.pid}` })
        } else {
          const attempt = (latest?.attempt ?? 0) + 1
          const runId = makeRunId(`${runKey}-r${attempt}`)
          const placement = options.place === undefined ? undefined : yield* options.place({ runId })
          record = new RunRecord({
            runId,
            runKey: makeRunKey(runKey),
            issueId: makeIssueId(issue.id),
            attempt,
            status: "running",
            stage: "load",
            startedAt: now,
            updatedAt: now,
            adapter: options.adapter ?? project.config.builder.adapter,
            artifactsDir: `${project.stateDir}/runs/${runKey}-r${attempt}`,
            ...(placement !== undefined ? { placement } : {})
          })
          yield* store.put(record, me.token)
        }
        // This span (the caller's side of the run) and everything below it go to the run's trace.
        yield* Effect.annotateCurrentSpan({
          "run.id": record.runId,
          "issue.id": record.issueId,
          "run.attempt": record.attempt,
          "run.resumed": resume,
          adapter: record.adapter ?? ""
        })
        if (options.onStart) yield* options.onStart(record, resume)

        const payload: RunPayload = {
          runId: record.runId,
          runKey,
          issueId: issue.id,
          attempt: record.attempt,
          ...(autoApprovedBy !== undefined ? { autoApprovedBy } : {}),
          ...(options.adapter !== undefined ? { adapter: options.adapter } : {}),
          ...(options.profile !== undefined ? { profile: options.profile } : {}),
          ...(footprint !== undefined ? { footprint } : {}),
          ...(options.reuseAgentOf !== undefined ? { reuseAgentOf: options.reuseAgentOf } : {}),
          ...(options.packet !== undefined ? { packet: options.packet } : {}),
          ...(options.base !== undefined ? { base: options.base } : {}),
          ...(options.publish !== undefined ? { publish: options.publish } : {}),
          ...(options.trial !== undefined ? { trial: options.trial } : {}),
          ...(record.placement !== undefined ? { placement: record.placement } : {}),
          ...(options.fresh === true && !resume && record.attempt > 1 && options.reuseAgentOf === undefined
            ? { fresh: true }
            : {})
        }
        const finish = (patch: Partial<RunRecord>) =>
          Effect.flatMap(nowIso, (at) =>
            store.update(record.runId, (r) => new RunRecord({ ...r, ...patch, finishedAt: at }))
          ).pipe(Effect.asVoid)

        // A run whose process shut down cleanly mid-run is stored as suspended; resume it whenever it is
        // found so while we own it (the engine may also still be replaying it when we get here).
        // The engine keys executions by a digest of the idempotency key, not by the run id itself.
        const executionId = yield* Run.executionId(payload).pipe(Effect.provide(engine))
        const keepResumed = Effect.gen(function* () {
          const state = yield* Run.poll(executionId)
          if (state._tag === "Some" && state.value._tag === "Suspended") yield* Run.resume(executionId)
        }).pipe(Effect.repeat(Schedule.spaced("200 millis")), Effect.delay("100 millis"))
        const outcome = yield* Effect.gen(function* () {
          if (resume) yield* Run.resume(executionId)
          const watchdog = yield* Effect.forkChild(keepResumed)
          const result = yield* Run.execute(payload)
          yield* Fiber.interrupt(watchdog)
          return result
        }).pipe(
          Effect.provide(engine),
          Effect.onInterrupt(() =>
            Effect.gen(function* () {
              yield* finish({
                status: "cancelled",
                message: `cancelled; \`spec-orch run ${issue.id}\` resumes at the stage it stopped in`
              })
              yield* store.append(record.runId, "note", { text: "cancelled" })
            })
          ),
          Effect.tapError((e: StageFailed) => finish({ status: "failed", message: e.message }))
        )
        const o = outcome as RunOutcome
        yield* finish({
          status: o.status,
          message: o.message,
          ...(o.verdict ? { verdict: o.verdict } : {}),
          artifactsDir: o.artifactsDir
        })
        return { record: (yield* store.get(record.runId))!, resumed: resume }
      }, Effect.scoped)

      return Runs.of({ start })
    })
  )
}
