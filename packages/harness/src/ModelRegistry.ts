/**
 * The model registry: turns `spec-orch.toml` (`[models.*]`, `[model_chains.*]`, `[llm]` and the role
 * sections) plus the environment into resolved model profiles and role chains, with the original
 * spec-orch's resolution order and env fallbacks. Pure: the environment arrives as a lookup, and a
 * key is only ever held as `Redacted` — messages name the variable, never its value.
 */
import type { SpecOrchConfig } from "@spec-orch/contract"
import { didYouMean } from "@spec-orch/contract"
import { Redacted } from "effect"
import {
  ApiTypeUnknown,
  ChainUnknown,
  ModelsError,
  ModelUnknown,
  RoleNotConfigured,
  RoleUnusable
} from "./ModelsError.js"

/** The wire protocols spec-orch speaks. */
export type ApiType = "anthropic" | "openai_chat" | "openai_responses"

/** The LLM roles of `spec-orch.toml`, in the order the original documents them. */
export const LLM_ROLES = ["planner", "reviewer", "supervisor", "acceptance_evaluator"] as const
/** One LLM role section. */
export type LlmRole = (typeof LLM_ROLES)[number]

/** Where a role's chain came from, in the original's resolution order. */
export type RoleSource =
  | "model_chain"
  | "model_ref"
  | "inline"
  | "llm.default_model_chain"
  | "llm.default_model_ref"
  | "env"

/** Where a profile's API key comes from; `value` is never printed. */
export type KeySource =
  | { readonly kind: "env"; readonly name: string; readonly value: Redacted.Redacted<string>; readonly bearer: boolean }
  | { readonly kind: "command"; readonly command: string; readonly where: string }

/** One model, resolved against the environment: everything a provider needs for a call. */
export interface ModelProfile {
  /** `[models.<id>]` id, or `[planner]` / `[planner] fallbacks[0]` for inline profiles, or `env`. */
  readonly id: string
  readonly apiType: ApiType
  /** The model name sent on the wire (a LiteLLM-style `anthropic/` or `openai/` prefix removed). */
  readonly model: string
  readonly baseUrl: string
  /** Where the base URL came from: an env var name, `api_base`, or `default`. */
  readonly baseSource: string
  /** The key, or `undefined` when the profile is unusable (see `missing`). */
  readonly key: KeySource | undefined
  /** What the environment lacks for this profile (`$NAME`, or `one of $A, $B`); empty when usable. */
  readonly missing: ReadonlyArray<string>
  readonly timeoutMs: number
  /** Time for the provider to start answering (status and headers); absent = `DEFAULT_FIRST_BYTE_MS`. */
  readonly firstByteMs?: number | undefined
  readonly maxTokens: number | undefined
  readonly temperature: number | undefined
  readonly prices: { readonly inputUsdPerMtok: number | undefined; readonly outputUsdPerMtok: number | undefined }
}

/** A role's chain: the models to try in order and where the chain was configured. */
export interface ChainPlan {
  /** How the chain is named in plans, evidence and messages: `chain:<id>`, `model:<id>`, `[planner]`, `env`. */
  readonly name: string
  readonly source: RoleSource
  /** Every member, usable or not, in order. */
  readonly members: ReadonlyArray<ModelProfile>
}

/** Reads an environment variable; `undefined` when unset or empty. */
export type EnvLookup = (name: string) => string | undefined

/** Default request timeout when `[models.<id>] timeout_seconds` is absent. */
export const DEFAULT_TIMEOUT_MS = 120_000

/** Default time to first byte when `[models.<id>] first_byte_timeout_seconds` is absent. */
export const DEFAULT_FIRST_BYTE_MS = 60_000

const KEY_FALLBACKS: Record<ApiType, ReadonlyArray<string>> = {
  anthropic: [
    "SPEC_ORCH_LLM_API_KEY",
    "MINIMAX_API_KEY",
    "MINIMAX_CN_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_API_KEY"
  ],
  openai_chat: ["SPEC_ORCH_LLM_API_KEY", "OPENAI_API_KEY"],
  openai_responses: ["SPEC_ORCH_LLM_API_KEY", "OPENAI_API_KEY"]
}
const BASE_FALLBACKS: Record<ApiType, ReadonlyArray<string>> = {
  anthropic: ["SPEC_ORCH_LLM_API_BASE", "MINIMAX_ANTHROPIC_BASE_URL", "ANTHROPIC_BASE_URL"],
  openai_chat: ["SPEC_ORCH_LLM_API_BASE", "OPENAI_API_BASE"],
  openai_responses: ["SPEC_ORCH_LLM_API_BASE", "OPENAI_API_BASE"]
}
const DEFAULT_BASE: Record<ApiType, string> = {
  anthropic: "https://api.anthropic.com",
  openai_chat: "https://api.openai.com/v1",
  openai_responses: "https://api.openai.com/v1"
}
/** The model name used by the env fallback (a spec-orch addition: the original reads it nowhere else). */
export const ENV_MODEL_VAR = "SPEC_ORCH_LLM_MODEL"
/** The api type used by the env fallback (default `anthropic`). */
export const ENV_API_TYPE_VAR = "SPEC_ORCH_LLM_API_TYPE"

