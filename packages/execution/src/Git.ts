/**
 * The one way spec-orch runs git on the host. A repository is untrusted input — an agent could have
 * written into it — so every command runs inert to the repository's own executable configuration
 * (no hooks, no fsmonitor, no external diff or textconv, no `ext::` transports, no editor or pager)
 * and with only the environment git needs: local commands get PATH, HOME and a C locale; commands
 * that talk to a remote also get the host's credential plumbing (SSH agent, credential helpers' tokens).
 */
import { Effect, Stream } from "effect"
import { ChildProcess, type ChildProcessSpawner } from "effect/process"

/** What one git invocation produced; a non-zero exit is data, not an error. */
export interface GitResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

/** How one git command runs. */
export interface GitCall {
  /** Extra variables (e.g. `GIT_INDEX_FILE` for a scratch index); applied last. */
  readonly env?: Readonly<Record<string, string>> | undefined
  /** The command talks to a remote (push, fetch, ls-remote): pass the host's credential environment. */
  readonly remote?: boolean | undefined
}

/**
 * `-c` settings on every command, overriding whatever the repository's config says. Hooks go to a
 * path that cannot be a directory; fsmonitor, ext:: transports and editors are switched off;
 * automatic maintenance and signing never start from a host commit. (An external diff driver is
 * refused per command with `--no-ext-diff --no-textconv`: an empty `diff.external` breaks git diff.)
 */
export const INERT_CONFIG: ReadonlyArray<string> = [
  "core.hooksPath=/dev/null",
  "core.fsmonitor=false",
  "core.editor=true",
  "sequence.editor=true",
  "core.pager=cat",
  "core.quotepath=off",
  "protocol.ext.allow=never",
  "commit.gpgsign=false",
  "tag.gpgsign=false",
  "maintenance.auto=false",
  "gc.auto=0"
].flatMap((setting) => ["-c", setting])

/** Host variables a local git command may see (identity, config location, locale comes fixed). */
const LOCAL_ENV = new Set(["PATH", "HOME", "XDG_CONFIG_HOME", "TMPDIR", "USER", "LOGNAME"])
/** More host variables for commands that talk to a remote: SSH agent, proxies, CA bundles, tokens for credential helpers. */
const REMOTE_ENV =
  /^(SSH_AUTH_SOCK|SSH_AGENT_PID|GIT_SSH|GIT_SSH_COMMAND|GIT_ASKPASS|GH_TOKEN|GITHUB_TOKEN|GH_HOST|GH_ENTERPRISE_TOKEN|GITHUB_ENTERPRISE_TOKEN|HTTPS?_PROXY|https?_proxy|NO_PROXY|no_proxy|ALL_PROXY|all_proxy|SSL_CERT_FILE|SSL_CERT_DIR|GIT_SSL_CAINFO|GIT_SSL_CAPATH|XDG_RUNTIME_DIR|DISPLAY|GCM_.*)$/

/**
 * The environment of one git command: fixed switches (no prompts, no pager or editor, C locale,
 * no optional locks) over the host variables git needs. `GIT_*` variables from the host never pass
 * (they would point git at another repository or config), except the SSH/askpass ones a push needs.
 */
export const gitEnvironment = (
  host: Readonly<Record<string, string | undefined>>,
  options: {
    readonly remote?: boolean | undefined
    readonly identity?: { readonly name: string; readonly email: string } | undefined
  } = {}
): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(host)) {
    if (v === undefined) continue
    if (LOCAL_ENV.has(k) || (options.remote === true && REMOTE_ENV.test(k))) env[k] = v
  }
  env.PATH ??= "/usr/local/bin:/usr/bin:/bin"
  Object.assign(env, {
    GIT_TERMINAL_PROMPT: "0",
    GIT_OPTIONAL_LOCKS: "0",
    GIT_PAGER: "cat",
    GIT_EDITOR: "true",
    GCM_INTERACTIVE: "never",
    LC_ALL: "C",
    LANGUAGE: "C"
  })
  if (options.identity !== undefined) {
    Object.assign(env, {
      GIT_AUTHOR_NAME: options.identity.name,
      GIT_AUTHOR_EMAIL: options.identity.email,
      GIT_COMMITTER_NAME: options.identity.name,
      GIT_COMMITTER_EMAIL: options.identity.email
    })
  }
  return env
}

const collect = <E>(stream: Stream.Stream<Uint8Array, E>) =>
  stream.pipe(
    Stream.decodeText(),
    Stream.mkString,
    Effect.orElseSucceed(() => "")
  )

/**
 * Makes a runner of git commands: `git <INERT_CONFIG> args` in `cwd` with `gitEnvironment(host)`.
 * Spawn failures (git missing, cwd gone) fail with the spawner's error; exit codes are returned.
 */
export const makeGitRunner = (
  spawner: ChildProcessSpawner.ChildProcessSpawner["Service"],
  host: Readonly<Record<string, string | undefined>>,
  identity?: { readonly name: string; readonly email: string }
) => {
  const local = gitEnvironment(host, { identity })
  const remote = gitEnvironment(host, { remote: true, identity })
  return (cwd: string, args: ReadonlyArray<string>, call: GitCall = {}) =>
    Effect.scoped(
      Effect.gen(function* () {
        const handle = yield* spawner.spawn(
          ChildProcess.make("git", [...INERT_CONFIG, ...args], {
            cwd,
            env: { ...(call.remote === true ? remote : local), ...call.env },
            extendEnv: false,
            stdin: "ignore",
            // git may leave `gc --auto` behind; it is not ours to kill with the command.
            detached: false
          })
        )
        const [stdout, stderr] = yield* Effect.all([collect(handle.stdout), collect(handle.stderr)], { concurrency: 2 })
        const exitCode = yield* handle.exitCode
        return { exitCode: Number(exitCode), stdout, stderr } satisfies GitResult
      })
    )
}
