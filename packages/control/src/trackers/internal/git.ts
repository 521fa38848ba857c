/**
 * Runs git on the host (never in an agent's environment) through execution's inert runner: no hooks,
 * no fsmonitor, only the environment git needs. Commands that talk to a remote use the host's own
 * credentials (credential helpers, SSH agent); prompts are disabled so a missing credential fails
 * instead of hanging the daemon.
 */
import type { GitResult } from "@spec-orch/execution"
import { Effect } from "effect"
import { ChildProcessSpawner } from "effect/process"

export type { GitResult } from "@spec-orch/execution"

/** Subcommands that talk to a remote and need the host's credential environment. */
const REMOTE = new Set(["push", "fetch", "pull", "ls-remote", "clone"])

/** Runs `git args` in `cwd`; a git that cannot start is a defect (the host has no git). */
export const runGit = (
  cwd: string,
  args: ReadonlyArray<string>
): Effect.Effect<GitResult, never, ChildProcessSpawner.ChildProcessSpawner> =>
  Effect.gen(function* () {
    // Execution and the harness load on the first git call, not with the tracker clients: a reading
    // command (`spec-orch issue list`) uses the clients and never runs git.
    const { makeGitRunner, hostEnvironment } = yield* Effect.promise(() => import("./git-runner.js"))
    const run = makeGitRunner(yield* ChildProcessSpawner.ChildProcessSpawner, yield* hostEnvironment)
    const sub = args.find((a) => !a.startsWith("-") && !a.includes("="))
    return yield* run(cwd, args, { remote: sub !== undefined && REMOTE.has(sub) })
  }).pipe(Effect.orDie)

/** Parses `owner/name` out of a GitHub remote URL (https, ssh or scp-like); `undefined` for anything else. */
export const repoFromRemoteUrl = (url: string): { readonly owner: string; readonly name: string } | undefined => {
  const m =
    /^(?:https?:\/\/(?:[^@/]+@)?[^/]+\/|ssh:\/\/(?:[^@/]+@)?[^/]+(?::\d+)?\/|[^@/\s]+@[^:/\s]+:)([^/\s]+)\/([^/\s]+?)(?:\.git)?\/?$/.exec(
      url.trim()
    )
  return m ? { owner: m[1]!, name: m[2]! } : undefined
}
