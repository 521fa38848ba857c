/**
 * Which model answered a call of a chain and what the call took, as the chain attaches it to the
 * response (`metadata.specOrch` on the finish part) and to a failure (how many requests it made).
 */
import type { CallUsage as ContractCallUsage } from "@spec-orch/contract"
import { AiError } from "effect/ai"
import { clip } from "./internal/chain-failures.js"

/** Which model answered a call of a chain, and what it took; on the finish part's `metadata.specOrch`. */
export interface Attribution {
  readonly chain: string
  /** The profile id of the model that answered. */
  readonly model: string
  readonly modelName: string
  /** HTTP requests this call made, over every model, the repair included. */
  readonly calls: number
  /** Requests to the model that answered (1 = first try). */
  readonly attempt: number
  /** The models given up on before the one that answered, each with why. */
  readonly fallbacks: ReadonlyArray<{ readonly model: string; readonly reason: string }>
  /** Whether the answer came from the repair request. */
  readonly repaired: boolean
  readonly usd?: number | undefined
  /** What the whole call took, over every request (failed ones and the repair included). */
  readonly usage: CallUsage
}

/** The requests of one call of a chain, summed (the contract's shape, as the chain reports it). */
export type CallUsage = ContractCallUsage

/** The attribution the chain attached to a response's parts, when it came from a chain. */
export const attributionOf = (parts: ReadonlyArray<{ readonly type: string }>): Attribution | undefined => {
  const finish = parts.find((p) => p.type === "finish") as { metadata?: Record<string, unknown> } | undefined
  const meta = finish?.metadata?.specOrch as Attribution | undefined
  return meta !== undefined && typeof meta.model === "string" ? meta : undefined
}

/** Says, in a few words, what `a` records: `fb (model-x) after 4 calls; fallback from a (overloaded); repaired`. */
export const describeAttribution = (a: Attribution): string =>
  [
    `${a.model} (${a.modelName}) after ${a.calls} call${a.calls === 1 ? "" : "s"}`,
    ...a.fallbacks.map((f) => `fallback from ${f.model}: ${clip(f.reason, 120)}`),
    ...(a.repaired ? ["repaired once"] : [])
  ].join("; ")

/** How many HTTP requests a failed chain call made (carried on the error's metadata), when known. */
export const callsOfFailure = (error: unknown): number | undefined => {
  if (!AiError.isAiError(error)) return undefined
  const meta = (error.reason as { metadata?: { specOrch?: { calls?: unknown } } }).metadata
  const n = meta?.specOrch?.calls
  return typeof n === "number" ? n : undefined
}
