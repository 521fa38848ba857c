/**
 * One verification step as a process: its command expanded (`{python}`, `{node}`, `{workspace}`,
 * `{project}`), run with its output redacted line by line into a capped log and tail, and its ending
 * read as an outcome. Never fails: a missing, failing, hanging or crashing command is a `StepResult`.
 */
import { StepResult, type VerificationStep } from "@spec-orch/contract"
import { Clock, type Context, Duration, Effect, type FileSystem, Semaphore } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import type { SandboxUnavailable } from "../Sandbox.js"
import type { Tokens } from "./ecosystem.js"
import { type Line, truncatedMarker } from "./lines.js"
import { runProcess, type Wrap } from "./process.js"

/** ANSI escape sequences (SGR colours, cursor movement, OSC titles). */
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g

/** Lines of output kept in `StepResult.outputTail`. */
const TAIL_LINES = 40
/** Characters of output kept in memory for the tail (whole lines, already redacted). */
const TAIL_BYTES = 64 * 1024
/** After SIGTERM to the process group, how long before SIGKILL. */
const KILL_GRACE = Duration.seconds(2)

/** Whether `program` (a name looked up on `searchPath`, or a path relative to `cwd`) is an executable file. */
const programExists = (fs: FileSystem.FileSystem, cwd: string, program: string, searchPath: string) =>
  Effect.gen(function* () {
    const executable = (p: string) =>
      fs.stat(p).pipe(
        Effect.map((info) => info.type !== "Directory" && (info.mode & 0o111) !== 0),
        Effect.orElseSucceed(() => false)
      )
    if (program.includes("/")) return yield* executable(program.startsWith("/") ? program : `${cwd}/${program}`)
    for (const dir of searchPath.split(":").filter((d) => d !== ""))
      if (yield* executable(`${dir}/${program}`)) return true
    return false
  })

