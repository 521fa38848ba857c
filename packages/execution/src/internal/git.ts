/**
 * git for the workspaces service: one runner over the shared inert one (`Git.ts`) whose unexpected
 * exits become `GitFailed`, and readers of git's machine output. Nothing here decides what to run.
 */
import { Effect } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import { makeGitRunner } from "../Git.js"
import { GitFailed } from "../WorkspaceErrors.js"

/** What a git command printed on stdout, with its exit code. */
export interface GitOutput {
  readonly code: number
  readonly stdout: string
}

/**
 * Runs git through the shared inert runner (`Git.ts`: no hooks, no fsmonitor, only the environment git
 * needs) with spec-orch's identity for host commits, and turns an unexpected exit into `GitFailed`.
 * Spawned directly rather than through simple-git: simple-git waits a hard-coded 50 ms after every
 * command that prints nothing (`worktree add -q`, `prune`, `add -A`, …), which tripled the fixed cost
 * of `prepare`.
 */
export const makeGit = (
  spawner: ChildProcessSpawner.ChildProcessSpawner["Service"],
  host: Readonly<Record<string, string>>,
  options: { readonly author?: { readonly name: string; readonly email: string } | undefined }
) => {
  const run = makeGitRunner(spawner, host, options.author ?? { name: "spec-orch", email: "spec-orch@localhost" })
  return (
    cwd: string,
    args: ReadonlyArray<string>,
    opts: { readonly env?: Record<string, string>; readonly ok?: ReadonlyArray<number> } = {}
  ): Effect.Effect<GitOutput, GitFailed> => {
    const failed = (stderr: string, exitCode?: number) =>
      new GitFailed({ command: `git ${args.join(" ")}`, cwd, ...(exitCode !== undefined ? { exitCode } : {}), stderr })
    return run(cwd, args, { env: opts.env }).pipe(
      Effect.mapError((e) => failed(e.reason._tag === "NotFound" ? "git is not installed or not on PATH" : e.message)),
      Effect.flatMap((r) =>
        r.exitCode === 0 || (opts.ok ?? []).includes(r.exitCode)
          ? Effect.succeed({ code: r.exitCode, stdout: r.stdout })
          : Effect.fail(failed(r.stderr, r.exitCode))
      )
    )
  }
}

/** Runs git in `cwd`; an exit outside 0 and `ok` is `GitFailed`. */
export type WorkspaceGit = ReturnType<typeof makeGit>

/** The NUL-separated fields of a `-z` output, without empty ones. */
export const nul = (text: string): Array<string> => text.split("\0").filter((s) => s !== "")
/** The non-empty lines of an output, trimmed. */
export const lines = (text: string): Array<string> =>
  text
    .split("\n")
    .map((s) => s.trim())
    .filter((s) => s !== "")

/** `git worktree list --porcelain -z` as worktree path → branch ref (undefined when detached). */
export const worktreeBranches = (stdout: string): Map<string, string | undefined> => {
  const out = new Map<string, string | undefined>()
  let current: string | undefined
  for (const field of stdout.split("\0")) {
    if (field.startsWith("worktree ")) {
      current = field.slice("worktree ".length)
      out.set(current, undefined)
    } else if (field.startsWith("branch ") && current !== undefined) out.set(current, field.slice("branch ".length))
  }
  return out
}

/** The paths of `git status --porcelain=v1 -z`, sorted (a rename or copy counts by its new path). */
export const statusPaths = (stdout: string): Array<string> => {
  const files: Array<string> = []
  const fields = stdout.split("\0")
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!
    if (f.length < 4) continue
    files.push(f.slice(3))
    if (f[0] === "R" || f[0] === "C") i++ // the rename source follows
  }
  return files.sort()
}
