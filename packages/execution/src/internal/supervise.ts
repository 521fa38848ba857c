/**
 * Runs one agent turn to an outcome on top of `runProcess`: feeds the prompt on stdin (or hands the
 * stdio to a protocol client such as ACP), keeps every stdout line (`agent.jsonl`), the normalized
 * events (`events.jsonl`) and stderr (`agent.stderr.log`) in the run directory — redacted, and each
 * capped in size with a marker — and stops the agent on the wall-clock timeout, a stall, a budget
 * breach, the protocol's own "done" or cancellation. The process and everything it started are
 * killed when the turn ends, whatever ended it.
 */
import type { AgentEvent } from "@spec-orch/contract"
import { AgentOutcome, AgentUsage, Confinement } from "@spec-orch/contract"
import { type Budgets, isUnlimited, overBudget } from "@spec-orch/harness"
import { Clock, Effect, Exit, FileSystem, Queue, Stream } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import { join } from "node:path"
import { PassThrough, type Readable, type Writable } from "node:stream"
import { AgentError, AgentNotStarted, ArtifactsUnwritable } from "../AgentError.js"
import { truncatedMarker } from "./lines.js"
import { type Command, makeStopSignal, runProcess, SpawnFailed, type Wrap } from "./process.js"
import type { LineProtocol, ProcessExit, Verdict } from "./protocol.js"
import { Tally } from "./tally.js"

/** What to run. */
export interface SpawnSpec extends Command {
  /** Written to stdin, which is then closed. `undefined` leaves stdin to a protocol client (ACP). */
  readonly input: string | undefined
}

/** Where an in-process protocol client (ACP) reports to. */
export interface ClientSink {
  readonly events: (events: ReadonlyArray<AgentEvent>) => void
  /** The protocol says the turn is over. */
  readonly done: (verdict: Verdict) => void
}

/** An in-process protocol client driving the agent over its stdio (ACP). */
export interface ProtocolClient {
  readonly start: (io: { readonly stdin: Writable; readonly stdout: Readable }, sink: ClientSink) => void
  /** Asks the agent to stop the turn gracefully (e.g. `session/cancel`); resolves when it did or gave up. */
  readonly stop: () => Promise<void>
}

/** Limits for one turn. */
export interface Limits {
  readonly timeoutMs: number
  readonly stallMs: number
  readonly budgets: Budgets
  /** Bytes kept of one output line (the rest is dropped with a marker). */
  readonly lineBytes: number
  /** Bytes written to each of agent.jsonl, events.jsonl and agent.stderr.log before they are cut with a marker. */
  readonly outputBytes: number
}

/** One supervised turn. */
export interface Supervised<E = never> {
  readonly adapter: string
  readonly spec: SpawnSpec
  readonly protocol: LineProtocol
  readonly client?: ProtocolClient | undefined
  readonly runDir: string
  readonly limits: Limits
  readonly onEvent?: ((event: AgentEvent) => Effect.Effect<void>) | undefined
  /** Completes when the caller wants the turn cancelled. */
  readonly cancel?: Effect.Effect<void> | undefined
  /** Applied to every text before it is written (secrets out). */
  readonly redact?: ((text: string) => string) | undefined
  /** A line redactor per stream (it keeps state across lines, e.g. inside a private key block); default: `redact` per line. */
  readonly lineRedactor?: (() => (line: string) => string) | undefined
  /** The OS sandbox around the agent. */
  readonly wrap?: Wrap<E> | undefined
}

