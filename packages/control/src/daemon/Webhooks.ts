/**
 * The daemon's webhook listener on `[daemon] webhook_port`: GitHub (`X-Hub-Signature-256`) and
 * Linear (`Linear-Signature`, plus its `webhookTimestamp` replay window) deliveries whose HMAC-SHA256
 * signature matches the shared secret trigger an immediate poll; anything else gets a 401 and is
 * never acted on. A delivery carries no instructions: the poll reads the trackers as usual.
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { Clock, Config, Effect, Layer, Option, Redacted, Schema } from "effect"
import { HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import { Project } from "@spec-orch/contract"

/** The variable read for the webhook secret when `[daemon] webhook_secret_env` is not set. */
export const DEFAULT_WEBHOOK_SECRET_ENV = "SPEC_ORCH_WEBHOOK_SECRET"

/** Linear deliveries older (or newer) than this are refused as possible replays. */
export const LINEAR_REPLAY_WINDOW_MS = 60_000

/** `webhook_port` is set but the secret variable is empty: deliveries could not be verified. */
export class WebhookSecretMissing extends Schema.TaggedError<WebhookSecretMissing>()("WebhookSecretMissing", {
  envName: Schema.String,
  port: Schema.Number
}) {
  override get message(): string {
    return `[daemon] webhook_port = ${this.port} needs a secret to check signatures: export ${this.envName} (the secret configured on the GitHub and Linear webhooks), or remove webhook_port`
  }
}

const hmacHex = (secret: string, body: string): string =>
  createHmac("sha256", secret).update(body, "utf8").digest("hex")

const sameHex = (a: string, b: string): boolean => {
  const x = Buffer.from(a, "hex")
  const y = Buffer.from(b, "hex")
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y)
}

/** GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`. */
export const githubSignatureValid = (secret: string, rawBody: string, header: string | undefined): boolean =>
  header !== undefined &&
  header.startsWith("sha256=") &&
  /^[0-9a-f]+$/i.test(header.slice(7)) &&
  sameHex(header.slice(7), hmacHex(secret, rawBody))

/** Linear's `Linear-Signature: <hex HMAC-SHA256 of the raw body>`. */
export const linearSignatureValid = (secret: string, rawBody: string, header: string | undefined): boolean =>
  header !== undefined && /^[0-9a-f]+$/i.test(header) && sameHex(header, hmacHex(secret, rawBody))

/** The signature header value a sender computes, for tests and for `curl` examples. */
export const signBody = (secret: string, rawBody: string): string => hmacHex(secret, rawBody)

/** What one delivery was judged to be. */
export type Delivery =
  | { readonly accepted: true; readonly tracker: "github" | "linear"; readonly event: string }
  | { readonly accepted: false; readonly status: number; readonly reason: string }

/** Judges a delivery by its headers and raw body (pure; `nowMs` for Linear's replay window). */
export const judgeDelivery = (
  secret: string,
  headers: Readonly<Record<string, string | undefined>>,
  rawBody: string,
  nowMs: number
): Delivery => {
  const gh = headers["x-hub-signature-256"]
  const lin = headers["linear-signature"]
  if (gh !== undefined) {
    if (!githubSignatureValid(secret, rawBody, gh))
      return { accepted: false, status: 401, reason: "X-Hub-Signature-256 does not match" }
    return { accepted: true, tracker: "github", event: headers["x-github-event"] ?? "unknown" }
  }
  if (lin !== undefined) {
    if (!linearSignatureValid(secret, rawBody, lin))
      return { accepted: false, status: 401, reason: "Linear-Signature does not match" }
    const ts = Option.getOrUndefined(
      Option.liftThrowable(() => (JSON.parse(rawBody) as { webhookTimestamp?: unknown }).webhookTimestamp)()
    )
    if (typeof ts === "number" && Math.abs(nowMs - ts) > LINEAR_REPLAY_WINDOW_MS) {
      return {
        accepted: false,
        status: 401,
        reason: `webhookTimestamp is ${Math.round((nowMs - ts) / 1000)} s away from now (replay window ${LINEAR_REPLAY_WINDOW_MS / 1000} s)`
      }
    }
    return { accepted: true, tracker: "linear", event: headers["linear-event"] ?? "unknown" }
  }
  return { accepted: false, status: 401, reason: "no X-Hub-Signature-256 or Linear-Signature header" }
}

/** The secret for `[daemon] webhook_secret_env` (default `SPEC_ORCH_WEBHOOK_SECRET`). */
export const webhookSecret = Effect.fnUntraced(function* (envName: string, port: number) {
  const value = yield* Config.option(Config.Redacted(envName)).pipe(
    Effect.orElseSucceed(() => Option.none<Redacted.Redacted<string>>())
  )
  if (Option.isNone(value) || Redacted.value(value.value).trim() === "")
    return yield* new WebhookSecretMissing({ envName, port })
  return value.value
})

/**
 * Serves webhooks on the provided `HttpServer`: `POST` anywhere with a valid signature calls `onDelivery`
 * (the daemon's "poll now") and answers 202; `GET /health` answers 200.
 */
export const webhookServer = (
  onDelivery: (d: Extract<Delivery, { accepted: true }>) => Effect.Effect<void>
): Layer.Layer<never, WebhookSecretMissing, HttpServer.HttpServer | Project> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const project = yield* Project
      const envName = project.config.daemon.webhook_secret_env ?? DEFAULT_WEBHOOK_SECRET_ENV
      const secret = yield* webhookSecret(envName, project.config.daemon.webhook_port ?? 0)
      const handler = Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        if (request.method === "GET") return HttpServerResponse.text("ok\n")
        if (request.method !== "POST") return HttpServerResponse.text("method not allowed\n", { status: 405 })
        const raw = yield* request.text.pipe(Effect.orElseSucceed(() => ""))
        const headers: Record<string, string | undefined> = {}
        for (const [k, v] of Object.entries(request.headers))
          headers[k.toLowerCase()] = typeof v === "string" ? v : undefined
        const verdict = judgeDelivery(Redacted.value(secret), headers, raw, yield* Clock.currentTimeMillis)
        if (!verdict.accepted) {
          yield* Effect.logWarning(`webhook refused: ${verdict.reason}`)
          return HttpServerResponse.text(`${verdict.reason}\n`, { status: verdict.status })
        }
        yield* Effect.logInfo(`webhook from ${verdict.tracker} (${verdict.event}): polling now`)
        yield* onDelivery(verdict)
        return HttpServerResponse.text("accepted\n", { status: 202 })
      })
      return HttpServer.serve(handler)
    })
  )
