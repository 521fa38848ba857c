/**
 * The Run: one durable workflow per run key and attempt, whose stages are journaled activities.
 * load → spec → (gate preflight) → workspace → context → agent → commit → verify → [preview] → review → gate
 * → record → publish.
 * After a crash, re-executing resumes at the first unfinished stage: a finished agent turn or commit
 * is never repeated. Before every stage the run must be owned by this process; a run found by the
 * engine that nobody is driving (cancelled, or its process died) waits until `spec-orch run`
 * claims it. Every artifact and every stage result is redacted before it is written or journaled.
 */
import {
  AgentOutcome,
  AgentUsage,
  BudgetEvidence,
  changedKeys,
  ComplianceReport,
  Deviation,
  EvidenceBundle,
  FileChange,
  Footprint,
  GateVerdict,
  Issue,
  IssueSource,
  PreviewEvidence,
  Project,
  ReviewVerdict,
  type RunStage,
  SecretFinding,
  sha256,
  SpecEvidence,
  specContent,
  Specs,
  type SpecOrchConfig,
  specState,
  unresolvedBlocking,
  VerificationReport,
  stepFailed,
  StepResult,
  VerificationStep,
  summarizeModelCalls
} from "@spec-orch/contract"
import {
  comparesKeys,
  evaluatePlan,
  EvidenceLedger,
  Gate,
  GatePolicies,
  renderExplain,
  reportJson,
  Reviewer
} from "@spec-orch/evidence"
import {
  type AgentRequest,
  Agents,
  resolveSteps,
  Verifier,
  verifyOptionsFrom,
  WorkspaceBinding,
  Workspaces
} from "@spec-orch/execution"
import {
  Compliance,
  type LearnedForIssue,
  LearnedRules,
  SKILL_DIRS,
  ContextAssembler,
  Learnings,
  LearningsOverride,
  type LearningsOverrideShape,
  ModelCall,
  ModelUsage,
  policySecretProblem,
  Redactor,
  SecretScan
} from "@spec-orch/harness"
import { type Cause, Effect, Fiber, FileSystem, Option, Path, Queue, Schedule, Schema } from "effect"
import { Activity, Workflow, WorkflowEngine } from "effect/workflow"
import { HostSlots } from "../cluster/HostSlots.js"
import { abandonRequest, RunFence, RunFenced, untilStall } from "../cluster/RunFence.js"
import { activeProposals } from "./Attribution.js"
import { RunStore } from "./RunStore.js"
import {
  PUBLISH_RESULT_EVENT,
  PublishResult,
  PublishWhen,
  publishedNote,
  RunPublisher
} from "../publish/RunPublisher.js"
import { ProcessToken } from "./EngineLock.js"
import { loadPacket, PacketRef } from "../mission/PacketIssue.js"
import { runGit } from "../trackers/internal/git.js"
import { StageFailed } from "./StageFailed.js"

/** What starts a run. Everything the workflow needs beyond this is read inside journaled stages. */
/**
 * One arm of an offline replay (`spec-orch evolution validate --replay`): the run offers the builder
 * `proposalId` as an approved proposal would be offered (`candidate`) or leaves it out (`baseline`).
 */
export const ReplayArm = Schema.Struct({
  proposalId: Schema.String,
  arm: Schema.Literals(["candidate", "baseline"])
})
export type ReplayArm = typeof ReplayArm.Type

/** The learnings override of a replay arm (pure): the candidate includes the proposal, the baseline excludes it. */
export const replayOverride = (trial: ReplayArm): LearningsOverrideShape =>
  trial.arm === "candidate"
    ? { include: [trial.proposalId], exclude: [] }
    : { include: [], exclude: [trial.proposalId] }

export const RunPayload = Schema.Struct({
  runId: Schema.String,
  runKey: Schema.String,
  issueId: Schema.String,
  attempt: Schema.Number,
  /** Approve the spec on the user's behalf (`--auto-approve`); recorded as who approved. */
  autoApprovedBy: Schema.optionalKey(Schema.String),
  /** Overrides `[builder] adapter` for this run. */
  adapter: Schema.optionalKey(Schema.String),
  /** Gate profile; default `[gate] profile`. */
  profile: Schema.optionalKey(Schema.String),
  /** Declared footprint (mission packets); default: the issue's target files. */
  footprint: Schema.optionalKey(Footprint),
  /** `rerun`: take the agent outcome of this earlier run instead of running the agent again. */
  reuseAgentOf: Schema.optionalKey(Schema.String),
  /** [mission packets] The packet this run works on; its issue is built from plan.json, not the IssueSource. */
  packet: Schema.optionalKey(PacketRef),
  /** [mission packets] What the worktree branches from (the mission branch); default: Workspaces' base. */
  base: Schema.optionalKey(Schema.String),
  /** What this run may publish; default `[publish] runs`. */
  publish: Schema.optionalKey(PublishWhen),
  /** A new attempt that starts over from the base (the old branch tip is kept under refs/spec-orch/attempts/). */
  fresh: Schema.optionalKey(Schema.Boolean),
  /** [evolution replay] One arm of a replay: the candidate is offered `proposalId` whatever its state, the baseline never. */
  trial: Schema.optionalKey(ReplayArm),
  /**
   * [cluster] A salt in the execution id, chosen by the daemon so the run's shard (hence its host) is a runner
   * with free agent slots (RunPlacement). Kept in the run record: a resume must find the same execution.
   */
  placement: Schema.optionalKey(Schema.String)
})
export type RunPayload = typeof RunPayload.Type

/** How a run ended. `blocked` = it finished and the gate says not mergeable. */
export class RunOutcome extends Schema.Class<RunOutcome>("@spec-orch/control/RunOutcome")({
  status: Schema.Literals(["succeeded", "blocked", "failed", "waiting"]),
  message: Schema.String,
  verdict: Schema.optionalKey(GateVerdict),
  artifactsDir: Schema.String
}) {}

export { StageFailed, StageFailure, StageStopped } from "./StageFailed.js"

const SpecStage = Schema.Struct({ evidence: SpecEvidence, waiting: Schema.optionalKey(Schema.String) })
const ContextStage = Schema.Struct({
  promptFile: Schema.String,
  promptHash: Schema.String,
  totalTokens: Schema.Number,
  budgetTokens: Schema.Number,
  truncated: Schema.Boolean,
  sections: Schema.Array(
    Schema.Struct({
      name: Schema.String,
      tokens: Schema.Number,
      originalTokens: Schema.Number,
      truncated: Schema.Boolean,
      dropped: Schema.Boolean
    })
  ),
  /**
   * [evolution] The distilled policy chosen for this run (once, here, and journaled with the stage): its
   * script runs as a `command` agent instead of the builder. Verification and the gate are unchanged.
   */
  policy: Schema.optionalKey(
    Schema.Struct({
      proposalId: Schema.String,
      contentHash: Schema.String,
      labels: Schema.Array(Schema.String),
      script: Schema.String
    })
  )
})
const AgentStage = Schema.Struct({
  outcome: AgentOutcome,
  compliance: Schema.optionalKey(ComplianceReport),
  /** On a cluster, the runner whose worktree holds the turn's changes (absent on one host). */
  runner: Schema.optionalKey(Schema.String)
})
/** The run-store event of one model request the run made (a `ModelCall`: role, model, tokens, cost, latency). */
export const MODEL_CALL_EVENT = "model-call"
/** The run-store event that keeps a finished agent stage's result, so `rerun` can reuse it even when no evidence was written. */
const AGENT_OUTCOME_EVENT = "agent-outcome"
const CommitStage = Schema.Struct({
  commit: Schema.optionalKey(Schema.String),
  changedFiles: Schema.Array(Schema.String),
  /** Optional: journals of runs started before file statuses were recorded lack it. */
  changes: Schema.optionalKey(Schema.Array(FileChange)),
  diffHash: Schema.String,
  secrets: Schema.optionalKey(Schema.Array(SecretFinding))
})
const PreviewStage = Schema.Struct({ evidence: PreviewEvidence })
const GateStage = Schema.Struct({
  verdict: GateVerdict,
  bundle: EvidenceBundle,
  blockOn: Schema.optionalKey(Schema.Array(Deviation.fields.severity))
})

