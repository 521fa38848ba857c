/**
 * A model chain as one `effect/ai` `LanguageModel`: each call tries the chain's models in order.
 * A model is retried on transient errors (429, 529/overloaded, 5xx, timeout, connection reset) with
 * backoff that honours retry-after, and the chain moves on only after those retries; any other error
 * (authentication, invalid request, missing key) fails at once, without fallback. Structured output
 * that does not validate gets one repair request carrying the validation error. Every request is
 * recorded as a `ModelCall` (tokens, cost, latency) in the `ModelUsage` in context.
 */
import type { CallUsage as ContractCallUsage } from "@spec-orch/contract"
import { Clock, Context, Duration, Effect, Exit, Fiber, Layer, Option, Redacted, Schema, SchemaIssue, Stream } from "effect"
import { AiError, LanguageModel, Prompt, type Response } from "effect/ai"
import type { HttpClient } from "effect/http"
import { ChildProcess, ChildProcessSpawner } from "effect/process"
import type { ModelProfile } from "./ModelRegistry.js"
import { costOf, type ModelCall, ModelUsage } from "./ModelUsage.js"
import { partsToStream, PROVIDER_MODULE, providerFor } from "./Providers.js"
import { cachedCodecTransformer, isTimeout, keyOrigin, salvageJson, scrub } from "./providers/http.js"

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
export const DEFAULT_RETRY: RetryPolicy = { retries: 2, baseDelay: "1 second", maxDelay: "30 seconds", maxRetryAfter: "60 seconds" }

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
  const meta = (error.reason as { metadata?: Record<string, any> }).metadata
  const n = meta?.specOrch?.calls
  return typeof n === "number" ? n : undefined
}

/** Whether a failed call may succeed if repeated (or on another model). */
const isTransient = (error: AiError.AiError): boolean => {
  switch (error.reason._tag) {
    case "RateLimitError":
    case "InternalProviderError":
    case "InvalidResponseError":
      return true
    case "NetworkError":
      return error.reason.reason === "TransportError"
    default:
      return false
  }
}

