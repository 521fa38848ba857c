/**
 * The `spec-orch` command tree and how one invocation runs: parse, dispatch, and turn the outcome
 * into an exit code (0 ok, 1 failure, 2 usage error) with errors on stderr.
 */
// The leaf module, not the plane index: the bundle would evaluate the whole harness at every start.
import { environmentRedactor } from "@spec-orch/harness/SecretRedaction"
import { Cause, Console, Effect, Exit, Logger } from "effect"
import { Command } from "effect/cli"
import pkg from "../package.json" with { type: "json" }
import { ConcisePresenter, ExitStatus, OutputRedaction, redactingConsole, reportFailure } from "./Output.js"
import { Root } from "./Root.js"

/** The version printed by `--version`. */
export const VERSION: string = pkg.version

// The top-level commands, in `--help` order, each loaded when it is needed: an invocation that names
// its command needs only that command's tree (`treeFor`), and building all 44 (their flags and help)
// costs a read command ~0.7 MiB of its peak (pnpm bench startup).
const commands = [
  ["run", () => import("./commands/run.js").then((m) => m.run)],
  ["status", () => import("./commands/run.js").then((m) => m.status)],
  ["logs", () => import("./commands/run.js").then((m) => m.logs)],
  ["trace", () => import("./commands/trace.js").then((m) => m.trace)],
  ["rerun", () => import("./commands/run.js").then((m) => m.rerun)],
  ["explain", () => import("./commands/evidence.js").then((m) => m.explain)],
  ["init", () => import("./commands/init.js").then((m) => m.init)],
  ["config", () => import("./commands/config.js").then((m) => m.config)],
  ["issue", () => import("./commands/issue.js").then((m) => m.issue)],
  ["spec", () => import("./commands/spec.js").then((m) => m.spec)],
  ["questions", () => import("./commands/spec.js").then((m) => m.questions)],
  ["contract", () => import("./commands/contract.js").then((m) => m.contract)],
  ["mission", () => import("./commands/mission.js").then((m) => m.mission)],
  ["plan", () => import("./commands/plan.js").then((m) => m.plan)],
  ["discuss", () => import("./commands/discuss.js").then((m) => m.discuss)],
  ["plan-to-spec", () => import("./commands/plan-to-spec.js").then((m) => m.planToSpec)],
  ["promote", () => import("./commands/promote.js").then((m) => m.promote)],
  ["linear-sync", () => import("./commands/linear-sync.js").then((m) => m.linearSync)],
  ["pipeline", () => import("./commands/pipeline.js").then((m) => m.pipeline)],
  ["run-plan", () => import("./commands/run-plan.js").then((m) => m.runPlan)],
  ["workspace", () => import("./commands/workspace.js").then((m) => m.workspace)],
  ["verify", () => import("./commands/verify.js").then((m) => m.verify)],
  ["agents", () => import("./commands/agents.js").then((m) => m.agents)],
  ["models", () => import("./commands/models.js").then((m) => m.models)],
  ["doctor", () => import("./commands/doctor.js").then((m) => m.doctor)],
  ["selftest", () => import("./commands/selftest.js").then((m) => m.selftest)],
  ["gate", () => import("./commands/gate.js").then((m) => m.gate)],
  ["review-issue", () => import("./commands/evidence.js").then((m) => m.reviewIssue)],
  ["accept-issue", () => import("./commands/evidence.js").then((m) => m.acceptIssue)],
  ["findings", () => import("./commands/evidence.js").then((m) => m.findings)],
  ["compliance", () => import("./commands/compliance.js").then((m) => m.compliance)],
  ["evidence", () => import("./commands/eval.js").then((m) => m.evidence)],
  ["eval", () => import("./commands/eval.js").then((m) => m.evalCommand)],
  ["retro", () => import("./commands/retro.js").then((m) => m.retro)],
  ["memory", () => import("./commands/memory.js").then((m) => m.memory)],
  ["evolution", () => import("./commands/evolution.js").then((m) => m.evolution)],
  ["prompt", () => import("./commands/groups.js").then((m) => m.prompt)],
  ["strategy", () => import("./commands/groups.js").then((m) => m.strategy)],
  ["harness", () => import("./commands/groups.js").then((m) => m.harness)],
  ["skills", () => import("./commands/groups.js").then((m) => m.skills)],
  ["policy", () => import("./commands/groups.js").then((m) => m.policy)],
  ["dashboard", () => import("./commands/dashboard.js").then((m) => m.dashboard)],
  ["watch", () => import("./commands/watch.js").then((m) => m.watch)],
  ["daemon", () => import("./commands/daemon.js").then((m) => m.daemon)]
] as const

