/**
 * Traces of commands that are not runs (`plan`, `verify`): the command's work runs under one root span
 * carrying a trace id in `run.id`, so `Trace.ts`'s tracer appends it and every span below it (each model
 * call, each verification step) to `<state_dir>/runs/<trace id>/trace.jsonl`, and `trace show <trace id>`
 * draws it; with `[telemetry]` the spans are exported over OTLP as a run's are.
 */
import { Redactor } from "@spec-orch/harness"
import { Clock, Effect, Layer } from "effect"
import { RUN_ID_ATTRIBUTE, RunTracing } from "./Trace.js"

/** `<kind>-<subject>-<UTC time to the second>`, e.g. `plan-greetings-20261205T115000Z` (the form verify's log folder already has). */
export const commandTraceId = (kind: string, subject: string) =>
  Effect.map(
    Clock.currentTimeMillis,
    (ms) =>
      `${kind}-${subject}-${new Date(ms)
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d+Z$/, "Z")}`
  )

/** Runs `effect` under the root span `name` of the trace `traceId` (needs the project: call it inside `withPlanes`). */
export const traced = <A, E, R>(
  name: string,
  traceId: string,
  attributes: Record<string, unknown>,
  effect: Effect.Effect<A, E, R>
) =>
  effect.pipe(
    Effect.withSpan(name, { attributes: { [RUN_ID_ATTRIBUTE]: traceId, ...attributes } }),
    Effect.provide(RunTracing.pipe(Layer.provide(Redactor.layer)))
  )
