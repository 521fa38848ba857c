/**
 * The only place that formats output for people and machines: JSON on stdout with `--json`, text
 * otherwise; the process exit status; and the one-paragraph error messages on stderr. Everything
 * printed through `Console` (and Effect's loggers, which print through it) is redacted here.
 */
import { Cause, Console, Context, Effect, Predicate } from "effect"
import { CliError, CliOutput } from "effect/cli"
// The leaf module, not the plane index: the index would load every contract module (zod, YAML) at start.
import { renderError } from "@spec-orch/contract/ErrorText"

/** Exit codes, as documented in the README: 0 ok, 1 failure (or a negative answer), 2 usage error. */
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const

/**
 * The exit status of the current invocation; a command sets `code` when its answer is "no".
 * `interrupted` is the status when a signal (SIGTERM, Ctrl-C) ends the invocation: 130 by default.
 */
export const ExitStatus = Context.Reference<{ code: number; interrupted: number }>("@spec-orch/cli/ExitStatus", {
  defaultValue: () => ({ code: 0, interrupted: 130 })
})

/**
 * The redaction every printed line goes through: the environment's `Redactor` from the start of
 * the invocation, the project's (which also knows the config's secret names) once it is loaded.
 */
export const OutputRedaction = Context.Reference<{ current: (text: string) => string }>(
  "@spec-orch/cli/OutputRedaction",
  {
    defaultValue: () => ({ current: (text) => text })
  }
)

/** A console that redacts every argument before `console` prints it; values that are not text are printed as their redacted JSON. */
export const redactingConsole = (
  console: Console.Console,
  output: { readonly current: (text: string) => string }
): Console.Console => {
  const clean = (arg: unknown): unknown => {
    if (typeof arg === "string") return output.current(arg)
    if (arg instanceof Error) return output.current(arg.stack ?? arg.message)
    if (arg === null || typeof arg !== "object") return arg
    const json = JSON.stringify(arg, jsonReplacer, 2)
    return json === undefined ? arg : output.current(json)
  }
  const all = (args: ReadonlyArray<unknown>) => args.map(clean)
  return Object.assign(Object.create(console) as Console.Console, {
    log: (...args: ReadonlyArray<unknown>) => console.log(...all(args)),
    error: (...args: ReadonlyArray<unknown>) => console.error(...all(args)),
    info: (...args: ReadonlyArray<unknown>) => console.info(...all(args)),
    warn: (...args: ReadonlyArray<unknown>) => console.warn(...all(args)),
    debug: (...args: ReadonlyArray<unknown>) => console.debug(...all(args)),
    trace: (...args: ReadonlyArray<unknown>) => console.trace(...all(args)),
    group: (...args: ReadonlyArray<unknown>) => console.group(...all(args)),
    groupCollapsed: (...args: ReadonlyArray<unknown>) => console.groupCollapsed(...all(args)),
    dir: (item: unknown, options?: unknown) => console.dir(clean(item), options),
    dirxml: (...args: ReadonlyArray<unknown>) => console.dirxml(...all(args)),
    table: (data: unknown, properties?: ReadonlyArray<string>) => console.table(clean(data), properties),
    assert: (condition: boolean, ...args: ReadonlyArray<unknown>) => console.assert(condition, ...all(args)),
    timeLog: (label?: string, ...args: ReadonlyArray<unknown>) => console.timeLog(label, ...all(args))
  })
}

/** Marks this invocation as failed without an error (a blocked gate, a failing check). */
export const setExitCode = (code: number) =>
  Effect.gen(function* () {
    const status = yield* ExitStatus
    status.code = Math.max(status.code, code)
  })

/** Says what is wrong with how a command was called (`spec-orch: <message>` on stderr) and exits 2. */
export const usageError = (message: string) =>
  Effect.andThen(Console.error(`spec-orch: ${message}`), setExitCode(ExitCode.usage))

/**
 * Declares that a signal is this invocation's normal way to end (the long-running daemon): once its
 * shutdown has finished, SIGTERM or Ctrl-C exits 0 instead of 130.
 */
export const stopsOnSignal = Effect.gen(function* () {
  const status = yield* ExitStatus
  status.interrupted = ExitCode.ok
})

/** Prints `value` as JSON when `json`, else the text lines. */
export const emit = (json: boolean, value: unknown, text: () => string | ReadonlyArray<string>) =>
  json
    ? Console.log(JSON.stringify(value, jsonReplacer, 2))
    : Effect.suspend(() => {
        const t = text()
        return Console.log(typeof t === "string" ? t : t.join("\n"))
      })

/** Drops `undefined`, keeps class instances as plain data. */
const jsonReplacer = (_key: string, value: unknown) => (value instanceof Map ? Object.fromEntries(value) : value)

/** A table with aligned columns (no borders). */
export const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd()
  return [line(head), ...rows.map(line)].join("\n")
}

/** Usage errors: one line each and a pointer to `--help`, instead of the whole help page. */
export const ConcisePresenter = CliOutput.layerPresenter({
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.gen(function* () {
          for (const e of event.errors) yield* Console.error(`spec-orch: ${usageMessage(e)}`)
          yield* Console.error(`Run \`${event.commandPath.join(" ")} --help\` for usage.`)
        })
      : CliOutput.defaultPresenter.present(event)
})

const usageMessage = (e: CliError.NonShowHelpErrors): string => {
  switch (e._tag) {
    case "UnknownSubcommand":
      return `unknown command "${e.subcommand}"${e.suggestions.length > 0 ? ` (did you mean ${e.suggestions.map((s) => `"${s}"`).join(" or ")}?)` : ""}`
    case "UnrecognizedOption":
      return `unknown option ${e.option}${e.suggestions.length > 0 ? ` (did you mean ${e.suggestions.join(" or ")}?)` : ""}`
    default:
      return e.message
  }
}

/** Renders a failure as one readable paragraph on stderr and returns the exit code. */
export const reportFailure = (cause: Cause.Cause<unknown>, verbose: boolean, json = false): Effect.Effect<number> =>
  Effect.gen(function* () {
    if (Cause.hasInterruptsOnly(cause)) {
      yield* Console.error("spec-orch: cancelled")
      return 130
    }
    const error = Cause.squash(cause)
    if (CliError.isCliError(error))
      return error._tag === "ShowHelp" && error.errors.length === 0 ? ExitCode.ok : ExitCode.usage
    const isDefect = Cause.hasDies(cause) && !Cause.hasFails(cause)
    const message = renderError(error)
    // With --json, a script reading stdout gets a document for the failure too, not an empty stream.
    if (json) {
      const kind =
        Predicate.hasProperty(error, "_tag") && typeof error._tag === "string"
          ? error._tag
          : isDefect
            ? "InternalError"
            : "Error"
      yield* Console.log(JSON.stringify({ error: { kind, message } }, null, 2))
    }
    if (isDefect) {
      yield* Console.error(`spec-orch: internal error: ${message}`)
      yield* Console.error(
        verbose ? Cause.pretty(cause) : "Run again with --verbose for the stack trace, and please report it."
      )
    } else {
      yield* Console.error(`spec-orch: ${message}`)
      if (verbose) yield* Console.error(Cause.pretty(cause))
    }
    return ExitCode.failure
  })
