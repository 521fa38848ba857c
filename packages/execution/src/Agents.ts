/**
 * Runs coding agents. One service in front of every adapter (Claude Code, Codex, opencode, Droid,
 * any ACP agent, or a user's command): each spawns the real CLI headless in the worktree with the
 * prompt on stdin, under the harness's permission policy and budgets, in a scrubbed environment with
 * a private HOME, and turns its stream into the contract's `AgentEvent`s and one `AgentOutcome`.
 */
import { type AgentEvent, type AgentOutcome, defaultConfig, didYouMean, type SpecOrchConfig } from "@spec-orch/contract"
import { type AgentPolicy, hostEnvironment, policyFromBuilder, Redactor } from "@spec-orch/harness"
import { Context, Effect, FileSystem, Layer, Path } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import { execFile } from "node:child_process"
import { existsSync, statSync } from "node:fs"
import { AgentConfigInvalid, AgentError, ExecutableNotFound, UnknownAdapter } from "./AgentError.js"
import {
  ADAPTERS,
  type AdapterName,
  agentReach,
  canonicalAdapter,
  credentialVariables,
  type Endpoint,
  prepare,
  programOf
} from "./internal/adapters.js"
import { resolveEcosystem } from "./internal/ecosystem.js"
import { agentEnvironment, homeDirs } from "./internal/environment.js"
import { findExecutable, type Launcher, packageVersion } from "./internal/executables.js"
import { confinedAs, gitPathsOf, runBoxLayout } from "./internal/layout.js"
import { supervise } from "./internal/supervise.js"
import { type NetworkPolicy, Sandbox } from "./Sandbox.js"

export type { Endpoint } from "./internal/adapters.js"

/** One agent turn to run. */
export interface AgentRequest {
  /** claude_code | codex (alias codex_exec) | opencode | droid | acp (alias acpx, acpx_<agent>) | command */
  readonly adapter: string
  /** The worktree the agent works in. */
  readonly cwd: string
  readonly prompt: string
  /** Artifacts: `agent.jsonl` (raw lines verbatim), `events.jsonl` (normalized events), `agent.stderr.log`; the agent's private HOME is `home/`. */
  readonly runDir: string
  /** Timeouts, model, permission mode, sandbox, autonomy, command, env, secret_env, agent (for acp). */
  readonly builder: SpecOrchConfig["builder"]
  /** Output caps (default: the built-in `[limits]`). */
  readonly limits?: SpecOrchConfig["limits"] | undefined
  /** Applied to every text the turn writes (agent.jsonl, events.jsonl, stderr, the outcome). */
  readonly redact?: ((text: string) => string) | undefined
  /** From the harness; derived from `builder` when absent. */
  readonly policy?: AgentPolicy | undefined
  /** A model endpoint to use instead of the agent's default provider (default: $SPEC_ORCH_AGENT_ENDPOINT). */
  readonly endpoint?: Endpoint | undefined
  /** Extra variables for this run, merged after scrubbing (tracker and SCM tokens are still refused). */
  readonly env?: Readonly<Record<string, string>> | undefined
  /** Called for every normalized event, in order, as it arrives. */
  readonly onEvent?: ((event: AgentEvent) => Effect.Effect<void>) | undefined
  /** When this completes the turn is cancelled (the outcome is `cancelled`); interrupting `run` also kills the agent. */
  readonly cancel?: Effect.Effect<void> | undefined
  /** Paths hidden in the agent's box besides the main checkout (the state directory when it lives elsewhere). */
  readonly hide?: ReadonlyArray<string> | undefined
  /** Extra host names the agent may reach (`[sandbox] allow_hosts`). */
  readonly allowHosts?: ReadonlyArray<string> | undefined
  /**
   * False for a turn whose process calls no model (a distilled policy's script standing in for the
   * builder): no model provider's key or endpoint reaches it, from the host, `[builder] env` or `env`.
   */
  readonly model?: boolean | undefined
}

/** What preflight found for one adapter. */
export interface AgentCheck {
  readonly adapter: string
  readonly executable: string
  readonly version?: string
}

