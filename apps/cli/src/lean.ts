/**
 * The lean bundles' entry (dist/lean.cjs and dist/lean-state.cjs): the whole command tree, so `--help`
 * and usage errors read the same, but only the handlers of the read commands the launcher sends to the
 * bundle (its LEAN and LEAN_STATE lists); every other handler module is replaced at build time by an
 * empty one (tsup.config.ts, LEAN_BUNDLES). The build checks with `handledCommands` that each list is
 * exactly what its bundle can run.
 */
import type { Command } from "effect/cli"
import { Effect } from "effect"
import { wholeTree } from "./Cli.js"
import { LoaderProbe } from "./Lazy.js"

export { main } from "./main.js"
export { commandNames, rootValueFlags } from "./Cli.js"

/** The handler module loaders of every leaf under `command`, found by running each leaf's handler with a probe. */
const loadersOf = (command: Command.Command.Any, path: ReadonlyArray<string>, probe: LoaderProbe): void => {
  const leaves = command.subcommands.flatMap((group) => group.commands)
  if (leaves.length === 0) {
    // Every command built with Command.make has `handle`; a change in effect/cli fails the build here.
    const handle = (command as unknown as { handle?: (input: unknown, path: ReadonlyArray<string>) => unknown }).handle
    if (typeof handle !== "function") throw new Error(`spec-orch ${path.join(" ")}: the command has no handle`)
    handle(probe, path)
    return
  }
  for (const child of leaves) loadersOf(child, [...path, child.name], probe)
}

/**
 * The top-level commands every handler of which is in this bundle, i.e. whose handler modules are not
 * the build's stand-in (which exports `notInThisBundle`). For the build's check only.
 */
export const handledCommands = async (): Promise<ReadonlyArray<string>> => {
  const handled: Array<string> = []
  const cli = await Effect.runPromise(wholeTree)
  for (const command of cli.subcommands.flatMap((group) => group.commands)) {
    const probe = new LoaderProbe()
    loadersOf(command, [command.name], probe)
    const modules = await Promise.all(probe.loaders.map((load) => load()))
    if (modules.every((m) => !(m as { notInThisBundle?: boolean }).notInThisBundle)) handled.push(command.name)
  }
  return handled
}