/** The host's git identity (`user.name`, `user.email` as git resolves them in `repo`), if it has one. */
const hostIdentity = (repo: string) =>
  Effect.gen(function* () {
    const name = (yield* runGit(repo, ["config", "user.name"])).stdout.trim()
    const email = (yield* runGit(repo, ["config", "user.email"])).stdout.trim()
    return name !== "" && email !== "" ? { name, email } : undefined
  })

/** Agent events copied into the run's event log (the rest stay in events.jsonl). */
const AGENT_EVENTS_LOGGED = 5000

/** The idempotency key of a run's execution: its run id, and its placement salt on a cluster when it has one. */
const executionKey = (run: { readonly runId: string; readonly placement?: string | undefined }) =>
  run.placement === undefined ? run.runId : `${run.runId}@${run.placement}`

/** The Run workflow definition; executions are keyed by run id (`<key>-r<attempt>`) and placement salt. */
export const Run = Workflow.make("SpecOrchRun", {
  payload: RunPayload,
  success: RunOutcome,
  error: StageFailed,
  idempotencyKey: executionKey
})

/** The engine's execution id of a run (a digest of the workflow's name and the run's key). */
export const runExecutionId = (run: { readonly runId: string; readonly placement?: string | undefined }) =>
  Run.executionId({
    runId: run.runId,
    runKey: run.runId,
    issueId: run.runId,
    attempt: 0,
    ...(run.placement !== undefined ? { placement: run.placement } : {})
  })

