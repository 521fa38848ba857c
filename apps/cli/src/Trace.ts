/**
 * Traces of runs. Every span that belongs to a run (it, or a span above it, carries `run.id`) is
 * appended when it ends to `<state_dir>/runs/<run-id>/trace.jsonl`, one JSON line per span, redacted:
 * no collector needed, and a run resumed after a crash appends to the same file. With `[telemetry]
 * otlp_endpoint` (or `OTEL_EXPORTER_OTLP_ENDPOINT`) the spans are also exported over OTLP/HTTP by
 * effect's exporter. `trace show` reads the file back as a tree.
 */
import { Project } from "@spec-orch/contract"
import { Redactor } from "@spec-orch/harness"
import { Cause, Config, Effect, Exit, Layer, Option, Tracer } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpSerialization, OtlpTracer } from "effect/observability"
import { appendFileSync, mkdirSync } from "node:fs"
import { join } from "node:path"

/** The attribute that ties a span (and every span below it) to a run's trace file. */
export const RUN_ID_ATTRIBUTE = "run.id"

/** The name of a run's trace file in its artifacts directory. */
export const TRACE_FILE = "trace.jsonl"

/** One ended span as `trace.jsonl` keeps it. */
export interface SpanLine {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | null
  readonly name: string
  /** Start and end, ISO 8601 (milliseconds). */
  readonly start: string
  readonly end: string
  readonly durationMs: number
  readonly status: "ok" | "error" | "interrupted"
  /** Why the span failed (redacted), when it did. */
  readonly error?: string
  readonly attributes: Readonly<Record<string, unknown>>
  /**
   * For a span whose parent is not part of the run (the workflow's own span, started by the engine):
   * the ids above it, nearest first, so `trace show` can hang it under the caller's span.
   */
  readonly ancestors?: ReadonlyArray<string>
}

/** The run a span belongs to: its own `run.id`, else the nearest ancestor's. */
const runOf = (span: Tracer.AnySpan | undefined): string | undefined => {
  for (let s = span; s !== undefined; ) {
    if (s._tag === "ExternalSpan") return undefined
    const id = s.attributes.get(RUN_ID_ATTRIBUTE)
    if (typeof id === "string" && id !== "") return id
    s = Option.getOrUndefined(s.parent)
  }
  return undefined
}

const iso = (nanos: bigint) => new Date(Number(nanos / 1_000_000n)).toISOString()

const jsonValue = (v: unknown): unknown =>
  typeof v === "bigint" ? v.toString() : typeof v === "function" || typeof v === "symbol" ? String(v) : v

/** The line of an ended span, redacted. */
export const spanLine = (
  span: Tracer.Span,
  endTime: bigint,
  exit: Exit.Exit<unknown, unknown>,
  redactor: Pick<Redactor["Service"], "redact" | "redactJson">
): SpanLine => {
  const start = span.status.startTime
  const parent = Option.getOrUndefined(span.parent)
  const status = Exit.isSuccess(exit) ? "ok" : Cause.hasInterruptsOnly(exit.cause) ? "interrupted" : "error"
  const attributes: Record<string, unknown> = {}
  for (const [k, v] of span.attributes) attributes[k] = jsonValue(v)
  const ancestors: Array<string> = []
  if (parent !== undefined && runOf(parent) === undefined) {
    for (
      let s: Tracer.AnySpan | undefined = parent;
      s !== undefined && ancestors.length < 32;
      s = s._tag === "Span" ? Option.getOrUndefined(s.parent) : undefined
    ) {
      ancestors.push(s.spanId)
    }
  }
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: parent?.spanId ?? null,
    name: span.name,
    start: iso(start),
    end: iso(endTime),
    durationMs: Number(endTime - start) / 1_000_000,
    status,
    ...(status === "error" && Exit.isFailure(exit)
      ? { error: redactor.redact(Cause.pretty(exit.cause).split("\n")[0] ?? "").slice(0, 500) }
      : {}),
    attributes: redactor.redactJson(attributes) as Record<string, unknown>,
    ...(ancestors.length > 1 ? { ancestors } : {})
  }
}

const redactValue = (redactor: Pick<Redactor["Service"], "redact" | "redactJson">, value: unknown): unknown =>
  typeof value === "string"
    ? redactor.redact(value)
    : typeof value === "object" && value !== null
      ? redactor.redactJson(value)
      : value

/** A failed exit as a span reports it: one error whose message and stack are redacted (interruptions and successes unchanged). */
const redactExit = (
  redactor: Pick<Redactor["Service"], "redact" | "redactJson">,
  exit: Exit.Exit<unknown, unknown>
): Exit.Exit<unknown, unknown> => {
  if (Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause)) return exit
  const first = Cause.prettyErrors(exit.cause)[0]
  if (first === undefined) return exit
  const error = new Error(redactor.redact(first.message))
  error.name = first.name
  error.stack = redactor.redact(first.stack ?? "")
  return Exit.die(error)
}

