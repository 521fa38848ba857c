/**
 * Runs git on the host (never in an agent's environment) and collects its exit code, stdout and
 * stderr. Pushes use the host's own credentials (credential helpers, SSH agent); prompts are
 * disabled so a missing credential fails instead of hanging the daemon.
 */
import { Effect, Stream } from "effect"
import { ChildProcess, ChildProcessSpawner } from "effect/process"

/** What one git invocation produced. */
export interface GitResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

const collect = <E>(stream: Stream.Stream<Uint8Array, E>) => stream.pipe(Stream.decodeText(), Stream.mkString)

/** Runs `git args` in `cwd`; a git that cannot start is a defect (the host has no git). */
export const runGit = (cwd: string, args: ReadonlyArray<string>): Effect.Effect<GitResult, never, ChildProcessSpawner.ChildProcessSpawner> =>
  Effect.scoped(Effect.gen(function*() {
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    const handle = yield* spawner.spawn(ChildProcess.make("git", [...args], {
      cwd,
      env: { GIT_TERMINAL_PROMPT: "0", GCM_INTERACTIVE: "never", LC_ALL: "C" },
      extendEnv: true
    }))
    const [stdout, stderr, exitCode] = yield* Effect.all([collect(handle.stdout), collect(handle.stderr), handle.exitCode], { concurrency: "unbounded" })
    return { exitCode: Number(exitCode), stdout, stderr }
  })).pipe(Effect.orDie)

/** Parses `owner/name` out of a GitHub remote URL (https, ssh or scp-like); `undefined` for anything else. */
export const repoFromRemoteUrl = (url: string): { readonly owner: string; readonly name: string } | undefined => {
  const m = /^(?:https?:\/\/(?:[^@/]+@)?[^/]+\/|ssh:\/\/(?:[^@/]+@)?[^/]+(?::\d+)?\/|[^@/\s]+@[^:/\s]+:)([^/\s]+)\/([^/\s]+?)(?:\.git)?\/?$/.exec(url.trim())
  return m ? { owner: m[1]!, name: m[2]! } : undefined
}
