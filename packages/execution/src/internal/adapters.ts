/**
 * How each adapter starts its CLI headless: the argv (never the prompt — it goes on stdin), the config
 * files and variables that point it at its model and keep it offline, the flags that carry the
 * permission policy, and which stream parser reads its output. Verified recipes: AGENT-CLIS.md. How
 * each agent's own sandbox composes with spec-orch's (`confined`) is argued in docs/agents.md.
 */
import type { SpecOrchConfig } from "@spec-orch/contract"
import type { AgentPolicy } from "@spec-orch/harness"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { acpClient } from "./acp-client.js"
import { claudeStream } from "./claude-stream.js"
import { codexStream } from "./codex-stream.js"
import { commandStream } from "./command-stream.js"
import { droidStream } from "./droid-stream.js"
import { homeDirs } from "./environment.js"
import { opencodeStream } from "./opencode-stream.js"
import type { LineProtocol, ProtocolFactory } from "./protocol.js"
import type { ProtocolClient } from "./supervise.js"

/** A model endpoint the agent should use instead of its default provider (a gateway, or a local model server). */
export interface Endpoint {
  /** Base URL without `/v1` (e.g. `http://127.0.0.1:8080`). */
  readonly baseUrl: string
  readonly apiKey?: string | undefined
  /** Model name to ask for; each adapter has a default that its CLI accepts. */
  readonly model?: string | undefined
  /** `false` turns off the CLI's own retries where it has a switch (Claude, Codex). */
  readonly retries?: boolean | undefined
}

/** The adapters, by canonical name. */
export const ADAPTERS = ["claude_code", "codex", "opencode", "droid", "acp", "command"] as const
/** A canonical adapter name. */
export type AdapterName = (typeof ADAPTERS)[number]

/** Resolves aliases (`codex_exec`, `acpx`, `acpx_<agent>`); `undefined` when unknown. */
export const canonicalAdapter = (
  name: string,
  builder: SpecOrchConfig["builder"]
): { readonly adapter: AdapterName; readonly agent?: string } | undefined => {
  if (name === "codex_exec") return { adapter: "codex" }
  if (name === "acp" || name === "acpx") return { adapter: "acp", agent: builder.agent ?? "claude-code" }
  if (name.startsWith("acpx_") || name.startsWith("acp_"))
    return { adapter: "acp", agent: name.slice(name.indexOf("_") + 1) }
  return (ADAPTERS as ReadonlyArray<string>).includes(name) ? { adapter: name as AdapterName } : undefined
}

/** The program an adapter runs: a name looked up on PATH and in the tool cache, plus fixed arguments. */
export const programOf = (
  adapter: AdapterName,
  agent: string | undefined,
  builder: SpecOrchConfig["builder"]
):
  | { readonly name: string; readonly args: ReadonlyArray<string>; readonly configured: string | undefined }
  | { readonly problem: string } => {
  switch (adapter) {
    case "claude_code":
      return { name: "claude", args: [], configured: builder.executable }
    case "codex":
      return { name: "codex", args: [], configured: builder.codex_executable ?? builder.executable }
    case "opencode":
      return { name: "opencode", args: [], configured: builder.executable }
    case "droid":
      return { name: "droid", args: [], configured: builder.executable }
    case "acp": {
      const a = (agent ?? "claude-code").trim()
      if (["claude-code", "claude", "claude_code", "claude-code-acp"].includes(a))
        return { name: "claude-code-acp", args: [], configured: builder.executable }
      if (["codex", "codex-acp"].includes(a)) return { name: "codex-acp", args: [], configured: builder.executable }
      if (a === "opencode") return { name: "opencode", args: ["acp"], configured: builder.executable }
      if (a === "gemini") return { name: "gemini", args: ["--experimental-acp"], configured: builder.executable }
      const [first, ...rest] = a.split(/\s+/)
      if (first === undefined || first === "")
        return {
          problem: "[builder] agent is empty; name an ACP agent (claude-code, codex, opencode) or give its command line"
        }
      return { name: first, args: rest, configured: builder.executable }
    }
    case "command": {
      const c = builder.command
      if (c === undefined)
        return {
          problem:
            'the command adapter needs [builder] command = ["program", "arg", …] (it runs in the worktree with the prompt on stdin)'
        }
      if (typeof c === "string")
        return {
          name: "sh",
          args: ["-c", c, ...(builder.args.length > 0 ? ["sh", ...builder.args] : [])],
          configured: undefined
        }
      const [first, ...rest] = c
      if (first === undefined)
        return { problem: "[builder] command is an empty list; give the program and its arguments" }
      return { name: first, args: [...rest, ...builder.args], configured: undefined }
    }
  }
}

