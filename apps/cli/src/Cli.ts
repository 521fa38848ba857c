/**
 * The `spec-orch` command tree and how one invocation runs: parse, dispatch, and turn the outcome
 * into an exit code (0 ok, 1 failure, 2 usage error) with errors on stderr.
 */
import { Redactor } from "@spec-orch/harness"
import { Console, Effect, Exit, Logger } from "effect"
import { Command } from "effect/cli"
import pkg from "../package.json" with { type: "json" }
import { agents } from "./commands/agents.js"
import { config } from "./commands/config.js"
import { dashboard } from "./commands/dashboard.js"
import { daemon } from "./commands/daemon.js"
import { doctor } from "./commands/doctor.js"
import { selftest } from "./commands/selftest.js"
import { evalCommand, evidence } from "./commands/eval.js"
import { acceptIssue, explain, findings, reviewIssue } from "./commands/evidence.js"
import { gate } from "./commands/gate.js"
import { init } from "./commands/init.js"
import { issue } from "./commands/issue.js"
import { memory } from "./commands/memory.js"
import { mission } from "./commands/mission.js"
import { models } from "./commands/models.js"
import { plan } from "./commands/plan.js"
import { pipeline } from "./commands/pipeline.js"
import { promote } from "./commands/promote.js"
import { retro } from "./commands/retro.js"
import { logs, rerun, run, status } from "./commands/run.js"
import { trace } from "./commands/trace.js"
import { runPlan } from "./commands/run-plan.js"
import { questions, spec } from "./commands/spec.js"
import { verify } from "./commands/verify.js"
import { watch } from "./commands/watch.js"
import { workspace } from "./commands/workspace.js"
import { ConcisePresenter, ExitStatus, OutputRedaction, redactingConsole, reportFailure } from "./Output.js"
import { Root } from "./Root.js"

/** The version printed by `--version`. */
export const VERSION: string = pkg.version

/** The top-level subcommands, in `--help` order. */
const subcommands = [
  run,
  status,
  logs,
  trace,
  rerun,
  explain,
  init,
  config,
  issue,
  spec,
  questions,
  mission,
  plan,
  promote,
  pipeline,
  runPlan,
  workspace,
  verify,
  agents,
  models,
  doctor,
  selftest,
  gate,
  reviewIssue,
  acceptIssue,
  findings,
  evidence,
  evalCommand,
  retro,
  memory,
  dashboard,
  watch,
  daemon
] as const

/** The whole command tree. */
export const cli = Root.pipe(Command.withSubcommands(subcommands))

/** The names of the top-level subcommands (the launcher keeps a compile cache per command). */
export const commandNames: ReadonlyArray<string> = subcommands.map((c) => c.name)

/**
 * Runs one invocation with `args` (without the node and script paths) and returns its exit code.
 * `status` is shared with the caller, which reads `interrupted` when a signal ends the invocation.
 */
export const runCli = (args: ReadonlyArray<string>, status: { code: number; interrupted: number } = { code: 0, interrupted: 130 }) =>
  Effect.gen(function*() {
    // Everything printed is redacted: with the environment's secrets now, the project's once it is loaded.
    const output = { current: (yield* Effect.service(Redactor).pipe(Effect.provide(Redactor.layerEnv))).redact }
    const console = yield* Console.consoleWith(Effect.succeed)
    return yield* Effect.gen(function*() {
      const exit = yield* Command.runWith(cli, { version: VERSION })(args).pipe(
        Effect.provideService(ExitStatus, status),
        Effect.provide(ConcisePresenter),
        Effect.exit
      )
      if (Exit.isSuccess(exit)) return status.code
      return yield* reportFailure(exit.cause, args.includes("--verbose"), args.includes("--json"))
    }).pipe(
      Effect.provideService(OutputRedaction, output),
      Effect.provideService(Console.Console, redactingConsole(console, output)),
      // Logs are for people and go to stderr: stdout holds a command's output (and `--json` stays a document).
      Effect.provideService(Logger.LogToStderr, true),
      Effect.provideService(Logger.CurrentLoggers, new Set([quietLogger]))
    )
  })

/**
 * The runtime's logger without the workflow engine's internal chatter: when a run is interrupted the
 * cluster module warns "No healthy runners available" while it recovers by itself — nothing a person
 * can act on.
 */
const INTERNAL_NOISE = ["No healthy runners available"]
const quietLogger = Logger.make<unknown, void>((options) => {
  const text = Array.isArray(options.message) ? options.message.join(" ") : String(options.message)
  if (INTERNAL_NOISE.some((n) => text.includes(n))) return
  Logger.defaultLogger.log(options)
})

