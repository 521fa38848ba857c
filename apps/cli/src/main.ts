/** The process entry once the fast paths in bin.ts are passed: run the CLI on Node and exit with its code. */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import { runCli } from "./Cli.js"

export const main = (args: ReadonlyArray<string>): void => {
  const program = runCli(args).pipe(
    Effect.tap((code) => Effect.sync(() => (process.exitCode = code))),
    Effect.provide(NodeServices.layer)
  )
  NodeRuntime.runMain(program, { disableErrorReporting: true })
}