/** What `prepare` needs. */
export interface PrepareInput {
  readonly adapter: AdapterName
  readonly agent: string | undefined
  readonly cwd: string
  readonly prompt: string
  readonly runDir: string
  readonly builder: SpecOrchConfig["builder"]
  readonly policy: AgentPolicy
  readonly endpoint: Endpoint | undefined
  /**
   * The agent runs inside spec-orch's OS sandbox (the box confines it to its worktree, hides secrets,
   * has its own pid and network namespaces). Agents then drop their own OS sandbox, which cannot nest
   * in ours; outside the box their own sandbox and permission modes are the only guard.
   */
  readonly confined: boolean
}

/** The adapter-specific part of a launch. */
export interface Prepared {
  readonly args: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  /** `undefined` = stdin belongs to the protocol client. */
  readonly input: string | undefined
  readonly protocol: LineProtocol
  readonly client?: ProtocolClient | undefined
}

/** The endpoint's key, passed to Codex through a variable its provider config names. */
const ENDPOINT_KEY_VAR = "MODEL_ENDPOINT_API_KEY"
const v1 = (e: Endpoint) => `${e.baseUrl.replace(/\/+$/, "").replace(/\/v1$/, "")}/v1`
const bare = (e: Endpoint) => e.baseUrl.replace(/\/+$/, "").replace(/\/v1$/, "")
const toml = (value: string | number | boolean) => (typeof value === "string" ? JSON.stringify(value) : String(value))

/**
 * Writes `$CODEX_HOME/config.toml` for this run and returns the variables Codex needs. Its TMPDIR is
 * private to the run: Codex links its sandbox helper (`codex-linux-sandbox`) and `apply_patch` under
 * CODEX_HOME, and refuses to when CODEX_HOME lies inside the temp dir — then every call inside its
 * own sandbox fails ("bwrap: execvp codex-linux-sandbox: No such file or directory"), which happened
 * whenever the run directory was under /tmp.
 */
const writeCodexConfig = (input: PrepareInput, approval: "never" | "on-request") => {
  const dirs = homeDirs(input.runDir)
  mkdirSync(dirs.codex, { recursive: true })
  const tmp = join(dirs.home, "tmp")
  mkdirSync(tmp, { recursive: true })
  const e = input.endpoint
  const model = input.builder.model ?? e?.model ?? (e !== undefined ? "gpt-5.5" : undefined)
  const lines = [
    "# Written by spec-orch for one run.",
    ...(model !== undefined ? [`model = ${toml(model)}`] : []),
    ...(e !== undefined ? [`model_provider = "spec_orch_endpoint"`] : []),
    `approval_policy = ${toml(approval)}`,
    `sandbox_mode = ${toml(input.policy.codex.sandbox)}`,
    "",
    "[analytics]",
    "enabled = false",
    "",
    "[features]",
    "plugins = false",
    "remote_plugin = false",
    // The snapshot runs the user's login shell (setsid, in the worktree) at start; with a private HOME
    // it captures nothing, and when Codex ends early it is left running outside the agent's process tree.
    "shell_snapshot = false",
    "",
    // workspace-write makes /tmp writable too, and with it any checkout under /tmp; the run's private
    // TMPDIR (still writable) is the agent's temp space.
    "[sandbox_workspace_write]",
    "exclude_slash_tmp = true"
  ]
  if (e !== undefined) {
    lines.push(
      "",
      "[model_providers.spec_orch_endpoint]",
      `name = "spec-orch endpoint"`,
      `base_url = ${toml(v1(e))}`,
      `env_key = ${toml(ENDPOINT_KEY_VAR)}`,
      `wire_api = "responses"`,
      ...(e.retries === false ? ["request_max_retries = 0", "stream_max_retries = 0"] : [])
    )
  }
  writeFileSync(join(dirs.codex, "config.toml"), `${lines.join("\n")}\n`)
  return { TMPDIR: tmp, ...(e !== undefined ? { [ENDPOINT_KEY_VAR]: e.apiKey ?? "spec-orch-local" } : {}) }
}

/** opencode's config, passed in OPENCODE_CONFIG_CONTENT. */
const opencodeConfig = (input: PrepareInput) => {
  const e = input.endpoint
  const p = input.policy.acp
  const config: Record<string, unknown> = {
    autoupdate: false,
    share: "disabled",
    snapshot: false,
    // external_directory: any path outside the worktree (its default "ask" is auto-rejected by `run` anyway).
    permission: { edit: p.edits, bash: p.commands, webfetch: p.network, external_directory: "deny" }
  }
  if (e !== undefined) {
    const model = input.builder.model ?? e.model ?? "endpoint-model"
    Object.assign(config, {
      model: `spec_orch/${model}`,
      small_model: `spec_orch/${model}`,
      provider: {
        spec_orch: {
          npm: "@ai-sdk/openai-compatible",
          name: "spec-orch endpoint",
          options: { baseURL: v1(e), apiKey: e.apiKey ?? "spec-orch-local" },
          models: { [model]: { name: model, tool_call: true, limit: { context: 200000, output: 8192 } } }
        }
      }
    })
  }
  return JSON.stringify(config)
}

