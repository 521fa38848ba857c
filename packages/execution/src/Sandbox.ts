/**
 * The OS sandbox around agent turns and verification steps (Linux, bubblewrap): the file system
 * read-only except the mounts a caller grants, credential paths and host sockets empty, a private
 * /tmp, its own PID namespace (nothing the command starts outlives it) and an empty network
 * namespace that reaches only allowed hosts, through a proxy this process runs. The rule: in
 * `required` mode `wrap` never hands back a command that would run unconfined.
 */
import { Project } from "@spec-orch/contract"
import {
  Config,
  Context,
  Duration,
  Effect,
  FileSystem,
  Layer,
  Option,
  Path,
  Ref,
  Schema,
  type Scope,
  Stream
} from "effect"
import { ChildProcess, ChildProcessSpawner } from "effect/process"
import { homedir } from "node:os"
import { BASE_ARGS, type BoxLayout, bwrapArgs, type HiddenPath } from "./internal/sandbox/bwrap-args.js"
import { DEFAULT_HIDDEN, expandPath, resolveHidden } from "./internal/sandbox/hidden.js"
import { startRelays } from "./internal/sandbox/relays.js"

export { type BoxLayout, bwrapArgs, type HiddenPath, type NetworkLayout } from "./internal/sandbox/bwrap-args.js"
export { DEFAULT_HIDDEN } from "./internal/sandbox/hidden.js"
export { hostAllowed } from "./internal/sandbox/relays.js"

/** `[sandbox] mode`: refuse where the box cannot start, warn once and run unconfined, or never confine. */
export type SandboxMode = "required" | "best-effort" | "off"

/** A host path made visible in the box; `target` defaults to `source`. Later mounts win over earlier ones. */
export interface Mount {
  readonly source: string
  readonly target?: string
  readonly access: "ro" | "rw"
}

/** What the box may reach: nothing (loopback only), or allowed host names through the proxy and forwarded host-loopback ports. */
export type NetworkPolicy =
  | { readonly _tag: "none" }
  | {
      readonly _tag: "allow"
      /** Host names reachable through the proxy (exact `api.anthropic.com` or `*.example.com`). */
      readonly hosts: ReadonlyArray<string>
      /** Ports on the host's loopback made reachable at the same 127.0.0.1:port inside (local model servers). */
      readonly forwards: ReadonlyArray<number>
    }

/** One command to confine. */
export interface BoxSpec {
  readonly argv: ReadonlyArray<string>
  readonly cwd: string
  /** Exactly this environment inside (the caller scrubs it); the box sets TMPDIR=/tmp and, with a proxy, HTTP(S)_PROXY/NO_PROXY. */
  readonly env: Readonly<Record<string, string>>
  /** Paths made empty (tmpfs, or /dev/null for files) — applied after the base layout, before `mounts`. */
  readonly hide: ReadonlyArray<string>
  readonly mounts: ReadonlyArray<Mount>
  readonly network: NetworkPolicy
}

/** A connection the box's proxy refused or could not make; `message` is the sentence for the run's evidence. */
export interface NetworkRefusal {
  readonly host: string
  readonly port: number
  /** `not-allowed`: the name is not on the list (the box got 403). `unreachable`: allowed, but the host could not connect (the box got 502). */
  readonly reason: "not-allowed" | "unreachable"
  readonly detail: string
  /** Attempts with the same host, port and reason. */
  readonly count: number
  readonly message: string
}

/** What to spawn on the host: spawn `argv` in `cwd` with exactly `env` (do not extend it with the host's). */
export interface Boxed {
  readonly argv: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  readonly cwd: string
  /** False when the command runs as given (mode `off`, or `best-effort` where the box cannot start). */
  readonly confined: boolean
  /** One line each on how the command is (or is not) confined, for the run's evidence. */
  readonly notes: ReadonlyArray<string>
  /** What the proxy refused so far (read it after the command ended, before the scope closes or after). */
  readonly refused: Effect.Effect<ReadonlyArray<NetworkRefusal>>
}

/** Whether the box can start on this machine. */
export interface SandboxProbe {
  readonly available: boolean
  readonly mechanism: "bubblewrap" | "none"
  readonly version?: string
  /** Why the box cannot start, and how to fix it. */
  readonly problem?: string
  /** Whether socat is present, without which a box reaches no host and no forwarded port. */
  readonly network: boolean
}

/** `[sandbox] mode = "required"` and the box cannot start here. */
export class SandboxUnavailable extends Schema.TaggedError<SandboxUnavailable>()("SandboxUnavailable", {
  problem: Schema.String
}) {
  override get message() {
    return (
      `the sandbox is required ([sandbox] mode = "required") but cannot start on this machine: ${this.problem}. ` +
      `Fix that, or set [sandbox] mode = "best-effort" (run unconfined with a warning) or "off" in spec-orch.toml`
    )
  }
}