/** The whole tree's top-level commands, as a type: what the tree run needs and may fail with is every command's. */
type Loaded<T> = { -readonly [K in keyof T]: T[K] extends readonly [string, () => Promise<infer C>] ? C : never }
type Subcommands = Loaded<typeof commands>

/** The names of the top-level subcommands (the launcher keeps a compile cache per command). */
export const commandNames: ReadonlyArray<string> = commands.map(([name]) => name)

const byName = new Map<string, (typeof commands)[number][1]>(commands)

/** Flags of the root (its own and effect/cli's) that take the next argument as their value (the launcher skips them too). */
export const rootValueFlags: ReadonlyArray<string> = ["--cwd", "--config", "--log-level", "--completions"]
const VALUED = new Set(rootValueFlags)

/**
 * The top-level command `args` invoke, if they name one (the first argument that is neither a flag nor
 * a root flag's value) and ask nothing of the whole tree: `--completions` prints a script for every
 * command, and after `--` nothing is a command.
 */
export const invokedCommand = (args: ReadonlyArray<string>): string | undefined => {
  if (args.some((arg) => arg === "--completions" || arg.startsWith("--completions="))) return undefined
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--") return undefined
    if (VALUED.has(arg)) i++
    else if (!arg.startsWith("-")) return byName.has(arg) ? arg : undefined
  }
  return undefined
}

/** The command tree with the given top-level commands under the root. */
const treeOf = (names: ReadonlyArray<string>) =>
  Effect.promise(() => Promise.all(names.map((name) => byName.get(name)!()))).pipe(
    // The type is the whole tree's (see Subcommands), a superset of what these commands need.
    Effect.map((loaded) => Root.pipe(Command.withSubcommands(loaded as unknown as Subcommands)))
  )

/** The whole command tree. */
export const wholeTree = treeOf(commandNames)

/**
 * The tree `args` need: the invoked command's alone under the root when they name one (it parses,
 * helps and fails exactly as in the whole tree: a command knows nothing of its siblings), else the
 * whole tree (`--help`, a mistyped command, `--completions`).
 */
export const treeFor = (args: ReadonlyArray<string>) => {
  const invoked = invokedCommand(args)
  return invoked === undefined ? wholeTree : treeOf([invoked])
}

/**
 * Runs one invocation with `args` (without the node and script paths) and returns its exit code.
 * `status` is shared with the caller, which reads `interrupted` when a signal ends the invocation.
 * `tree: "whole"` runs it in the whole command tree, for the test that the invoked command's alone
 * behaves the same.
 */
export const runCli = (
  args: ReadonlyArray<string>,
  status: { code: number; interrupted: number } = { code: 0, interrupted: 130 },
  tree: "invoked" | "whole" = "invoked"
) =>
  Effect.gen(function* () {
    // Everything printed is redacted: with the environment's secrets now, the project's once it is loaded.
    const output = { current: (yield* environmentRedactor).redact }
    const console = yield* Console.consoleWith(Effect.succeed)
    return yield* Effect.gen(function* () {
      const cli = yield* tree === "whole" ? wholeTree : treeFor(args)
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
