/**
 * The one HTTP exchange every provider makes: POST a JSON body, wait at most the model's time to
 * first byte for the headers and its timeout for the whole answer,
 * and map every failure to an `AiError` reason precisely (429 → rate limit with retry-after, 529 →
 * overloaded, 5xx → provider error, timeout and connection reset → network error, 400 → invalid
 * request, 401/403 → authentication naming the key's env var). Never puts a key in a message.
 */
import { Clock, Duration, Effect, Redacted } from "effect"
import { AiError, LanguageModel } from "effect/ai"
import { HttpClient, type HttpClientError, HttpClientRequest } from "effect/http"
import { DEFAULT_FIRST_BYTE_MS, type KeySource, type ModelProfile } from "../ModelRegistry.js"

/** What a provider needs to make one call. */
export interface CallContext {
  readonly profile: ModelProfile
  /** The key for this call (already read from its env var or token_command). */
  readonly key: Redacted.Redacted<string> | undefined
  /** AiError module name (e.g. `AnthropicMessages`). */
  readonly module: string
}

/** Replaces every occurrence of the key in `text` (servers sometimes echo what they were sent). */
export const scrub = (text: string, key: Redacted.Redacted<string> | undefined): string => {
  if (key === undefined) return text
  const value = Redacted.value(key)
  if (value.length < 4) return text
  let out = text.split(value).join("[redacted]")
  // A partial echo ("sk-ab...wxyz") is common too: hide any long-enough fragment of the key.
  if (value.length >= 16)
    out = out.split(value.slice(0, 12)).join("[redacted]").split(value.slice(-8)).join("[redacted]")
  return out
}

const clip = (text: string, max = 300) => (text.length <= max ? text : `${text.slice(0, max)}…`)

/** Where the key of `profile` comes from, for messages. */
export const keyOrigin = (key: KeySource | undefined): string =>
  key === undefined ? "no key" : key.kind === "env" ? `$${key.name}` : `token_command of ${key.where}`

/** Wraps a reason in an `AiError` for this call. */
export const fail = (ctx: CallContext, reason: AiError.AiErrorReason): AiError.AiError =>
  AiError.make({ module: ctx.module, method: "generateText", reason })

/** The message text out of an Anthropic (`{error:{type,message}}`) or OpenAI (`{error:{message,code}}`) error body. */
const errorBody = (text: string): { readonly message: string | undefined; readonly type: string | undefined } => {
  try {
    const body = JSON.parse(text)
    const e = body?.error
    if (typeof e === "string") return { message: e, type: undefined }
    return {
      message:
        typeof e?.message === "string" ? e.message : typeof body?.message === "string" ? body.message : undefined,
      type: typeof e?.type === "string" ? e.type : typeof e?.code === "string" ? e.code : undefined
    }
  } catch {
    return { message: text.trim() === "" ? undefined : clip(text.trim(), 200), type: undefined }
  }
}

/** Parses `retry-after` (seconds or an HTTP date) and OpenAI's `retry-after-ms`. */
const retryAfterOf = (headers: Record<string, string | undefined>, now: number): Duration.Duration | undefined => {
  const ms = headers["retry-after-ms"]
  if (ms !== undefined && Number.isFinite(Number(ms))) return Duration.millis(Math.max(0, Number(ms)))
  const ra = headers["retry-after"]
  if (ra === undefined) return undefined
  if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) return Duration.millis(Math.max(0, Math.round(Number(ra) * 1000)))
  const at = Date.parse(ra)
  return Number.isNaN(at) ? undefined : Duration.millis(Math.max(0, at - now))
}