/** Where the service finds its programs and what it hides besides `DEFAULT_HIDDEN`; every field has a host default. */
export interface SandboxOptions {
  /** bwrap: a path, or a name looked up on PATH (default `bwrap`). */
  readonly bwrap?: string | undefined
  /** socat: a path, or a name looked up on PATH (default `socat`). */
  readonly socat?: string | undefined
  /** The home whose credential paths are hidden (default `$HOME`). */
  readonly home?: string | undefined
  /** Extra paths hidden in every box (`[sandbox] hide`). */
  readonly hide?: ReadonlyArray<string> | undefined
  /** Extra paths writable in every box (`[sandbox] writable`), mounted after the caller's mounts. */
  readonly writable?: ReadonlyArray<string> | undefined
  /** Base of relative `hide` entries (the project root). */
  readonly base?: string | undefined
}

export class Sandbox extends Context.Service<
  Sandbox,
  {
    readonly mode: SandboxMode
    /** Whether the box can start on this machine (cached; runs `bwrap … true` once). */
    readonly probe: Effect.Effect<SandboxProbe>
    /**
     * Wraps a command; the proxy and forwarders live until the Scope closes. `required` and unavailable →
     * SandboxUnavailable; `best-effort` warns once and returns the command unconfined; `off` returns it unconfined.
     */
    readonly wrap: (spec: BoxSpec) => Effect.Effect<Boxed, SandboxUnavailable, Scope.Scope>
  }
>()("@spec-orch/execution/Sandbox") {
  /** The sandbox as `[sandbox]` in the project's config says (mode and extra hidden paths). */
  static readonly layer: Layer.Layer<
    Sandbox,
    never,
    Project | ChildProcessSpawner.ChildProcessSpawner | FileSystem.FileSystem | Path.Path
  > = Layer.effect(
    Sandbox,
    Effect.gen(function* () {
      const project = yield* Project
      return yield* make(project.config.sandbox.mode, {
        hide: project.config.sandbox.hide,
        writable: project.config.sandbox.writable,
        base: project.root
      })
    })
  )

  /** The sandbox in a given mode, with programs and paths overridable (tests, embedders). */
  static readonly layerMode = (
    mode: SandboxMode,
    options: SandboxOptions = {}
  ): Layer.Layer<Sandbox, never, ChildProcessSpawner.ChildProcessSpawner | FileSystem.FileSystem | Path.Path> =>
    Layer.effect(Sandbox, make(mode, options))
}

/**
 * The mounts for a run's worktree: the worktree writable and the repository's shared git directory
 * read-only (hooks, config, the main checkout's metadata). With `git: "commit"` the box may also stage
 * and commit: the worktree's own git directory, objects, refs and logs become writable, while its
 * `commondir` and `gitdir` pointers stay read-only. `gitDir`/`commonDir` are `git rev-parse --git-dir`/`--git-common-dir`.
 */
export const worktreeMounts = (
  paths: { readonly worktree: string; readonly gitDir: string; readonly commonDir: string },
  git: "read" | "commit" = "read"
): ReadonlyArray<Mount> => {
  const ro = (source: string): Mount => ({ source, access: "ro" })
  const rw = (source: string): Mount => ({ source, access: "rw" })
  const join = (dir: string, name: string) => `${dir.replace(/\/+$/, "")}/${name}`
  const mounts: Array<Mount> = [ro(paths.commonDir)]
  if (git === "commit") {
    mounts.push(
      rw(join(paths.commonDir, "objects")),
      rw(join(paths.commonDir, "refs")),
      rw(join(paths.commonDir, "logs")),
      rw(paths.gitDir),
      ro(join(paths.gitDir, "commondir")),
      ro(join(paths.gitDir, "gitdir"))
    )
  }
  mounts.push(rw(paths.worktree))
  return mounts
}

/** The inner port of the box's proxy: 3128, or the next port no forward uses. */
const proxyPortFor = (forwards: ReadonlyArray<number>) => {
  let port = 3128
  while (forwards.includes(port)) port += 1
  return port
}

const PROXY_VARIABLES = [
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "ALL_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "all_proxy",
  "no_proxy"
]

/** What the probe learned besides the public answer: the programs the box runs. */
interface Probed {
  readonly probe: SandboxProbe
  readonly bwrap?: string
  readonly tools?: BoxLayout["tools"]
}

const PROBE_TIMEOUT = Duration.seconds(10)

