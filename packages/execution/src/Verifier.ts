/**
 * Runs a project's own verification commands in a worktree and reports each step as data. The rule:
 * `run` never fails — a failing, hanging, missing or crashing command is an outcome in the report,
 * and a step that hangs is killed with its whole process group.
 */
import { type Issue, type SpecOrchConfig, StepResult, VerificationReport, VerificationStep } from "@spec-orch/contract"
import { Clock, Context, Duration, Effect, Fiber, FileSystem, Layer, Path, Stream } from "effect"
import { ChildProcess, ChildProcessSpawner } from "effect/process"

/** Input of one verification run. */
export interface VerifyInput {
  /** Where the steps run (the worktree). */
  readonly cwd: string
  readonly steps: ReadonlyArray<VerificationStep>
  /** Each step's combined output goes to `<logDir>/<nn>-<step>.log`. */
  readonly logDir: string
  /** Timeout for steps without their own `timeoutSeconds` (default 600 s). */
  readonly defaultTimeoutSeconds?: number | undefined
  /** Called after each step, in order. */
  readonly onStep?: ((result: StepResult) => Effect.Effect<void>) | undefined
}

export class Verifier extends Context.Service<Verifier, {
  /** Runs steps in order in cwd; never fails: every outcome is data in the report. Logs each step to <logDir>/<nn>-<step>.log. */
  readonly run: (input: VerifyInput) => Effect.Effect<VerificationReport>
}>()("@spec-orch/execution/Verifier") {
  /** Runs steps as child processes (argv without a shell, strings with `sh -c`). */
  static readonly layer: Layer.Layer<Verifier, never, ChildProcessSpawner.ChildProcessSpawner | FileSystem.FileSystem | Path.Path> = Layer.effect(
    Verifier,
    Effect.gen(function*() {
      const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const runStep = makeStepRunner(spawner, fs)

      const run = Effect.fn("Verifier.run")(function*(input: VerifyInput) {
        const startedAt = yield* nowIso
        yield* fs.makeDirectory(input.logDir, { recursive: true }).pipe(Effect.orDie)
        const tokens = yield* resolveTokens(fs, path, input.cwd)
        const results: Array<StepResult> = []
        for (const [i, step] of input.steps.entries()) {
          const logPath = path.join(input.logDir, `${String(i + 1).padStart(2, "0")}-${fileSafe(step.name)}.log`)
          const result = yield* runStep({
            step,
            cwd: input.cwd,
            tokens,
            logPath,
            timeoutSeconds: step.timeoutSeconds ?? input.defaultTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS
          })
          results.push(result)
          if (input.onStep) yield* input.onStep(result)
        }
        return new VerificationReport({ steps: results, startedAt, finishedAt: yield* nowIso })
      })

      return Verifier.of({ run })
    })
  )
}

/** Timeout of a step that names none, as in the original. */
export const DEFAULT_TIMEOUT_SECONDS = 600

/** Pure: the issue's steps replace [verification] entirely when present (original semantics), else the config's, in file order. */
export const resolveSteps = (issue: Issue, config: SpecOrchConfig): ReadonlyArray<VerificationStep> => {
  if (issue.verification !== undefined) return issue.verification
  return Object.entries(config.verification).map(([name, entry]) =>
    typeof entry === "string" || Array.isArray(entry)
      ? new VerificationStep({ name, command: entry })
      : new VerificationStep({ name, command: entry.command, ...(entry.timeout_seconds !== undefined ? { timeoutSeconds: entry.timeout_seconds } : {}) })
  )
}

/** Lines of output kept in `StepResult.outputTail`. */
const TAIL_LINES = 40
/** Bytes of output kept in memory to compute the tail. */
const TAIL_BYTES = 64 * 1024
/** After SIGTERM to the process group, how long before SIGKILL. */
const KILL_GRACE = Duration.seconds(2)

const nowIso = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

const fileSafe = (name: string) => name.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[-.]+/, "").slice(0, 60) || "step"

