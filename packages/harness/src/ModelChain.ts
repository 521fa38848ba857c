/**
 * A model chain as one `effect/ai` `LanguageModel`: each call tries the chain's models in order.
 * A model is retried on transient errors (429, 529/overloaded, 5xx, timeout, connection reset) with
 * backoff that honours retry-after, and the chain moves on only after those retries; any other error
 * (authentication, invalid request, missing key) fails at once, without fallback. Structured output
 * that does not validate gets one repair request carrying the validation error. Every request is
 * recorded as a `ModelCall` (tokens, cost, latency) in the `ModelUsage` in context.
 */
import type { CallRequest } from "@spec-orch/contract"
import { Clock, Context, Duration, Effect, Fiber, Layer, Option, Ref, Schedule, Stream } from "effect"
import { AiError, LanguageModel, Prompt, type Response } from "effect/ai"
import type { HttpClient } from "effect/http"
import { ChildProcessSpawner } from "effect/process"
import type { Attribution } from "./ChainAttribution.js"
import { clip, exhausted, isTransient, providerOf, summary, withCalls } from "./internal/chain-failures.js"
import { keyFor } from "./internal/chain-key.js"
import type { ModelProfile } from "./ModelRegistry.js"
import { costOf, type ModelCall, ModelUsage } from "./ModelUsage.js"
import { partsToStream, PROVIDER_MODULE, providerFor } from "./Providers.js"
import { cachedCodecTransformer, isTimeout, keyOrigin, scrub } from "./providers/http.js"
import { schemaProblems } from "./SchemaProblems.js"

/** How a chain retries one model before moving to the next. */
export interface RetryPolicy {
  /** Retries per model after the first try (default 2, as in the original). */
  readonly retries: number
  /** Backoff before retry n is `baseDelay × 2^(n-1)` (default 1 s), capped at `maxDelay` (default 30 s). */
  readonly baseDelay: Duration.Input
  readonly maxDelay: Duration.Input
  /** A retry-after longer than this moves to the next model at once instead of waiting (default 60 s). */
  readonly maxRetryAfter: Duration.Input
}

/** The default retry policy. */
export const DEFAULT_RETRY: RetryPolicy = {
  retries: 2,
  baseDelay: "1 second",
  maxDelay: "30 seconds",
  maxRetryAfter: "60 seconds"
}

/**
 * The default bound on one call of a chain, every retry, fallback and the repair included
 * (`[llm] role_timeout_seconds`). A model that does not answer within its own timeout
 * (`[models.<id>] timeout_seconds`, default 120 s) is not asked again: the chain moves on.
 */
export const DEFAULT_ROLE_TIMEOUT_MS = 300_000

/** While a request is outstanding, a progress line every this often (`planner: waiting for … (attempt 1/3, 30 s)`). */
export const DEFAULT_PROGRESS_EVERY_MS = 15_000

/** What a chain is made of. */
export interface ChainOptions {
  /** How the chain is named in usage records and messages (`chain:<id>`, `[planner]`, …). */
  readonly name: string
  /** The models to try, in order; each must be usable (`key` set). */
  readonly members: ReadonlyArray<ModelProfile>
  readonly retry?: Partial<RetryPolicy> | undefined
  /** One repair request for structured output that does not validate (default true). */
  readonly repair?: boolean | undefined
  /** Working directory for `token_command` (the project root). */
  readonly cwd?: string | undefined
  /** Called with every `ModelCall`, besides the `ModelUsage` in context. */
  readonly onCall?: ((call: ModelCall) => Effect.Effect<void>) | undefined
  /** The role the chain serves, for progress lines (`planner: waiting for …`); the chain's name when absent. */
  readonly role?: string | undefined
  /** The bound on one call, retries, fallbacks and repair included (default `DEFAULT_ROLE_TIMEOUT_MS`). */
  readonly deadline?: Duration.Input | undefined
  /** How often a progress line is logged while a request is outstanding (default `DEFAULT_PROGRESS_EVERY_MS`). */
  readonly progressEvery?: Duration.Input | undefined
}

const addMetadata = (
  parts: Array<Response.PartEncoded>,
  meta: Record<string, string | number>
): Array<Response.PartEncoded> =>
  parts.map((p) => (p.type === "finish" ? { ...p, metadata: { ...p.metadata, specOrch: meta } } : p))

