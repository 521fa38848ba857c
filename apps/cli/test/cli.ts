/** Test helper: runs one `spec-orch` invocation in-process and captures exit code, stdout and stderr. */
import { NodeServices } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { TestConsole } from "effect/testing"
import { runCli } from "../src/Cli.js"

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export const cli = (...args: Array<string>) => cliIn("invoked", args)

/** One invocation run in the whole command tree, or in the invoked command's alone (as `spec-orch` does). */
export const cliIn = (tree: "invoked" | "whole", args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const code = yield* runCli(args, undefined, tree)
    const out = yield* TestConsole.logLines
    const err = yield* TestConsole.errorLines
    return { code, stdout: out.map(String).join("\n"), stderr: err.map(String).join("\n") } satisfies CliResult
  }).pipe(Effect.provide(Layer.fresh(TestConsole.layer)), Effect.provide(NodeServices.layer))