const API_TYPES: Record<string, ApiType> = {
  anthropic: "anthropic",
  openai: "openai_chat",
  openai_chat: "openai_chat",
  chat: "openai_chat",
  "openai-compatible": "openai_chat",
  openai_compatible: "openai_chat",
  openai_responses: "openai_responses",
  responses: "openai_responses"
}

/** Normalizes an `api_type` value, or fails naming where it was written. */
export const apiTypeOf = (value: string | undefined, where: string): ApiType | ModelsError => {
  const v = (value ?? "anthropic").trim().toLowerCase()
  const known = API_TYPES[v]
  if (known !== undefined) return known
  return new ModelsError({
    reason: new ApiTypeUnknown({ value: value ?? "", where, suggestion: didYouMean(v, Object.keys(API_TYPES)) })
  })
}

/** Every environment variable the registry may read for `config` (so a caller can snapshot exactly those). */
export const envNamesOf = (config: SpecOrchConfig): ReadonlyArray<string> => {
  const names = new Set<string>([
    ENV_MODEL_VAR,
    ENV_API_TYPE_VAR,
    ...Object.values(KEY_FALLBACKS).flat(),
    ...Object.values(BASE_FALLBACKS).flat()
  ])
  const add = (s: { api_key_env?: string | undefined; api_base_env?: string | undefined }) => {
    if (s.api_key_env) names.add(s.api_key_env)
    if (s.api_base_env) names.add(s.api_base_env)
  }
  Object.values(config.models).forEach(add)
  for (const role of LLM_ROLES) {
    add(config[role])
    for (const f of config[role].fallbacks ?? []) if (typeof f === "object" && "model" in f) add(f)
  }
  return [...names]
}