/** The `AiError` reason for an HTTP error status, with a description that names the model and where its key comes from. */
export const reasonForStatus = (
  ctx: CallContext,
  url: string,
  status: number,
  headers: Record<string, string | undefined>,
  bodyText: string,
  now: number
): AiError.AiErrorReason => {
  const { message, type } = errorBody(scrub(bodyText, ctx.key))
  const p = ctx.profile
  const what = `${p.id} (${p.model}): HTTP ${status} from POST ${url}${message !== undefined ? `: ${message}` : ""}`
  const http = {
    response: { status, headers: pick(headers, ["retry-after", "retry-after-ms", "request-id", "x-request-id"]) }
  }
  const overloaded = status === 529 || type === "overloaded_error"
  if (overloaded)
    return new AiError.InternalProviderError({ description: `${what} (the provider is overloaded)`, http })
  if (status === 429) {
    if (type === "insufficient_quota") return new AiError.QuotaExhaustedError({ http })
    const retryAfter = retryAfterOf(headers, now)
    return new AiError.RateLimitError({
      ...(retryAfter !== undefined ? { retryAfter } : {}),
      http,
      metadata: { specOrch: { description: what } }
    })
  }
  // The key's origin leads the description, so no clipping of a long server message can drop it.
  const served = `HTTP ${status} from POST ${url}${message !== undefined ? `: ${message}` : ""}`
  if (status === 401) {
    return new AiError.AuthenticationError({
      kind: "InvalidKey",
      description: `${p.id} (${p.model}): the key from ${keyOrigin(p.key)} was rejected (${served})`,
      http
    })
  }
  if (status === 403) {
    return new AiError.AuthenticationError({
      kind: "InsufficientPermissions",
      description: `${p.id} (${p.model}): the key from ${keyOrigin(p.key)} may not use this model (${served})`,
      http
    })
  }
  if (status === 404) {
    return new AiError.InvalidRequestError({
      description: `${what}. Check the model name and the base URL (${p.baseUrl}, from ${p.baseSource})`,
      http
    })
  }
  if (status >= 500) return new AiError.InternalProviderError({ description: what, http })
  if (status >= 400 && status < 500 && status !== 408)
    return new AiError.InvalidRequestError({ description: what, http })
  if (status === 408)
    return new AiError.NetworkError({
      reason: "TransportError",
      method: "POST",
      url,
      description: `${what} (request timeout)`
    })
  return new AiError.UnknownError({ description: what, http })
}

const pick = (headers: Record<string, string | undefined>, names: ReadonlyArray<string>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const n of names) if (headers[n] !== undefined) out[n] = headers[n]!
  return out
}

/** The most specific words of a transport failure: fetch's "fetch failed" hides the socket error in `cause`. */
const networkDetail = (error: unknown): string => {
  const parts: Array<string> = []
  let e: any = error
  for (let depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    const msg =
      typeof e?.description === "string" ? e.description : typeof e?.message === "string" ? e.message : undefined
    const code = typeof e?.code === "string" ? e.code : undefined
    const piece = [msg, code !== undefined && !(msg ?? "").includes(code) ? `(${code})` : undefined]
      .filter(Boolean)
      .join(" ")
    if (piece !== "" && !parts.includes(piece)) parts.push(piece)
    e = e?.reason && e.reason !== e ? e.reason : e?.cause
  }
  return parts.join(": ") || "connection failed"
}

/**
 * POSTs `body` as JSON to `url` and returns the decoded JSON answer. Fails with an `AiError`:
 * `NetworkError` for timeouts and connection failures, the status mapping above for errors, and
 * `InvalidResponseError` when a 200 answer is not JSON.
 */