/**
 * A tracer over `inner` (effect's own, or the OTLP exporter's) that also appends each ended span of a
 * run to `<stateDir>/runs/<run-id>/trace.jsonl`. Writing is synchronous and small (one line), so a
 * span is on disk the moment it ends, even if the process is killed right after.
 */
export const fileTracer = (
  inner: Tracer.Tracer,
  stateDir: string,
  redactor: Pick<Redactor["Service"], "redact" | "redactJson">
): Tracer.Tracer => {
  return Tracer.make({
    span(options) {
      const span = inner.span(options)
      // What the inner tracer (the OTLP exporter) keeps is redacted too: attributes, events and errors.
      const attribute = span.attribute.bind(span)
      span.attribute = (key, value) => attribute(key, redactValue(redactor, value))
      const event = span.event.bind(span)
      span.event = (name, startTime, attributes) =>
        event(
          name,
          startTime,
          attributes === undefined ? undefined : (redactor.redactJson(attributes) as Record<string, unknown>)
        )
      const end = span.end.bind(span)
      span.end = (endTime, exit_) => {
        const first = span.status._tag === "Started"
        const exit = redactExit(redactor, exit_)
        end(endTime, exit)
        const runId = first ? runOf(span) : undefined
        if (runId === undefined || !/^[A-Za-z0-9._#@-]+$/.test(runId)) return
        const dir = join(stateDir, "runs", runId)
        const line = `${JSON.stringify(spanLine(span, endTime, exit, redactor))}\n`
        try {
          appendFileSync(join(dir, TRACE_FILE), line)
        } catch {
          // The run's directory is made on its first line only: a mkdir with every line about doubled the
          // cost of writing it (measured 20–50 µs a span with it, 10–19 µs without; a quick-start run ends ~270).
          try {
            mkdirSync(dir, { recursive: true })
            appendFileSync(join(dir, TRACE_FILE), line)
          } catch {
            // A trace line that cannot be written (disk full, a read-only state directory) never fails the run.
          }
        }
      }
      return span
    },
    ...(inner.context !== undefined ? { context: inner.context } : {})
  })
}

/** The OTLP traces URL for an endpoint: a base address gets `/v1/traces`; a full URL stays. */
export const tracesUrl = (endpoint: string): string => {
  const trimmed = endpoint.replace(/\/+$/, "")
  return /\/v1\/traces$/.test(trimmed) ? trimmed : `${trimmed}/v1/traces`
}

/** The collector's traces URL and headers from `[telemetry]` and the standard OTEL variables, or none. */
export const otlpTarget = Effect.gen(function* () {
  const project = yield* Project
  const telemetry = project.config.telemetry
  const tracesEnv = yield* Config.option(Config.String("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
  const baseEnv = yield* Config.option(Config.String("OTEL_EXPORTER_OTLP_ENDPOINT"))
  const url =
    telemetry.otlp_endpoint !== undefined
      ? tracesUrl(telemetry.otlp_endpoint)
      : Option.isSome(tracesEnv) && tracesEnv.value.trim() !== ""
        ? tracesEnv.value.trim()
        : Option.isSome(baseEnv) && baseEnv.value.trim() !== ""
          ? tracesUrl(baseEnv.value.trim())
          : undefined
  if (url === undefined) return undefined
  const headers: Record<string, string> = {}
  const missing: Array<string> = []
  for (const [header, variable] of Object.entries(telemetry.headers_env)) {
    const value = yield* Config.option(Config.String(variable))
    if (Option.isSome(value) && value.value !== "") headers[header] = value.value
    else missing.push(`${header} (from ${variable})`)
  }
  return { url, serviceName: telemetry.service_name, headers, missing }
}).pipe(Effect.orElseSucceed(() => undefined))

/**
 * The tracer for commands that run issues: every run's spans go to its trace file, and to the OTLP
 * collector when one is configured (flushed when the command's scope closes).
 */
export const RunTracing = Layer.unwrap(
  Effect.gen(function* () {
    const project = yield* Project
    const target = yield* otlpTarget
    const file = Layer.effect(
      Tracer.Tracer,
      Effect.gen(function* () {
        const inner = yield* Tracer.Tracer
        return fileTracer(inner, project.stateDir, yield* Redactor)
      })
    )
    if (target === undefined) return file
    if (target.missing.length > 0) {
      yield* Effect.logWarning(`[telemetry] headers_env: not set, sent without: ${target.missing.join(", ")}`)
    }
    // Spans are batched every 5 s and flushed when the command ends; a collector that is down (each
    // export is retried) delays that end by at most `shutdownTimeout`.
    const otlp = OtlpTracer.layer({
      url: target.url,
      resource: { serviceName: target.serviceName },
      headers: target.headers,
      shutdownTimeout: "2 seconds"
    }).pipe(Layer.provide(OtlpSerialization.layerJson), Layer.provide(FetchHttpClient.layer))
    return file.pipe(Layer.provide(otlp))
  })
)