/** The model name for the wire: a LiteLLM-style `anthropic/` or `openai/` prefix is dropped. */
const wireModel = (model: string): string => model.replace(/^(anthropic|openai)\//, "")

interface RawProfile {
  readonly id: string
  readonly where: string
  readonly model: string
  readonly api_type?: string | undefined
  readonly api_key_env?: string | undefined
  readonly api_base_env?: string | undefined
  readonly api_base?: string | undefined
  readonly token_command?: string | undefined
  readonly timeout_seconds?: number | undefined
  readonly first_byte_timeout_seconds?: number | undefined
  readonly max_tokens?: number | undefined
  readonly temperature?: number | undefined
  readonly input_usd_per_mtok?: number | undefined
  readonly output_usd_per_mtok?: number | undefined
}

/** Resolves one profile's key, base and limits against the environment. Never fails for missing env: it records `missing`. */
const resolveProfile = (raw: RawProfile, env: EnvLookup): ModelProfile | ModelsError => {
  const apiType = apiTypeOf(raw.api_type, `${raw.where} api_type`)
  if (apiType instanceof ModelsError) return apiType
  const missing: Array<string> = []

  let key: KeySource | undefined
  if (raw.token_command !== undefined && raw.token_command.trim() !== "") {
    key = { kind: "command", command: raw.token_command, where: raw.where }
  } else if (raw.api_key_env !== undefined && raw.api_key_env !== "") {
    const value = env(raw.api_key_env)
    if (value === undefined) missing.push(`$${raw.api_key_env}`)
    else
      key = {
        kind: "env",
        name: raw.api_key_env,
        value: Redacted.make(value),
        bearer: isBearer(apiType, raw.api_key_env)
      }
  } else {
    const name = KEY_FALLBACKS[apiType].find((n) => env(n) !== undefined)
    if (name === undefined) missing.push(`one of ${KEY_FALLBACKS[apiType].map((n) => `$${n}`).join(", ")}`)
    else key = { kind: "env", name, value: Redacted.make(env(name)!), bearer: isBearer(apiType, name) }
  }

  let baseUrl: string | undefined
  let baseSource = "default"
  if (raw.api_base_env !== undefined && raw.api_base_env !== "") {
    const value = env(raw.api_base_env)
    if (value !== undefined) [baseUrl, baseSource] = [value, raw.api_base_env]
    else if (raw.api_base !== undefined) [baseUrl, baseSource] = [raw.api_base, "api_base"]
    else missing.push(`$${raw.api_base_env}`)
  } else if (raw.api_base !== undefined) {
    ;[baseUrl, baseSource] = [raw.api_base, "api_base"]
  } else {
    const name = BASE_FALLBACKS[apiType].find((n) => env(n) !== undefined)
    if (name !== undefined) [baseUrl, baseSource] = [env(name)!, name]
  }

  return {
    id: raw.id,
    apiType,
    model: wireModel(raw.model),
    baseUrl: (baseUrl ?? DEFAULT_BASE[apiType]).replace(/\/+$/, ""),
    baseSource,
    key: missing.length === 0 ? key : undefined,
    missing,
    timeoutMs: raw.timeout_seconds !== undefined ? Math.round(raw.timeout_seconds * 1000) : DEFAULT_TIMEOUT_MS,
    firstByteMs:
      raw.first_byte_timeout_seconds !== undefined
        ? Math.round(raw.first_byte_timeout_seconds * 1000)
        : DEFAULT_FIRST_BYTE_MS,
    maxTokens: raw.max_tokens,
    temperature: raw.temperature,
    prices: { inputUsdPerMtok: raw.input_usd_per_mtok, outputUsdPerMtok: raw.output_usd_per_mtok }
  }
}

/** Anthropic auth tokens (`ANTHROPIC_AUTH_TOKEN`, …) go in `Authorization: Bearer`; API keys in `x-api-key`. */
const isBearer = (apiType: ApiType, envName: string) => apiType !== "anthropic" || /AUTH_TOKEN/i.test(envName)

/** `[models.<id>]` resolved, or an error naming `where` referred to an unknown id. */
export const resolveModelRef = (
  config: SpecOrchConfig,
  id: string,
  env: EnvLookup,
  where: string
): ModelProfile | ModelsError => {
  const m = config.models[id]
  if (m === undefined) {
    const known = Object.keys(config.models)
    return new ModelsError({ reason: new ModelUnknown({ ref: id, where, known, suggestion: didYouMean(id, known) }) })
  }
  return resolveProfile({ ...m, id, where: `[models.${id}]` }, env)
}

/** `[model_chains.<id>]` resolved: primary then fallbacks. */
export const resolveChain = (
  config: SpecOrchConfig,
  id: string,
  env: EnvLookup,
  where: string
): ReadonlyArray<ModelProfile> | ModelsError => {
  const chain = config.model_chains[id]
  if (chain === undefined) {
    const known = Object.keys(config.model_chains)
    return new ModelsError({ reason: new ChainUnknown({ ref: id, where, known, suggestion: didYouMean(id, known) }) })
  }
  const refs = [chain.primary, ...chain.fallbacks.map((f) => (typeof f === "string" ? f : f.ref))]
  const out: Array<ModelProfile> = []
  for (const [i, ref] of refs.entries()) {
    const p = resolveModelRef(
      config,
      ref,
      env,
      i === 0 ? `[model_chains.${id}] primary` : `[model_chains.${id}] fallbacks`
    )
    if (p instanceof ModelsError) return p
    out.push(p)
  }
  return out
}

type RoleSection = SpecOrchConfig[LlmRole]

/** A role section's `fallbacks`: model ids (`"x"` or `{ ref = "x" }`) or inline tables inheriting nothing. */
const roleFallbacks = (
  config: SpecOrchConfig,
  role: LlmRole,
  section: RoleSection,
  env: EnvLookup
): ReadonlyArray<ModelProfile> | ModelsError => {
  const out: Array<ModelProfile> = []
  for (const [i, f] of (section.fallbacks ?? []).entries()) {
    const where = `[${role}] fallbacks[${i}]`
    const p =
      typeof f === "string"
        ? resolveModelRef(config, f, env, where)
        : "ref" in f
          ? resolveModelRef(config, f.ref, env, where)
          : resolveProfile(
              { ...f, id: where, where, temperature: section.temperature, max_tokens: section.max_tokens },
              env
            )
    if (p instanceof ModelsError) return p
    out.push(p)
  }
  return out
}

/**
 * Output tokens a role asks for when neither the model nor the role section sets `max_tokens`, where
 * the API needs a number (Anthropic Messages; the provider's own default is 4096). A plan for a
 * mission with many packets and their builder prompts does not fit in 4096; 8192 is what every
 * current Claude model accepts.
 */
export const ROLE_DEFAULT_MAX_TOKENS: Partial<Record<LlmRole, number>> = { planner: 8192 }

/** The role's temperature and max_tokens apply to every model of its chain unless the model sets its own. */
const withRoleDefaults = (
  role: LlmRole,
  section: RoleSection,
  profiles: ReadonlyArray<ModelProfile>
): ReadonlyArray<ModelProfile> =>
  profiles.map((p) => ({
    ...p,
    temperature: p.temperature ?? section.temperature,
    maxTokens:
      p.maxTokens ?? section.max_tokens ?? (p.apiType === "anthropic" ? ROLE_DEFAULT_MAX_TOKENS[role] : undefined)
  }))

/**
 * The chain for `role`, in the original's order: section `model_chain` → section `model_ref` →
 * inline section keys (`model`, `api_*`, `token_command`, `fallbacks`) → `[llm] default_model_chain`
 * → `[llm] default_model_ref` → environment (`SPEC_ORCH_LLM_MODEL` with the env key/base fallbacks).
 * Fails with `RoleNotConfigured` when nothing applies; members may still be unusable (see `usable`).
 */
export const resolveRole = (config: SpecOrchConfig, role: LlmRole, env: EnvLookup): ChainPlan | ModelsError => {
  const section = config[role]
  const plan = (
    name: string,
    source: RoleSource,
    members: ReadonlyArray<ModelProfile> | ModelsError
  ): ChainPlan | ModelsError =>
    members instanceof ModelsError ? members : { name, source, members: withRoleDefaults(role, section, members) }
  const withFallbacks = (first: ModelProfile | ModelsError): ReadonlyArray<ModelProfile> | ModelsError => {
    if (first instanceof ModelsError) return first
    const rest = roleFallbacks(config, role, section, env)
    return rest instanceof ModelsError ? rest : [first, ...rest]
  }

  if (section.model_chain !== undefined) {
    return plan(
      `chain:${section.model_chain}`,
      "model_chain",
      resolveChain(config, section.model_chain, env, `[${role}] model_chain`)
    )
  }
  if (section.model_ref !== undefined) {
    return plan(
      `model:${section.model_ref}`,
      "model_ref",
      withFallbacks(resolveModelRef(config, section.model_ref, env, `[${role}] model_ref`))
    )
  }
  if (section.model !== undefined) {
    const inline = resolveProfile({ ...section, model: section.model, id: `[${role}]`, where: `[${role}]` }, env)
    return plan(`[${role}]`, "inline", withFallbacks(inline))
  }
  if (config.llm.default_model_chain !== undefined) {
    const id = config.llm.default_model_chain
    return plan(`chain:${id}`, "llm.default_model_chain", resolveChain(config, id, env, "[llm] default_model_chain"))
  }
  if (config.llm.default_model_ref !== undefined) {
    const id = config.llm.default_model_ref
    return plan(
      `model:${id}`,
      "llm.default_model_ref",
      withFallbacks(resolveModelRef(config, id, env, "[llm] default_model_ref"))
    )
  }
  const envModel = env(ENV_MODEL_VAR)
  if (envModel !== undefined) {
    const profile = resolveProfile(
      { id: "env", where: `$${ENV_MODEL_VAR}`, model: envModel, api_type: env(ENV_API_TYPE_VAR) },
      env
    )
    return plan("env", "env", profile instanceof ModelsError ? profile : [profile])
  }
  return new ModelsError({ reason: new RoleNotConfigured({ role }) })
}

/** The usable members of a chain, or `RoleUnusable` naming every missing env var when none is usable. */
export const usableMembers = (role: LlmRole, plan: ChainPlan): ReadonlyArray<ModelProfile> | ModelsError => {
  const ok = plan.members.filter((m) => m.key !== undefined)
  if (ok.length > 0) return ok
  return new ModelsError({
    reason: new RoleUnusable({
      role,
      chain: plan.name,
      models: plan.members.map((m) => ({ id: m.id, missing: [...m.missing] }))
    })
  })
}

/**
 * Every distinct model the config names: each `[models.<id>]`, then the inline role profiles and
 * the env fallback profile when a role uses them. This is what `models check` probes.
 */
export const configuredProfiles = (
  config: SpecOrchConfig,
  env: EnvLookup
): ReadonlyArray<ModelProfile | ModelsError> => {
  const out: Array<ModelProfile | ModelsError> = Object.keys(config.models).map((id) =>
    resolveModelRef(config, id, env, `[models.${id}]`)
  )
  const seen = new Set(Object.keys(config.models))
  for (const role of LLM_ROLES) {
    const plan = resolveRole(config, role, env)
    if (plan instanceof ModelsError) {
      if (plan.reason._tag !== "RoleNotConfigured") out.push(plan)
      continue
    }
    for (const m of plan.members) {
      if (seen.has(m.id)) continue
      seen.add(m.id)
      out.push(m)
    }
  }
  return out
}

/** A one-line description of a profile for messages: `id (api model)`. */
export const describeProfile = (p: ModelProfile): string => `${p.id} (${p.apiType} ${p.model})`