/** The name of the pid file of a turn in its run directory. */
export const AGENT_PID_FILE = "agent.pid"

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`

/**
 * An append-only artifact file that stops growing at `cap` bytes with one marker line. Writes are
 * buffered and go to disk on `flush` (after each chunk of output, and at the end), so a turn that
 * prints a million lines makes a few thousand writes, not a million.
 */
const cappedWriter = (fs: FileSystem.FileSystem, file: string, cap: number, redact: (text: string) => string) =>
  Effect.gen(function* () {
    const handle = yield* fs.open(file, { flag: "a" })
    const encoder = new TextEncoder()
    let written = 0
    let dropped = 0
    let pending: Array<string> = []
    let pendingBytes = 0
    const flush = Effect.suspend(() => {
      if (pending.length === 0) return Effect.void
      const text = pending.join("")
      pending = []
      pendingBytes = 0
      return handle.writeAll(encoder.encode(text)).pipe(Effect.orDie)
    })
    /** Adds text to the buffer (flushed by `flush`, or once 256 KB are waiting). */
    const append = (text: string): void => {
      const clean = redact(text)
      const size = Buffer.byteLength(clean)
      if (written + size > cap) {
        dropped += size
        if (written >= cap) return
        written = cap
        pending.push(
          `[spec-orch: ${file.slice(file.lastIndexOf("/") + 1)} reached its cap of ${cap} bytes ([limits] agent_output_bytes); the rest is not kept]\n`
        )
        return
      }
      written += size
      pending.push(clean)
      pendingBytes += size
    }
    const write = (text: string) =>
      Effect.suspend(() => {
        append(text)
        return pendingBytes >= 256 * 1024 ? flush : Effect.void
      })
    yield* Effect.addFinalizer(() => flush)
    return { append, write, flush, dropped: () => dropped }
  })

type Stop = { readonly kind: "budget_exceeded" | "cancelled" | "done"; readonly message: string }

/** Runs the turn; fails with `AgentError` only when the process could not be started. */
export const supervise = <E>(
  s: Supervised<E>
): Effect.Effect<AgentOutcome, AgentError | E, ChildProcessSpawner.ChildProcessSpawner | FileSystem.FileSystem> =>
  Effect.scoped(
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const redact = s.redact ?? ((t: string) => t)
      /** One stream's line redactor (stateful: the lines inside a private key block). */
      const lineRedactor = () => (s.lineRedactor === undefined ? redact : s.lineRedactor())
      const perStream = () => {
        const line = lineRedactor()
        // Text may hold several whole lines: each goes through the stream's redactor in order.
        return (text: string) => (text.includes("\n") ? text.split("\n").map(line).join("\n") : line(text))
      }
      const unwritable = (cause: unknown) =>
        new AgentError({
          adapter: s.adapter,
          reason: new ArtifactsUnwritable({ runDir: s.runDir, detail: String(cause) })
        })
      yield* fs.makeDirectory(s.runDir, { recursive: true }).pipe(Effect.mapError(unwritable))
      // Appended, not truncated: a turn re-run after a crash keeps the lines of the one that was cut off.
      const raw = yield* cappedWriter(fs, join(s.runDir, "agent.jsonl"), s.limits.outputBytes, perStream()).pipe(
        Effect.mapError(unwritable)
      )
      const eventsOut = yield* cappedWriter(fs, join(s.runDir, "events.jsonl"), s.limits.outputBytes, perStream()).pipe(
        Effect.mapError(unwritable)
      )
      // stderr arrives as whole lines, redacted once here: the log and the tail get the same clean text.
      const stderrOut = yield* cappedWriter(
        fs,
        join(s.runDir, "agent.stderr.log"),
        s.limits.outputBytes,
        (t) => t
      ).pipe(Effect.mapError(unwritable))
      const stderrClean = lineRedactor()
      const started = yield* Clock.currentTimeMillis
      const tally = new Tally()
      const stop = yield* makeStopSignal<Stop>()
      let stderrTail = ""
      let verdict: Verdict | undefined
      let truncatedLines = 0
      let truncatedBytes = 0
      const meterBudget = !isUnlimited(s.limits.budgets)

      const handleEvents = Effect.fnUntraced(function* (events: ReadonlyArray<AgentEvent>) {
        for (const e of events) {
          eventsOut.append(`${JSON.stringify(e)}\n`)
          tally.add(e)
          if (s.onEvent !== undefined) yield* s.onEvent(e)
        }
        if (meterBudget && events.length > 0) {
          const now = yield* Clock.currentTimeMillis
          const over = overBudget(s.limits.budgets, tally.meter.spend((now - started) / 1000))
          if (over !== undefined) yield* stop.request({ kind: "budget_exceeded", message: over })
        }
      })

      // A protocol client (ACP) talks over the agent's stdio from callbacks: its events arrive on a queue.
      let clientIn: PassThrough | undefined
      let clientOut: PassThrough | undefined
      const clientEvents = yield* Queue.unbounded<ReadonlyArray<AgentEvent>>()
      if (s.client !== undefined) {
        clientIn = new PassThrough()
        clientOut = new PassThrough()
        const toAgent = clientIn
        const fromAgent = clientOut
        const client = s.client
        yield* Effect.sync(() =>
          client.start(
            { stdin: toAgent, stdout: fromAgent },
            {
              events: (events) => void Queue.offerUnsafe(clientEvents, events),
              done: (v) => {
                verdict ??= v
                Effect.runFork(stop.request({ kind: "done", message: "" }))
              }
            }
          )
        )
        yield* Queue.take(clientEvents).pipe(Effect.flatMap(handleEvents), Effect.forever, Effect.forkScoped)
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            toAgent.end()
            fromAgent.end()
          })
        )
      }
      if (s.cancel !== undefined) {
        yield* s.cancel.pipe(
          Effect.andThen(
            stop.request({ kind: "cancelled", message: "cancelled; the agent's process tree was killed" })
          ),
          Effect.forkScoped
        )
      }
      // Interrupted from outside (the run was cancelled): say so in the event log before the tree is killed.
      yield* Effect.addFinalizer((exit) =>
        Exit.hasInterrupts(exit)
          ? Effect.flatMap(Clock.currentTimeMillis, (at) =>
              eventsOut.write(
                `${JSON.stringify({ _tag: "turn_end", at, reason: "cancelled", ok: false, text: "interrupted; the agent's process tree was killed" })}\n`
              )
            )
          : Effect.void
      )

      const stdin =
        s.spec.input !== undefined
          ? s.spec.input
          : clientIn !== undefined
            ? Stream.fromAsyncIterable(clientIn as AsyncIterable<Uint8Array>, (e) => e).pipe(Stream.orDie)
            : undefined
      const end = yield* runProcess<Stop, E>(
        { ...s.spec, stdin, pidFile: join(s.runDir, AGENT_PID_FILE) },
        {
          _tag: "Lines",
          lineBytes: s.limits.lineBytes,
          onStdout: clientOut === undefined ? undefined : (chunk) => Effect.sync(() => void clientOut!.write(chunk)),
          onLines: (lines) =>
            Effect.flatMap(Clock.currentTimeMillis, (at) => {
              const events: Array<AgentEvent> = []
              for (const line of lines) {
                if (line.dropped > 0) {
                  truncatedLines++
                  truncatedBytes += line.dropped
                }
                raw.append(`${line.text}${line.dropped > 0 ? truncatedMarker(line.dropped) : ""}\n`)
                // A cut line is not valid protocol: it is kept in agent.jsonl, not parsed.
                if (line.dropped === 0) for (const e of s.protocol.parse(line.text, at)) events.push(e)
              }
              return Effect.andThen(handleEvents(events), Effect.andThen(raw.flush, eventsOut.flush))
            }),
          // Whole lines, never raw chunks: a secret one read splits in two is redacted like any other.
          onStderr: (lines) =>
            Effect.flatMap(Clock.currentTimeMillis, (at) => {
              let text = ""
              for (const line of lines) {
                if (line.dropped > 0) {
                  truncatedLines++
                  truncatedBytes += line.dropped
                }
                text += `${stderrClean(line.text)}${line.dropped > 0 ? truncatedMarker(line.dropped) : ""}\n`
              }
              stderrTail = (stderrTail + text).slice(-4000)
              stderrOut.append(text)
              // Some protocols report failures only on stderr (Codex's refused patches).
              const parseStderr = s.protocol.parseStderr
              const events =
                parseStderr === undefined
                  ? []
                  : lines.filter((l) => l.dropped === 0).flatMap((l) => parseStderr(l.text, at))
              return Effect.andThen(events.length > 0 ? handleEvents(events) : Effect.void, stderrOut.flush)
            })
        },
        {
          timeout: `${s.limits.timeoutMs} millis`,
          stall: `${s.limits.stallMs} millis`,
          stop: stop.await,
          // An ACP agent is asked to end the turn itself (session/cancel) before it is killed — unless it said it was done.
          beforeKill:
            s.client === undefined
              ? undefined
              : Effect.suspend(() => (verdict === undefined ? Effect.promise(() => s.client!.stop()) : Effect.void))
        },
        s.wrap
      ).pipe(
        Effect.mapError((e) =>
          e instanceof SpawnFailed
            ? new AgentError({
                adapter: s.adapter,
                reason: new AgentNotStarted({ executable: s.spec.argv[0] ?? e.executable, detail: e.detail })
              })
            : e
        )
      )

      // A protocol client may still have events in flight: handle what it delivered.
      const pending = yield* Queue.clear(clientEvents)
      for (const events of pending) yield* handleEvents(events)

      const exitCode = end.ending._tag === "Exited" ? end.ending.code : null
      const processExit: ProcessExit = {
        code: exitCode,
        signal: end.ending._tag === "Signalled" ? end.ending.signal : null,
        stderrTail
      }
      const final = verdict ?? s.protocol.finish(processExit)
      let kind: AgentOutcome["kind"] = final.kind
      let message = final.message
      const st = end.stopped
      if (st !== undefined) {
        if (st._tag === "TimedOut") {
          kind = "timed_out"
          message = `no result within ${seconds(s.limits.timeoutMs)} ([builder] timeout_seconds); the agent's process tree was killed`
        } else if (st._tag === "Stalled") {
          kind = "stalled"
          message = `no output for ${seconds(s.limits.stallMs)} ([builder] stall_timeout_seconds); the agent's process tree was killed`
        } else if (st.reason.kind !== "done") {
          kind = st.reason.kind
          message = st.reason.message
        }
      }
      const finalText = tally.endText ?? tally.lastText
      const spend = tally.meter.spend(0)
      const cut = raw.dropped() + eventsOut.dropped() + stderrOut.dropped()
      return new AgentOutcome({
        kind,
        adapter: s.adapter,
        ...(message !== undefined && message !== "" ? { message: redact(message) } : {}),
        ...(finalText !== undefined ? { finalText: redact(finalText) } : {}),
        ...(tally.sessionId !== undefined ? { sessionId: tally.sessionId } : {}),
        exitCode,
        usage: new AgentUsage({
          inputTokens: spend.inputTokens,
          outputTokens: spend.outputTokens,
          ...(spend.usd !== undefined ? { costUsd: spend.usd } : {})
        }),
        durationMs: end.endedAt - started,
        eventCount: tally.count,
        filesChanged: tally.files,
        commandsRun: tally.commands,
        ...tally.outcomeFields(),
        ...tally.toolCallFields(),
        sandbox: new Confinement({
          confined: end.confinement.confined,
          notes: end.confinement.notes.map(redact),
          refused: end.confinement.refused
        }),
        ...(truncatedLines > 0 || cut > 0
          ? { outputTruncated: { lines: truncatedLines, lineBytesDropped: truncatedBytes, artifactBytesDropped: cut } }
          : {})
      })
    })
  )
