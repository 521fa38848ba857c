/**
 * The process entry once the fast paths in bin.ts are passed: run the CLI on Node and exit with its
 * code. A signal (SIGTERM, Ctrl-C) interrupts the invocation; it exits 130, or 0 for a command whose
 * normal end is a signal (the daemon), once its shutdown has finished.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeStdio from "@effect/platform-node/NodeStdio"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Cause, Context, Effect, Exit, type FileSystem, Layer, type Path, Runtime, Terminal } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { runCli } from "./Cli.js"

// NodeServices.layer, except that Node's process spawner (and node:child_process, node:net, …, which
// it loads) is loaded when the first process is spawned: reading commands such as `--help`,
// `config check` or `issue list` never spawn one.
const spawnerOnFirstUse = Layer.effect(
  ChildProcessSpawner.ChildProcessSpawner,
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const services = yield* Effect.context<FileSystem.FileSystem | Path.Path>()
    const node = yield* Effect.cached(
      Effect.promise(() => import("@effect/platform-node/NodeChildProcessSpawner")).pipe(
        Effect.flatMap((module) => Layer.buildWithScope(module.layer, scope)),
        Effect.map((built) => Context.get(built, ChildProcessSpawner.ChildProcessSpawner)),
        Effect.provide(services)
      )
    )
    return ChildProcessSpawner.make((command) => Effect.flatMap(node, (spawner) => spawner.spawn(command)))
  })
)
// Node's terminal, set up when it is first used: only effect/cli's prompts (`--wizard`) use it, and setting
// it up opens stdin, which loads Node's stream for it (from a file, fs.promises and readline with it; from a
// terminal, node:tty and node:net): about 0.6 MiB of a read command's peak (pnpm bench startup).
const terminalOnFirstUse = Layer.effect(
  Terminal.Terminal,
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const node = yield* Effect.cached(
      Layer.buildWithScope(NodeTerminal.layer, scope).pipe(Effect.map((built) => Context.get(built, Terminal.Terminal)))
    )
    return Terminal.make({
      columns: Effect.flatMap(node, (t) => t.columns),
      rows: Effect.flatMap(node, (t) => t.rows),
      size: Effect.flatMap(node, (t) => t.size),
      readInput: Effect.flatMap(node, (t) => t.readInput),
      readLine: Effect.flatMap(node, (t) => t.readLine),
      display: (text) => Effect.flatMap(node, (t) => t.display(text))
    })
  })
)
const nodeServices = Layer.provideMerge(
  spawnerOnFirstUse,
  Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeStdio.layer, terminalOnFirstUse)
)

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
    Effect.provide(nodeServices)
  )
  NodeRuntime.runMain(program, {
    disableErrorReporting: true,
    teardown: (exit, onExit) =>
      Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
        ? onExit(status.interrupted)
        : Runtime.defaultTeardown(exit, onExit)
  })
}
