/**
 * The environments of the processes spec-orch starts from untrusted input. An agent gets a small
 * allow-list of the host's variables (locale, PATH, proxies, its model provider's keys), a private HOME
 * and config directories under the run directory, and the switches that keep each CLI from phoning
 * home. A verification step gets the same allow-list without any model key or proxy, plus the
 * toolchain locations its commands need. Neither ever sees tracker, SCM, registry or cloud credentials,
 * nor a `[builder] secret_env` name, whatever the configuration adds.
 */
import { join } from "node:path"

const ALLOW_EXACT = new Set([
  "PATH",
  "LANG",
  "LANGUAGE",
  "TERM",
  "TZ",
  "TMPDIR",
  "USER",
  "LOGNAME",
  "SHELL",
  "COLORTERM",
  "NO_COLOR",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "ALL_PROXY",
  "all_proxy",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "REQUESTS_CA_BUNDLE",
  "npm_config_registry",
  "CLAUDE_CODE_OAUTH_TOKEN",
  "CLAUDE_CODE_USE_BEDROCK",
  "CLAUDE_CODE_USE_VERTEX",
  "API_TIMEOUT_MS"
])
/** The prefixes of the model providers' keys and endpoints, which the agents need to reach their model. */
const PROVIDERS =
  "ANTHROPIC_|OPENAI_|CODEX_|OPENROUTER_|FACTORY_|GEMINI_|GOOGLE_GENERATIVE_AI_|AZURE_OPENAI_|DEEPSEEK_|MISTRAL_|GROQ_|XAI_|OPENCODE_"
/** The host's variables an agent gets by prefix: the locale's and the model providers'. */
const ALLOW_PREFIX = new RegExp(`^(LC_|${PROVIDERS})`)
/** The variables that reach or configure a model (the providers' and Claude Code's): left out of a turn that calls none. */
const MODEL = new RegExp(`^(${PROVIDERS}|CLAUDE_CODE_)`)

/** Tracker, SCM and registry credentials: never passed to an agent, whatever the config says. */
const DENY =
  /^(LINEAR_|SPEC_ORCH_|GITHUB_|GH_|GITLAB_|GL_|BITBUCKET_|JIRA_|ATLASSIAN_|GITEA_|CI_JOB_TOKEN$|NPM_TOKEN$|NODE_AUTH_TOKEN$|SSH_AUTH_SOCK$|GIT_ASKPASS$|SSH_ASKPASS$|GIT_CREDENTIAL|AWS_|AZURE_(CLIENT|TENANT|SUBSCRIPTION|STORAGE|FEDERATED)|GOOGLE_APPLICATION_CREDENTIALS$|CLOUDSDK_|GCP_|DIGITALOCEAN_|HEROKU_|VERCEL_|NETLIFY_|CLOUDFLARE_|DOCKER_(AUTH|PASSWORD|TOKEN)|TWINE_|PYPI_|CARGO_REGISTRY_TOKEN$|SLACK_|SENTRY_AUTH_TOKEN$)/

/** Toolchain locations a verification step's commands may need (interpreters found through shims, SDK roots). */
const TOOLCHAIN =
  /^(PYENV_ROOT|PYENV_VERSION|NVM_DIR|NVM_BIN|VOLTA_HOME|FNM_DIR|ASDF_DIR|ASDF_DATA_DIR|MISE_DATA_DIR|JAVA_HOME|GOROOT|GOPATH|GOFLAGS|CARGO_HOME|RUSTUP_HOME|RUSTUP_TOOLCHAIN|DOTNET_ROOT|ANDROID_HOME|ANDROID_SDK_ROOT|CI|FORCE_COLOR)$/
/** Host variables a verification step gets (no proxies: its network is off unless allowed; no model keys). */
const VERIFY_EXACT = new Set([
  "PATH",
  "HOME",
  "LANG",
  "LANGUAGE",
  "TERM",
  "TZ",
  "USER",
  "LOGNAME",
  "SHELL",
  "COLORTERM",
  "NO_COLOR"
])

/**
 * Builds a verification step's environment: the host's locale, PATH, HOME and toolchain locations,
 * caches pointed at `cacheDir` (HOME is read-only in the sandbox), then `extra` (`[verification.env]`).
 * The deny-list applies to every layer.
 */
