/**
 * Runs one agent process to an outcome. Spawns it as a process-group leader in the worktree, feeds the
 * prompt on stdin, keeps every stdout line verbatim (`agent.jsonl`), the normalized events
 * (`events.jsonl`) and stderr (`agent.stderr.log`) in the run directory, and stops it on the
 * wall-clock timeout, a stall (no stdout line for a while), a budget breach or cancellation — always
 * killing the whole process tree.
 */
import type { AgentEvent } from "@spec-orch/contract"
import { AgentOutcome, AgentUsage } from "@spec-orch/contract"
import { type Budgets, isUnlimited, overBudget, SpendMeter } from "@spec-orch/harness"
import { Effect, Exit, Option, Queue } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync, type WriteStream } from "node:fs"
import { join } from "node:path"
import { PassThrough, type Readable, type Writable } from "node:stream"
import { StringDecoder } from "node:string_decoder"
import { AgentError, AgentNotStarted, ArtifactsUnwritable } from "../AgentError.js"
import { killTree } from "./process-tree.js"
import type { LineProtocol, ProcessExit, Verdict } from "./protocol.js"

/** What to run. */
export interface SpawnSpec {
  readonly executable: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
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
}

/** One supervised turn. */
export interface Supervised {
  readonly adapter: string
  readonly spec: SpawnSpec
  readonly protocol: LineProtocol
  readonly client?: ProtocolClient | undefined
  readonly runDir: string
  readonly limits: Limits
  readonly onEvent?: ((event: AgentEvent) => Effect.Effect<void>) | undefined
  /** Completes when the caller wants the turn cancelled. */
  readonly cancel?: Effect.Effect<void> | undefined
}

type Signal =
  | { readonly _tag: "Line"; readonly text: string; readonly at: number }
  | { readonly _tag: "Events"; readonly events: ReadonlyArray<AgentEvent> }
  | { readonly _tag: "Done"; readonly verdict: Verdict }
  | { readonly _tag: "Exit"; readonly code: number | null; readonly signal: string | null }
  | { readonly _tag: "SpawnError"; readonly error: Error }
  | { readonly _tag: "Cancel" }

type Stop = { readonly kind: "timed_out" | "stalled" | "budget_exceeded" | "cancelled"; readonly message: string }

/** Splits a byte stream into lines (UTF-8 safe), calling `line` for each, including a last unterminated one. */
const splitLines = (stream: Readable, line: (text: string) => void) => {
  const decoder = new StringDecoder("utf8")
  let rest = ""
  stream.on("data", (chunk: Buffer) => {
    const text = rest + decoder.write(chunk)
    let start = 0
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", start)) {
      line(text.charCodeAt(i - 1) === 13 ? text.slice(start, i - 1) : text.slice(start, i))
      start = i + 1
    }
    rest = text.slice(start)
  })
  stream.on("end", () => {
    const last = rest + decoder.end()
    rest = ""
    if (last !== "") line(last)
  })
}

const openWriters = (runDir: string) => {
  mkdirSync(runDir, { recursive: true })
  return {
    // Appended, not truncated: a turn re-run after a crash keeps the lines of the one that was cut off.
    raw: createWriteStream(join(runDir, "agent.jsonl"), { flags: "a" }),
    events: createWriteStream(join(runDir, "events.jsonl"), { flags: "a" }),
    stderr: createWriteStream(join(runDir, "agent.stderr.log"), { flags: "a" })
  }
}

const closeWriter = (w: WriteStream) =>
  Effect.callback<void>((resume) => {
    if (w.closed) return resume(Effect.void)
    w.end(() => resume(Effect.void))
  })

/** Totals the outcome needs, updated event by event. */
class Tally {
  count = 0
  sessionId: string | undefined
  lastText: string | undefined
  endText: string | undefined
  commands = 0
  readonly files: Array<string> = []
  readonly meter = new SpendMeter()

  add(e: AgentEvent) {
    this.count++
    this.meter.add(e)
    switch (e._tag) {
      case "session":
        this.sessionId ??= e.sessionId
        break
      case "message":
        if (e.role === "assistant") this.lastText = e.text
        break
      case "turn_end":
        if (e.ok && e.text !== undefined) this.endText = e.text
        break
      case "command":
        this.commands++
        break
      case "file_change":
        if (!this.files.includes(e.path)) this.files.push(e.path)
        break
    }
  }
}

const PID_FILE = "agent.pid"

/** Start time of a process in clock ticks since boot (Linux), so a reused pid is not mistaken for ours. */
const startTime = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]
  } catch {
    return undefined
  }
}