/** The host of a base URL (the provider a request went to); the URL itself when it does not parse. */
const providerOf = (baseUrl: string): string => {
  try {
    return new URL(baseUrl).host
  } catch {
    return baseUrl
  }
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max)}…`)

/** A short summary of a failure for usage records, chain messages and `models check` (no module prefix, no advice boilerplate). */
const summary = (error: AiError.AiError): string => {
  const r = error.reason
  switch (r._tag) {
    case "RateLimitError":
      return `rate limited (HTTP 429${r.retryAfter !== undefined ? `, retry after ${Duration.format(r.retryAfter)}` : ""})`
    case "InternalProviderError":
      return clip(r.description, 300)
    case "NetworkError":
      return clip(r.description ?? r.reason, 300)
    default:
      return clip("description" in r && typeof r.description === "string" && r.description !== "" ? r.description : r.message, 300)
  }
}

/** The key for one call: the env value, or the output of `token_command` (run for every call, as the original does). */
const keyFor = (profile: ModelProfile, cwd: string | undefined, spawner: Option.Option<ChildProcessSpawner.ChildProcessSpawner["Service"]>) => {
  const module = PROVIDER_MODULE[profile.apiType]
  const missing = (description: string) =>
    AiError.make({ module, method: "generateText", reason: new AiError.AuthenticationError({ kind: "MissingKey", description }) })
  const key = profile.key
  if (key === undefined) return Effect.fail(missing(`${profile.id} needs ${profile.missing.join(" and ")} (unset or empty)`))
  if (key.kind === "env") return Effect.succeed(key.value)
  if (Option.isNone(spawner)) return Effect.fail(missing(`${profile.id}: token_command of ${key.where} cannot run here (no process spawner)`))
  const run = Effect.scoped(Effect.gen(function*() {
    const handle = yield* spawner.value.spawn(ChildProcess.make("sh", ["-c", key.command], cwd !== undefined ? { cwd } : {}))
    const text = <E>(s: Stream.Stream<Uint8Array, E>) => s.pipe(Stream.decodeText(), Stream.mkString)
    const [stdout, stderr, exitCode] = yield* Effect.all([text(handle.stdout), text(handle.stderr), handle.exitCode], { concurrency: "unbounded" })
    return { stdout: stdout.trim(), stderr: stderr.trim(), exitCode: Number(exitCode) }
  }))
  return run.pipe(
    Effect.timeoutOrElse({ duration: "30 seconds", orElse: () => Effect.succeed({ stdout: "", stderr: "timed out after 30 s", exitCode: -1 }) }),
    Effect.catch((e) => Effect.succeed({ stdout: "", stderr: String((e as any)?.message ?? e), exitCode: -1 })),
    Effect.flatMap((r) => {
      if (r.exitCode === 0 && r.stdout !== "") return Effect.succeed(Redacted.make(r.stdout.split("\n")[0]!.trim()))
      const why = r.exitCode !== 0 ? `exited with ${r.exitCode}${r.stderr !== "" ? `: ${clip(r.stderr.split("\n")[0]!, 200)}` : ""}` : "printed nothing"
      return Effect.fail(missing(`${profile.id}: token_command of ${key.where} ${why}`))
    })
  )
}

/** The whole chain failed with transient errors: one error that names every model and what happened to it. */
const exhausted = (name: string, failures: ReadonlyArray<{ readonly profile: ModelProfile; readonly attempts: number; readonly last: AiError.AiError }>) => {
  if (failures.length === 1) return failures[0]!.last
  const each = failures.map((f) => `${f.profile.id} (${f.profile.model}): ${summary(f.last)} after ${f.attempts} attempt${f.attempts === 1 ? "" : "s"}`)
  return AiError.make({
    module: "ModelChain",
    method: "generateText",
    reason: new AiError.InternalProviderError({ description: `every model of ${name} failed with transient errors — ${each.join("; ")}` })
  })
}

const addMetadata = (parts: Array<Response.PartEncoded>, meta: Record<string, string | number>): Array<Response.PartEncoded> =>
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
  repairing: false,
  startedAt
})
const CallStateKey = Context.Reference<CallState | undefined>("@spec-orch/harness/ModelChain/CallState", { defaultValue: () => undefined })

/** A JSON path for messages: `waves[0].work_packets[2].depends_on`. */
const pathText = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>): string => {
  let out = ""
  for (const seg of path) {
    const key = typeof seg === "object" && seg !== null && "key" in seg ? seg.key : seg
    out += typeof key === "number" ? `[${key}]` : out === "" ? String(key) : `.${String(key)}`
  }
  return out === "" ? "the top level" : out
}

/**
 * What is wrong with an answer, in terms a model can act on: where in the JSON (a path) and what
 * the schema expected there. Falls back to the decoder's own words when the answer cannot be read.
 */
export const schemaProblems = (schema: Schema.Top, responseText: string, fallback: string): ReadonlyArray<string> => {
  if (responseText.trim() === "") return ["the answer was empty: answer with the JSON object"]
  let value: unknown
  try {
    value = JSON.parse(salvageJson(responseText))
  } catch (e) {
    return [`the answer is not valid JSON (${clip(String((e as Error).message ?? e), 200)}): answer with one JSON object, no prose`]
  }
  const exit = Schema.decodeUnknownExit(schema as Schema.Codec<unknown, unknown, never, never>)(value, { errors: "all" })
  if (Exit.isSuccess(exit)) return [fallback]
  const error = exit.cause.reasons.find((r) => r._tag === "Fail") as { error?: { issue?: SchemaIssue.Issue } } | undefined
  const issue = error?.error?.issue
  if (issue === undefined) return [fallback]
  const failure = SchemaIssue.makeFormatterStandardSchemaV1()(issue)
  const lines = failure.issues.map((i) => `at ${pathText(i.path ?? [])}: ${i.message}`)
  return lines.length === 0 ? [fallback] : lines.slice(0, 20)
}

/** Re-labels a failure with how many requests the call made (so a caller can report the real count). */
const withCalls = (error: AiError.AiError, calls: number): AiError.AiError => {
  const reason = Object.assign(Object.create(Object.getPrototypeOf(error.reason)), error.reason, {
    metadata: { ...(error.reason as any).metadata, specOrch: { calls } }
  })
  return AiError.make({ module: error.module, method: error.method, reason })
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
    Effect.gen(function*() {
      const state = newCallState(yield* Clock.currentTimeMillis)
      return yield* effect.pipe(
        Effect.timeoutOrElse({
          duration: options.deadline,
          orElse: () =>
            Effect.fail(AiError.make({
              module: "ModelChain",
              method: "generateText",
              reason: new AiError.NetworkError({
                reason: "TransportError",
                method: "POST",
                url: "",
                description: `${options.label}: no answer within ${Duration.format(options.deadline)} in total, over every model and retry ([llm] role_timeout_seconds)`
              })
            }))
        }),
        Effect.mapError((e) => (AiError.isAiError(e) ? withCalls(e, state.calls) : e)),
        Effect.provideService(CallStateKey, state)
      )
    })
  const generateObject = (options_: any) =>
    bounded(Effect.gen(function*() {
      const first = yield* model.generateObject(options_).pipe(Effect.result)
      if (first._tag === "Success") return first.success
      const error = first.failure as unknown
      if (!options.repair || !AiError.isAiError(error) || error.reason._tag !== "StructuredOutputError") return yield* Effect.fail(error as AiError.AiError)
      const reason = error.reason
      const problems = schemaProblems(options_.schema, reason.responseText, clip(reason.description, 2000))
      const state = yield* CallStateKey
      if (state !== undefined) state.repairing = true
      yield* Effect.logWarning(`${options.label}: the answer does not match the schema; asking once more (${clip(problems[0]!, 160)})`)
      const prompt = Prompt.concat(
        Prompt.make(options_.prompt),
        Prompt.make([
          { role: "assistant", content: reason.responseText === "" ? "(an empty answer)" : clip(reason.responseText, 8000) },
          {
            role: "user",
            content: `That answer does not match the required JSON schema:\n${problems.map((p) => `- ${p}`).join("\n")}\n` +
              "Answer again with the complete, corrected JSON object only."
          }
        ])
      )
      return yield* model.generateObject({ ...options_, prompt })
    }))
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
  Effect.gen(function*() {
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
      Effect.gen(function*() {
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
      Effect.gen(function*() {
        const kind = providerOptions.responseFormat.type === "json" ? "object" as const : "text" as const
        const state: CallState = (yield* CallStateKey) ?? newCallState(yield* Clock.currentTimeMillis)
        const failures: Array<{ profile: ModelProfile; attempts: number; last: AiError.AiError }> = []
        const total = retry.retries + 1
        for (const [index, profile] of options.members.entries()) {
          const generate = providerFor(profile.apiType)
          const module = PROVIDER_MODULE[profile.apiType]
          for (let attempt = 1;; attempt++) {
            const key = yield* keyFor(profile, options.cwd, spawner)
            const started = yield* Clock.currentTimeMillis
            const waiting = (now: number) =>
              Effect.logWarning(`${label}: waiting for ${profile.id} (${profile.model}) (attempt ${attempt}/${total}, ${Math.round((now - state.startedAt) / 1000)} s)`)
            if (attempt > 1 || index > 0) yield* waiting(started)
            state.calls++
            // One line at every interval while the request is outstanding, so a slow provider is visible.
            const ticker = yield* Effect.forkChild(
              Effect.forever(Effect.sleep(progressEvery).pipe(Effect.andThen(Clock.currentTimeMillis), Effect.flatMap(waiting)))
            )
            const result = yield* generate({ profile, key, module }, providerOptions).pipe(
              Effect.provideContext(context),
              Effect.tap((r) => Effect.annotateCurrentSpan({ "model.input_tokens": usageOf(r).input, "model.output_tokens": usageOf(r).output })),
              // One span per request to a provider: retries and fallbacks show as siblings.
              Effect.withSpan("Model.call", {
                kind: "client",
                attributes: { model: profile.id, "model.name": profile.model, "model.api": profile.apiType, "model.chain": options.name, attempt, ...(options.role !== undefined ? { role: options.role } : {}) }
              }),
              Effect.result,
              Effect.ensuring(Fiber.interrupt(ticker))
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
              yield* record({ ...base, ok: true, inputTokens: tokens.input, outputTokens: tokens.output, ...(usd !== undefined ? { usd } : {}) })
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
                  latencyMs: state.latencyMs
                }
              }
              return addMetadata(result.success, attribution as any)
            }
            const error = result.failure
            const detail = scrub(summary(error), key)
            yield* record({ ...base, ok: false, inputTokens: 0, outputTokens: 0, error: error.reason._tag, detail })
            state.failed++
            if (!isTransient(error)) return yield* Effect.fail(error)
            const wait = delayFor(error, attempt)
            if (wait === undefined) {
              failures.push({ profile, attempts: attempt, last: error })
              // The reason without the `<id> (<model>): ` its description starts with: the model is named beside it.
              const prefix = `${profile.id} (${profile.model}): `
              state.fallbacks.push({ model: profile.id, reason: detail.startsWith(prefix) ? detail.slice(prefix.length) : detail })
              const next = options.members[index + 1]
              const then = next !== undefined ? `trying ${next.id} (${next.model})` : "no model left: the call fails"
              yield* Effect.logWarning(
                `${label}: ${profile.id} (${profile.model}) failed ${attempt} time${attempt === 1 ? "" : "s"}: ${clip(detail, 200)}; ${then}`
              )
              break
            }
            yield* Effect.sleep(wait)
          }
        }
        return yield* Effect.fail(exhausted(options.name, failures))
      })

    const model = yield* LanguageModel.make({
      codecTransformer: cachedCodecTransformer,
      generateText: call,
      streamText: (providerOptions) => Stream.unwrap(Effect.map(call(providerOptions), (parts) => Stream.fromIterable(partsToStream(parts))))
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
export const ModelChain = { make, layer, withRepair, isTransient, describeChain, describeFailure: summary, DEFAULT_RETRY, DEFAULT_ROLE_TIMEOUT_MS, DEFAULT_PROGRESS_EVERY_MS } as const
