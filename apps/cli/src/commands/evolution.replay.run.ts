/**
 * `spec-orch evolution validate <id> --replay`: validation by offline replay. Each held-out past issue is
 * run twice through the same Runs workflow as `spec-orch run` (builder, verification, gate): once without
 * the proposal (baseline) and once offered it as an approved proposal would be (candidate). The counts go
 * to the promotion rule; the proposal becomes `validated` only when it says promote.
 *
 * Replay runs never touch the user's state: they live in their own state directory
 * (`<state_dir>/replay/<proposal>/`: run store, evidence ledger, journal, artifacts), under run keys of their
 * own (`replay.<proposal>.<arm>.<issue>`, so their own branches and worktrees, removed after each run), never
 * publish, record nothing in memory, and are not the issue's attempts in `status`.
 */
import { IssueSource, Project, type RunRecord } from "@spec-orch/contract"
import { Runs, RunStore } from "@spec-orch/control"
import {
  armOutcome,
  decidePromotion,
  heldOutCandidates,
  type Proposal,
  Proposals,
  REPLAY_METRIC,
  replayCounts,
  type ReplayOutcome,
  reachesIssue,
  replayRunKey,
  selectHeldOut,
  TRANSITIONS
} from "@spec-orch/evolution"
import { Workspaces } from "@spec-orch/execution"
import { Effect, FileSystem, Option } from "effect"
import { emit, ExitCode, setExitCode, table, usageError } from "../Output.js"
import { withEngine, withPlanes } from "../Planes.js"

/** The project a replay's runs see: its own state directory, no memory, no publishing, no webhooks, local SQLite. */
export const replayProject =
  (proposalId: string) =>
  (p: Project["Service"]): Project["Service"] =>
    Project.of({
      ...p,
      stateDir: `${p.stateDir}/replay/${proposalId}`,
      config: {
        ...p.config,
        // One replay run must not teach the next: the arms differ only by the proposal.
        memory: { ...p.config.memory, enabled: false },
        publish: { ...p.config.publish, runs: "never" },
        notify: { ...p.config.notify, webhooks: [] },
        cluster: { ...p.config.cluster, storage: "sqlite" }
      }
    })

/** What phase one found in the user's state: the proposal, the held-out issues and the profile each was judged with. */
interface ReplayPlan {
  readonly proposal: Proposal
  readonly issues: ReadonlyArray<string>
  readonly excluded: ReadonlyArray<string>
  readonly profiles: ReadonlyMap<string, string | undefined>
}

/** Phase one (the user's state, read only): the proposal and the held-out issues, or why there is nothing to replay. */
const planReplay = (input: { id: string; issues: Option.Option<string>; heldOut: number }) =>
  Effect.gen(function* () {
    const found = yield* (yield* Proposals).get(input.id)
    if (Option.isNone(found)) return `no proposal ${input.id}; \`spec-orch evolution proposals\` lists them`
    const proposal = found.value
    if (!TRANSITIONS[proposal.state].includes("validated"))
      return `${proposal.id} is ${proposal.state}: only a proposed proposal can be validated, so nothing was replayed`
    const runs = yield* (yield* RunStore).list({ limit: 10_000 })
    const named = Option.getOrUndefined(Option.map(input.issues, (s) => s.split(",").map((i) => i.trim())))
    // Only issues the issue source knows can run again (a mission packet's issue lives in its plan), and only
    // where the proposal's scope reaches is it offered: ask about the named ones, or about the most recent
    // candidates until enough qualify.
    const source = yield* IssueSource
    const known = new Set<string>()
    const inScope = new Set<string>()
    for (const id of named ?? heldOutCandidates(proposal, runs)) {
      if (named === undefined && inScope.size >= input.heldOut) break
      const issue = yield* Effect.option(source.get(id))
      if (Option.isNone(issue)) continue
      known.add(id)
      if (reachesIssue(proposal, issue.value)) inScope.add(id)
    }
    const held = selectHeldOut(proposal, runs, {
      issues: named,
      count: input.heldOut,
      known: (i) => known.has(i),
      inScope: (i) => inScope.has(i)
    })
    if ("problem" in held) return held.problem
    // Each issue is judged under the profile its last finished run was judged with (as `rerun` does).
    const profiles = new Map<string, string | undefined>()
    for (const issue of held.issues) {
      const last = runs.find((r: RunRecord) => r.issueId === issue && r.verdict !== undefined)
      profiles.set(issue, last?.verdict?.profile ?? undefined)
    }
    return { proposal, issues: held.issues, excluded: held.excluded, profiles } satisfies ReplayPlan
  })