/** Quotes a value for a POSIX shell when it contains anything but safe characters. */
const shellQuote = (value: string) =>
  /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`

const expand = (
  text: string,
  tokens: Tokens,
  quote: (s: string) => string
): { readonly text: string; readonly missingPython: boolean } => {
  let missingPython = false
  const out = text.replace(/\{(python|node|workspace|project)\}/g, (_, token: keyof Tokens) => {
    const value = tokens[token]
    if (value === undefined) {
      missingPython = true
      return token
    }
    return quote(value)
  })
  return { text: out, missingPython }
}

/** Signals whose conventional `128+n` shell exit status we read as a crash. */
const CRASH_SIGNALS: Record<number, string> = {
  4: "SIGILL",
  6: "SIGABRT",
  7: "SIGBUS",
  8: "SIGFPE",
  9: "SIGKILL",
  11: "SIGSEGV"
}

/** Finds the command a shell could not find in its output (`sh: 1: foo: not found`, `bash: foo: command not found`). */
const notFoundIn = (output: string): string | undefined => {
  const m = /(?:^|\n)[^\n]*?:\s*(?:\d+:\s*)?(\[redacted:[^\]\s]+\]|[^\s:]+): (?:command )?not found/.exec(output)
  return m?.[1]
}

/** One step to run, with everything it needs decided by the caller. */
export interface StepInput {
  readonly step: VerificationStep
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  /** The variables the project's toolchains set (PATH, VIRTUAL_ENV, PYTHONPATH), shown in the log header. */
  readonly shown: Readonly<Record<string, string>>
  readonly tokens: Tokens
  readonly logPath: string
  readonly timeoutSeconds: number
  readonly logBytes: number
  readonly lineBytes: number
  readonly redact: (text: string) => string
  readonly onOutput: ((step: string) => Effect.Effect<void>) | undefined
  readonly wrap: Wrap<SandboxUnavailable>
}

type Ending =
  | { readonly _tag: "Exited"; readonly code: number }
  | { readonly _tag: "Signalled"; readonly signal: string }
  | { readonly _tag: "TimedOut" }
  | { readonly _tag: "SpawnFailed"; readonly notFound: boolean; readonly detail: string }

/** Runs one step; the result's texts are redacted by the caller (`redactResult`). */
export const makeStepRunner = (
  fs: FileSystem.FileSystem,
  services: Context.Context<ChildProcessSpawner.ChildProcessSpawner>
) =>
  Effect.fnUntraced(
    function* (input: StepInput) {
      const { step, tokens } = input
      const isShell = typeof step.command === "string"
      const expanded =
        typeof step.command === "string"
          ? (() => {
              const e = expand(step.command, tokens, shellQuote)
              return { argv: ["sh", "-c", e.text], missingPython: e.missingPython }
            })()
          : (() => {
              const parts = step.command.map((a) => expand(a, tokens, (s) => s))
              return { argv: parts.map((p) => p.text), missingPython: parts.some((p) => p.missingPython) }
            })()
      const argv = expanded.argv
      const started = yield* Clock.currentTimeMillis
      const result = (fields: {
        outcome: StepResult["outcome"]
        exitCode: number | null
        outputTail: string
        note?: string | undefined
      }) =>
        Effect.map(
          Clock.currentTimeMillis,
          (end) =>
            new StepResult({
              name: step.name,
              outcome: fields.outcome,
              command: argv,
              exitCode: fields.exitCode,
              durationMs: end - started,
              outputTail: fields.outputTail,
              logPath: input.logPath,
              ...(fields.note !== undefined ? { note: fields.note } : {})
            })
        )

      const shown = Object.entries(input.shown)
        .map(([k, v]) => `# ${k}=${v}\n`)
        .join("")
      // Redacted like the output: the command line may carry a token, the variables a secret.
      const header = input.redact(
        `# step: ${step.name}\n# command: ${JSON.stringify(argv)}\n# cwd: ${input.cwd}\n# timeout: ${input.timeoutSeconds}s\n${shown}`
      )
      const ended = (outcome: StepResult["outcome"], note: string) =>
        fs
          .writeFileString(input.logPath, `${header}${input.redact(`# outcome: ${outcome} (${note})`)}\n`)
          .pipe(Effect.orDie)
      if (expanded.missingPython) {
        const note = "{python} is used but neither python3 nor python is on PATH"
        yield* ended("missing_binary", note)
        return yield* result({ outcome: "missing_binary", exitCode: null, outputTail: "", note })
      }
      if (argv.length === 0 || argv[0] === "") {
        const note = "the step's command is empty"
        yield* ended("failed", note)
        return yield* result({ outcome: "failed", exitCode: null, outputTail: "", note })
      }
      if (!(yield* fs.exists(input.cwd).pipe(Effect.orElseSucceed(() => false)))) {
        const note = `the working directory ${input.cwd} does not exist`
        yield* ended("failed", note)
        return yield* result({ outcome: "failed", exitCode: null, outputTail: "", note })
      }
      // Looked up here, on the same PATH the step gets: inside the box a missing program is only an exit code.
      if (!isShell && !(yield* programExists(fs, input.cwd, argv[0]!, input.env.PATH ?? ""))) {
        const note = `${argv[0]} was not found on PATH`
        yield* ended("missing_binary", note)
        return yield* result({ outcome: "missing_binary", exitCode: null, outputTail: "", note })
      }

      const { ending, tail, logDropped } = yield* Effect.scoped(
        Effect.gen(function* () {
          const file = yield* fs.open(input.logPath, { flag: "w" }).pipe(Effect.orDie)
          const encoder = new TextEncoder()
          yield* file.writeAll(encoder.encode(header)).pipe(Effect.orDie)
          // stdout and stderr arrive as whole lines (each capped at lineBytes), redacted one by one: a
          // secret that one read split in two, or that the other stream interrupted, is still whole here.
          const tailLines: Array<string> = []
          let tailBytes = 0
          let logged = 0
          let dropped = 0
          let pending: Array<Uint8Array> = []
          const append = (text: string) => {
            const bytes = encoder.encode(text)
            if (logged + bytes.length > input.logBytes) {
              dropped += bytes.length
              if (logged >= input.logBytes) return
              logged = input.logBytes
              pending.push(
                encoder.encode(
                  `\n# [spec-orch: the log reached its cap of ${input.logBytes} bytes ([limits] step_log_bytes); the rest is not kept]\n`
                )
              )
              return
            }
            logged += bytes.length
            pending.push(bytes)
          }
          const keep = (line: string) => {
            // A line longer than the whole tail keeps its start; the tail stays within TAIL_BYTES.
            const kept = line.length > TAIL_BYTES ? line.slice(0, TAIL_BYTES) : line
            tailLines.push(kept)
            tailBytes += kept.length + 1
            while (tailLines.length > 1 && (tailLines.length > TAIL_LINES || tailBytes > TAIL_BYTES))
              tailBytes -= tailLines.shift()!.length + 1
          }
          // Both streams' readers write the one log: one write at a time, in the order lines were taken.
          const lock = yield* Semaphore.make(1)
          const drain = lock.withPermits(1)(
            Effect.suspend(() => {
              if (pending.length === 0) return Effect.void
              const out = pending.length === 1 ? pending[0]! : Buffer.concat(pending)
              pending = []
              return file.writeAll(out).pipe(Effect.orDie)
            })
          )
          const onLines = (lines: ReadonlyArray<Line>) =>
            Effect.suspend(() => {
              let text = ""
              for (const line of lines) {
                const clean = input.redact(line.text)
                keep(clean)
                text += `${clean}${line.dropped > 0 ? truncatedMarker(line.dropped) : ""}\n`
              }
              append(text)
              return input.onOutput !== undefined ? Effect.andThen(input.onOutput(step.name), drain) : drain
            })
          const run = yield* runProcess(
            { argv, cwd: input.cwd, env: input.env, pidFile: `${input.logPath.replace(/\.log$/, "")}.pid` },
            { _tag: "Lines", lineBytes: input.lineBytes, onLines, onStderr: onLines },
            { timeout: Duration.seconds(input.timeoutSeconds), grace: KILL_GRACE },
            input.wrap
          ).pipe(Effect.provide(services), Effect.result)
          yield* drain
          if (run._tag === "Failure") {
            const e = run.failure
            if (e._tag === "SandboxUnavailable")
              return {
                ending: { _tag: "SpawnFailed", notFound: false, detail: e.message } satisfies Ending,
                tail: "",
                logDropped: 0
              }
            return {
              ending: {
                _tag: "SpawnFailed",
                notFound: e.notFound,
                detail: e.notFound && e.detail.endsWith("was not found") ? `${argv[0]} was not found on PATH` : e.detail
              } satisfies Ending,
              tail: "",
              logDropped: 0
            }
          }
          const end = run.success
          const ending: Ending =
            end.stopped?._tag === "TimedOut"
              ? { _tag: "TimedOut" }
              : end.ending._tag === "Exited"
                ? { _tag: "Exited", code: end.ending.code }
                : { _tag: "Signalled", signal: end.ending._tag === "Signalled" ? end.ending.signal : "a signal" }
          return { ending, tail: tailLines.join("\n"), logDropped: dropped }
        })
      )

      // Colour codes and cursor movement are for terminals, not for explain.md or a pull request.
      const outputTail = tail.replace(ANSI, "")
      let outcome: StepResult["outcome"]
      let exitCode: number | null = null
      let note: string | undefined
      switch (ending._tag) {
        case "Exited": {
          exitCode = ending.code
          if (ending.code === 0) outcome = "passed"
          else if (ending.code === 127) {
            outcome = "missing_binary"
            const which = notFoundIn(tail) ?? (isShell ? undefined : argv[0])
            note = which !== undefined ? `${which}: command not found (exit 127)` : "a command was not found (exit 127)"
          } else if (isShell && CRASH_SIGNALS[ending.code - 128] !== undefined) {
            outcome = "crashed"
            note = `killed by ${CRASH_SIGNALS[ending.code - 128]} (the shell exited ${ending.code})`
          } else {
            outcome = "failed"
            if (ending.code === 126) note = "a command was found but could not be executed (exit 126)"
          }
          break
        }
        case "Signalled":
          outcome = "crashed"
          note = `killed by ${ending.signal}`
          break
        case "TimedOut":
          outcome = "timed_out"
          note = `no exit after ${input.timeoutSeconds} s; the step's process group was killed`
          break
        case "SpawnFailed":
          outcome = ending.notFound ? "missing_binary" : "failed"
          note = ending.detail
          break
      }
      if (logDropped > 0)
        note = [note, `${logDropped} bytes of output beyond [limits] step_log_bytes were not kept in the log`]
          .filter((n) => n !== undefined)
          .join("; ")
      yield* Effect.scoped(
        Effect.gen(function* () {
          const file = yield* fs.open(input.logPath, { flag: "a" })
          yield* file.writeAll(
            new TextEncoder().encode(
              input.redact(
                `\n# outcome: ${outcome}${exitCode !== null ? ` (exit ${exitCode})` : ""}${note !== undefined ? ` — ${note}` : ""}\n`
              )
            )
          )
        })
      ).pipe(Effect.orDie)
      return yield* result({ outcome, exitCode, outputTail, note })
    },
    (effect, input) =>
      effect.pipe(
        Effect.tap((r) =>
          Effect.annotateCurrentSpan({ outcome: r.outcome, ...(r.exitCode !== null ? { exit_code: r.exitCode } : {}) })
        ),
        // One span per step, named by the step (redacted: a name may quote its command).
        Effect.withSpan("Verifier.step", { attributes: { step: input.redact(input.step.name) } })
      )
  )
