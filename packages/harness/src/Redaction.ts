/**
 * Redaction: the values of secret environment variables and well-known token shapes are replaced by
 * `[redacted:NAME]` before spec-orch writes or shows text (terminal, artifacts, event log, state
 * database, pull requests, tracker comments). The one rule: redact before the first write: a copy
 * written unredacted cannot be taken back.
 */
import { Project, type SpecOrchConfig } from "@spec-orch/contract"
import { Config, Context, Effect, Layer, Option } from "effect"
import { LLM_ROLES } from "./ModelRegistry.js"
import {
  collectSecretValues,
  makeRedactor,
  type RedactorShape,
  readEnvironment,
  type SecretValue
} from "./SecretRedaction.js"

/** The default of `[daemon] webhook_secret_env`. */
const DEFAULT_WEBHOOK_SECRET_ENV = "SPEC_ORCH_WEBHOOK_SECRET"

/**
 * The variables the config names as holding secrets: `[github] token_env`, `[linear] token_env`,
 * `[builder] secret_env`, every `api_key_env` (models, roles, fallbacks), `[daemon]
 * webhook_secret_env`, the Slack token variables, `[telemetry] headers_env` and `[notify]` webhook URLs. These are secrets whatever their names.
 */
export const configuredSecretNames = (config: SpecOrchConfig): ReadonlyArray<string> => {
  const names = new Set<string>([config.github.token_env, config.linear.token_env, ...config.builder.secret_env])
  names.add(config.daemon.webhook_secret_env ?? DEFAULT_WEBHOOK_SECRET_ENV)
  for (const model of Object.values(config.models)) if (model.api_key_env) names.add(model.api_key_env)
  for (const name of Object.values(config.telemetry?.headers_env ?? {})) names.add(name)
  for (const hook of config.notify?.webhooks ?? []) names.add(hook.url_env)
  for (const role of LLM_ROLES) {
    const section = config[role]
    if (section.api_key_env) names.add(section.api_key_env)
    for (const f of section.fallbacks ?? [])
      if (typeof f === "object" && "api_key_env" in f && f.api_key_env) names.add(f.api_key_env)
  }
  const slack = config.conversation.slack
  if (slack?.bot_token_env) names.add(slack.bot_token_env)
  if (slack?.app_token_env) names.add(slack.app_token_env)
  return [...names].filter((n) => n.trim() !== "")
}

/**
 * The secrets in an environment: the values of variables with secret-looking names, of the
 * variables the config names, and of `[builder] env` entries with secret-looking names; only values
 * of at least `MIN_SECRET_LENGTH` characters. One value known under several names is listed once.
 */
export const secretValues = (
  env: Readonly<Record<string, string | undefined>>,
  config?: SpecOrchConfig
): ReadonlyArray<SecretValue> =>
  collectSecretValues(env, new Set(config !== undefined ? configuredSecretNames(config) : []), config?.builder.env)

/** Reads the environment through `Config` and builds the redactor (with the config's secret names when given). */
const fromEnvironment = (config: SpecOrchConfig | undefined) =>
  Effect.gen(function* () {
    const env = yield* readEnvironment
    // Named variables are looked up directly too: a provider that cannot list its keys still answers them.
    for (const name of config !== undefined ? configuredSecretNames(config) : []) {
      if (env[name] !== undefined) continue
      const value = yield* Config.option(Config.String(name)).pipe(Effect.orElseSucceed(() => Option.none<string>()))
      if (Option.isSome(value)) env[name] = value.value
    }
    return makeRedactor(secretValues(env, config))
  })

/** Redacts secrets from everything spec-orch writes or shows. */
export class Redactor extends Context.Service<Redactor, RedactorShape>()("@spec-orch/harness/Redactor") {
  /** Secret values from the environment (read through `Config`) and the names the project's config points at. */
  static readonly layer: Layer.Layer<Redactor, never, Project> = Layer.effect(
    Redactor,
    Effect.gen(function* () {
      const project = yield* Project
      return Redactor.of(yield* fromEnvironment(project.config))
    })
  )

  /** Secret values from the environment only (no project loaded yet): names and shapes, no config. */
  static readonly layerEnv: Layer.Layer<Redactor> = Layer.effect(
    Redactor,
    Effect.map(fromEnvironment(undefined), Redactor.of)
  )

  /** A redactor over an explicit environment record (and config), for tests and embedders. */
  static readonly layerFrom = (
    env: Readonly<Record<string, string | undefined>>,
    config?: SpecOrchConfig
  ): Layer.Layer<Redactor> => Layer.succeed(Redactor, Redactor.of(makeRedactor(secretValues(env, config))))
}