const usageOf = (parts: ReadonlyArray<Response.PartEncoded>) => {
  const finish = parts.find((p): p is Response.FinishPartEncoded => p.type === "finish")
  return { input: finish?.usage.inputTokens.total ?? 0, output: finish?.usage.outputTokens.total ?? 0 }
}

/** What one call of a chain has done so far (shared by its retries, fallbacks and repair). */
interface CallState {
  calls: number
  failed: number
  inputTokens: number
  outputTokens: number
  /** `null` once a request that used tokens went to a model without prices. */
  costUsd: number | null
  latencyMs: number
  readonly fallbacks: Array<{ readonly model: string; readonly reason: string }>
  /** Each request so far, in order. */
  readonly requests: Array<CallRequest>
  repairing: boolean
  readonly startedAt: number
}
const newCallState = (startedAt: number): CallState => ({
  calls: 0,
  failed: 0,
  inputTokens: 0,
  outputTokens: 0,
  costUsd: 0,
  latencyMs: 0,
  fallbacks: [],
  requests: [],
  repairing: false,
  startedAt
})
const CallStateKey = Context.Reference<CallState | undefined>("@spec-orch/harness/ModelChain/CallState", {
  defaultValue: () => undefined
})

/** One request as the call's attribution records it (the HTTP status read from a failure's summary). */
const requestOf = (
  base: {
    readonly model: string
    readonly modelName: string
    readonly provider: string
    readonly attempt: number
    readonly latencyMs: number
    readonly repair?: boolean
  },
  outcome: string,
  inputTokens: number,
  outputTokens: number,
  usd: number | undefined,
  detail?: string
): CallRequest => {
  const status = detail !== undefined ? /\bHTTP (\d{3})\b/.exec(detail) : null
  return {
    model: base.model,
    modelName: base.modelName,
    provider: base.provider,
    attempt: base.attempt,
    outcome,
    ...(status !== null ? { httpStatus: Number(status[1]) } : {}),
    latencyMs: base.latencyMs,
    inputTokens,
    outputTokens,
    ...(usd !== undefined ? { costUsd: usd } : {}),
    ...(base.repair === true ? { repair: true } : {})
  }
}

/** Why a call of `label` (a role, or a chain's name) was given up at the role's bound, and how to allow longer. */
const roleTimeoutMessage = (label: string, deadline: Duration.Duration): string => {
  // One decimal at most: a 1.5 s bound is not "2 s".
  const seconds = Math.round(Duration.toMillis(deadline) / 100) / 10
  return (
    `${label}: no answer within ${seconds} s, the bound on one call of the role over every model, retry and repair. ` +
    `The bound is [llm] role_timeout_seconds (default ${DEFAULT_ROLE_TIMEOUT_MS / 1000} s): raise it in spec-orch.toml ` +
    "if the model needs longer, or check the role's models with `spec-orch models`."
  )
}

/**
 * Bounds each call of `model` by `deadline`, counts its requests, and (unless `repair` is false)
 * wraps `generateObject` with one repair request: when the answer does not validate against the
 * schema, the model sees its answer and where and how it is wrong, and answers once more.
 */
