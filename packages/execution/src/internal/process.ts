/**
 * The one module that runs a supervised child process, for agent turns and verification steps alike:
 * spawned through `effect/process` (wrapped in the OS sandbox when the caller gives a `wrap`), its
 * output delivered as bounded lines (or raw chunks), stopped on a deadline, a stall or the caller's
 * stop signal — with time kept by Effect's `Clock`, so tests drive it with `TestClock` — and killed
 * with its process group when its scope closes. While it runs its pid is recorded, so a controller
 * started after a `kill -9` ends what the dead one left behind before it starts anything.
 */
import { Clock, Data, Deferred, Duration, Effect, Fiber, Option, Ref, type Scope, Stream } from "effect"
import { ChildProcess, ChildProcessSpawner } from "effect/process"
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { type Line, LineSplitter } from "./lines.js"
import { awaitFirstChild, endNamespace, firstChild, killTree, type KnownProcess, startTime } from "./process-tree.js"

/** A command as the caller means it, before any sandbox. */
export interface Command {
  readonly argv: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
}

/** The command to really spawn, after the sandbox wrapped it. */
export interface Wrapped extends Command {
  /** True when the command runs inside the OS sandbox. */
  readonly confined: boolean
  /** One line each on how it is (or is not) confined. */
  readonly notes?: ReadonlyArray<string> | undefined
  /** The network connections the box refused so far (read after the process ended). */
  readonly refused?: Effect.Effect<ReadonlyArray<string>> | undefined
}

/** Turns a command into the one to spawn (the OS sandbox); resources it needs live in the scope. */
export type Wrap<E> = (command: Command) => Effect.Effect<Wrapped, E, Scope.Scope>

/** What to run. */
export interface ProcessSpec extends Command {
  /** Written to stdin, which is then closed; a stream (a protocol client's requests); none: stdin is closed at once. */
  readonly stdin?: string | Stream.Stream<Uint8Array> | undefined
  /** `<pid> <start time>` is kept here while the process runs. */
  readonly pidFile?: string | undefined
}

/** Where output goes. Handlers run in order; a slow handler slows the reader (backpressure), never memory. */
export type Output =
  | {
      readonly _tag: "Lines"
      /** Bytes kept of one line (stdout or stderr); the rest is counted in `Line.dropped`. */
      readonly lineBytes: number
      /** The complete lines of one stdout chunk, in order (one call per chunk keeps per-line cost low); a last line without a newline when the stream ends. */
      readonly onLines: (lines: ReadonlyArray<Line>) => Effect.Effect<void>
      /** Every stdout chunk as it arrives, before line splitting (a protocol client reading the stream). */
      readonly onStdout?: ((chunk: Uint8Array) => Effect.Effect<void>) | undefined
      /**
       * The complete lines of one stderr chunk, like `onLines`. Whole lines, never chunks: text that is
       * redacted must be, or a secret a read split in two escapes it.
       */
      readonly onStderr: (lines: ReadonlyArray<Line>) => Effect.Effect<void>
    }
  | {
      readonly _tag: "Combined"
      /** stdout and stderr interleaved as they arrive, as raw chunks: not for text that is redacted. */
      readonly onChunk: (chunk: Uint8Array) => Effect.Effect<void>
    }

/** When to stop the process before it exits by itself. */
export interface Watch<S> {
  readonly timeout?: Duration.Input | undefined
  /** No output at all for this long. */
  readonly stall?: Duration.Input | undefined
  /** Completes with a reason when the caller wants the process stopped (cancelled, over budget, the protocol said done). */
  readonly stop?: Effect.Effect<S> | undefined
  /** After SIGTERM to the group, how long before SIGKILL (default 2 s). */
  readonly grace?: Duration.Input | undefined
  /** Runs before spec-orch kills a process it stopped (a protocol client asking the agent to stop gracefully). */
  readonly beforeKill?: Effect.Effect<void> | undefined
}

/** How the process ended. */
export type Ending =
  | { readonly _tag: "Exited"; readonly code: number }
  | { readonly _tag: "Signalled"; readonly signal: string }
  /** Killed, and still not reaped within the grace period (should not happen). */
  | { readonly _tag: "Unknown" }

/** What happened, once everything the process wrote has been handled. */
export interface ProcessEnd<S> {
  readonly ending: Ending
  /** Why spec-orch stopped it, when it did. */
  readonly stopped:
    | { readonly _tag: "TimedOut" }
    | { readonly _tag: "Stalled" }
    | { readonly _tag: "Requested"; readonly reason: S }
    | undefined
  readonly pid: number
  readonly confined: boolean
  /** How it was confined, and what the box refused. */
  readonly confinement: {
    readonly confined: boolean
    readonly notes: ReadonlyArray<string>
    readonly refused: ReadonlyArray<string>
  }
  readonly startedAt: number
  readonly endedAt: number
}

/** The process could not be started at all. */
export class SpawnFailed extends Data.TaggedError("SpawnFailed")<{
  readonly executable: string
  /** The program does not exist or is not executable. */
  readonly notFound: boolean
  readonly detail: string
}> {}

