/**
 * The second floor of the start-up bench: the smallest Effect CLI there is, one `config check` command
 * with a `--json` flag, on the same Node services as spec-orch (file system, path, stdio, terminal),
 * bundled by the same esbuild and started the way the `spec-orch` launcher starts a read command
 * (startup.bench.ts). What spec-orch's read commands cost beyond it is spec-orch's own; up to it is
 * the price of effect and effect/cli on this Node.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeStdio from "@effect/platform-node/NodeStdio"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Console, Effect, Layer } from "effect"
import { Command, Flag } from "effect/cli"

const json = Flag.Boolean("json").pipe(Flag.withDefault(false))
const check = Command.make("check", { json }, ({ json }) => Console.log(json ? '{"ok":true}' : "ok: no errors"))
const cli = Command.make("floor").pipe(
  Command.withSubcommands([Command.make("config").pipe(Command.withSubcommands([check]))])
)

export const main = (args: ReadonlyArray<string>) =>
  Command.runWith(cli, { version: "0.0.0" })(args).pipe(
    Effect.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeStdio.layer, NodeTerminal.layer)),
    NodeRuntime.runMain
  )
