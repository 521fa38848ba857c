/**
 * The handler of `spec-orch status`, apart from `run`'s: it reads the run store only, so it loads
 * the state database and the run store, not the run engine or the other planes.
 */
import { formatModelCost, type RunRecord } from "@spec-orch/contract"
import { ownerAlive, ProcessToken } from "@spec-orch/control/EngineLock"
import { RunStore } from "@spec-orch/control/RunStore"
import { Effect, Option } from "effect"
import { emit, table } from "../Output.js"
import { withRunStore } from "../StatePlane.js"

const opt = <A>(o: Option.Option<A>) => Option.getOrUndefined(o)

/** A run record as plain JSON. */
export const runJson = (r: RunRecord) => ({
  runId: r.runId,
  runKey: r.runKey,
  issueId: r.issueId,
  attempt: r.attempt,
  status: r.status,
  stage: r.stage,
  message: r.message ?? null,
  startedAt: r.startedAt,
  updatedAt: r.updatedAt,
  finishedAt: r.finishedAt ?? null,
  adapter: r.adapter ?? null,
  worktree: r.worktree ?? null,
  branch: r.branch ?? null,
  headCommit: r.headCommit ?? null,
  /** On a cluster: the salt that placed the run on a runner with free slots (null: its own shard). */
  placement: r.placement ?? null,
  mergeable: r.verdict?.mergeable ?? null,
  autoMergeable: r.verdict?.autoMergeable ?? null,
  failed: r.verdict?.failed ?? [],
  notJudgeable: r.verdict?.notJudgeable ?? [],
  artifactsDir: r.artifactsDir ?? null,
  /** The agent's usage as its adapter reported it (`costUsd` null: not reported). */
  agent:
    r.inputTokens === undefined
      ? null
      : { inputTokens: r.inputTokens, outputTokens: r.outputTokens ?? 0, costUsd: r.costUsd ?? null },
  /** The run's model calls (the LLM reviewer's, …) per role; `costUsd` null = unknown (a model without prices). */
  modelCalls: r.modelCalls ?? null
})

/** `agent $0.12 · models $0.0031` (what is known of a run's cost), or `-`. */
export const costText = (r: RunRecord): string => {
  const parts = [
    ...(r.costUsd !== undefined
      ? [`agent ${formatModelCost(r.costUsd)}`]
      : r.inputTokens !== undefined && r.modelCalls !== undefined
        ? ["agent unknown"]
        : []),
    ...(r.modelCalls !== undefined
      ? [
          `models ${formatModelCost(r.modelCalls.costUsd)} (${r.modelCalls.calls} call${r.modelCalls.calls === 1 ? "" : "s"})`
        ]
      : [])
  ]
  return parts.length === 0 ? "-" : parts.join(" · ")
}

/** Prints `shown` (`live[i]`: its run's process is gone), as a table or `--json`. */
const show = (
  input: { readonly json: boolean },
  issue: string | undefined,
  shown: ReadonlyArray<RunRecord>,
  live: ReadonlyArray<boolean>
) => {
  const label = (r: RunRecord, i: number) => (live[i] ? "interrupted" : r.status)
  return emit(
    input.json,
    shown.map((r, i) => ({ ...runJson(r), status: label(r, i) })),
    () => {
      if (shown.length === 0)
        return issue !== undefined ? `${issue} has never run.` : "No runs yet. Start one with `spec-orch run <issue>`."
      const rows = table(
        ["ISSUE", "RUN", "STATUS", "STAGE", "VERDICT", "COST", "UPDATED"],
        shown.map((r, i) => [
          r.issueId,
          r.runId,
          label(r, i),
          r.stage,
          r.verdict
            ? r.verdict.mergeable
              ? "mergeable"
              : `blocked: ${[...r.verdict.failed, ...r.verdict.notJudgeable].join(",")}`
            : "-",
          costText(r),
          r.updatedAt.replace("T", " ").slice(0, 19)
        ])
      )
      const hints = shown.flatMap((r, i) =>
        live[i] ? [`${r.issueId}: its process is gone; \`spec-orch run ${r.issueId}\` resumes it at ${r.stage}`] : []
      )
      return [rows, ...hints]
    }
  )
}

export const status = (input: { issue: Option.Option<string>; all: boolean; json: boolean }) =>
  withRunStore(
    Effect.gen(function* () {
      const store = yield* RunStore
      const me = yield* ProcessToken
      const issue = opt(input.issue)
      const records = yield* store.list({ ...(issue !== undefined ? { issueId: issue } : {}), limit: 500 })
      const shown =
        input.all || issue !== undefined
          ? records
          : records.filter((r, i) => records.findIndex((x) => x.issueId === r.issueId) === i)
      const live = yield* Effect.forEach(shown, (r) =>
        Effect.map(store.owner(r.runId), (o) => r.status === "running" && !ownerAlive(o, me.host))
      )
      yield* show(input, issue, shown, live)
    }),
    show(input, opt(input.issue), [], [])
  )
