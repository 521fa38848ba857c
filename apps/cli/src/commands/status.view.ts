/** How `spec-orch status` shows runs (and `run --json` describes one): as a table or JSON. */
import { formatModelCost, type RunRecord } from "@spec-orch/contract"
import { emit, table } from "../Output.js"

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
export const show = (
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