const make = Effect.fnUntraced(function* (mode: SandboxMode, options: SandboxOptions) {
  const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const hostEnv = (name: string) =>
    Config.option(Config.String(name)).pipe(
      Effect.map(Option.getOrUndefined),
      Effect.orElseSucceed(() => undefined)
    )
  const hostPath = (yield* hostEnv("PATH")) ?? "/usr/local/bin:/usr/bin:/bin"
  const home = options.home ?? (yield* hostEnv("HOME")) ?? homedir()
  const base = options.base ?? home
  const warned = yield* Ref.make(false)

  /** An executable file: `name` itself when it holds a slash, else the first match on the host's PATH. */
  const findProgram = Effect.fnUntraced(function* (name: string) {
    const candidates = name.includes("/")
      ? [name]
      : hostPath
          .split(":")
          .filter((d) => d !== "")
          .map((d) => path.join(d, name))
    for (const candidate of candidates) {
      const info = yield* fs.stat(candidate).pipe(Effect.option)
      if (info._tag === "Some" && info.value.type === "File" && (info.value.mode & 0o111) !== 0) return candidate
    }
    return undefined
  })

  /** Runs a short program; its exit code and output, or why it could not run. */
  const run = (argv: ReadonlyArray<string>) =>
    Effect.scoped(
      Effect.gen(function* () {
        const handle = yield* spawner.spawn(
          ChildProcess.make(argv[0]!, argv.slice(1), { env: { PATH: hostPath }, extendEnv: false, stdin: "ignore" })
        )
        const [output, code] = yield* Effect.all(
          [handle.all.pipe(Stream.decodeText(), Stream.mkString), handle.exitCode],
          { concurrency: 2 }
        )
        return { code: Number(code), output: output.trim() }
      })
    ).pipe(
      Effect.timeoutOption(PROBE_TIMEOUT),
      Effect.map(
        Option.getOrElse(() => ({ code: -1, output: `did not finish within ${Duration.format(PROBE_TIMEOUT)}` }))
      ),
      Effect.catch((e) => Effect.succeed({ code: -1, output: e.message }))
    )

  const probeOnce: Effect.Effect<Probed> = Effect.gen(function* () {
    const socat = yield* findProgram(options.socat ?? "socat")
    const network = socat !== undefined
    const unavailable = (problem: string): Probed => ({
      probe: { available: false, mechanism: "none", problem, network }
    })
    if (process.platform !== "linux") {
      return unavailable(`the sandbox uses Linux namespaces through bubblewrap, and this is ${process.platform}`)
    }
    const bwrap = yield* findProgram(options.bwrap ?? "bwrap")
    if (bwrap === undefined) {
      return unavailable(
        `bubblewrap (${options.bwrap ?? "bwrap"}) is not installed${options.bwrap?.includes("/") ? "" : " or not on PATH"}: ` +
          `install it (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap; Arch: pacman -S bubblewrap)`
      )
    }
    const version = yield* run([bwrap, "--version"])
    const sh = "/bin/sh"
    const trial = yield* run([bwrap, ...BASE_ARGS, "--chdir", "/", "--", sh, "-c", ":"])
    if (trial.code !== 0) {
      return unavailable(
        `bubblewrap (${bwrap}) cannot create a sandbox here: ${trial.output.split("\n")[0] || `exit ${trial.code}`}. ` +
          `Usually user namespaces are disabled: enable them (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 and later ` +
          `kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap); inside a container, run it with ` +
          `--security-opt seccomp=unconfined --security-opt apparmor=unconfined or --privileged`
      )
    }
    const sleep = (yield* findProgram("sleep")) ?? "sleep"
    const v = /(\d+\.\d+(?:\.\d+)?)/.exec(version.output)?.[1]
    return {
      probe: { available: true, mechanism: "bubblewrap", ...(v !== undefined ? { version: v } : {}), network },
      bwrap,
      tools: { sh, socat: socat ?? "socat", sleep }
    }
  })
  const probed = yield* Effect.cached(probeOnce)

  const tilde = (p: string) => (p === home ? "~" : p.startsWith(`${home}/`) ? `~${p.slice(home.length)}` : p)

  const unconfined = (spec: BoxSpec, note: string): Boxed => ({
    argv: spec.argv,
    env: spec.env,
    cwd: spec.cwd,
    confined: false,
    notes: [note],
    refused: Effect.succeed([])
  })

  const wrap = Effect.fn("Sandbox.wrap")(
    function* (spec: BoxSpec) {
      const relative = [spec.cwd, ...spec.mounts.flatMap((m) => [m.source, m.target ?? m.source])].find(
        (p) => !path.isAbsolute(p)
      )
      if (relative !== undefined)
        return yield* Effect.die(new Error(`Sandbox.wrap needs absolute paths for cwd and mounts, got "${relative}"`))
      if (mode === "off") return unconfined(spec, `not confined: [sandbox] mode = "off"`)
      const { probe, bwrap, tools } = yield* probed
      const network = spec.network
      const hosts = network._tag === "allow" ? network.hosts : []
      const forwards = network._tag === "allow" ? [...new Set(network.forwards)] : []
      const badPort = forwards.find((p) => !Number.isInteger(p) || p < 1 || p > 65535)
      if (badPort !== undefined) return yield* Effect.die(new Error(`Sandbox.wrap: ${badPort} is not a TCP port`))
      const needsRelays = hosts.length > 0 || forwards.length > 0
      const reach = [...(hosts.length > 0 ? [hosts.join(", ")] : []), ...forwards.map((p) => `127.0.0.1:${p}`)].join(
        " and "
      )
      const problem = !probe.available
        ? (probe.problem ?? "bubblewrap is unavailable")
        : needsRelays && !probe.network
          ? `socat is not installed, and the box needs it to reach ${reach}: install it (Debian/Ubuntu: apt-get install socat)`
          : undefined
      if (problem !== undefined || bwrap === undefined || tools === undefined) {
        const why = problem ?? "bubblewrap is unavailable"
        if (mode === "required") return yield* new SandboxUnavailable({ problem: why })
        if (!(yield* Ref.getAndSet(warned, true))) {
          yield* Effect.logWarning(
            `spec-orch runs agents and verification steps WITHOUT the OS sandbox: ${why}. ` +
              `([sandbox] mode = "best-effort"; set it to "required" to refuse instead, or "off" to silence this.)`
          )
        }
        return unconfined(spec, `not confined ([sandbox] mode = "best-effort"): ${why}`)
      }

      const [always, asked] = yield* Effect.all(
        [
          resolveHidden([...DEFAULT_HIDDEN, ...(options.hide ?? [])], home, base),
          resolveHidden(spec.hide, home, spec.cwd)
        ],
        {
          concurrency: 2
        }
      )
      const hidden: Array<HiddenPath> = [...always]
      for (const h of asked) if (!hidden.some((x) => x.path === h.path)) hidden.push(h)

      const relays = needsRelays
        ? yield* Effect.acquireRelease(
            Effect.tryPromise(() => startRelays({ hosts, forwards, proxyPort: proxyPortFor(forwards) })).pipe(
              Effect.orDie
            ),
            (r) => Effect.promise(() => r.close())
          )
        : undefined
      // `[sandbox] writable`: paths the user chose to share with every box (build caches); those that exist.
      const shared = yield* Effect.forEach(options.writable ?? [], (entry) =>
        fs.realPath(expandPath(path, entry, home, base)).pipe(Effect.option)
      )
      const mounts = [
        ...spec.mounts,
        ...shared.flatMap((p) => (p._tag === "Some" ? [{ source: p.value, access: "rw" as const }] : []))
      ]
      const argv = bwrapArgs({ ...spec, mounts }, { bwrap, hidden, network: relays?.layout, tools })

      const env: Record<string, string> = {}
      for (const [k, v] of Object.entries(spec.env)) if (!PROXY_VARIABLES.includes(k)) env[k] = v
      env.TMPDIR = "/tmp"
      const proxy = relays?.layout.proxy
      if (proxy !== undefined) {
        const url = `http://127.0.0.1:${proxy.port}`
        Object.assign(env, {
          HTTP_PROXY: url,
          HTTPS_PROXY: url,
          http_proxy: url,
          https_proxy: url,
          NO_PROXY: "127.0.0.1,localhost,::1",
          no_proxy: "127.0.0.1,localhost,::1"
        })
      }
      const notes = [
        `confined by bubblewrap${probe.version !== undefined ? ` ${probe.version}` : ""}: read-only file system except ${
          spec.mounts
            .filter((m) => m.access === "rw")
            .map((m) => tilde(m.target ?? m.source))
            .join(", ") || "nothing"
        } and a private /tmp; own PID namespace; no capabilities`,
        ...(mounts.length > spec.mounts.length
          ? [
              `shared writable ([sandbox] writable): ${mounts
                .slice(spec.mounts.length)
                .map((m) => tilde(m.source))
                .join(", ")}`
            ]
          : []),
        needsRelays ? `network: only ${reach}` : "network: none (loopback only)",
        ...(hidden.length > 0 ? [`hidden: ${hidden.map((h) => tilde(h.path)).join(", ")}`] : [])
      ]
      return {
        argv,
        env,
        cwd: spec.cwd,
        confined: true,
        notes,
        refused: Effect.sync(() => relays?.refused() ?? [])
      } satisfies Boxed
    },
    Effect.provideService(FileSystem.FileSystem, fs),
    Effect.provideService(Path.Path, path)
  )

  return Sandbox.of({ mode, probe: Effect.map(probed, (p) => p.probe), wrap })
})