/** The workflow's body. Requires every plane service the stages use. */
const runBody = Effect.fn("Run")(function* (payload: typeof RunPayload.Type) {
  // Spans under this one belong to the run: the CLI's tracer writes them to the run's trace.jsonl.
  yield* Effect.annotateCurrentSpan({
    "run.id": payload.runId,
    "issue.id": payload.issueId,
    "run.attempt": payload.attempt
  })
  const store = yield* RunStore
  const me = yield* ProcessToken
  const project = yield* Project
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const redactor = yield* Redactor
  const artifactsDir = path.join(project.stateDir, "runs", payload.runId)
  const artifact = (name: string) => path.join(artifactsDir, name)
  const write = (name: string, text: string) =>
    fs
      .makeDirectory(path.dirname(artifact(name)), { recursive: true })
      .pipe(Effect.andThen(fs.writeFileString(artifact(name), redactor.redact(text))), Effect.orDie)
  /**
   * A stage result as the journal will keep it: redacted, and decoded again so this run and a resumed
   * one see the same value. Kept as they are: the loaded issue (the spec is approved against the
   * tracker's text) and the workspace and context stages (spec-orch's own paths, which must stay usable).
   */
  const redacted =
    <S extends Schema.Top>(name: RunStage, schema: S) =>
    (value: S["Type"]) =>
      name === "load" || name === "workspace" || name === "context"
        ? Effect.succeed(value)
        : (Schema.encodeUnknownEffect(schema)(value).pipe(
            Effect.flatMap((encoded) => Schema.decodeUnknownEffect(schema)(redactor.redactJson(encoded))),
            Effect.orDie
          ) as Effect.Effect<S["Type"]>)

  /**
   * Waits until this process owns the run. The engine replays every unfinished run it finds; one that
   * nobody in this process asked for (its owner died, or it was cancelled) parks here, doing nothing,
   * until `spec-orch run` claims it — then it continues at the first unfinished stage.
   */
  const tokenGuard = Effect.gen(function* () {
    const owner = yield* store.owner(payload.runId)
    if (owner === me.token) return true
    return false
  }).pipe(Effect.repeat({ until: (owned) => owned, schedule: Schedule.spaced("250 millis") }), Effect.asVoid)
  // On a cluster runner: this runner must still own the run's shard (cluster/RunFence.ts), else the run stops here.
  const fence = yield* Effect.serviceOption(RunFence)
  const slots = yield* Effect.serviceOption(HostSlots)
  const instance = yield* WorkflowEngine.WorkflowInstance
  const guard = Option.isNone(fence)
    ? tokenGuard
    : Effect.gen(function* () {
        if (yield* fence.value.owns(Run, instance.executionId, payload)) return
        yield* Effect.logWarning(
          `${payload.issueId}: run ${payload.runId} stopped on ${fence.value.runner}: this runner no longer owns it (the shard's owner runs it)`
        )
        return yield* Effect.die(new RunFenced({ runId: payload.runId }))
      })

  /**
   * A stage's work on a cluster runner, fenced inside the stage (cluster/RunFence.ts): when the runner
   * notices it stood still long enough to have lost its shard locks, the work is interrupted at once (its
   * agent's or step's processes killed) before anything else happens; then, if the runner no longer owns
   * the run, the stage is abandoned without a result (the shard's owner runs it); if it still does, the
   * stage runs again, and the run's events say why.
   */
  const fenced = <A, R>(name: RunStage, execute: Effect.Effect<A, StageFailed, R>): Effect.Effect<A, StageFailed, R> =>
    Option.isNone(fence)
      ? execute
      : Effect.gen(function* () {
          const f = fence.value
          for (;;) {
            const ran = yield* untilStall(f.stalls, execute)
            if (ran._tag === "Done") return yield* ran.exit
            const stood = `${(ran.stall.ms / 1000).toFixed(1)} s`
            const why = `runner ${f.runner} stood still for ${stood} (a stall of ${(f.stalls.thresholdMs / 1000).toFixed(1)} s or more may cost it its shard locks)`
            const stopped = `the ${name} stage was stopped on ${f.runner} and its processes killed: ${why}`
            yield* Effect.logWarning(`${payload.issueId}: run ${payload.runId}: ${stopped}`)
            yield* store.append(payload.runId, "note", { text: stopped })
            if (!(yield* f.owns(Run, instance.executionId, payload))) {
              yield* Effect.logWarning(
                `${payload.issueId}: run ${payload.runId} left to the shard's owner: ${f.runner} no longer owns it`
              )
              return yield* abandonRequest
            }
            yield* store.append(payload.runId, "note", {
              text: `the ${name} stage runs again on ${f.runner}: it still owns the run after the stall`
            })
          }
        })

  /** One journaled stage: records stage start/finish in the run store and event log. */
  const stage = <S extends Schema.Top, R>(
    name: RunStage,
    success: S,
    execute: Effect.Effect<S["Type"], StageFailed, R>,
    /** Whether the stage's result is good news (an agent that failed, a step that failed): progress shows ✗ with why. */
    judge?: (result: S["Type"]) => { readonly ok: boolean; readonly summary?: string; readonly skipped?: boolean }
  ) =>
    Effect.andThen(
      guard,
      Activity.make({
        name,
        success,
        error: StageFailed,
        execute: Effect.gen(function* () {
          // The activity's span is the stage's (named after it): it carries the run, so a resumed run's stages land in its trace too.
          yield* Effect.annotateCurrentSpan({ "run.id": payload.runId, "issue.id": payload.issueId, stage: name })
          yield* store.update(payload.runId, (r) => ({ ...r, stage: name, status: "running" }) as typeof r)
          yield* store.append(payload.runId, "stage", { stage: name, state: "started" })
          const started = Date.now()
          const result = yield* fenced(name, execute).pipe(
            Effect.mapError((e) => StageFailed.redacted(e, redactor.redactJson, redactor.redact)),
            Effect.tapError((e) =>
              store.append(payload.runId, "stage", { stage: name, state: "failed", message: e.reason.message })
            ),
            Effect.flatMap(redacted(name, success))
          )
          const judged = judge?.(result)
          yield* store.append(payload.runId, "stage", {
            stage: name,
            state: "finished",
            ms: Date.now() - started,
            ...(judged !== undefined
              ? {
                  ok: judged.ok,
                  ...(judged.skipped === true ? { skipped: true } : {}),
                  ...(judged.summary !== undefined ? { summary: redactor.redact(judged.summary) } : {})
                }
              : {})
          })
          return result
        })
      })
    )
  const orFail =
    (name: string) =>
    <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.mapError(effect, (e) => StageFailed.of(name, e))

  /** Records a finished agent stage's result in the run store, where `rerun` finds it even when the run failed later. */
  const keepAgentOutcome = (result: typeof AgentStage.Type) =>
    store.append(payload.runId, AGENT_OUTCOME_EVENT, Schema.encodeSync(AgentStage)(result)).pipe(Effect.as(result))

  /**
   * The agent stage's result of an earlier run, for `rerun`: from its run-store record, else from its
   * evidence.json (runs recorded before the run store kept it). A run that failed at the gate wrote no
   * evidence.json, but its agent outcome is in the run store.
   */
  const earlierAgentOutcome = (runId: string) =>
    Effect.gen(function* () {
      const kept = (yield* store.events(runId)).filter((e) => e.kind === AGENT_OUTCOME_EVENT).at(-1)
      if (kept !== undefined) return yield* Schema.decodeUnknownEffect(AgentStage)(kept.data).pipe(orFail("agent"))
      const previous = path.join(project.stateDir, "runs", runId, "evidence.json")
      const text = yield* fs
        .readFileString(previous)
        .pipe(
          Effect.mapError(() =>
            StageFailed.stopped(
              "agent",
              `run ${runId} recorded no agent outcome to reuse (it ended before its agent finished); run the issue again with \`spec-orch run\``
            )
          )
        )
      const bundle = yield* Schema.decodeUnknownEffect(Schema.fromJsonString(EvidenceBundle))(text).pipe(
        orFail("agent")
      )
      if (bundle.builder === undefined)
        return yield* StageFailed.stopped("agent", `run ${runId} recorded no agent outcome to reuse`)
      return {
        outcome: bundle.builder,
        ...(bundle.compliance !== undefined ? { compliance: bundle.compliance } : {})
      }
    })

  // load: the issue is journaled, so a later stage never sees a different text than the agent did.
  // [mission packets] A packet is not in the IssueSource: its issue is built from the mission's plan.json.
  const loadIssue: Effect.Effect<Issue, unknown, IssueSource> =
    payload.packet !== undefined
      ? Effect.map(loadPacket(payload.packet), (p) => p.issue)
      : IssueSource.use((s) => s.get(payload.issueId))
  const issue = yield* stage("load", Issue, loadIssue.pipe(orFail("load")))

  // spec: approval (or --auto-approve) and no unresolved blocking question.
  const spec = yield* stage(
    "spec",
    SpecStage,
    Effect.gen(function* () {
      const specs = yield* Specs
      const snapshot =
        payload.autoApprovedBy !== undefined
          ? yield* specs.approve(issue, payload.autoApprovedBy)
          : yield* specs.sync(issue)
      const state = specState(snapshot)
      const blocking = unresolvedBlocking(snapshot)
      const evidence = new SpecEvidence({
        exists: true,
        state,
        contentHash: snapshot.contentHash,
        unresolvedBlockingQuestions: blocking.length
      })
      if (blocking.length > 0) {
        return {
          evidence,
          waiting: `${blocking.length} blocking question(s) on ${issue.id} need an answer first: ${blocking.map((q) => `${q.id} "${q.text}"`).join("; ")} (spec-orch questions answer ${issue.id} <id> --answer …)`
        }
      }
      if (project.config.spec.require_approval && state !== "approved") {
        return {
          evidence,
          waiting:
            state === "changed-since-approval"
              ? `the spec of ${issue.id} changed after it was approved; review it (spec-orch spec show ${issue.id}) and approve again`
              : `the spec of ${issue.id} is not approved; review it with \`spec-orch spec show ${issue.id}\`, then \`spec-orch spec approve ${issue.id}\` (or run with --auto-approve)`
        }
      }
      return { evidence }
    }).pipe(orFail("spec"))
  )
  if (spec.waiting !== undefined) {
    return new RunOutcome({ status: "waiting", message: spec.waiting, artifactsDir })
  }

  // Fail before work: a policy file the gate could not load, or a profile it does not define, ends the
  // run here, before a worktree exists or an agent runs (Runs.start checks the same before it starts).
  yield* Gate.use((g) => g.plan(payload.profile)).pipe(orFail("preflight"))

  /**
   * Runs one `[workspace]` hook's commands in the worktree, like verification steps (boxed, scrubbed,
   * logged under hooks/<name>); the first that does not pass stops the stage with its note and log.
   */
  const runHook = (name: "after_create" | "before_run" | "after_run", at: WorkspaceBinding) =>
    Effect.gen(function* () {
      const commands = project.config.workspace[name]
      if (commands.length === 0) return
      const report = yield* Verifier.use((v) =>
        v.run({
          cwd: at.path,
          steps: commands.map(
            (command, i) =>
              new VerificationStep({
                name: `${name}-${i + 1}`,
                command,
                timeoutSeconds: project.config.workspace.hook_timeout_seconds,
                mayModify: true
              })
          ),
          logDir: artifact(path.join("hooks", `${name}${payload.attempt > 1 ? `-${Date.now()}` : ""}`)),
          ...verifyOptionsFrom(project.config),
          hide: [project.root, project.stateDir]
        })
      )
      for (const step of report.steps)
        yield* store.append(payload.runId, "note", { text: `[workspace] ${name}: ${step.name} ${step.outcome}` })
      const bad = report.steps.find(stepFailed)
      if (bad !== undefined) {
        return yield* StageFailed.stopped(
          name === "after_create" ? "workspace" : "agent",
          `[workspace] ${name} command ${JSON.stringify(bad.command)} ${bad.outcome.replace("_", " ")}${bad.exitCode !== null ? ` (exit ${bad.exitCode})` : ""}${bad.note !== undefined ? `: ${bad.note}` : ""}; its log: ${bad.logPath ?? "-"}`
        )
      }
    })

  const journaled = yield* stage(
    "workspace",
    WorkspaceBinding,
    Effect.gen(function* () {
      const workspaces = yield* Workspaces
      const before = yield* workspaces.get(payload.runKey).pipe(orFail("workspace"))
      const created = before === undefined || !(yield* fs.exists(before.path).pipe(Effect.orElseSucceed(() => false)))
      const prepared = yield* workspaces
        .prepare({ runKey: payload.runKey as never, base: payload.base, fresh: payload.fresh })
        .pipe(orFail("workspace"))
      if (created) yield* runHook("after_create", prepared)
      return prepared
    })
  )
  // On a cluster the run may have moved here from the host that prepared its workspace: it works in a
  // worktree of this host's own clone, prepared again (docs/cluster.md). Work committed on the other host
  // cannot be proven here: the commit stage below stops the run so the daemon starts a new attempt.
  const moved = Option.isSome(fence)
    ? yield* Effect.gen(function* () {
        const workspaces = yield* Workspaces
        const local = yield* workspaces.get(payload.runKey).pipe(orFail("workspace"))
        if (local !== undefined && local.path === journaled.path) return undefined
        const created = local === undefined || !(yield* fs.exists(local.path).pipe(Effect.orElseSucceed(() => false)))
        const prepared = yield* workspaces
          .prepare({ runKey: payload.runKey as never, base: payload.base, fresh: payload.fresh })
          .pipe(orFail("workspace"))
        if (created) yield* runHook("after_create", prepared)
        yield* store.append(payload.runId, "note", {
          text: `moved to runner ${fence.value.runner}: working in ${prepared.path} (was ${journaled.path} on another host)`
        })
        return prepared
      })
    : undefined
  const binding = moved ?? journaled

  // On a cluster, the commit is kept on the shared remote under a hidden ref as soon as it is made, so a
  // host that takes the run over after the commit continues from it instead of starting over. Only for a
  // run that publishes whatever its verdict (`always`, as the daemon's are) and whose secret scan ran and
  // found nothing: what would not be pushed at the end is not pushed early either.
  const mayKeepOnRemote =
    Option.isSome(fence) &&
    payload.packet === undefined &&
    (payload.publish ?? project.config.publish.runs) === "always"
  const remote = project.config.github.remote
  const keptRef = `refs/spec-orch/wip/${payload.runKey}`
  const keepOnRemote = (commit: string) =>
    runGit(binding.path, ["push", "--force", "--quiet", remote, `${commit}:${keptRef}`]).pipe(
      Effect.flatMap((r) =>
        r.exitCode === 0
          ? Effect.void
          : store.append(payload.runId, "note", {
              text: `could not keep commit ${commit.slice(0, 10)} on ${remote} (${keptRef}): ${redactor.redact(r.stderr.trim().split("\n").at(-1) ?? "")}; a host that takes the run over starts a new attempt`
            })
      ),
      Effect.ignore
    )
  /** The journaled commit from the remote's kept ref, checked out on this host's branch; false when it is not there. */
  const recoverFromRemote = (commit: string) =>
    Effect.gen(function* () {
      const fetched = yield* runGit(binding.path, ["fetch", "--quiet", remote, keptRef])
      if (fetched.exitCode !== 0) return false
      const tip = yield* runGit(binding.path, ["rev-parse", "FETCH_HEAD"])
      if (tip.stdout.trim() !== commit) return false
      const reset = yield* runGit(binding.path, ["reset", "--quiet", "--hard", commit])
      if (reset.exitCode !== 0) return false
      yield* store.append(payload.runId, "note", {
        text: `continues from commit ${commit.slice(0, 10)} made on another host, fetched from ${remote} (${keptRef})`
      })
      return true
    }).pipe(Effect.orElseSucceed(() => false))
  if (payload.attempt > 1) {
    yield* store.append(payload.runId, "note", {
      text:
        payload.fresh === true
          ? `attempt ${payload.attempt} starts over from the base ${binding.baseCommit.slice(0, 10)} (the earlier attempt's commits are kept under refs/spec-orch/attempts/${payload.runKey}/)`
          : `attempt ${payload.attempt} continues the previous attempt's branch ${binding.branch}`
    })
  }
  yield* store.update(payload.runId, (r) => ({ ...r, worktree: binding.path, branch: binding.branch }) as typeof r)

  const steps: ReadonlyArray<VerificationStep> = resolveSteps(issue, project.config)

  /**
   * `changes` with the changed keys of each file `compare` selects (package.json, pyproject.toml),
   * compared between the base commit and the run's head as git stores them: the agent's own report
   * plays no part. A side git cannot read, or a file that does not parse, leaves the keys unknown,
   * and the gate then counts any change to it.
   */
  const withChangedKeys = (changes: ReadonlyArray<FileChange>, compare: (file: string) => boolean, head: string) =>
    Effect.forEach(changes, (c) =>
      !compare(c.path)
        ? Effect.succeed(c)
        : Effect.gen(function* () {
            const at = (rev: string) =>
              Effect.map(runGit(binding.path, ["cat-file", "blob", `${rev}:${c.path}`]), (r) =>
                r.exitCode === 0 ? r.stdout : undefined
              )
            const base = c.status === "A" ? undefined : yield* at(binding.baseCommit)
            const after = c.status === "D" ? undefined : yield* at(head)
            if ((c.status !== "A" && base === undefined) || (c.status !== "D" && after === undefined)) return c
            const keys = changedKeys(c.path, base, after)
            return keys === undefined ? c : new FileChange({ ...c, changedKeys: keys })
          })
    )

  /** spec-orch's own configuration files as this run's configuration names them, repository-relative (those inside the repository). */
  const configFiles = Effect.gen(function* () {
    const policies = yield* GatePolicies
    const inRepo = (file: string): Array<string> => {
      const rel = path.relative(binding.repo, file)
      return rel === "" || rel.startsWith("..") || path.isAbsolute(rel) ? [] : [rel.split(path.sep).join("/")]
    }
    return [
      ...new Set(
        [
          project.configFile ?? project.resolve("spec-orch.toml"),
          policies.configuredFile,
          project.resolve(project.config.gate.compliance)
        ].flatMap(inRepo)
      )
    ]
  })

  /** A replay arm's run sees the learnings its arm says (`replayOverride`); any other run, the ones in use. */
  const withTrial = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    payload.trial === undefined
      ? effect
      : Effect.provideService(effect, LearningsOverride, replayOverride(payload.trial))

  /** The approved learned compliance rules and skills for the issue; none without evolution. */
  const learnedFor = (forIssue: typeof issue) =>
    withTrial(
      Effect.serviceOption(LearnedRules).pipe(
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.succeed<LearnedForIssue>({ compliance: [], skills: [] }),
            onSome: (l) => l.forIssue(forIssue)
          })
        )
      )
    )

  /**
   * Writes each learned skill's SKILL.md under every skill directory of the worktree where the repository
   * tracks none of that name; returns the files it wrote and the directories it made.
   */
  const offerSkills = (root: string, learned: LearnedForIssue) =>
    Effect.gen(function* () {
      const files: Array<string> = []
      const dirs: Array<string> = []
      for (const skill of learned.skills) {
        for (const dir of SKILL_DIRS) {
          const skillDir = path.join(root, dir, skill.name)
          // The repository's own skill of that name stays as it is; an untracked one is what a turn that died
          // before taking it away left behind (or the agent's), written again and taken away this time.
          const tracked = yield* runGit(root, ["ls-files", "--", `${dir}/${skill.name}`])
          if (tracked.exitCode !== 0 || tracked.stdout.trim() !== "") continue
          const parts = path.join(dir, skill.name).split("/")
          for (let i = 1; i <= parts.length; i++) {
            const d = path.join(root, ...parts.slice(0, i))
            if (!(yield* fs.exists(d))) dirs.push(d)
          }
          yield* fs.makeDirectory(skillDir, { recursive: true })
          const file = path.join(skillDir, "SKILL.md")
          yield* fs.writeFileString(file, skill.skillMd)
          files.push(file)
        }
      }
      return { files, dirs }
    }).pipe(Effect.orDie)

  /** Removes what `offerSkills` made (a directory only when nothing else is left in it), so none of it is committed. */
  const withdrawSkills = (made: { readonly files: ReadonlyArray<string>; readonly dirs: ReadonlyArray<string> }) =>
    Effect.gen(function* () {
      for (const f of made.files) yield* fs.remove(f).pipe(Effect.ignore)
      for (const d of [...made.dirs].sort((a, b) => b.length - a.length)) {
        const left = yield* fs.readDirectory(d).pipe(Effect.orElseSucceed(() => ["?"]))
        if (left.length === 0) yield* fs.remove(d, { recursive: true }).pipe(Effect.ignore)
      }
    })

  const context = yield* stage(
    "context",
    ContextStage,
    Effect.gen(function* () {
      const snapshot = yield* Specs.use((s) => s.get(issue.id)).pipe(orFail("context"))
      // The snapshot of a plain issue is the issue's own text, already in the task section: send it once.
      const spec = snapshot !== undefined && snapshot.content !== specContent(issue) ? snapshot : undefined
      // [feedback loop, daemon helper] A new attempt sees what earlier ones were told and is still open:
      // unresolved findings, and the latest review when it asked for changes.
      const ledger = yield* EvidenceLedger
      const findings = yield* ledger.findings(issue.id, { unresolvedOnly: true }).pipe(orFail("context"))
      const latestReview = (yield* ledger.reviews(issue.id).pipe(orFail("context"))).at(-1)
      const review = latestReview?.verdict === "changes_requested" ? latestReview : undefined
      const envelope = yield* withTrial(
        ContextAssembler.use((c) =>
          c.assemble({
            issue,
            spec,
            verification: steps,
            feedback: { findings, review },
            budgetTokens: project.config.builder.max_prompt_tokens,
            maxSectionTokens: project.config.builder.max_untrusted_section_tokens,
            attempt: { number: payload.attempt, startsFrom: payload.fresh === true ? "base" : "previous" }
          })
        )
      )
      yield* write("prompt.md", envelope.prompt)
      // [evolution] Approved learned compliance rules and skills this run uses (docs/evolution.md).
      const learned = yield* learnedFor(issue)
      // [evolution] A distilled policy replaces the configured builder for a matching issue, unless this run
      // names its agent (`--adapter`) or has no builder step; chosen here, so a resumed run keeps the choice.
      const offered = payload.adapter === undefined && issue.builderPrompt !== undefined ? learned.policy : undefined
      // One whose script holds a secret now (a variable set since it was approved) is not used: the script
      // would be redacted as it is written, and a changed script is not the one a person approved.
      const secret = offered !== undefined ? policySecretProblem(redactor.redact, offered.script) : undefined
      if (offered !== undefined && secret !== undefined)
        yield* store.append(payload.runId, "note", {
          text: `policy ${offered.proposalId} is not used: its ${secret}; ${project.config.builder.adapter} runs instead`
        })
      const policy = secret === undefined ? offered : undefined
      yield* write(
        "context.json",
        `${JSON.stringify({ ...(policy !== undefined ? { policy: { id: `${policy.proposalId}@${policy.contentHash}`, labels: policy.labels, adapter: "command", script: "policy.sh" } } : {}), totalTokens: envelope.totalTokens, budgetTokens: envelope.budgetTokens, truncated: envelope.truncated, notes: envelope.notes, sections: envelope.sections, learnings: envelope.learnings, builder: { learnings: envelope.learned.map((l) => ({ id: l.id, source: l.source })) }, compliance: { learned: learned.compliance.map((r) => `${r.proposalId}@${r.contentHash}`) }, skills: learned.skills.map((k) => ({ id: `${k.proposalId}@${k.contentHash}`, name: k.name, paths: SKILL_DIRS.map((d) => `${d}/${k.name}/SKILL.md`) })), feedback: { findings: findings.map((f) => f.id), review: review?.reviewedAt ?? null }, ...(payload.trial !== undefined ? { replay: payload.trial } : {}) }, null, 2)}\n`
      )
      // [prompt bounds] What was cut shows in the run's progress and log; trusted sections that do not fit stop the run here.
      for (const note of envelope.notes) yield* store.append(payload.runId, "note", { text: `prompt: ${note}` })
      if (envelope.overBudget) {
        return yield* StageFailed.stopped(
          "context",
          `${envelope.notes.at(-1)}: shorten the issue's acceptance criteria or constraints, or raise [builder] max_prompt_tokens (the agent was not started)`
        )
      }
      return {
        ...(policy !== undefined
          ? {
              policy: {
                proposalId: policy.proposalId,
                contentHash: policy.contentHash,
                labels: [...policy.labels],
                script: policy.script
              }
            }
          : {}),
        promptFile: artifact("prompt.md"),
        promptHash: sha256(envelope.prompt),
        totalTokens: envelope.totalTokens,
        budgetTokens: envelope.budgetTokens,
        truncated: envelope.truncated,
        sections: envelope.sections.map((s) => ({
          name: s.name,
          tokens: s.tokens,
          originalTokens: s.originalTokens,
          truncated: s.truncated,
          dropped: s.dropped
        }))
      }
    })
  )

  const adapter = context.policy !== undefined ? "command" : (payload.adapter ?? project.config.builder.adapter)
  /** The builder settings the turn runs with: a policy's script as the `command` agent, in the same sandbox as any agent. */
  const builderFor = (policyScript: string | undefined): SpecOrchConfig["builder"] =>
    policyScript === undefined
      ? project.config.builder
      : { ...project.config.builder, command: ["sh", policyScript], args: [] }
  // The run record carries the agent's usage and the model calls so far, for `status` (also of a run
  // that fails later: after the agent stage, and again after the review).
  const modelCalls = Effect.map(store.events(payload.runId), (events) =>
    summarizeModelCalls(
      events.flatMap((e) => {
        if (e.kind !== MODEL_CALL_EVENT) return []
        const call = Schema.decodeUnknownOption(ModelCall)(e.data)
        return call._tag === "Some" ? [call.value] : []
      })
    )
  )
  const recordUsage = (used: AgentUsage) =>
    Effect.gen(function* () {
      const calls = yield* modelCalls
      yield* store.update(
        payload.runId,
        (r) =>
          ({
            ...r,
            inputTokens: used.inputTokens,
            outputTokens: used.outputTokens,
            ...(used.costUsd !== undefined ? { costUsd: used.costUsd } : {}),
            ...(calls !== undefined ? { modelCalls: calls } : {})
          }) as typeof r
      )
    })

  const agent = yield* stage(
    "agent",
    AgentStage,
    Effect.gen(function* () {
      if (payload.reuseAgentOf !== undefined) {
        const reused = yield* earlierAgentOutcome(payload.reuseAgentOf)
        yield* store.append(payload.runId, "note", {
          text: `agent not run again: reusing the outcome of ${payload.reuseAgentOf} (${reused.outcome.kind})`
        })
        return yield* keepAgentOutcome(reused)
      }
      if (issue.builderPrompt === undefined) {
        return yield* keepAgentOutcome({
          outcome: new AgentOutcome({
            kind: "skipped",
            adapter,
            message: "the issue has no builder prompt",
            usage: new AgentUsage({ inputTokens: 0, outputTokens: 0 }),
            durationMs: 0,
            eventCount: 0,
            filesChanged: [],
            commandsRun: 0
          })
        })
      }
      yield* Workspaces.use((w) => w.check(binding)).pipe(orFail("agent"))
      const learned = yield* learnedFor(issue)
      // The policy's script lives in the run's directory (outside the worktree; the box shows it read-only).
      const policy = context.policy
      const policyScript = policy !== undefined ? artifact("policy.sh") : undefined
      if (policy !== undefined) {
        yield* write("policy.sh", policy.script)
        yield* store.append(payload.runId, "note", {
          text: `policy ${policy.proposalId} (sha256 ${policy.contentHash.slice(0, 12)}, labels ${policy.labels.join(", ")}) runs as a command agent instead of ${project.config.builder.adapter}`
        })
        yield* store.append(payload.runId, "policy", {
          proposalId: policy.proposalId,
          contentHash: policy.contentHash,
          labels: policy.labels
        })
      }
      yield* runHook("before_run", binding)
      const prompt = yield* fs.readFileString(context.promptFile).pipe(orFail("agent"))
      // Events are judged as they come and kept in the event log up to a cap: an agent may emit millions.
      // Approved learned rules are judged beside the project's contracts.
      const compliance = (yield* Compliance).scanner(learned.compliance.map((r) => r.contract))
      // Approved learned skills are offered where agents look for them, and taken away again before the commit.
      const skillFiles = yield* offerSkills(binding.path, learned)
      // Written a batch at a time by one writer: one transaction per event would cost more than the agent
      // (and a busy agent's events would pile up as garbage). The bounded queue slows the agent's reader
      // when the writer falls behind; live followers still see each event within one batch.
      const toLog = yield* Queue.bounded<{ readonly kind: string; readonly data: unknown }, Cause.Done>(1024)
      const writeLog: Effect.Effect<void> = Queue.takeBetween(toLog, 1, 500).pipe(
        Effect.flatMap((batch) => store.appendAll(payload.runId, batch)),
        Effect.forever,
        Effect.catch(() => Effect.void)
      )
      const logWriter = yield* Effect.forkChild(writeLog)
      let logged = 0
      const onEvent: NonNullable<AgentRequest["onEvent"]> = (event) =>
        Effect.suspend(() => {
          compliance.add(event)
          logged++
          // A copy (the JSON view the log stores anyway) waits in the queue, not the adapter's own object: V8
          // allocates objects from a site whose objects tend to survive straight into the old generation, so
          // keeping the first few thousand events alive made every later event of the turn old-space garbage.
          // Measured with 1M lines of output (`pnpm bench output`): 200 MB peak with one transaction per
          // event, with or without the copy, or batched without it; 122 MB batched with it.
          if (logged < AGENT_EVENTS_LOGGED)
            return Queue.offer(toLog, { kind: "agent", data: JSON.parse(JSON.stringify(event)) as unknown }).pipe(
              Effect.asVoid
            )
          if (logged === AGENT_EVENTS_LOGGED) {
            return Queue.offer(toLog, {
              kind: "note",
              data: {
                text: `the agent emitted more than ${AGENT_EVENTS_LOGGED} events; the rest are in events.jsonl, not in the event log`
              }
            }).pipe(Effect.asVoid)
          }
          return Effect.void
        })
      const turn = Agents.use((a) =>
        a.run({
          adapter,
          cwd: binding.path,
          prompt,
          runDir: artifactsDir,
          builder: builderFor(policyScript),
          limits: project.config.limits,
          // The project is hidden even when it is itself a linked worktree (then the main checkout the
          // layout hides is another directory); its state directory too, wherever it lives.
          hide: [project.root, project.stateDir],
          allowHosts: project.config.sandbox.allow_hosts,
          // A policy's script calls no model: no model provider's key reaches it.
          model: policyScript === undefined,
          onEvent
        })
      )
      // On a cluster the turn takes one of this host's agent slots (cluster/HostSlots.ts).
      const outcome = yield* (
        Option.isSome(slots)
          ? // A note a minute while it waits: the daemon cancels a run silent for longer than a turn may be.
            slots.value.withSlot(turn, (size) =>
              store
                .append(payload.runId, "note", {
                  text: `waiting for an agent slot on ${Option.isSome(fence) ? fence.value.runner : "this host"}: all ${size} are taken ([cluster] max_concurrent_per_host)`
                })
                .pipe(Effect.repeat(Schedule.spaced("1 minute")), Effect.asVoid)
            )
          : turn
      ).pipe(
        Effect.ensuring(Effect.andThen(Queue.end(toLog), Fiber.join(logWriter))),
        Effect.ensuring(withdrawSkills(skillFiles)),
        orFail("agent")
      )
      // After the turn, before the commit: what the hooks write belongs to the change.
      if (outcome.kind === "completed") yield* runHook("after_run", binding)
      return yield* keepAgentOutcome({
        outcome,
        compliance: compliance.report(),
        ...(Option.isSome(fence) ? { runner: fence.value.runner } : {})
      })
    }),
    (r) => ({
      ok: r.outcome.kind === "completed" || r.outcome.kind === "skipped",
      summary: `${r.outcome.adapter} ${r.outcome.kind.replace("_", " ")}${r.outcome.message !== undefined ? `: ${r.outcome.message}` : ""}`
    })
  )

  yield* recordUsage(agent.outcome.usage)

  const committed = yield* stage(
    "commit",
    CommitStage,
    Effect.gen(function* () {
      // On a cluster the turn's changes are in the worktree of the runner that ran it: a run that moved
      // after its turn (and before this commit) would commit a worktree without them.
      if (Option.isSome(fence) && agent.runner !== undefined && agent.runner !== fence.value.runner)
        return yield* StageFailed.stopped(
          "commit",
          `run ${payload.runId} moved to runner ${fence.value.runner} after its agent turn on ${agent.runner}, whose changes are on that host; a new attempt starts over`
        )
      const workspaces = yield* Workspaces
      // commitAll checks the binding (worktree, branch) before it commits, then describes the branch beyond its base.
      // On a rerun the agent did not run: whatever is uncommitted in the worktree a person put there, and
      // the commit is theirs (the host's git identity), not "built by" an agent.
      const person = payload.reuseAgentOf !== undefined ? yield* hostIdentity(binding.repo) : undefined
      const { changes, commit, changedFiles, diff } = yield* workspaces.commitAll(
        binding,
        person !== undefined
          ? `${issue.id}: changes made by hand in the worktree\n\nCommitted by spec-orch rerun ${payload.runId}; the agent did not run again.`
          : `${issue.id}: ${issue.title}\n\nBuilt by spec-orch run ${payload.runId} (${context.policy !== undefined ? `policy ${context.policy.proposalId}` : adapter}).`,
        person
      )
      // The scan reads the diff before it is redacted; a scan that cannot run leaves `secrets` not judgeable.
      const secrets = yield* SecretScan.use((s) => s.scan(diff)).pipe(
        Effect.catch((e) => store.append(payload.runId, "note", { text: e.message }).pipe(Effect.as(undefined)))
      )
      yield* write("diff.patch", diff)
      if (commit !== undefined && mayKeepOnRemote && secrets !== undefined && secrets.length === 0)
        yield* keepOnRemote(commit)
      return {
        ...(commit !== undefined ? { commit } : {}),
        changedFiles,
        changes,
        diffHash: sha256(diff),
        ...(secrets !== undefined ? { secrets } : {})
      }
    }).pipe(orFail("commit"))
  )
  if (moved !== undefined && committed.commit !== undefined) {
    const head = yield* runGit(binding.path, ["rev-parse", "HEAD"])
    if (head.stdout.trim() !== committed.commit && !(yield* recoverFromRemote(committed.commit)))
      return yield* StageFailed.stopped(
        "commit",
        `run ${payload.runId} moved to runner ${Option.isSome(fence) ? fence.value.runner : "?"} after its commit ${committed.commit.slice(0, 10)} on another host, which this host does not have; a new attempt starts over`
      )
  }
  yield* store.update(
    payload.runId,
    (r) => ({ ...r, ...(committed.commit ? { headCommit: committed.commit } : {}) }) as typeof r
  )

  const verification = yield* stage(
    "verify",
    VerificationReport,
    Effect.gen(function* () {
      yield* Workspaces.use((w) => w.check(binding)).pipe(orFail("verify"))
      // An agent that failed and changed nothing leaves the base commit: verifying it would only say
      // that the base passes its tests. The steps are skipped, and the report says why.
      const builderKind = agent.outcome.kind
      if (builderKind !== "completed" && builderKind !== "skipped" && committed.changedFiles.length === 0) {
        const at = new Date().toISOString()
        const why = `not run: the agent ${builderKind.replace("_", " ")} and changed nothing, so there is nothing to verify`
        return new VerificationReport({
          steps: steps.map(
            (s) =>
              new StepResult({
                name: s.name,
                outcome: "skipped",
                command: typeof s.command === "string" ? ["sh", "-c", s.command] : [...s.command],
                exitCode: null,
                durationMs: 0,
                outputTail: "",
                note: why
              })
          ),
          notes: [why],
          startedAt: at,
          finishedAt: at
        })
      }
      return yield* Verifier.use((v) =>
        v.run({
          cwd: binding.path,
          steps,
          logDir: artifact("verify"),
          ...verifyOptionsFrom(project.config),
          hide: [project.root, project.stateDir],
          // The agent may have changed the lockfile: the worktree's dependencies are reinstalled from it first.
          reinstall: true,
          onStep: (result) => store.append(payload.runId, "step", result).pipe(Effect.asVoid)
        })
      )
    }),
    (report) => {
      const failed = report.steps.filter(stepFailed)
      // No step ran (the agent failed and changed nothing): not a pass, and progress says why.
      if (report.steps.length > 0 && report.steps.every((s) => s.outcome === "skipped"))
        return { ok: true, skipped: true, summary: report.notes?.[0] ?? "no step ran" }
      return failed.length === 0
        ? { ok: true }
        : {
            ok: false,
            summary: `${failed.length} of ${report.steps.length} step(s) did not pass: ${failed.map((f) => `${f.name} ${f.outcome.replace("_", " ")}`).join(", ")}`
          }
    }
  )

  // preview: the `[preview]` command, run in the worktree like one verification step; its result is
  // the preview evidence. Without `[preview]` nothing is recorded, and the gate says how to configure it.
  const previewConfig = project.config.preview
  const preview =
    previewConfig.command === undefined
      ? undefined
      : yield* stage(
          "preview",
          PreviewStage,
          Effect.gen(function* () {
            yield* Workspaces.use((w) => w.check(binding)).pipe(orFail("preview"))
            const report = yield* Verifier.use((v) =>
              v.run({
                cwd: binding.path,
                steps: [
                  new VerificationStep({
                    name: "preview",
                    command: previewConfig.command!,
                    timeoutSeconds: previewConfig.timeout_seconds
                  })
                ],
                logDir: artifact("preview"),
                ...verifyOptionsFrom(project.config),
                hide: [project.root, project.stateDir],
                onStep: (result) => store.append(payload.runId, "step", result).pipe(Effect.asVoid)
              })
            )
            const step = report.steps[0]!
            return {
              evidence: {
                required: true,
                passed: step.outcome === "passed",
                step,
                ...(previewConfig.url !== undefined ? { url: previewConfig.url } : {})
              }
            }
          })
        )

  const review = yield* stage(
    "review",
    ReviewVerdict,
    Effect.gen(function* () {
      const ledger = yield* EvidenceLedger
      const adapterName = project.config.reviewer.adapter
      const reviewer = yield* Effect.serviceOption(Reviewer)
      if (adapterName === "llm" && Option.isSome(reviewer)) {
        const diff = yield* fs.readFileString(artifact("diff.patch")).pipe(orFail("review"))
        const snapshot = yield* Specs.use((s) => s.get(issue.id)).pipe(orFail("review"))
        // Every request the reviewer's model chain makes is kept in the run store as it happens (a resumed
        // or failed review keeps what it already spent), and summed into the evidence at the gate.
        const usage = ModelUsage.layerCallback((call) =>
          store.append(payload.runId, MODEL_CALL_EVENT, call).pipe(Effect.asVoid)
        )
        // What memory learned for the reviewer (bounded), listed in context.json beside the builder's.
        const learnings = yield* Effect.serviceOption(Learnings).pipe(
          Effect.flatMap(
            Option.match({ onNone: () => Effect.succeed([]), onSome: (l) => l.forIssue(issue, "reviewer") })
          )
        )
        const contextJson = yield* fs.readFileString(artifact("context.json")).pipe(
          Effect.map((t) => JSON.parse(t) as Record<string, unknown>),
          Effect.orElseSucceed(() => ({}))
        )
        yield* write(
          "context.json",
          `${JSON.stringify({ ...contextJson, reviewer: { learnings: learnings.map((l) => ({ id: l.id, source: l.source })) } }, null, 2)}\n`
        )
        const outcome = yield* reviewer.value
          .review({
            issueId: issue.id,
            title: issue.title,
            diff,
            diffHash: committed.diffHash,
            ...(snapshot !== undefined ? { spec: snapshot.content } : {}),
            acceptanceCriteria: issue.acceptanceCriteria,
            changedFiles: committed.changedFiles,
            verification: verification.steps.map((s) => ({ name: s.name, outcome: s.outcome })),
            ...(agent.outcome.finalText !== undefined ? { agentSummary: agent.outcome.finalText } : {}),
            ...(learnings.length > 0 ? { learnings } : {})
          })
          .pipe(Effect.provide(usage))
        if (outcome.findings.length > 0)
          yield* ledger.addFindings(issue.id, outcome.findings, payload.runId).pipe(orFail("review"))
        yield* ledger.recordReview(issue.id, outcome.verdict, payload.runId).pipe(orFail("review"))
        return outcome.verdict
      }
      // A human who already reviewed exactly this diff (e.g. before a rerun) keeps their verdict.
      const earlier = (yield* ledger.reviews(issue.id).pipe(orFail("review"))).filter(
        (r) => r.diffHash === committed.diffHash && r.verdict !== "pending"
      )
      if (earlier.length > 0) return earlier[earlier.length - 1]!
      return new ReviewVerdict({
        verdict: "pending",
        reviewedBy: adapterName,
        source: "local",
        reviewedAt: new Date().toISOString(),
        summary:
          adapterName === "local"
            ? `no automatic reviewer is configured ([reviewer] adapter = "local"); review with \`spec-orch review-issue ${issue.id} --verdict pass --reviewed-by <you>\``
            : `reviewer "${adapterName}" has no model available in this run (check \`spec-orch models check\`); review with \`spec-orch review-issue ${issue.id}\``,
        diffHash: committed.diffHash
      })
    }),
    (verdict) => (verdict.failure !== undefined ? { ok: false, summary: verdict.failure } : { ok: true })
  )

  yield* recordUsage(agent.outcome.usage)

  const gate = yield* stage(
    "gate",
    GateStage,
    Effect.gen(function* () {
      const ledger = yield* EvidenceLedger
      const policy = yield* Gate.use((g) => g.policy).pipe(orFail("gate"))
      const plan = yield* Gate.use((g) => g.plan(payload.profile)).pipe(orFail("gate"))
      const fileChanges =
        committed.changes === undefined
          ? undefined
          : yield* withChangedKeys(
              committed.changes,
              (file) => comparesKeys(policy.protected, file),
              committed.commit ?? "HEAD"
            )
      const findings = yield* ledger.findings(issue.id).pipe(orFail("gate"))
      const acceptances = yield* ledger.acceptances(issue.id).pipe(orFail("gate"))
      const acceptance = acceptances[acceptances.length - 1]
      const usage = agent.outcome.usage
      const bundle = new EvidenceBundle({
        schemaVersion: 1,
        issueId: issue.id,
        runId: payload.runId,
        spec: spec.evidence,
        builder: agent.outcome,
        verification,
        review,
        changedFiles: committed.changedFiles,
        ...(fileChanges !== undefined ? { fileChanges } : {}),
        configFiles: yield* configFiles,
        footprint: payload.footprint ?? new Footprint({ allowed: issue.targetFiles, forbidden: [] }),
        diffHash: committed.diffHash,
        findings,
        ...(acceptance !== undefined ? { acceptance } : {}),
        ...(agent.compliance !== undefined ? { compliance: agent.compliance } : {}),
        ...(committed.secrets !== undefined ? { secrets: committed.secrets } : {}),
        ...(preview !== undefined ? { preview: preview.evidence } : {}),
        ...(yield* Effect.map(modelCalls, (calls) => (calls !== undefined ? { modelCalls: calls } : {}))),
        budget: new BudgetEvidence({
          ...(usage.costUsd !== undefined ? { spentUsd: usage.costUsd } : {}),
          ...(project.config.builder.max_cost_usd !== undefined
            ? { limitUsd: project.config.builder.max_cost_usd }
            : {}),
          tokens: usage.inputTokens + usage.outputTokens,
          ...(project.config.builder.max_tokens !== undefined
            ? { limitTokens: project.config.builder.max_tokens }
            : {}),
          seconds: Math.round(agent.outcome.durationMs / 1000),
          limitSeconds: project.config.builder.timeout_seconds
        })
      })
      const verdict = evaluatePlan(plan, bundle)
      yield* store.append(payload.runId, "verdict", {
        mergeable: verdict.mergeable,
        failed: verdict.failed,
        notJudgeable: verdict.notJudgeable
      })
      return { verdict, bundle, blockOn: policy.blockOn }
    })
  )

  yield* stage(
    "record",
    Schema.Void,
    Effect.gen(function* () {
      // gate.bundle and gate.verdict are the gate stage's result, so already redacted (see `redacted`).
      yield* EvidenceLedger.use((l) => l.record(gate.bundle, gate.verdict)).pipe(orFail("record"))
      yield* write("evidence.json", `${JSON.stringify(Schema.encodeSync(EvidenceBundle)(gate.bundle), null, 2)}\n`)
      // [evolution] The learned proposals the builder was offered, from the context stage's context.json.
      const offered = yield* fs.readFileString(artifact("context.json")).pipe(Effect.orElseSucceed(() => ""))
      const options = { blockOn: gate.blockOn, proposals: activeProposals(offered) }
      yield* write("report.json", `${JSON.stringify(reportJson(gate.bundle, gate.verdict, issue, options), null, 2)}\n`)
      yield* write("explain.md", renderExplain(gate.bundle, gate.verdict, issue, options))
    })
  )

  // [publish: RunPublisher, added by the control helper] host-side push, PR, status, tracker comment; the agent never holds a token.
  yield* stage(
    "publish",
    PublishResult,
    Effect.gen(function* () {
      const explainMarkdown = yield* fs.readFileString(artifact("explain.md")).pipe(orFail("publish"))
      const when = payload.publish ?? project.config.publish.runs
      const local = (reason: string) => new PublishResult({ mode: "local", reason, notes: [] })
      // A mission packet is published by its mission (one branch, merged in dependency order), never
      // as a pull request of its own. Otherwise nothing leaves the machine unless this run was asked to.
      const published =
        payload.packet !== undefined
          ? local(`packet of mission ${payload.packet.missionId}: integrated onto the mission branch by run-plan`)
          : when === "never"
            ? local(
                `not asked to publish ([publish] runs = "never"): the branch ${binding.branch} stays local; \`spec-orch run ${issue.id} --publish\` publishes the next run`
              )
            : when === "mergeable" && !gate.verdict.mergeable
              ? local(
                  `blocked runs are not published ([publish] runs = "mergeable"): the branch ${binding.branch} stays local`
                )
              : yield* RunPublisher.use((p) =>
                  p.publish({
                    issue,
                    runId: payload.runId,
                    runKey: payload.runKey,
                    attempt: payload.attempt,
                    branch: binding.branch,
                    headCommit: committed.commit,
                    baseCommit: binding.baseCommit,
                    worktreePath: binding.path,
                    verdict: gate.verdict,
                    explainMarkdown,
                    reportJsonPath: artifact("report.json"),
                    secrets: committed.secrets,
                    pullRequest: project.config.publish.pull_request,
                    comment: project.config.publish.comment
                  })
                ).pipe(
                  // A refused or failed push is a publishing problem to fix and retry, never a failed run: the
                  // verdict stands, and the evidence says what did not leave the machine.
                  Effect.catch((e) =>
                    Effect.succeed(
                      new PublishResult({
                        mode: "local",
                        reason: `publishing failed: ${e.message}`,
                        failed: e.message,
                        notes: []
                      })
                    )
                  )
                )
      yield* write("publish.json", `${JSON.stringify(Schema.encodeSync(PublishResult)(published), null, 2)}\n`)
      yield* store.append(payload.runId, PUBLISH_RESULT_EVENT, Schema.encodeSync(PublishResult)(published))
      yield* store.append(payload.runId, "note", { text: publishedNote(published) })
      // The kept commit is on the run's branch now (or was not to be pushed): the hidden ref goes.
      if (mayKeepOnRemote && published.mode !== "local")
        yield* runGit(binding.path, ["push", "--quiet", remote, `:${keptRef}`]).pipe(Effect.ignore)
      return published
    })
  )

  // The run is over: `workspace clean` may remove its worktree (the branch stays while it holds unpushed
  // work, and a later run of the key takes the workspace up again).
  yield* Workspaces.use((w) => w.markFinished(payload.runKey)).pipe(Effect.ignore)

  const v = gate.verdict
  return new RunOutcome({
    status: v.mergeable ? "succeeded" : "blocked",
    message: v.mergeable
      ? `mergeable${v.autoMergeable ? " (auto-merge allowed)" : ""}: ${binding.branch}${committed.commit ? ` @ ${committed.commit.slice(0, 10)}` : ""}`
      : `blocked by ${[...v.failed, ...v.notJudgeable].join(", ")}`,
    verdict: v,
    artifactsDir
  })
})

/**
 * The workflow's implementation. On a cluster runner (a `RunFence` is provided) a run fenced off this
 * runner parks: the shard's owner runs it.
 */
export const RunWorkflowLayer = Run.toLayer((payload) =>
  Effect.flatMap(Effect.serviceOption(RunFence), (fence) =>
    Option.isNone(fence)
      ? runBody(payload)
      : runBody(payload).pipe(Effect.catchDefect((d) => (d instanceof RunFenced ? Effect.never : Effect.die(d))))
  )
)