/** The adapters spec-orch knows, with their aliases. */
export const KNOWN_ADAPTERS: ReadonlyArray<string> = [...ADAPTERS, "codex_exec", "acpx", "acpx_<agent>"]

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0

/** The endpoint named by $SPEC_ORCH_AGENT_ENDPOINT (`URL` or `URL#model`), if any. */
export const endpointFromEnv = (
  env: Readonly<Record<string, string | undefined>> = process.env
): Endpoint | undefined => {
  const raw = env.SPEC_ORCH_AGENT_ENDPOINT
  if (raw === undefined || raw.trim() === "") return undefined
  const [url, model] = raw.trim().split("#")
  return {
    baseUrl: url!,
    ...(model !== undefined && model !== "" ? { model } : {}),
    ...(env.SPEC_ORCH_AGENT_ENDPOINT_KEY !== undefined ? { apiKey: env.SPEC_ORCH_AGENT_ENDPOINT_KEY } : {})
  }
}

/**
 * Which of the variables that would let `adapter` reach its default model provider are set in `env`:
 * `needed: false` for adapters that use no model (command); an empty `present` means a real turn
 * cannot be exercised without an endpoint. `undefined` for an unknown adapter.
 */
export const modelCredentials = (
  adapter: string,
  builder: SpecOrchConfig["builder"],
  env: Readonly<Record<string, string | undefined>> = process.env
):
  | { readonly needed: boolean; readonly variables: ReadonlyArray<string>; readonly present: ReadonlyArray<string> }
  | undefined => {
  const c = canonicalAdapter(adapter, builder)
  if (c === undefined) return undefined
  const vars = credentialVariables(c.adapter, c.agent)
  if (vars === undefined) return { needed: false, variables: [], present: [] }
  return {
    needed: true,
    variables: vars,
    present: vars.filter((v) => (env[v] ?? "") !== "" && !(builder.secret_env ?? []).includes(v))
  }
}

const isLoopback = (e: Endpoint) => {
  try {
    const host = new URL(e.baseUrl).hostname
    return host === "127.0.0.1" || host === "localhost" || host === "::1" || host === "[::1]"
  } catch {
    return false
  }
}

const resolve = (
  adapterName: string,
  builder: SpecOrchConfig["builder"],
  host: Readonly<Record<string, string>>,
  base?: string
) =>
  Effect.gen(function* () {
    const fail = (reason: AgentError["reason"]) => new AgentError({ adapter: adapterName, reason })
    const canonical = canonicalAdapter(adapterName, builder)
    if (canonical === undefined) {
      const suggestion = didYouMean(adapterName, [...ADAPTERS, "codex_exec", "acpx"])
      return yield* fail(
        new UnknownAdapter({ known: KNOWN_ADAPTERS, ...(suggestion !== undefined ? { suggestion } : {}) })
      )
    }
    const program = programOf(canonical.adapter, canonical.agent, builder)
    if ("problem" in program) return yield* fail(new AgentConfigInvalid({ problem: program.problem }))
    const found = findExecutable(program.name, program.configured, host, base)
    if (found.executable === undefined)
      return yield* fail(new ExecutableNotFound({ name: program.configured ?? program.name, searched: found.searched }))
    return { adapter: canonical.adapter as AdapterName, agent: canonical.agent, program, launcher: found as Launcher }
  })