const writePidFile = (runDir: string, pid: number) => {
  try {
    writeFileSync(join(runDir, PID_FILE), `${pid} ${startTime(pid) ?? ""}\n`)
  } catch {
    // best effort: without it a killed controller cannot reap this agent later
  }
}

const removePidFile = (runDir: string) => rmSync(join(runDir, PID_FILE), { force: true })

/** Kills the process tree recorded in `<runDir>/agent.pid` if that exact process is still alive. */
export const reapLeftover = async (runDir: string): Promise<void> => {
  let text: string
  try {
    text = readFileSync(join(runDir, PID_FILE), "utf8")
  } catch {
    return
  }
  const [pidText, started] = text.trim().split(" ")
  const pid = Number(pidText)
  if (Number.isInteger(pid) && pid > 0 && started !== undefined && started !== "" && startTime(pid) === started) await killTree(pid, 2000, false)
  removePidFile(runDir)
}

/** The leader has exited (its pid may already belong to someone else). */
const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`

/** Spawns `spec`; fails with `AgentError` only when the process could not be started. */
export const supervise = (s: Supervised): Effect.Effect<AgentOutcome, AgentError> =>
  Effect.scoped(Effect.gen(function*() {
    const writers = yield* Effect.try({
      try: () => openWriters(s.runDir),
      catch: (cause) => new AgentError({ adapter: s.adapter, reason: new ArtifactsUnwritable({ runDir: s.runDir, detail: String(cause) }) })
    })
    yield* Effect.addFinalizer(() => Effect.all([closeWriter(writers.raw), closeWriter(writers.events), closeWriter(writers.stderr)], { discard: true }))

    const queue = yield* Queue.unbounded<Signal>()
    const offer = (signal: Signal) => void Queue.offerUnsafe(queue, signal)
    const started = Date.now()
    let lastActivity = started
    let stderrTail = ""

    // An agent left running by a spec-orch process that was killed (kill -9 cannot clean up its
    // children) must not keep writing into the worktree while this turn runs: end it first.
    yield* Effect.promise(() => reapLeftover(s.runDir))

    const child: ChildProcess = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const c = spawn(s.spec.executable, [...s.spec.args], {
          cwd: s.spec.cwd,
          env: s.spec.env,
          detached: true,
          stdio: ["pipe", "pipe", "pipe"]
        })
        c.on("error", (error) => offer({ _tag: "SpawnError", error }))
        if (c.pid !== undefined) writePidFile(s.runDir, c.pid)
        let closed = false
        c.on("close", (code, signal) => {
          closed = true
          offer({ _tag: "Exit", code, signal })
        })
        // A grandchild holding stdout open must not keep the turn alive after the agent exited.
        c.on("exit", (code, signal) => {
          setTimeout(() => {
            if (closed) return
            c.stdout?.destroy()
            c.stderr?.destroy()
            closed = true
            offer({ _tag: "Exit", code, signal })
          }, 1000).unref()
        })
        c.stdin!.on("error", () => {}) // the agent may exit without reading its input
        if (s.spec.input !== undefined) c.stdin!.end(s.spec.input)
        const stdout = c.stdout!
        let clientOut: PassThrough | undefined
        if (s.client !== undefined) {
          clientOut = new PassThrough()
          stdout.on("data", (chunk: Buffer) => clientOut!.write(chunk))
          stdout.on("end", () => clientOut!.end())
        }
        splitLines(stdout, (text) => {
          lastActivity = Date.now()
          offer({ _tag: "Line", text, at: lastActivity })
        })
        c.stderr!.on("data", (chunk: Buffer) => {
          writers.stderr.write(chunk)
          stderrTail = (stderrTail + chunk.toString("utf8")).slice(-4000)
        })
        if (s.client !== undefined && clientOut !== undefined) {
          s.client.start({ stdin: c.stdin!, stdout: clientOut }, {
            events: (events) => offer({ _tag: "Events", events }),
            done: (verdict) => offer({ _tag: "Done", verdict })
          })
        }
        return c
      }),
      (c) => Effect.promise(() => (c.pid !== undefined ? killTree(c.pid, 2000, exited(c)) : Promise.resolve())).pipe(Effect.andThen(Effect.sync(() => removePidFile(s.runDir))))
    )

    if (s.cancel !== undefined) {
      yield* s.cancel.pipe(Effect.andThen(Effect.sync(() => offer({ _tag: "Cancel" }))), Effect.forkScoped)
    }

    const tally = new Tally()
    // Interrupted from outside (the run was cancelled): say so in the event log before the tree is killed.
    yield* Effect.addFinalizer((exit) =>
      Exit.hasInterrupts(exit)
        ? Effect.sync(() => {
          const at = Date.now()
          writers.events.write(`${JSON.stringify({ _tag: "turn_end", at, reason: "cancelled", ok: false, text: "interrupted; the agent's process tree was killed" })}\n`)
        })
        : Effect.void
    )
    const meterBudget = !isUnlimited(s.limits.budgets)
    let stop: Stop | undefined
    let verdict: Verdict | undefined
    let exit: { code: number | null; signal: string | null } | undefined

    const handleEvents = Effect.fnUntraced(function*(events: ReadonlyArray<AgentEvent>) {
      for (const e of events) {
        writers.events.write(`${JSON.stringify(e)}\n`)
        tally.add(e)
        if (s.onEvent !== undefined) yield* s.onEvent(e)
      }
      if (meterBudget && stop === undefined && events.length > 0) {
        const over = overBudget(s.limits.budgets, tally.meter.spend((Date.now() - started) / 1000))
        if (over !== undefined) stop = { kind: "budget_exceeded", message: over }
      }
    })

    const handle = Effect.fnUntraced(function*(signal: Signal) {
      switch (signal._tag) {
        case "Line":
          writers.raw.write(`${signal.text}\n`)
          yield* handleEvents(s.protocol.parse(signal.text, signal.at))
          break
        case "Events":
          lastActivity = Date.now()
          yield* handleEvents(signal.events)
          break
        case "Done":
          verdict ??= signal.verdict
          break
        case "Exit":
          exit = { code: signal.code, signal: signal.signal }
          break
        case "Cancel":
          stop ??= { kind: "cancelled", message: "cancelled; the agent's process tree was killed" }
          break
        case "SpawnError":
          return yield* new AgentError({ adapter: s.adapter, reason: new AgentNotStarted({ executable: s.spec.executable, detail: signal.error.message }) })
      }
    })

    const maxSeconds = s.limits.budgets.maxSeconds
    // Phase 1: run until the process exits, the protocol says done, or a limit is hit.
    while (exit === undefined && verdict === undefined && stop === undefined) {
      const now = Date.now()
      const deadlines = [started + s.limits.timeoutMs, lastActivity + s.limits.stallMs]
      if (maxSeconds !== undefined) deadlines.push(started + maxSeconds * 1000)
      const wait = Math.max(0, Math.min(...deadlines) - now)
      const batch = yield* Queue.takeAll(queue).pipe(Effect.timeoutOption(wait))
      if (Option.isNone(batch)) {
        const t = Date.now()
        if (t >= started + s.limits.timeoutMs) {
          stop = { kind: "timed_out", message: `no result within ${seconds(s.limits.timeoutMs)} ([builder] timeout_seconds); the agent's process tree was killed` }
        } else if (maxSeconds !== undefined && t >= started + maxSeconds * 1000) {
          stop = { kind: "budget_exceeded", message: overBudget({ maxSeconds }, tally.meter.spend((t - started) / 1000)) ?? `over the time budget of ${maxSeconds} s` }
        } else if (t >= lastActivity + s.limits.stallMs) {
          stop = { kind: "stalled", message: `no output for ${seconds(s.limits.stallMs)} ([builder] stall_timeout_seconds); the agent's process tree was killed` }
        }
        continue
      }
      for (const signal of batch.value) yield* handle(signal)
    }

    // Phase 2: stop the agent if it is still running, and collect what it wrote on the way out.
    if (exit === undefined) {
      if (s.client !== undefined && stop !== undefined) yield* Effect.promise(() => s.client!.stop())
      if (child.pid !== undefined) yield* Effect.promise(() => killTree(child.pid!, 2000, exited(child)))
      while (exit === undefined) {
        const batch = yield* Queue.takeAll(queue).pipe(Effect.timeoutOption(3000))
        if (Option.isNone(batch)) break
        for (const signal of batch.value) yield* handle(signal)
      }
    }

    const processExit: ProcessExit = { code: exit?.code ?? null, signal: exit?.signal ?? null, stderrTail }
    const final = verdict ?? s.protocol.finish(processExit)
    const kind = stop?.kind ?? final.kind
    const message = stop?.message ?? final.message
    const finalText = tally.endText ?? tally.lastText
    const spend = tally.meter.spend(0)
    return new AgentOutcome({
      kind,
      adapter: s.adapter,
      ...(message !== undefined ? { message } : {}),
      ...(finalText !== undefined ? { finalText } : {}),
      ...(tally.sessionId !== undefined ? { sessionId: tally.sessionId } : {}),
      exitCode: exit?.code ?? null,
      usage: new AgentUsage({ inputTokens: spend.inputTokens, outputTokens: spend.outputTokens, ...(spend.usd !== undefined ? { costUsd: spend.usd } : {}) }),
      durationMs: Date.now() - started,
      eventCount: tally.count,
      filesChanged: tally.files,
      commandsRun: tally.commands
    })
  }))