// ── pid files ────────────────────────────────────────────────────────────────────────────────────

const writePidFile = (file: string, pid: number) => {
  try {
    writeFileSync(file, `${pid} ${startTime(pid) ?? ""}\n`)
  } catch {
    // best effort: without it a killed controller cannot end this process later
  }
}

/** Ends the process tree recorded in `file` if that exact process is still alive, then removes the file. */
export const reapLeftover = (file: string): Effect.Effect<boolean> =>
  Effect.promise(async () => {
    let text: string
    try {
      text = readFileSync(file, "utf8")
    } catch {
      return false
    }
    const [pidText, started] = text.trim().split(" ")
    const pid = Number(pidText)
    const alive =
      Number.isInteger(pid) && pid > 0 && started !== undefined && started !== "" && startTime(pid) === started
    if (alive) await killTree(pid, 2000, false)
    rmSync(file, { force: true })
    return alive
  })

// ── running ──────────────────────────────────────────────────────────────────────────────────────

const encoder = new TextEncoder()
const toMillis = (d: Duration.Input | undefined) =>
  d === undefined ? undefined : Duration.toMillis(Duration.fromInputUnsafe(d))

const spawnFailure = (
  executable: string,
  e: { readonly reason: { readonly _tag: string }; readonly message: string }
) => {
  const code = (e.reason as { cause?: { code?: string } }).cause?.code
  const notFound = e.reason._tag === "NotFound" || code === "ENOENT" || code === "EACCES"
  return new SpawnFailed({
    executable,
    notFound,
    detail: code === "EACCES" ? `${executable} is not executable` : notFound ? `${executable} was not found` : e.message
  })
}

/**
 * Runs `spec` to its end. Fails only when it cannot start (`SpawnFailed`, or the wrap's error);
 * everything else — exit codes, signals, timeouts, stalls, stop requests — is in the `ProcessEnd`.
 */