/** Runs `executable --version` (15 s at most) and returns the first version-looking token. */
const versionOf = (launcher: Launcher, args: ReadonlyArray<string>) =>
  Effect.callback<string | undefined>((resume) => {
    const script = launcher.prefix[0]
    if (script !== undefined && /\.(c|m)?js$/.test(script)) return resume(Effect.succeed(packageVersion(script)))
    const child = execFile(
      launcher.executable,
      [...launcher.prefix, ...args, "--version"],
      { timeout: 15_000, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", NO_COLOR: "1" } },
      (_error, stdout, stderr) => {
        const m = /\d+\.\d+(\.\d+)?([-+.\w]*)?/.exec(`${stdout}\n${stderr}`)
        resume(Effect.succeed(m?.[0]))
      }
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/**
 * Whether a turn of `adapter` reaches anything over the network (and so needs the box's relays): every
 * agent but a `command` agent reaches its model provider; a `command` agent only an endpoint or base URL
 * the environment names, or `[sandbox] allow_hosts`.
 */
export const turnReachesNetwork = (
  adapter: string,
  allowHosts: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>> = process.env
): boolean => {
  if (adapter !== "command" || allowHosts.length > 0) return true
  const reach = agentReach("command", undefined, endpointFromEnv(env), env)
  return reach.hosts.length > 0 || reach.forwards.length > 0
}

/** Whether the box will really confine a command with this network policy (mode, bubblewrap, socat). */
const willConfine = (sandbox: Sandbox["Service"], network: NetworkPolicy) =>
  Effect.map(
    sandbox.probe,
    (probe) =>
      sandbox.mode !== "off" &&
      probe.available &&
      (network._tag === "none" || (network.hosts.length === 0 && network.forwards.length === 0) || probe.network)
  )

/** Runs agent turns and checks that adapters are installed; the only way spec-orch starts a coding agent. */
export class Agents extends Context.Service<
  Agents,
  {
    /** Runs one agent turn to an outcome; failures of the agent are outcomes, AgentError only when it could not be started (unknown adapter, binary not found, bad config). */
    readonly run: (request: AgentRequest) => Effect.Effect<AgentOutcome, AgentError>
    /** Resolves the adapter's executable and version for preflight (`builder` supplies `executable`, `agent`, `command`). */
    readonly check: (adapter: string, builder?: SpecOrchConfig["builder"]) => Effect.Effect<AgentCheck, AgentError>
  }
>()("@spec-orch/execution/Agents") {
  /**
   * Agents in the OS sandbox (`Sandbox`): each turn runs in a box that hides the main checkout and
   * reaches only its model provider; inside it the agent's own OS sandbox is dropped (it cannot nest in
   * ours) and bypass modes are allowed as root — see docs/agents.md. Output is redacted (`Redactor`).
   */
  static readonly layer: Layer.Layer<
    Agents,
    never,
    ChildProcessSpawner.ChildProcessSpawner | FileSystem.FileSystem | Sandbox | Redactor
  > = Layer.effect(
    Agents,
    Effect.gen(function* () {
      const services = yield* Effect.context<ChildProcessSpawner.ChildProcessSpawner | FileSystem.FileSystem>()
      const sandbox = yield* Sandbox
      const redactor = yield* Redactor
      const fs = yield* FileSystem.FileSystem
      const path = yield* Effect.provide(Effect.service(Path.Path), Path.layer)
      const run = Effect.fn("Agents.run")(function* (request: AgentRequest) {
        yield* Effect.annotateCurrentSpan({ adapter: request.adapter })
        const { builder } = request
        const resolved = yield* resolve(request.adapter, builder, yield* hostEnvironment, request.cwd)
        if (!existsSync(request.cwd) || !statSync(request.cwd).isDirectory()) {
          return yield* new AgentError({
            adapter: request.adapter,
            reason: new AgentConfigInvalid({
              problem: `the worktree ${request.cwd} does not exist; create the workspace before running the agent`
            })
          })
        }
        const host = yield* hostEnvironment
        const endpoint = request.endpoint ?? endpointFromEnv(host)
        const reach = agentReach(resolved.adapter, resolved.agent, endpoint, host)
        const hosts = [...reach.hosts, ...(request.allowHosts ?? [])]
        const network: NetworkPolicy =
          hosts.length > 0 || reach.forwards.length > 0
            ? { _tag: "allow", hosts, forwards: reach.forwards }
            : { _tag: "none" }
        // Decided before the launch: the adapter's own sandbox and permission flags depend on it.
        const confined = yield* willConfine(sandbox, network)
        const policy = request.policy ?? policyFromBuilder(builder, { isRoot: isRoot(), confined })
        for (const note of policy.notes) yield* Effect.logWarning(note)
        const prepared = yield* Effect.try({
          try: () =>
            prepare({
              adapter: resolved.adapter,
              agent: resolved.agent,
              cwd: request.cwd,
              prompt: request.prompt,
              runDir: request.runDir,
              builder,
              policy,
              endpoint,
              confined
            }),
          catch: (cause) =>
            new AgentError({
              adapter: request.adapter,
              reason: new AgentConfigInvalid({
                problem: `could not prepare the agent's private config under ${request.runDir}: ${String(cause)}`
              })
            })
        })
        const base = agentEnvironment({
          host,
          runDir: request.runDir,
          builderEnv: builder.env,
          secretEnv: builder.secret_env,
          offline: endpoint !== undefined && isLoopback(endpoint),
          extra: { ...prepared.env, ...request.env },
          model: request.model
        })
        // In a worktree, the agent's own test runs see what verification sees: the project's virtualenv
        // and node_modules/.bin first on PATH, the worktree's import roots first on PYTHONPATH (so an
        // editable install of the main checkout does not shadow the agent's edits).
        const main = gitPathsOf(request.cwd)?.main
        const ecosystem =
          main === undefined || path.resolve(main) === path.resolve(request.cwd)
            ? undefined
            : yield* resolveEcosystem(fs, path, {
                workspace: request.cwd,
                project: main,
                env: base,
                virtualEnv: host.VIRTUAL_ENV,
                nodePath: process.execPath
              })
        const env = { ...base, ...ecosystem?.env }
        const limits = request.limits ?? defaultConfig().limits
        return yield* supervise<AgentError>({
          adapter: request.adapter,
          spec: {
            argv: [
              resolved.launcher.executable,
              ...resolved.launcher.prefix,
              ...resolved.program.args,
              ...prepared.args
            ],
            cwd: request.cwd,
            env,
            input: prepared.input
          },
          protocol: prepared.protocol,
          client: prepared.client,
          runDir: request.runDir,
          limits: {
            timeoutMs: builder.timeout_seconds * 1000,
            stallMs: builder.stall_timeout_seconds * 1000,
            budgets: policy.budgets,
            lineBytes: limits.output_line_bytes,
            outputBytes: limits.agent_output_bytes
          },
          onEvent: request.onEvent,
          cancel: request.cancel,
          redact: request.redact ?? redactor.redact,
          lineRedactor: request.redact === undefined ? redactor.lines : undefined,
          wrap: (command) =>
            sandbox
              .wrap({
                ...command,
                ...runBoxLayout({
                  worktree: request.cwd,
                  hide: request.hide,
                  writable: [homeDirs(request.runDir).home],
                  programs: [resolved.launcher.executable, ...resolved.launcher.prefix, ...resolved.program.args],
                  searchPath: command.env.PATH,
                  network
                })
              })
              .pipe(
                Effect.map(confinedAs),
                Effect.mapError(
                  (e) =>
                    new AgentError({ adapter: request.adapter, reason: new AgentConfigInvalid({ problem: e.message }) })
                )
              )
        }).pipe(
          Effect.provide(services),
          Effect.tap((o) =>
            Effect.annotateCurrentSpan({
              outcome: o.kind,
              "agent.events": o.eventCount,
              "agent.input_tokens": o.usage.inputTokens,
              "agent.output_tokens": o.usage.outputTokens
            })
          )
        )
      })

      const check = Effect.fn("Agents.check")(function* (adapter: string, builder?: SpecOrchConfig["builder"]) {
        const b = builder ?? defaultConfig().builder
        const resolved = yield* resolve(adapter, b, yield* hostEnvironment)
        const version =
          resolved.adapter === "command"
            ? undefined
            : yield* versionOf(
                resolved.launcher,
                resolved.adapter === "acp" && resolved.program.name === "opencode" ? [] : resolved.program.args
              )
        const executable = resolved.launcher.prefix[0] ?? resolved.launcher.executable
        return { adapter, executable, ...(version !== undefined ? { version } : {}) }
      })

      return Agents.of({ run, check })
    })
  )
}
