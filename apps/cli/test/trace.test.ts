/**
 * The run tracer on its own: a span of a run (or below one) is appended to the run's trace.jsonl, and
 * neither the file nor the tracer underneath (the OTLP exporter in a real run) sees a secret in an
 * attribute, an event or an error.
 */
import { assert, describe, it } from "@effect/vitest"
import { Redactor } from "@spec-orch/harness"
import { Cause, Effect, Exit, Tracer } from "effect"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileTracer, tracesUrl } from "../src/Trace.js"

const SECRET = "zq8-very-secret-value-55aa"

/** A tracer under the file tracer that records what reaches it, as an exporter would. */
const recording = () => {
  const seen: Array<string> = []
  const tracer = Tracer.make({
    span(options) {
      const span = Tracer.nativeTracer.span(options)
      const attribute = span.attribute.bind(span)
      span.attribute = (k, v) => {
        seen.push(`${k}=${JSON.stringify(v)}`)
        attribute(k, v)
      }
      const event = span.event.bind(span)
      span.event = (name, t, attributes) => {
        seen.push(`${name} ${JSON.stringify(attributes)}`)
        event(name, t, attributes)
      }
      const end = span.end.bind(span)
      span.end = (t, exit) => {
        if (Exit.isFailure(exit))
          seen.push(
            Cause.pretty(exit.cause),
            ...Cause.prettyErrors(exit.cause).map((e) => `${e.message}\n${e.stack ?? ""}`)
          )
        end(t, exit)
      }
      return span
    }
  })
  return { tracer, seen }
}

describe("the run tracer", () => {
  it.effect(
    "writes each ended span under a run to runs/<id>/trace.jsonl, redacted, and passes only redacted values on",
    () =>
      Effect.gen(function* () {
        const stateDir = mkdtempSync(join(tmpdir(), "trace-unit-"))
        const redactor = yield* Redactor
        const inner = recording()
        const tracer = fileTracer(inner.tracer, stateDir, redactor)
        const failing = Effect.fail(new Error(`upstream said: token ${SECRET} rejected`)).pipe(
          Effect.withSpan("Tracker.call", { attributes: { url: `https://x.example/?key=${SECRET}` } })
        )
        const run = Effect.gen(function* () {
          yield* Effect.annotateCurrentSpan({ note: `with ${SECRET}` })
          yield* Effect.void.pipe(Effect.withSpan("stage", { attributes: { stage: "load" } }))
          yield* Effect.exit(failing)
        }).pipe(Effect.withSpan("Run", { attributes: { "run.id": "R-1-r1" } }))
        yield* run.pipe(Effect.withTracer(tracer))
        // A span outside any run goes nowhere.
        yield* Effect.void.pipe(Effect.withSpan("elsewhere"), Effect.withTracer(tracer))

        const text = readFileSync(join(stateDir, "runs/R-1-r1/trace.jsonl"), "utf8")
        const lines = text
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l))
        assert.deepStrictEqual(
          lines.map((l) => l.name),
          ["stage", "Tracker.call", "Run"]
        )
        const [stage, call, root] = lines
        assert.strictEqual(stage.parentSpanId, root.spanId)
        assert.deepStrictEqual([call.status, root.status, stage.status], ["error", "ok", "ok"])
        assert.match(call.error, /upstream said: token \[redacted:TRACE_UNIT_API_KEY\] rejected/)
        assert.strictEqual(call.attributes.url, "https://x.example/?key=[redacted:TRACE_UNIT_API_KEY]")
        assert.notInclude(text, SECRET)
        assert.isFalse(existsSync(join(stateDir, "runs/elsewhere")))
        assert.isAbove(inner.seen.length, 0)
        for (const s of inner.seen) assert.notInclude(s, SECRET, s)
      }).pipe(Effect.provide(Redactor.layerFrom({ TRACE_UNIT_API_KEY: SECRET })))
  )

  it.effect("takes a collector's base address or its full traces URL", () =>
    Effect.sync(() => {
      assert.strictEqual(tracesUrl("http://127.0.0.1:4318"), "http://127.0.0.1:4318/v1/traces")
      assert.strictEqual(tracesUrl("https://otel.example/"), "https://otel.example/v1/traces")
      assert.strictEqual(tracesUrl("https://otel.example/v1/traces"), "https://otel.example/v1/traces")
    })
  )
})