/** The proposal in the replay's store: the same kind, scope and content give the same id and hash. */
const copyProposal = (p: Proposal) =>
  Effect.gen(function* () {
    const copy = yield* (yield* Proposals).propose(
      { kind: p.kind, scope: p.scope, content: p.content, sources: p.sources },
      { type: "system", id: "replay" },
      `the candidate of a replay of ${p.id}`
    )
    if (copy.id !== p.id || copy.contentHash !== p.contentHash)
      return yield* Effect.die(new Error(`replay: the copy of ${p.id} is ${copy.id}@${copy.contentHash}`))
  })

/** Removes a replay run's worktree and branch (its artifacts stay in the replay's state directory). */
const removeWorktree = (runKey: string) =>
  Workspaces.use((w) => w.remove(runKey, { force: true, deleteBranch: true })).pipe(Effect.ignore)

/**
 * One arm of one issue in the replay's state, through the same Runs workflow as `spec-orch run`; its
 * worktree and branch go when it ends, however it ends.
 */
const armRun = (p: Proposal, issueId: string, arm: "baseline" | "candidate", profile: string | undefined) =>
  Effect.gen(function* () {
    const runs = yield* Runs
    const store = yield* RunStore
    const runKey = replayRunKey(p.id, issueId, arm)
    let runId: string | undefined
    return yield* runs
      .start({
        issueId,
        runKey,
        autoApprovedBy: `replay of ${p.id}`,
        profile,
        publish: "never",
        newAttempt: true,
        fresh: true,
        trial: { proposalId: p.id, arm },
        onStart: (r) =>
          Effect.sync(() => {
            runId = r.runId
          })
      })
      .pipe(
        Effect.map((r) => r.record),
        // A run that started and failed in a stage is a failed arm; one that could not start stops the replay.
        Effect.catch((e) =>
          runId === undefined
            ? Effect.fail(e)
            : Effect.flatMap(store.get(runId), (r) => (r === undefined ? Effect.fail(e) : Effect.succeed(r)))
        ),
        Effect.ensuring(removeWorktree(runKey))
      )
  })

/**
 * Phase two (the replay's own state): both arms of every held-out issue, `concurrency` runs at a time. Each
 * run's worktree and branch go when it ends, however it ends (an interrupted replay too); what a replay
 * killed before that left behind goes when the next replay of the proposal starts.
 */
const replayRuns = (plan: ReplayPlan, quiet: boolean, concurrency: number) =>
  Effect.gen(function* () {
    const p = plan.proposal
    yield* copyProposal(p)
    const trials = plan.issues.flatMap((issueId, i) =>
      (["baseline", "candidate"] as const).map((arm) => ({ i, issueId, arm, runKey: replayRunKey(p.id, issueId, arm) }))
    )
    yield* Effect.forEach(trials, (t) => removeWorktree(t.runKey), { discard: true })
    const arms = yield* Effect.forEach(
      trials,
      ({ i, issueId, arm, runKey }) =>
        Effect.gen(function* () {
          if (!quiet) process.stderr.write(`replay ${i + 1}/${plan.issues.length}: ${issueId} ${arm} (${runKey})\n`)
          const record = yield* armRun(p, issueId, arm, plan.profiles.get(issueId))
          return { issueId, arm, outcome: armOutcome(record) }
        }),
      { concurrency }
    )
    return plan.issues.map(
      (issueId): ReplayOutcome => ({
        issueId,
        baseline: arms.find((a) => a.issueId === issueId && a.arm === "baseline")!.outcome,
        candidate: arms.find((a) => a.issueId === issueId && a.arm === "candidate")!.outcome
      })
    )
  })

/**
 * `policy run <id> --issue <ID>`: the candidate arm of a replay for one issue — the policy's script runs as
 * the agent in the sandbox, then verification and the gate, in the replay's state directory (never the
 * user's runs, never published). Nothing is validated or approved by it.
 */
