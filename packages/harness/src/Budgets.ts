/**
 * Spending limits for one agent turn (USD, tokens, seconds) and a meter that adds up what the agent
 * reports in its usage events. Pure data and functions: the supervisor asks `overBudget` after each
 * event and stops the turn with the reason it returns.
 */
import type { AgentEvent } from "@spec-orch/contract"

/** Limits for one turn; an absent limit is no limit. */
export interface Budgets {
  readonly maxUsd?: number | undefined
  readonly maxTokens?: number | undefined
  readonly maxSeconds?: number | undefined
}

/** What a turn has spent so far. */
export interface Spend {
  readonly inputTokens: number
  readonly outputTokens: number
  /** `undefined` while the agent has reported no cost. */
  readonly usd: number | undefined
  readonly seconds: number
}

/** Why a turn went over budget, in words for the operator, or `undefined` while within budget. */
export const overBudget = (budgets: Budgets, spend: Spend): string | undefined => {
  const tokens = spend.inputTokens + spend.outputTokens
  if (budgets.maxTokens !== undefined && tokens > budgets.maxTokens) {
    return `used ${tokens} tokens, over the budget of ${budgets.maxTokens} ([builder] max_tokens)`
  }
  if (budgets.maxUsd !== undefined && spend.usd !== undefined && spend.usd > budgets.maxUsd) {
    return `spent $${spend.usd.toFixed(4)}, over the budget of $${budgets.maxUsd} ([builder] max_cost_usd)`
  }
  if (budgets.maxSeconds !== undefined && spend.seconds > budgets.maxSeconds) {
    return `ran ${Math.round(spend.seconds)} s, over the time budget of ${budgets.maxSeconds} s`
  }
  return undefined
}

/** True when `budgets` sets no limit at all (the supervisor can skip metering). */
export const isUnlimited = (budgets: Budgets): boolean =>
  budgets.maxUsd === undefined && budgets.maxTokens === undefined && budgets.maxSeconds === undefined

/**
 * Adds up usage events. Incremental events (`cumulative: false`) are summed; a cumulative event
 * replaces the running totals with the agent's own totals for the turn.
 */
export class SpendMeter {
  private input = 0
  private output = 0
  private usd: number | undefined = undefined

  /** Counts one event; events other than `usage` are ignored. */
  add(event: AgentEvent): void {
    if (event._tag !== "usage") return
    if (event.cumulative) {
      this.input = event.inputTokens
      this.output = event.outputTokens
      if (event.costUsd !== undefined) this.usd = event.costUsd
    } else {
      this.input += event.inputTokens
      this.output += event.outputTokens
      if (event.costUsd !== undefined) this.usd = (this.usd ?? 0) + event.costUsd
    }
  }

  /** The spend so far, `seconds` after the turn started. */
  spend(seconds: number): Spend {
    return { inputTokens: this.input, outputTokens: this.output, usd: this.usd, seconds }
  }
}