const finish = (
  model: LanguageModel.LanguageModel,
  options: { readonly repair: boolean; readonly deadline: Duration.Duration; readonly label: string }
): LanguageModel.LanguageModel => {
  const bounded = <A, R>(effect: Effect.Effect<A, AiError.AiError, R>) =>
    Effect.gen(function* () {
      const state = newCallState(yield* Clock.currentTimeMillis)
      return yield* effect.pipe(
        Effect.timeoutOrElse({
          duration: options.deadline,
          orElse: () =>
            Effect.fail(
              AiError.make({
                module: "ModelChain",
                method: "generateText",
                // Not a NetworkError: nothing failed on the network, and its message would end in a
                // request line with no URL and advice to check the connection.
                reason: new AiError.UnknownError({ description: roleTimeoutMessage(options.label, options.deadline) })
              })
            )
        }),
        Effect.mapError((e) => (AiError.isAiError(e) ? withCalls(e, state.calls) : e)),
        Effect.provideService(CallStateKey, state)
      )
    })
  const generateObject = (options_: any) =>
    bounded(
      Effect.gen(function* () {
        const first = yield* model.generateObject(options_).pipe(Effect.result)
        if (first._tag === "Success") return first.success
        const error = first.failure as unknown
        if (!options.repair || !AiError.isAiError(error) || error.reason._tag !== "StructuredOutputError")
          return yield* Effect.fail(error as AiError.AiError)
        const reason = error.reason
        const problems = schemaProblems(options_.schema, reason.responseText, clip(reason.description, 2000))
        const state = yield* CallStateKey
        if (state !== undefined) state.repairing = true
        yield* Effect.logWarning(
          `${options.label}: the answer does not match the schema; asking once more (${clip(problems[0]!, 160)})`
        )
        const prompt = Prompt.concat(
          Prompt.make(options_.prompt),
          Prompt.make([
            {
              role: "assistant",
              content: reason.responseText === "" ? "(an empty answer)" : clip(reason.responseText, 8000)
            },
            {
              role: "user",
              content:
                `That answer does not match the required JSON schema:\n${problems.map((p) => `- ${p}`).join("\n")}\n` +
                "Answer again with the complete, corrected JSON object only."
            }
          ])
        )
        return yield* model.generateObject({ ...options_, prompt })
      })
    )
  const generateText = (options_: any) => bounded(model.generateText(options_))
  // The generic signatures cannot be restated here; the wrappers preserve them.
  return {
    ...model,
    generateObject: generateObject as LanguageModel.LanguageModel["generateObject"],
    generateText: generateText as LanguageModel.LanguageModel["generateText"]
  }
}

/** Wraps `model.generateObject` with one repair request (kept for callers that build their own model). */
const withRepair = (model: LanguageModel.LanguageModel): LanguageModel.LanguageModel =>
  finish(model, { repair: true, deadline: Duration.millis(DEFAULT_ROLE_TIMEOUT_MS), label: "model" })