export const postJson = (
  ctx: CallContext,
  url: string,
  headers: Record<string, string>,
  body: unknown
): Effect.Effect<any, AiError.AiError, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const request = HttpClientRequest.post(url).pipe(
      HttpClientRequest.setHeaders({ "content-type": "application/json", accept: "application/json", ...headers }),
      HttpClientRequest.bodyJsonUnsafe(body)
    )
    const network = (description: string) =>
      fail(
        ctx,
        new AiError.NetworkError({
          reason: "TransportError",
          method: "POST",
          url,
          description: scrub(description, ctx.key)
        })
      )
    const seconds = ctx.profile.timeoutMs / 1000
    // The first-byte bound only matters when it is shorter than the whole exchange's.
    const firstByteMs = Math.min(ctx.profile.firstByteMs ?? DEFAULT_FIRST_BYTE_MS, ctx.profile.timeoutMs)
    const httpError = (e: HttpClientError.HttpClientError) =>
      e.reason._tag === "InvalidUrlError"
        ? fail(
            ctx,
            new AiError.NetworkError({
              reason: "InvalidUrlError",
              method: "POST",
              url,
              description: `${ctx.profile.id}: the base URL ${ctx.profile.baseUrl} (from ${ctx.profile.baseSource}) is not a valid URL`
            })
          )
        : network(`${ctx.profile.id} (${ctx.profile.model}): ${networkDetail(e)}`)
    const sent = http.execute(request).pipe(Effect.mapError(httpError))
    const exchange = Effect.gen(function* () {
      // The response resolves once its status and headers arrive: that is the provider's first byte.
      const response = yield* firstByteMs < ctx.profile.timeoutMs
        ? sent.pipe(
            Effect.timeoutOrElse({
              duration: Duration.millis(firstByteMs),
              orElse: () =>
                Effect.fail(
                  network(
                    `${ctx.profile.id} (${ctx.profile.model}): the provider accepted the request but sent nothing within ${firstByteMs / 1000} s ${FIRST_BYTE_MARK}`
                  )
                )
            })
          )
        : sent
      const text = yield* response.text.pipe(Effect.mapError(httpError))
      return { status: response.status, headers: response.headers as Record<string, string | undefined>, text }
    }).pipe(
      Effect.timeoutOrElse({
        duration: Duration.millis(ctx.profile.timeoutMs),
        orElse: () =>
          Effect.fail(
            network(`${ctx.profile.id} (${ctx.profile.model}): no answer within ${seconds} s ${TIMEOUT_MARK}`)
          )
      })
    )
    const res = yield* exchange
    if (res.status >= 400 || res.status < 200) {
      const now = yield* Clock.currentTimeMillis
      return yield* Effect.fail(fail(ctx, reasonForStatus(ctx, url, res.status, res.headers, res.text, now)))
    }
    return yield* Effect.try({
      try: () => JSON.parse(res.text) as any,
      catch: () =>
        fail(
          ctx,
          new AiError.InvalidResponseError({
            description: `${ctx.profile.id} (${ctx.profile.model}): the answer from POST ${url} is not valid JSON: ${clip(scrub(res.text, ctx.key), 120)}`
          })
        )
    })
  })

/** Whether `error` is a model letting its whole timeout, or its time to first byte, pass (see `postJson`). */
export const isTimeout = (error: AiError.AiError): boolean =>
  error.reason._tag === "NetworkError" &&
  ((error.reason.description ?? "").includes(TIMEOUT_MARK) ||
    (error.reason.description ?? "").includes(FIRST_BYTE_MARK))

const TIMEOUT_MARK = "(timeout; [models.<id>] timeout_seconds)"
const FIRST_BYTE_MARK = "(time to first byte; [models.<id>] first_byte_timeout_seconds)"

/** Extracts the JSON object from a model's text answer: strips code fences and any prose around the outermost braces. */
export const salvageJson = (text: string): string => {
  const trimmed = text.trim()
  const fenced = /```(?:json)?\s*\n?([\s\S]*?)```/.exec(trimmed)
  const inner = (fenced?.[1] ?? trimmed).trim()
  if (inner.startsWith("{") || inner.startsWith("[")) return inner
  const start = inner.indexOf("{")
  const end = inner.lastIndexOf("}")
  return start >= 0 && end > start ? inner.slice(start, end + 1) : inner
}

/** A tool name providers accept (`^[a-zA-Z0-9_-]{1,64}$`) for the structured-output tool. */
export const toolNameFor = (objectName: string): string =>
  objectName.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64) || "answer"

/** Text for a tool result sent back to a model. */
export const resultText = (result: unknown): string =>
  typeof result === "string" ? result : JSON.stringify(result ?? null)

/**
 * The instruction added to the system prompt for structured output. The JSON schema itself travels
 * once, in the provider's structured-output field (the forced tool's input schema, or Responses'
 * `text.format`): repeating it here doubled the size of every planner and reviewer request.
 */
export const structuredInstruction = (objectName: string, viaTool: string | undefined): string =>
  viaTool !== undefined
    ? `Answer by calling the tool "${viaTool}" exactly once; its input is the answer "${objectName}" and must match the tool's input schema.`
    : `Answer with one JSON object ("${objectName}") that matches the response format's JSON schema, and nothing else: no prose, no code fences.`

const codecs = new WeakMap<object, ReturnType<LanguageModel.CodecTransformer>>()

/**
 * `LanguageModel.defaultCodecTransformer`, remembered per schema: building a JSON schema document is
 * the largest CPU cost of a structured-output call after the HTTP exchange, and both `effect/ai` (for
 * the codec) and the provider (for the request body) need it on every call of the same schema.
 */
export const cachedCodecTransformer: LanguageModel.CodecTransformer = (schema) => {
  const known = codecs.get(schema)
  if (known !== undefined) return known as never
  const made = LanguageModel.defaultCodecTransformer(schema)
  codecs.set(schema, made)
  return made
}