export const runProcess = <S, E = never>(
  spec: ProcessSpec,
  output: Output,
  watch: Watch<S> = {},
  wrap?: Wrap<E>
): Effect.Effect<ProcessEnd<S>, SpawnFailed | E, ChildProcessSpawner.ChildProcessSpawner> =>
  Effect.scoped(
    Effect.gen(function* () {
      const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
      if (spec.pidFile !== undefined) yield* reapLeftover(spec.pidFile)
      const target: Wrapped = wrap !== undefined ? yield* wrap(spec) : { ...spec, confined: false }
      const [program, ...args] = target.argv
      if (program === undefined || program === "")
        return yield* new SpawnFailed({ executable: "", notFound: true, detail: "the command is empty" })
      const grace = Duration.fromInputUnsafe(watch.grace ?? "2 seconds")
      // A box's PID-namespace init (bubblewrap's first child), found while it runs. Bubblewrap exits as
      // soon as the boxed command does while the kernel may still be killing what the command left; this
      // finalizer, added before the spawn so it runs after the spawner's own, ends the namespace and waits
      // until nothing of it runs: a turn or step returns only when its box is empty.
      let boxInit: KnownProcess | undefined
      let leader: number | undefined
      if (target.confined) {
        yield* Effect.addFinalizer(() =>
          Effect.promise(async () => {
            const init = boxInit ?? (leader !== undefined ? firstChild(leader) : undefined)
            if (init !== undefined) await endNamespace(init)
          })
        )
      }

      const handle = yield* spawner
        .spawn(
          ChildProcess.make(program, args, {
            cwd: target.cwd,
            env: { ...target.env },
            extendEnv: false,
            stdin:
              spec.stdin === undefined
                ? "ignore"
                : {
                    stream: typeof spec.stdin === "string" ? Stream.make(encoder.encode(spec.stdin)) : spec.stdin,
                    endOnDone: true
                  },
            // Its own process group, so a kill reaches everything it started (the box's PID namespace does the rest).
            detached: true,
            killSignal: "SIGTERM",
            forceKillAfter: grace
          })
        )
        .pipe(Effect.mapError((e) => spawnFailure(spec.argv[0] ?? program, e)))
      const pid = Number(handle.pid)
      const startedAt = yield* Clock.currentTimeMillis
      if (target.confined) {
        leader = pid
        yield* Effect.forkScoped(
          Effect.promise((abort) => awaitFirstChild(pid, 5000, abort)).pipe(
            Effect.tap((init) =>
              Effect.sync(() => {
                boxInit = init
              })
            )
          )
        )
      }
      if (spec.pidFile !== undefined) {
        const file = spec.pidFile
        writePidFile(file, pid)
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(file, { force: true })))
      }

      const lastOutput = yield* Ref.make(startedAt)
      const touch = Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.set(lastOutput, now))
      const pump = <X>(stream: Stream.Stream<Uint8Array, X>, each: (chunk: Uint8Array) => Effect.Effect<void>) =>
        stream.pipe(
          Stream.runForEach((chunk) => Effect.andThen(touch, each(chunk))),
          Effect.ignore
        )
      let readers: Effect.Effect<void>
      if (output._tag === "Lines") {
        /** Each chunk's complete lines to `onLines`, then the last line without a newline when the stream ends. */
        const byLines = <X>(
          stream: Stream.Stream<Uint8Array, X>,
          onLines: (lines: ReadonlyArray<Line>) => Effect.Effect<void>,
          onChunk?: (chunk: Uint8Array) => Effect.Effect<void>
        ) => {
          const splitter = new LineSplitter(output.lineBytes)
          const each = (chunk: Uint8Array) =>
            Effect.suspend(() => {
              const complete = splitter.push(chunk)
              const handled = complete.length > 0 ? onLines(complete) : Effect.void
              return onChunk !== undefined ? Effect.andThen(onChunk(chunk), handled) : handled
            })
          return pump(stream, each).pipe(
            Effect.andThen(
              Effect.suspend(() => {
                const last = splitter.end()
                return last !== undefined ? onLines([last]) : Effect.void
              })
            )
          )
        }
        readers = Effect.all(
          [byLines(handle.stdout, output.onLines, output.onStdout), byLines(handle.stderr, output.onStderr)],
          { concurrency: 2, discard: true }
        )
      } else {
        readers = pump(handle.all, output.onChunk)
      }
      const reading = yield* Effect.forkScoped(readers)

      // The exit, once its output is drained. A grandchild holding the pipes open (possible only
      // outside the box) must not keep the turn alive: after the exit, output gets one more second.
      const exited = handle.exitCode.pipe(
        Effect.map((code): Ending => ({ _tag: "Exited", code: Number(code) })),
        Effect.catch((e) => {
          const text = `${(e.reason as { cause?: { message?: string } }).cause?.message ?? ""} ${e.message}`
          return Effect.succeed<Ending>({
            _tag: "Signalled",
            signal: /signal: '?(\w+)'?/.exec(text)?.[1] ?? "a signal"
          })
        }),
        Effect.tap(() => Fiber.join(reading).pipe(Effect.timeoutOption("1 second"), Effect.asVoid))
      )

      const timeoutMs = toMillis(watch.timeout)
      const stallMs = toMillis(watch.stall)
      type Stop = NonNullable<ProcessEnd<S>["stopped"]>
      const watchdog: Effect.Effect<Stop> = Effect.gen(function* () {
        while (true) {
          const now = yield* Clock.currentTimeMillis
          const last = yield* Ref.get(lastOutput)
          const timeoutAt = timeoutMs === undefined ? Infinity : startedAt + timeoutMs
          const stallAt = stallMs === undefined ? Infinity : last + stallMs
          if (now >= timeoutAt) return { _tag: "TimedOut" } as const
          if (now >= stallAt) return { _tag: "Stalled" } as const
          const next = Math.min(timeoutAt, stallAt)
          if (next === Infinity) return yield* Effect.never
          yield* Effect.sleep(Duration.millis(next - now))
        }
      })
      const requested: Effect.Effect<Stop> =
        watch.stop === undefined
          ? Effect.never
          : Effect.map(watch.stop, (reason) => ({ _tag: "Requested", reason }) as const)

      const first = yield* Effect.raceAllFirst([
        Effect.map(exited, (ending) => ({ _tag: "Ended" as const, ending })),
        Effect.map(watchdog, (stop) => ({ _tag: "Stop" as const, stop })),
        Effect.map(requested, (stop) => ({ _tag: "Stop" as const, stop }))
      ])
      let ending: Ending
      let stopped: Stop | undefined
      if (first._tag === "Ended") {
        ending = first.ending
      } else {
        stopped = first.stop
        if (watch.beforeKill !== undefined) yield* watch.beforeKill
        // Every descendant, found while the leader still holds them: the process group misses children
        // that called setsid, and killing a box's bwrap alone leaves its namespace to die on its own time.
        yield* Effect.promise(() => killTree(pid, Duration.toMillis(grace), false))
        yield* handle.kill({ killSignal: "SIGTERM", forceKillAfter: grace }).pipe(Effect.ignore)
        const after = yield* exited.pipe(Effect.timeoutOption(Duration.sum(grace, Duration.seconds(3))))
        ending = Option.getOrElse(after, (): Ending => ({ _tag: "Unknown" }))
      }
      // Closing the scope ends the process group (the spawner's finalizer): children left behind go too.
      const refused = target.refused !== undefined ? yield* target.refused : []
      const confinement = {
        confined: target.confined,
        notes: target.notes ?? (target.confined ? [] : ["not confined"]),
        refused
      }
      return {
        ending,
        stopped,
        pid,
        confined: target.confined,
        confinement,
        startedAt,
        endedAt: yield* Clock.currentTimeMillis
      }
    })
  )

/** A deferred stop signal a caller can trigger from event handlers (budget breach, protocol done). */
export const makeStopSignal = <S>() =>
  Effect.map(Deferred.make<S>(), (deferred) => ({
    /** Requests the stop; the first reason wins. */
    request: (reason: S) => Deferred.succeed(deferred, reason).pipe(Effect.asVoid),
    await: Deferred.await(deferred)
  }))