const claudeEnv = (input: PrepareInput): Record<string, string> => {
  const e = input.endpoint
  const env: Record<string, string> = {}
  if (e !== undefined) {
    env.ANTHROPIC_BASE_URL = bare(e)
    env.ANTHROPIC_API_KEY = e.apiKey ?? "sk-ant-spec-orch-local"
    if (e.retries === false) env.CLAUDE_CODE_MAX_RETRIES = "0"
  }
  const model = input.builder.model ?? e?.model
  if (model !== undefined) env.ANTHROPIC_MODEL = model
  // As root Claude Code refuses bypass modes unless told the machine is a sandbox; inside our box it is.
  if (input.confined && input.policy.claude.permissionMode === "bypassPermissions") env.IS_SANDBOX = "1"
  return env
}

const factory = (make: ProtocolFactory, cwd: string) => make(cwd)

/** Prepares one launch: writes the per-run config files and returns argv, env and parser. */
export const prepare = (input: PrepareInput): Prepared => {
  const { builder, policy } = input
  const dirs = homeDirs(input.runDir)
  for (const d of [dirs.home, dirs.config, dirs.data, dirs.state, dirs.cache, dirs.claude])
    mkdirSync(d, { recursive: true })
  const e = input.endpoint
  switch (input.adapter) {
    case "claude_code": {
      const model = builder.model ?? e?.model
      return {
        args: [
          "-p",
          "--output-format",
          "stream-json",
          "--verbose",
          "--permission-mode",
          policy.claude.permissionMode,
          ...(policy.claude.allowedTools.length > 0 ? ["--allowedTools", policy.claude.allowedTools.join(",")] : []),
          ...(model !== undefined ? ["--model", model] : [])
        ],
        env: claudeEnv(input),
        input: input.prompt,
        protocol: factory(claudeStream, input.cwd)
      }
    }
    case "codex": {
      const env = writeCodexConfig(input, "never")
      return {
        args: ["exec", "--json", "--skip-git-repo-check", "-s", policy.codex.sandbox, "-"],
        env,
        input: input.prompt,
        protocol: factory(codexStream, input.cwd)
      }
    }
    case "opencode": {
      const model = e === undefined ? builder.model : undefined
      return {
        args: ["run", "--format", "json", ...(model !== undefined ? ["-m", model] : [])],
        env: { OPENCODE_CONFIG_CONTENT: opencodeConfig(input) },
        input: input.prompt,
        protocol: factory(opencodeStream, input.cwd)
      }
    }
    case "droid": {
      let model = builder.model
      if (e !== undefined) {
        const name = builder.model ?? e.model ?? "endpoint-model"
        mkdirSync(dirs.factory, { recursive: true })
        writeFileSync(
          join(dirs.factory, "settings.json"),
          JSON.stringify(
            {
              customModels: [
                {
                  model: name,
                  displayName: "spec-orch endpoint",
                  baseUrl: v1(e),
                  apiKey: e.apiKey ?? "spec-orch-local",
                  provider: "generic-chat-completion-api",
                  maxOutputTokens: 8192
                }
              ]
            },
            null,
            2
          )
        )
        model = `custom:${name}`
      }
      return {
        args: [
          "exec",
          "-o",
          "stream-json",
          ...(policy.droid.autonomy !== undefined ? ["--auto", policy.droid.autonomy] : []),
          ...(model !== undefined ? ["-m", model] : [])
        ],
        env: {},
        input: input.prompt,
        protocol: factory(droidStream, input.cwd)
      }
    }
    case "acp": {
      const agent = (input.agent ?? "claude-code").trim()
      let env: Record<string, string> = {}
      if (["claude-code", "claude", "claude_code", "claude-code-acp"].includes(agent)) env = claudeEnv(input)
      else if (["codex", "codex-acp"].includes(agent)) env = writeCodexConfig(input, "on-request")
      else if (agent === "opencode") env = { OPENCODE_CONFIG_CONTENT: opencodeConfig(input) }
      return {
        args: [],
        env,
        input: undefined,
        protocol: {
          parse: () => [],
          finish: (exit) => ({
            kind: "failed",
            message: `the ACP agent exited (${exit.signal ?? `code ${exit.code}`}) before the turn ended${exit.stderrTail.trim() !== "" ? `: ${exit.stderrTail.trim().split("\n").slice(-3).join("\n")}` : ""}`
          })
        },
        client: acpClient({ cwd: input.cwd, prompt: input.prompt, policy })
      }
    }
    case "command":
      return { args: [], env: {}, input: input.prompt, protocol: factory(commandStream, input.cwd) }
  }
}

