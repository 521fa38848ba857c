/**
 * The process entry once the fast paths in bin.ts are passed: run the CLI on Node and exit with its
 * code. A signal (SIGTERM, Ctrl-C) interrupts the invocation; it exits 130, or 0 for a command whose
 * normal end is a signal (the daemon), once its shutdown has finished.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Effect, Exit, Runtime } from "effect"
import { runCli } from "./Cli.js"

// A CLI process parses its config files once: zod's compiled fast path costs more to build (~20 ms
// for spec-orch.toml) than it saves. The process is ours, so the global setting is too. It is set
// where zod keeps it (`globalThis.__zod_globalConfig`, which `zod.config()` writes to) rather than
// through `zod.config()`: importing zod here would load all of zod at every start, `--help` included.
const zodGlobal = globalThis as { __zod_globalConfig?: { jitless?: boolean } }
zodGlobal.__zod_globalConfig ??= {}
zodGlobal.__zod_globalConfig.jitless = true

export const main = (args: ReadonlyArray<string>): void => {
  const status = { code: 0, interrupted: 130 }
  const program = runCli(args, status).pipe(
    Effect.tap((code) => Effect.sync(() => (process.exitCode = code))),
    Effect.provide(NodeServices.layer)
  )
  NodeRuntime.runMain(program, {
    disableErrorReporting: true,
    teardown: (exit, onExit) =>
      Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
        ? onExit(status.interrupted)
        : Runtime.defaultTeardown(exit, onExit)
  })
}
