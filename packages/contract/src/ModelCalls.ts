/**
 * What the model calls of a run or a plan cost: per LLM role, how many HTTP requests, tokens, USD
 * from the models' configured prices, and time spent waiting. A cost is `null` ("unknown") as soon
 * as one call that used tokens went to a model without prices: it is never guessed.
 */
import { Schema } from "effect"

/** What a set of model calls took, summed: the fields a role's usage and a run's totals share. */
const usageTotals = {
  /** HTTP requests, failed ones and the repair included. */
  calls: Schema.Number,
  failed: Schema.Number,
  inputTokens: Schema.Number,
  outputTokens: Schema.Number,
  /** USD from `[models.<id>] input_usd_per_mtok`/`output_usd_per_mtok`; `null` = unknown (some call went to a model without prices). */
  costUsd: Schema.NullOr(Schema.Number),
  /** Time spent in the calls, summed. */
  latencyMs: Schema.Number
}

/** The model calls of one LLM role. */
export const ModelRoleUsage = Schema.Struct({
  /** `planner`, `reviewer`, … (`model` for a call that named no role). */
  role: Schema.String,
  ...usageTotals,
  /** The models called (profile ids), in the order first called. */
  models: Schema.Array(Schema.String)
})
export type ModelRoleUsage = typeof ModelRoleUsage.Type

/** The model calls of a run: totals and each role. */
export const ModelCallsSummary = Schema.Struct({
  ...usageTotals,
  byRole: Schema.Array(ModelRoleUsage)
})
export type ModelCallsSummary = typeof ModelCallsSummary.Type

/** The fields of a recorded model call a summary needs (the harness's `ModelCall` has them). */
export interface ModelCallFacts {
  readonly role?: string | undefined
  readonly model: string
  readonly ok: boolean
  readonly inputTokens: number
  readonly outputTokens: number
  readonly usd?: number | undefined
  readonly latencyMs: number
}

const sum = (calls: ReadonlyArray<ModelCallFacts>) => {
  let cost: number | null = 0
  let inputTokens = 0
  let outputTokens = 0
  let latencyMs = 0
  for (const c of calls) {
    inputTokens += c.inputTokens
    outputTokens += c.outputTokens
    latencyMs += c.latencyMs
    // A call that used no tokens (a refused or failed request) costs nothing, priced or not.
    if (c.usd !== undefined) cost = cost === null ? null : cost + c.usd
    else if (c.inputTokens + c.outputTokens > 0) cost = null
  }
  return {
    calls: calls.length,
    failed: calls.filter((c) => !c.ok).length,
    inputTokens,
    outputTokens,
    costUsd: cost,
    latencyMs
  }
}

/** Sums `calls` per role (in the order roles were first called); `undefined` when there were none. */
export const summarizeModelCalls = (calls: ReadonlyArray<ModelCallFacts>): ModelCallsSummary | undefined => {
  if (calls.length === 0) return undefined
  const roles = new Map<string, Array<ModelCallFacts>>()
  for (const c of calls) {
    const role = c.role ?? "model"
    roles.set(role, [...(roles.get(role) ?? []), c])
  }
  return {
    ...sum(calls),
    byRole: [...roles].map(([role, list]) => ({ role, ...sum(list), models: [...new Set(list.map((c) => c.model))] }))
  }
}

/** `$0.0123`, or `unknown` when a model had no prices. */
export const formatModelCost = (costUsd: number | null): string =>
  costUsd === null ? "unknown" : `$${costUsd < 0.01 && costUsd > 0 ? costUsd.toFixed(4) : costUsd.toFixed(2)}`

/** `reviewer 3 calls (1 failed), 1200 in / 300 out tokens, $0.0123, 2.4 s` for each role, joined by `; `. */
export const describeModelCalls = (s: ModelCallsSummary): string =>
  s.byRole
    .map(
      (r) =>
        `${r.role} ${r.calls} call${r.calls === 1 ? "" : "s"}${r.failed > 0 ? ` (${r.failed} failed)` : ""}, ${r.inputTokens} in / ${r.outputTokens} out tokens, ` +
        `${r.costUsd === null ? "cost unknown (no prices configured)" : formatModelCost(r.costUsd)}, ${(r.latencyMs / 1000).toFixed(1)} s`
    )
    .join("; ")