const ANTHROPIC_KEYS = [
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_AUTH_TOKEN",
  "CLAUDE_CODE_OAUTH_TOKEN",
  "CLAUDE_CODE_USE_BEDROCK",
  "CLAUDE_CODE_USE_VERTEX"
]
const OPENAI_KEYS = ["CODEX_API_KEY", "OPENAI_API_KEY"]
const OPENCODE_KEYS = [
  ...ANTHROPIC_KEYS.slice(0, 2),
  "OPENAI_API_KEY",
  "OPENROUTER_API_KEY",
  "OPENCODE_API_KEY",
  "GEMINI_API_KEY",
  "GOOGLE_GENERATIVE_AI_API_KEY"
]

/**
 * The variables that let an adapter reach its default model provider (agents run with a private
 * HOME, so a CLI login does not carry over). `undefined` when the adapter needs no model (command).
 */
export const credentialVariables = (
  adapter: AdapterName,
  agent: string | undefined
): ReadonlyArray<string> | undefined => {
  switch (adapter) {
    case "claude_code":
      return ANTHROPIC_KEYS
    case "codex":
      return OPENAI_KEYS
    case "opencode":
      return OPENCODE_KEYS
    case "droid":
      return ["FACTORY_API_KEY"]
    case "acp": {
      const a = (agent ?? "claude-code").trim()
      if (["codex", "codex-acp"].includes(a)) return OPENAI_KEYS
      if (a === "opencode") return OPENCODE_KEYS
      if (a === "gemini") return ["GEMINI_API_KEY", "GOOGLE_API_KEY"]
      if (["claude-code", "claude", "claude_code", "claude-code-acp"].includes(a)) return ANTHROPIC_KEYS
      return []
    }
    case "command":
      return undefined
  }
}

const ANTHROPIC_HOSTS = ["api.anthropic.com"]
const OPENAI_HOSTS = ["api.openai.com"]
/** Variables that point a CLI at another base URL; their hosts are allowed like the provider's own. */
const BASE_URL_VARIABLES = [
  "ANTHROPIC_BASE_URL",
  "OPENAI_BASE_URL",
  "OPENAI_API_BASE",
  "OPENROUTER_BASE_URL",
  "AZURE_OPENAI_ENDPOINT",
  "GOOGLE_GEMINI_BASE_URL"
]

const hostOf = (url: string): string | undefined => {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, "")
  } catch {
    return undefined
  }
}

/** Loopback host names: a model server there is reached by forwarding its port, not through the proxy. */
export const isLoopbackHost = (host: string): boolean => host === "127.0.0.1" || host === "localhost" || host === "::1"

/**
 * Where an adapter's turn may connect: its model provider's hosts, the host of any base URL the
 * environment or the endpoint points it at, and — for a model server on this machine — its port,
 * forwarded into the box. The `command` adapter reaches nothing unless `[sandbox] allow_hosts` says so.
 */
export const agentReach = (
  adapter: AdapterName,
  agent: string | undefined,
  endpoint: Endpoint | undefined,
  env: Readonly<Record<string, string | undefined>>
): { readonly hosts: ReadonlyArray<string>; readonly forwards: ReadonlyArray<number> } => {
  const hosts = new Set<string>()
  const forwards = new Set<number>()
  const a = (agent ?? "claude-code").trim()
  const provider =
    adapter === "claude_code" ||
    (adapter === "acp" && ["claude-code", "claude", "claude_code", "claude-code-acp"].includes(a))
      ? ANTHROPIC_HOSTS
      : adapter === "codex" || (adapter === "acp" && ["codex", "codex-acp"].includes(a))
        ? OPENAI_HOSTS
        : adapter === "opencode" || (adapter === "acp" && a === "opencode")
          ? [...ANTHROPIC_HOSTS, ...OPENAI_HOSTS, "openrouter.ai", "generativelanguage.googleapis.com"]
          : adapter === "droid"
            ? ["api.factory.ai", "app.factory.ai"]
            : adapter === "acp" && a === "gemini"
              ? ["generativelanguage.googleapis.com"]
              : []
  // A local endpoint replaces the provider: nothing else is reachable then.
  const urls = [
    ...(endpoint !== undefined ? [endpoint.baseUrl] : []),
    ...(endpoint === undefined
      ? BASE_URL_VARIABLES.map((v) => env[v]).filter((u): u is string => u !== undefined && u !== "")
      : [])
  ]
  if (endpoint === undefined && adapter !== "command") for (const h of provider) hosts.add(h)
  for (const url of urls) {
    const host = hostOf(url)
    if (host === undefined) continue
    if (isLoopbackHost(host)) {
      const u = new URL(url)
      forwards.add(Number(u.port !== "" ? u.port : u.protocol === "https:" ? 443 : 80))
    } else hosts.add(host)
  }
  return { hosts: [...hosts], forwards: [...forwards] }
}
