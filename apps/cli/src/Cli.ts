/**
 * The `spec-orch` command tree and how one invocation runs: parse, dispatch, and turn the outcome
 * into an exit code (0 ok, 1 failure, 2 usage error) with errors on stderr.
 */
// The leaf module, not the plane index: the bundle would evaluate the whole harness at every start.
import { environmentRedactor } from "@spec-orch/harness/SecretRedaction"
import { Cause, Console, Effect, Exit, Logger } from "effect"
import { Command } from "effect/cli"
import pkg from "../package.json" with { type: "json" }
import { agents } from "./commands/agents.js"
import { compliance } from "./commands/compliance.js"
import { config } from "./commands/config.js"
import { contract } from "./commands/contract.js"
import { dashboard } from "./commands/dashboard.js"
import { daemon } from "./commands/daemon.js"
import { doctor } from "./commands/doctor.js"
import { selftest } from "./commands/selftest.js"
import { evalCommand, evidence } from "./commands/eval.js"
import { acceptIssue, explain, findings, reviewIssue } from "./commands/evidence.js"
import { gate } from "./commands/gate.js"
import { init } from "./commands/init.js"
import { issue } from "./commands/issue.js"
import { linearSync } from "./commands/linear-sync.js"
import { memory } from "./commands/memory.js"
import { evolution } from "./commands/evolution.js"
import { harness, policy, prompt, skills, strategy } from "./commands/groups.js"
import { mission } from "./commands/mission.js"
import { models } from "./commands/models.js"
import { discuss } from "./commands/discuss.js"
import { plan } from "./commands/plan.js"
import { planToSpec } from "./commands/plan-to-spec.js"
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
  contract,
  mission,
  plan,
  discuss,
  planToSpec,
  promote,
  linearSync,
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
  compliance,
  evidence,
  evalCommand,
  retro,
  memory,
  evolution,
  prompt,
  strategy,
  harness,
  skills,
  policy,
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
export const runCli = (
  args: ReadonlyArray<string>,
  status: { code: number; interrupted: number } = { code: 0, interrupted: 130 }
) =>
  Effect.gen(function* () {
    // Everything printed is redacted: with the environment's secrets now, the project's once it is loaded.
    const output = { current: (yield* environmentRedactor).redact }
    const console = yield* Console.consoleWith(Effect.succeed)
    return yield* Effect.gen(function* () {
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
      Effect.provideService(Logger.CurrentLoggers, new Set([peopleLogger(stampedLogs(args))]))
    )
  })

/**
 * Logs for people: one-shot commands print a log's message alone (`planner: waiting for …`); the
 * long-running ones (`daemon start`, `dashboard`) and any command given `--log-level` prefix each line
 * with its time and level, for a journal. The workflow engine's internal chatter is dropped: when a run is interrupted the cluster
 * module warns "No healthy runners available" while it recovers by itself — nothing a person can act on.
 */
const stampedLogs = (args: ReadonlyArray<string>): boolean =>
  args.includes("dashboard") ||
  args.some((a) => a.startsWith("--log-level")) ||
  args.some((a, i) => a === "daemon" && args[i + 1] === "start")
const INTERNAL_NOISE = ["No healthy runners available"]
const peopleLogger = (stamped: boolean) =>
  Logger.make<unknown, void>(({ cause, date, fiber, logLevel, message }) => {
    const parts = Array.isArray(message) ? message.slice() : [message]
    const text = parts.map(String).join(" ")
    if (INTERNAL_NOISE.some((n) => text.includes(n))) return
    if (cause.reasons.length > 0) parts.push(Cause.pretty(cause))
    const console = fiber.getRef(Console.Console)
    if (stamped) console.error(`${date.toISOString()} ${logLevel.toUpperCase()}:`, ...parts)
    else console.error(...parts)
  })
