/**
 * The root `spec-orch` command and the flags every subcommand inherits. Subcommands read them with
 * `yield* Root`; nothing else in the app parses global options.
 */
import { Command, Flag } from "effect/cli"

/** The root command: its shared flags are accepted before or after any subcommand. */
export const Root = Command.make("spec-orch").pipe(
  Command.withSharedFlags({
    cwd: Flag.String("cwd").pipe(
      Flag.withDescription("Project directory (default: the current directory; spec-orch.toml is looked up from here)"),
      Flag.withDefault(".")
    ),
    config: Flag.String("config").pipe(
      Flag.withDescription(
        "Config file to use instead of the spec-orch.toml found from --cwd; the project is still the repository --cwd is in, and paths in the file are relative to it"
      ),
      Flag.optional
    ),
    // No -v alias: effect/cli owns -v for --version.
    verbose: Flag.Boolean("verbose").pipe(
      Flag.withDescription("Show stack traces and debug logs"),
      Flag.withDefault(false)
    )
  }),
  Command.withDescription(
    'spec-orch freezes what "done" means for an issue, runs a coding agent on it in an isolated git worktree, ' +
      "verifies the result with the project's own commands, judges it with a gate policy, and leaves evidence a human can trust."
  )
)

/** `--json`: every command prints machine-readable output on stdout with it. */
export const jsonFlag = Flag.Boolean("json").pipe(
  Flag.withDescription("Print JSON on stdout instead of text"),
  Flag.withDefault(false)
)