export const verificationEnvironment = (options: {
  readonly host: Readonly<Record<string, string | undefined>>
  readonly extra: Readonly<Record<string, string>>
  readonly secretEnv: ReadonlyArray<string>
  readonly cacheDir: string
}): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(options.host)) {
    if (v === undefined || isDenied(k, options.secretEnv)) continue
    if (VERIFY_EXACT.has(k) || k.startsWith("LC_") || TOOLCHAIN.test(k)) env[k] = v
  }
  if (env.PATH === undefined) env.PATH = "/usr/local/bin:/usr/bin:/bin"
  Object.assign(env, {
    XDG_CACHE_HOME: options.cacheDir,
    npm_config_cache: `${options.cacheDir}/npm`,
    npm_config_update_notifier: "false",
    PIP_CACHE_DIR: `${options.cacheDir}/pip`,
    PYTHONDONTWRITEBYTECODE: "1"
  })
  for (const [k, v] of Object.entries(options.extra)) if (!isDenied(k, options.secretEnv)) env[k] = v
  return env
}

/** True when a variable of this name must never reach an agent. */
export const isDenied = (name: string, secretEnv: ReadonlyArray<string>): boolean =>
  DENY.test(name) || secretEnv.includes(name)

/** The per-run private directories (created by the caller). */
export const homeDirs = (runDir: string) => {
  const home = join(runDir, "home")
  return {
    home,
    config: join(home, ".config"),
    data: join(home, ".local", "share"),
    state: join(home, ".local", "state"),
    cache: join(home, ".cache"),
    codex: join(home, ".codex"),
    claude: join(home, ".claude"),
    factory: join(home, ".factory")
  }
}

/** Variables that keep the CLIs quiet: no telemetry, update checks, error reports or share links. */
const QUIET: Record<string, string> = {
  DISABLE_TELEMETRY: "1",
  DISABLE_AUTOUPDATER: "1",
  DISABLE_ERROR_REPORTING: "1",
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  OPENCODE_DISABLE_AUTOUPDATE: "1",
  OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
  OPENCODE_DISABLE_SHARE: "1",
  OPENCODE_DISABLE_DEFAULT_PLUGINS: "1",
  NO_UPDATE_NOTIFIER: "1"
}

/** Extra switches when the agent talks to a local endpoint only (no catalogue or registry lookups). */
const OFFLINE: Record<string, string> = {
  FACTORY_AIRGAP_ENABLED: "1",
  OPENCODE_DISABLE_MODELS_FETCH: "1",
  // opencode looks up plugin packages on the npm registry; a dead local port stops that harmlessly.
  npm_config_registry: "http://127.0.0.1:9/"
}

/**
 * Builds the agent's environment. `extra` (per-run variables, e.g. a test endpoint) is merged last,
 * but the deny-list applies to every layer. `model: false` (a turn that calls no model: a distilled
 * policy's script) also leaves out every model provider's variable, from every layer.
 */
export const agentEnvironment = (options: {
  readonly host: Readonly<Record<string, string | undefined>>
  readonly runDir: string
  readonly builderEnv: Readonly<Record<string, string>>
  readonly secretEnv: ReadonlyArray<string>
  readonly offline: boolean
  readonly extra?: Readonly<Record<string, string>> | undefined
  readonly model?: boolean | undefined
}): Record<string, string> => {
  const dirs = homeDirs(options.runDir)
  const refused = (name: string) => isDenied(name, options.secretEnv) || (options.model === false && MODEL.test(name))
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(options.host)) {
    if (v === undefined || refused(k)) continue
    if (ALLOW_EXACT.has(k) || ALLOW_PREFIX.test(k)) env[k] = v
  }
  if (env.PATH === undefined) env.PATH = "/usr/local/bin:/usr/bin:/bin"
  Object.assign(env, QUIET)
  // Factory's hosted models need its API; stay airgapped only when it is not in use.
  if (options.host.FACTORY_API_KEY === undefined) env.FACTORY_AIRGAP_ENABLED = "1"
  if (options.offline) Object.assign(env, OFFLINE)
  Object.assign(env, {
    HOME: dirs.home,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    XDG_STATE_HOME: dirs.state,
    XDG_CACHE_HOME: dirs.cache,
    CODEX_HOME: dirs.codex,
    CLAUDE_CONFIG_DIR: dirs.claude
  })
  for (const layer of [options.builderEnv, options.extra ?? {}]) {
    for (const [k, v] of Object.entries(layer)) if (!refused(k)) env[k] = v
  }
  return env
}