/** Builds the chain's `LanguageModel`. Cheap and side-effect free: nothing is sent until a call. */
const make = (options: ChainOptions): Effect.Effect<LanguageModel.LanguageModel, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    if (options.members.length === 0) return yield* Effect.die(new Error(`model chain ${options.name} has no models`))
    const retry = { ...DEFAULT_RETRY, ...options.retry }
    const baseMs = Duration.toMillis(Duration.fromInputUnsafe(retry.baseDelay))
    const maxMs = Duration.toMillis(Duration.fromInputUnsafe(retry.maxDelay))
    const maxRetryAfter = Duration.fromInputUnsafe(retry.maxRetryAfter)
    const deadline = Duration.fromInputUnsafe(options.deadline ?? Duration.millis(DEFAULT_ROLE_TIMEOUT_MS))
    const label = options.role ?? options.name
    const progressEvery = Duration.fromInputUnsafe(options.progressEvery ?? Duration.millis(DEFAULT_PROGRESS_EVERY_MS))
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const spawner = yield* Effect.serviceOption(ChildProcessSpawner.ChildProcessSpawner)
    const builtWith = yield* Effect.serviceOption(ModelUsage)

    const record = (call: ModelCall) =>
      Effect.gen(function* () {
        const usage = Option.orElse(yield* Effect.serviceOption(ModelUsage), () => builtWith)
        if (Option.isSome(usage)) yield* usage.value.record(call)
        if (options.onCall !== undefined) yield* options.onCall(call)
      })

    /** The wait before retry `attempt + 1`, or `undefined` to move to the next model now. */
    const delayFor = (error: AiError.AiError, attempt: number): Duration.Duration | undefined => {
      if (attempt > retry.retries) return undefined
      // A model that let its whole timeout pass is not asked again: that is how a hanging provider looks.
      if (isTimeout(error)) return undefined
      const ra = error.retryAfter
      if (ra !== undefined) return Duration.isGreaterThan(ra, maxRetryAfter) ? undefined : ra
      return Duration.millis(Math.min(baseMs * 2 ** (attempt - 1), maxMs))
    }

    const call = (providerOptions: LanguageModel.ProviderOptions) =>
      Effect.gen(function* () {
        const kind = providerOptions.responseFormat.type === "json" ? ("object" as const) : ("text" as const)
        const state: CallState = (yield* CallStateKey) ?? newCallState(yield* Clock.currentTimeMillis)
        const failures: Array<{ profile: ModelProfile; attempts: number; last: AiError.AiError }> = []
        const total = retry.retries + 1
        for (const [index, profile] of options.members.entries()) {
          const generate = providerFor(profile.apiType)
          const module = PROVIDER_MODULE[profile.apiType]
          // This model's attempts: each one journaled and counted; transient failures are retried on a
          // Schedule whose delay the failure decides (its retry-after, else backoff), until `delayFor` says move on.
          const attempts = yield* Ref.make(0)
          const lastDetail = yield* Ref.make("")
          const attemptOnce = Effect.gen(function* () {
            const attempt = yield* Ref.updateAndGet(attempts, (n) => n + 1)
            const key = yield* keyFor(profile, options.cwd, spawner)
            const started = yield* Clock.currentTimeMillis
            const waiting = (now: number) =>
              Effect.logWarning(
                `${label}: waiting for ${profile.id} (${profile.model}) (attempt ${attempt}/${total}, ${Math.round((now - state.startedAt) / 1000)} s)`
              )
            if (attempt > 1 || index > 0) yield* waiting(started)
            state.calls++
            // One line at every interval while the request is outstanding, so a slow provider is visible.
            const ticker = yield* Effect.forkChild(
              Effect.forever(
                Effect.sleep(progressEvery).pipe(Effect.andThen(Clock.currentTimeMillis), Effect.flatMap(waiting))
              )
            )
            const result = yield* generate({ profile, key, module }, providerOptions).pipe(
              Effect.provideContext(context),
              Effect.tap((r) =>
                Effect.annotateCurrentSpan({
                  "model.input_tokens": usageOf(r).input,
                  "model.output_tokens": usageOf(r).output
                })
              ),
              // One span per request to a provider: retries and fallbacks show as siblings.
              Effect.withSpan("Model.call", {
                kind: "client",
                attributes: {
                  model: profile.id,
                  "model.name": profile.model,
                  "model.api": profile.apiType,
                  "model.chain": options.name,
                  attempt,
                  ...(options.role !== undefined ? { role: options.role } : {})
                }
              }),
              Effect.result,
              Effect.ensuring(Fiber.interrupt(ticker)),
              // Cut off by the role's deadline (or a Ctrl-C): the request still happened, and is recorded as such.
              Effect.onInterrupt(() =>
                Effect.gen(function* () {
                  const latencyMs = (yield* Clock.currentTimeMillis) - started
                  state.failed++
                  yield* record({
                    at: started,
                    chain: options.name,
                    model: profile.id,
                    modelName: profile.model,
                    api: profile.apiType,
                    provider: providerOf(profile.baseUrl),
                    kind,
                    attempt,
                    latencyMs,
                    ...(options.role !== undefined ? { role: options.role } : {}),
                    ...(state.repairing ? { repair: true } : {}),
                    ok: false,
                    inputTokens: 0,
                    outputTokens: 0,
                    error: "Interrupted",
                    detail: `${profile.id} (${profile.model}): stopped after ${Math.round(latencyMs / 100) / 10} s, still waiting, when the call was given up (its deadline passed, or it was cancelled)`
                  })
                })
              )
            )
            const latencyMs = (yield* Clock.currentTimeMillis) - started
            state.latencyMs += latencyMs
            const base = {
              at: started,
              chain: options.name,
              model: profile.id,
              modelName: profile.model,
              api: profile.apiType,
              provider: providerOf(profile.baseUrl),
              kind,
              attempt,
              latencyMs,
              ...(options.role !== undefined ? { role: options.role } : {}),
              ...(state.repairing ? { repair: true } : {})
            }
            if (result._tag === "Success") {
              const tokens = usageOf(result.success)
              const usd = costOf(profile.prices, tokens.input, tokens.output)
              state.inputTokens += tokens.input
              state.outputTokens += tokens.output
              // Unknown, never guessed, once tokens went to a model without prices.
              if (usd !== undefined) state.costUsd = state.costUsd === null ? null : state.costUsd + usd
              else if (tokens.input + tokens.output > 0) state.costUsd = null
              yield* record({
                ...base,
                ok: true,
                inputTokens: tokens.input,
                outputTokens: tokens.output,
                ...(usd !== undefined ? { usd } : {})
              })
              state.requests.push(requestOf(base, "ok", tokens.input, tokens.output, usd))
              const attribution: Attribution = {
                chain: options.name,
                model: profile.id,
                modelName: profile.model,
                calls: state.calls,
                attempt,
                fallbacks: [...state.fallbacks],
                repaired: state.repairing,
                ...(usd !== undefined ? { usd } : {}),
                usage: {
                  calls: state.calls,
                  failed: state.failed,
                  inputTokens: state.inputTokens,
                  outputTokens: state.outputTokens,
                  costUsd: state.costUsd,
                  latencyMs: state.latencyMs,
                  requests: [...state.requests]
                }
              }
              return addMetadata(result.success, attribution as any)
            }
            const error = result.failure
            const detail = scrub(summary(error), key)
            yield* Ref.set(lastDetail, detail)
            yield* record({ ...base, ok: false, inputTokens: 0, outputTokens: 0, error: error.reason._tag, detail })
            const failedRequest = requestOf(base, error.reason._tag, 0, 0, undefined, detail)
            state.requests.push(failedRequest)
            state.failed++
            return yield* Effect.fail(error)
          })
          const nextDelay = (error: AiError.AiError) =>
            Effect.map(Ref.get(attempts), (attempt) => (isTransient(error) ? delayFor(error, attempt) : undefined))
          const outcome = yield* attemptOnce.pipe(
            Effect.retry({
              while: (error) => Effect.map(nextDelay(error), (wait) => wait !== undefined),
              schedule: Schedule.forever.pipe(
                Schedule.setInputType<AiError.AiError>(),
                Schedule.modifyDelay(({ input }) => Effect.map(nextDelay(input), (wait) => wait ?? Duration.zero))
              )
            }),
            Effect.result
          )
          if (outcome._tag === "Success") return outcome.success
          const error = outcome.failure
          if (!isTransient(error)) return yield* Effect.fail(error)
          const attempt = yield* Ref.get(attempts)
          const detail = yield* Ref.get(lastDetail)
          failures.push({ profile, attempts: attempt, last: error })
          // The reason without the `<id> (<model>): ` its description starts with: the model is named beside it.
          const prefix = `${profile.id} (${profile.model}): `
          state.fallbacks.push({
            model: profile.id,
            reason: detail.startsWith(prefix) ? detail.slice(prefix.length) : detail
          })
          const lastRequest = state.requests[state.requests.length - 1]
          if (lastRequest !== undefined)
            state.requests[state.requests.length - 1] = {
              ...lastRequest,
              fallbackReason: state.fallbacks[state.fallbacks.length - 1]!.reason
            }
          const next = options.members[index + 1]
          const then = next !== undefined ? `trying ${next.id} (${next.model})` : "no model left: the call fails"
          yield* Effect.logWarning(
            `${label}: ${profile.id} (${profile.model}) failed ${attempt} time${attempt === 1 ? "" : "s"}: ${clip(detail, 200)}; ${then}`
          )
        }
        return yield* Effect.fail(exhausted(options.name, failures))
      })

    const model = yield* LanguageModel.make({
      codecTransformer: cachedCodecTransformer,
      generateText: call,
      streamText: (providerOptions) =>
        Stream.unwrap(Effect.map(call(providerOptions), (parts) => Stream.fromIterable(partsToStream(parts))))
    })
    return finish(model, { repair: options.repair !== false, deadline, label })
  })

/** The chain as a `LanguageModel` layer. */
const layer = (options: ChainOptions): Layer.Layer<LanguageModel.LanguageModel, never, HttpClient.HttpClient> =>
  Layer.effect(LanguageModel.LanguageModel, make(options))

/** Names the key source of each member, for messages (`minimax ($MINIMAX_API_KEY) → doubao ($ANTHROPIC_AUTH_TOKEN)`). */
const describeChain = (members: ReadonlyArray<ModelProfile>): string =>
  members.map((m) => `${m.id} (${keyOrigin(m.key)})`).join(" → ")

/** Model chains: `ModelChain.make(options)` / `ModelChain.layer(options)` build one as a `LanguageModel`. */
export const ModelChain = {
  make,
  layer,
  withRepair,
  isTransient,
  describeChain,
  describeFailure: summary,
  DEFAULT_RETRY,
  DEFAULT_ROLE_TIMEOUT_MS,
  DEFAULT_PROGRESS_EVERY_MS
} as const
