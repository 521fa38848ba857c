/**
 * A model chain as one `effect/ai` `LanguageModel`: each call tries the chain's models in order.
 * A model is retried on transient errors (429, 529/overloaded, 5xx, timeout, connection reset) with
 * backoff that honours retry-after, and the chain moves on only after those retries; any other error
 * (authentication, invalid request, missing key) fails at once, without fallback. Structured output
 * that does not validate gets one repair request carrying the validation error. Every request is
 * recorded as a `ModelCall` (tokens, cost, latency) in the `ModelUsage` in context.
 */
import { Clock, Duration, Effect, Layer, Option, Redacted, Stream } from "effect"
import { AiError, LanguageModel, Prompt, type Response } from "effect/ai"
import type { HttpClient } from "effect/http"
import { ChildProcess, ChildProcessSpawner } from "effect/process"
import type { ModelProfile } from "./ModelRegistry.js"
import { costOf, type ModelCall, ModelUsage } from "./ModelUsage.js"
import { partsToStream, PROVIDER_MODULE, providerFor } from "./Providers.js"
import { keyOrigin, scrub } from "./providers/http.js"

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

/**
 * Wraps `model.generateObject` with one repair request: when the answer does not validate against
 * the schema, the model sees its answer and the validation error and answers once more.
 */
const withRepair = (model: LanguageModel.LanguageModel): LanguageModel.LanguageModel => {
  const generateObject = (options: any) =>
    model.generateObject(options).pipe(
      Effect.catch((error: unknown) => {
        if (!AiError.isAiError(error) || error.reason._tag !== "StructuredOutputError") return Effect.fail(error)
        const reason = error.reason
        const prompt = Prompt.concat(
          Prompt.make(options.prompt),
          Prompt.make([
            { role: "assistant", content: reason.responseText === "" ? "(an empty answer)" : clip(reason.responseText, 8000) },
            {
              role: "user",
              content: `That answer does not match the required JSON schema:\n${clip(reason.description, 2000)}\n` +
                "Answer again with the complete, corrected JSON object only."
            }
          ])
        )
        return model.generateObject({ ...options, prompt })
      })
    )
  // The generic signature of generateObject cannot be restated here; the wrapper preserves it.
  return { ...model, generateObject: generateObject as LanguageModel.LanguageModel["generateObject"] }
}

/** Builds the chain's `LanguageModel`. Cheap and side-effect free: nothing is sent until a call. */
const make = (options: ChainOptions): Effect.Effect<LanguageModel.LanguageModel, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    if (options.members.length === 0) return yield* Effect.die(new Error(`model chain ${options.name} has no models`))
    const retry = { ...DEFAULT_RETRY, ...options.retry }
    const baseMs = Duration.toMillis(Duration.fromInputUnsafe(retry.baseDelay))
    const maxMs = Duration.toMillis(Duration.fromInputUnsafe(retry.maxDelay))
    const maxRetryAfter = Duration.fromInputUnsafe(retry.maxRetryAfter)
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
      const ra = error.retryAfter
      if (ra !== undefined) return Duration.isGreaterThan(ra, maxRetryAfter) ? undefined : ra
      return Duration.millis(Math.min(baseMs * 2 ** (attempt - 1), maxMs))
    }

    const call = (providerOptions: LanguageModel.ProviderOptions) =>
      Effect.gen(function*() {
        const kind = providerOptions.responseFormat.type === "json" ? "object" as const : "text" as const
        const failures: Array<{ profile: ModelProfile; attempts: number; last: AiError.AiError }> = []
        for (const profile of options.members) {
          const generate = providerFor(profile.apiType)
          const module = PROVIDER_MODULE[profile.apiType]
          for (let attempt = 1;; attempt++) {
            const key = yield* keyFor(profile, options.cwd, spawner)
            const started = yield* Clock.currentTimeMillis
            const result = yield* generate({ profile, key, module }, providerOptions).pipe(Effect.provideContext(context), Effect.result)
            const latencyMs = (yield* Clock.currentTimeMillis) - started
            const base = { at: started, chain: options.name, model: profile.id, modelName: profile.model, api: profile.apiType, kind, attempt, latencyMs }
            if (result._tag === "Success") {
              const tokens = usageOf(result.success)
              const usd = costOf(profile.prices, tokens.input, tokens.output)
              yield* record({ ...base, ok: true, inputTokens: tokens.input, outputTokens: tokens.output, ...(usd !== undefined ? { usd } : {}) })
              return addMetadata(result.success, {
                chain: options.name,
                model: profile.id,
                modelName: profile.model,
                attempt,
                ...(usd !== undefined ? { usd } : {})
              })
            }
            const error = result.failure
            yield* record({ ...base, ok: false, inputTokens: 0, outputTokens: 0, error: error.reason._tag, detail: scrub(summary(error), key) })
            if (!isTransient(error)) return yield* Effect.fail(error)
            const wait = delayFor(error, attempt)
            if (wait === undefined) {
              failures.push({ profile, attempts: attempt, last: error })
              // Debug, not warning: stdout may carry a command's --json output; the usage ledger keeps the detail.
              yield* Effect.logDebug(`model ${profile.id} of ${options.name} failed ${attempt} time(s): ${scrub(summary(error), key)}; trying the next model`)
              break
            }
            yield* Effect.sleep(wait)
          }
        }
        return yield* Effect.fail(exhausted(options.name, failures))
      })

    const model = yield* LanguageModel.make({
      generateText: call,
      streamText: (providerOptions) => Stream.unwrap(Effect.map(call(providerOptions), (parts) => Stream.fromIterable(partsToStream(parts))))
    })
    return options.repair === false ? model : withRepair(model)
  })

/** The chain as a `LanguageModel` layer. */
const layer = (options: ChainOptions): Layer.Layer<LanguageModel.LanguageModel, never, HttpClient.HttpClient> =>
  Layer.effect(LanguageModel.LanguageModel, make(options))

/** Names the key source of each member, for messages (`minimax ($MINIMAX_API_KEY) → doubao ($ANTHROPIC_AUTH_TOKEN)`). */
const describeChain = (members: ReadonlyArray<ModelProfile>): string =>
  members.map((m) => `${m.id} (${keyOrigin(m.key)})`).join(" → ")

/** Model chains: `ModelChain.make(options)` / `ModelChain.layer(options)` build one as a `LanguageModel`. */
export const ModelChain = { make, layer, withRepair, isTransient, describeChain, describeFailure: summary, DEFAULT_RETRY } as const