export const policyTrial = (input: { id: string; issue: string; json: boolean }) =>
  Effect.gen(function* () {
    const checked = yield* inUserState(
      Effect.gen(function* () {
        const found = yield* (yield* Proposals).get(input.id)
        if (Option.isNone(found)) return `no proposal ${input.id}; \`spec-orch policy list\` lists the policies`
        const proposal = found.value
        if (proposal.kind !== "policy")
          return `${proposal.id} is a ${proposal.kind}, not a policy; \`spec-orch policy list\` lists the policies`
        const issue = yield* Effect.option((yield* IssueSource).get(input.issue))
        if (Option.isNone(issue)) return `no issue ${input.issue} in the issue source`
        if (!reachesIssue(proposal, issue.value))
          return `${proposal.id} does not match ${input.issue}: its labels (${issue.value.labels.join(", ") || "none"}) do not include all of the policy's match-labels (\`spec-orch evolution show ${proposal.id}\`)`
        return proposal
      })
    )
    if (typeof checked === "string") return yield* usageError(checked)
    const record = yield* withEngine(
      `policy run ${checked.id} --issue ${input.issue}`,
      { journal: `replay-${checked.id}`, what: `the replay of ${checked.id}`, project: replayProject(checked.id) },
      Effect.provide(
        Effect.andThen(copyProposal(checked), armRun(checked, input.issue, "candidate", undefined)),
        Proposals.layer
      )
    )
    const outcome = armOutcome(record)
    yield* emit(input.json, { proposal: checked.id, issue: input.issue, ...outcome }, () => [
      `${input.issue} with ${checked.id}: ${mark(outcome)}`,
      `Its artifacts (context.json, policy.sh, diff.patch, report.json) are in <state dir>/replay/${checked.id}/runs/${outcome.runId}/`
    ])
    if (!outcome.success) yield* setExitCode(ExitCode.failure)
  })

const mark = (o: ReturnType<typeof armOutcome>) =>
  `${o.success ? "✓" : "✗"} ${o.status} (verification ${o.verification}) ${o.runId}`

/** Runs `effect` over the user's planes (the project the root flags load) and its proposal store. */
const inUserState = <A, E, R>(effect: Effect.Effect<A, E, R>) => withPlanes(Effect.provide(effect, Proposals.layer))

/** `evolution validate <id> --replay`. */
export const validateByReplay = (input: {
  id: string
  issues: Option.Option<string>
  heldOut: number
  concurrency: number
  minSample: number
  json: boolean
}) =>
  Effect.gen(function* () {
    if (input.minSample < 1)
      return yield* usageError(`--min-sample: expected a positive number, got ${input.minSample}`)
    const plan = yield* inUserState(planReplay(input))
    if (typeof plan === "string") return yield* usageError(plan)
    const id = plan.proposal.id
    if (!input.json)
      process.stderr.write(
        `Replaying ${plan.issues.length} held-out issue(s) twice each (${plan.issues.length * 2} runs, ${input.concurrency} at a time), without and with ${id}: ${plan.issues.join(", ")}\n`
      )
    const outcomes = yield* withEngine(
      `evolution validate ${id} --replay`,
      { journal: `replay-${id}`, what: `the replay of ${id}`, project: replayProject(id) },
      Effect.provide(replayRuns(plan, input.json, input.concurrency), Proposals.layer)
    )
    const counts = replayCounts(outcomes)
    yield* inUserState(
      Effect.gen(function* () {
        const store = yield* Proposals
        const project = yield* Project
        const fs = yield* FileSystem.FileSystem
        const decision = decidePromotion(
          { metric: REPLAY_METRIC, minSamplePerArm: input.minSample },
          counts.candidate,
          counts.baseline,
          plan.proposal.kind
        )
        const replay = {
          metric: REPLAY_METRIC,
          issues: plan.issues,
          learnedFrom: plan.excluded,
          runs: outcomes.length * 2,
          stateDir: `${project.stateDir}/replay/${id}`,
          outcomes
        }
        const why = `replay of ${plan.issues.length} held-out issue(s) (${plan.issues.join(", ")}): ${decision.reason}`
        const moved =
          decision.decision === "promote"
            ? yield* store.transition(id, "validated", {
                actor: { type: "system", id: "replay" },
                why,
                detail: { decision, replay }
              })
            : plan.proposal
        yield* fs
          .writeFileString(
            `${replay.stateDir}/replay.json`,
            `${JSON.stringify({ proposal: id, decision, replay }, null, 2)}\n`
          )
          .pipe(Effect.orDie)
        yield* emit(input.json, { proposal: moved, decision, replay }, () => [
          table(
            ["ISSUE", "BASELINE (without)", "CANDIDATE (with)"],
            outcomes.map((o) => [o.issueId, mark(o.baseline), mark(o.candidate)])
          ),
          decision.decision === "promote"
            ? `${id} is validated by replay: ${decision.reason}.`
            : `${id} is NOT validated and stays ${moved.state}: ${decision.reason}.`,
          `Replay runs and their evidence: ${replay.stateDir}`
        ])
        if (decision.decision !== "promote") yield* setExitCode(ExitCode.failure)
      })
    )
  })