/** What `{python}`, `{node}` and `{workspace}` expand to (`python` is undefined when neither python3 nor python is on PATH). */
interface Tokens {
  readonly python: string | undefined
  readonly node: string
  readonly workspace: string
}

const resolveTokens = (fs: FileSystem.FileSystem, path: Path.Path, cwd: string): Effect.Effect<Tokens> =>
  Effect.gen(function*() {
    return { python: yield* findOnPath(fs, path, ["python3", "python"]), node: process.execPath, workspace: cwd }
  })

/** The first of `names` found as an executable file on PATH. */
const findOnPath = (fs: FileSystem.FileSystem, path: Path.Path, names: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const dirs = (process.env.PATH ?? "").split(process.platform === "win32" ? ";" : ":").filter((d) => d !== "")
    for (const name of names) {
      for (const dir of dirs) {
        const candidate = path.join(dir, name)
        const info = yield* fs.stat(candidate).pipe(Effect.option)
        if (info._tag === "Some" && info.value.type !== "Directory" && (info.value.mode & 0o111) !== 0) return candidate
      }
    }
    return undefined
  })

/** Quotes a value for a POSIX shell when it contains anything but safe characters. */
const shellQuote = (value: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`)

const expand = (text: string, tokens: Tokens, quote: (s: string) => string): { readonly text: string; readonly missingPython: boolean } => {
  let missingPython = false
  const out = text.replace(/\{(python|node|workspace)\}/g, (_, token: keyof Tokens) => {
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
const CRASH_SIGNALS: Record<number, string> = { 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV" }

/** Finds the command a shell could not find in its output (`sh: 1: foo: not found`, `bash: foo: command not found`). */
const notFoundIn = (output: string): string | undefined => {
  const m = /(?:^|\n)[^\n]*?:\s*(?:\d+:\s*)?([^\s:]+): (?:command )?not found/.exec(output)
  return m?.[1]
}

interface StepInput {
  readonly step: VerificationStep
  readonly cwd: string
  readonly tokens: Tokens
  readonly logPath: string
  readonly timeoutSeconds: number
}

type Ending =
  | { readonly _tag: "Exited"; readonly code: number }
  | { readonly _tag: "Signalled"; readonly signal: string }
  | { readonly _tag: "TimedOut" }
  | { readonly _tag: "SpawnFailed"; readonly notFound: boolean; readonly detail: string }

const makeStepRunner = (spawner: ChildProcessSpawner.ChildProcessSpawner["Service"], fs: FileSystem.FileSystem) =>
  Effect.fnUntraced(function*(input: StepInput) {
    const { step, tokens } = input
    const isShell = typeof step.command === "string"
    const expanded = typeof step.command === "string"
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
    const result = (fields: { outcome: StepResult["outcome"]; exitCode: number | null; outputTail: string; note?: string | undefined }) =>
      Effect.map(Clock.currentTimeMillis, (end) =>
        new StepResult({
          name: step.name,
          outcome: fields.outcome,
          command: argv,
          exitCode: fields.exitCode,
          durationMs: end - started,
          outputTail: fields.outputTail,
          logPath: input.logPath,
          ...(fields.note !== undefined ? { note: fields.note } : {})
        }))

    const header = `# step: ${step.name}\n# command: ${JSON.stringify(argv)}\n# cwd: ${input.cwd}\n# timeout: ${input.timeoutSeconds}s\n`
    if (expanded.missingPython) {
      const note = "{python} is used but neither python3 nor python is on PATH"
      yield* fs.writeFileString(input.logPath, `${header}# outcome: missing_binary (${note})\n`).pipe(Effect.orDie)
      return yield* result({ outcome: "missing_binary", exitCode: null, outputTail: "", note })
    }
    if (argv.length === 0 || argv[0] === "") {
      const note = "the step's command is empty"
      yield* fs.writeFileString(input.logPath, `${header}# outcome: failed (${note})\n`).pipe(Effect.orDie)
      return yield* result({ outcome: "failed", exitCode: null, outputTail: "", note })
    }
    if (!(yield* fs.exists(input.cwd).pipe(Effect.orElseSucceed(() => false)))) {
      const note = `the working directory ${input.cwd} does not exist`
      yield* fs.writeFileString(input.logPath, `${header}# outcome: failed (${note})\n`).pipe(Effect.orDie)
      return yield* result({ outcome: "failed", exitCode: null, outputTail: "", note })
    }

    const { ending, tail } = yield* Effect.scoped(Effect.gen(function*() {
      const file = yield* fs.open(input.logPath, { flag: "w" }).pipe(Effect.orDie)
      const encoder = new TextEncoder()
      yield* file.writeAll(encoder.encode(header)).pipe(Effect.orDie)
      let tailBuf = Buffer.alloc(0)
      const keep = (chunk: Uint8Array) => {
        tailBuf = Buffer.concat([tailBuf, chunk])
        if (tailBuf.length > TAIL_BYTES) tailBuf = tailBuf.subarray(tailBuf.length - TAIL_BYTES)
      }
      const spawned = yield* spawner.spawn(ChildProcess.make(argv[0]!, argv.slice(1), {
        cwd: input.cwd,
        stdin: "ignore",
        // Its own process group, so a timeout kills everything the step started.
        detached: true,
        killSignal: "SIGTERM",
        forceKillAfter: KILL_GRACE
      })).pipe(Effect.result)
      if (spawned._tag === "Failure") {
        const e = spawned.failure
        const code = (e.reason as { cause?: { code?: string } }).cause?.code
        const ending: Ending = {
          _tag: "SpawnFailed",
          notFound: e.reason._tag === "NotFound" || code === "ENOENT" || code === "EACCES",
          detail: code === "EACCES" ? `${argv[0]} is not executable` : code === "ENOENT" || e.reason._tag === "NotFound" ? `${argv[0]} was not found on PATH` : e.message
        }
        return { ending, tail: "" }
      }
      const handle = spawned.success
      const pump = yield* handle.all.pipe(
        Stream.runForEach((chunk) => {
          keep(chunk)
          return file.writeAll(chunk)
        }),
        Effect.ignore,
        Effect.forkChild
      )
      const exit = yield* handle.exitCode.pipe(Effect.result, Effect.timeoutOption(Duration.seconds(input.timeoutSeconds)))
      // Whatever happened, nothing the step started may outlive it (background children included).
      yield* handle.kill({ killSignal: "SIGTERM", forceKillAfter: KILL_GRACE }).pipe(Effect.ignore)
      yield* Fiber.join(pump).pipe(Effect.timeoutOption(Duration.seconds(5)))
      let ending: Ending
      if (exit._tag === "None") ending = { _tag: "TimedOut" }
      else if (exit.value._tag === "Success") ending = { _tag: "Exited", code: exit.value.success }
      else {
        const text = String((exit.value.failure.reason as { cause?: { message?: string } }).cause?.message ?? exit.value.failure.message)
        ending = { _tag: "Signalled", signal: /signal: '?(\w+)'?/.exec(text)?.[1] ?? "a signal" }
      }
      return { ending, tail: tailBuf.toString("utf8") }
    }))

    const tailLines = tail.replace(/\r\n/g, "\n").split("\n")
    if (tailLines.at(-1) === "") tailLines.pop()
    const outputTail = tailLines.slice(-TAIL_LINES).join("\n")
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
    yield* Effect.scoped(Effect.gen(function*() {
      const file = yield* fs.open(input.logPath, { flag: "a" })
      yield* file.writeAll(new TextEncoder().encode(`\n# outcome: ${outcome}${exitCode !== null ? ` (exit ${exitCode})` : ""}${note !== undefined ? ` — ${note}` : ""}\n`))
    })).pipe(Effect.orDie)
    return yield* result({ outcome, exitCode, outputTail, note })
  })
