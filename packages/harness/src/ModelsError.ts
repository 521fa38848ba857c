/**
 * Why a role has no model to call. These are configuration problems found before any request is
 * made; failures of a call itself are `effect/ai` `AiError`s. Messages name config keys and env
 * variable names, never a key's value.
 */
import { Schema } from "effect"

const hint = (suggestion: string | undefined, known: ReadonlyArray<string>, what: string) =>
  suggestion !== undefined
    ? ` (did you mean "${suggestion}"?)`
    : known.length > 0
      ? ` (defined ${what}: ${known.join(", ")})`
      : ""

/** A reference to a `[models.<id>]` that does not exist. */
export class ModelUnknown extends Schema.TaggedError<ModelUnknown>()("ModelUnknown", {
  ref: Schema.String,
  where: Schema.String,
  known: Schema.Array(Schema.String),
  suggestion: Schema.UndefinedOr(Schema.String)
}) {
  override get message() {
    return `${this.where} names model "${this.ref}", but spec-orch.toml has no [models.${this.ref}]${hint(this.suggestion, this.known, "models")}`
  }
}

/** A reference to a `[model_chains.<id>]` that does not exist. */
export class ChainUnknown extends Schema.TaggedError<ChainUnknown>()("ChainUnknown", {
  ref: Schema.String,
  where: Schema.String,
  known: Schema.Array(Schema.String),
  suggestion: Schema.UndefinedOr(Schema.String)
}) {
  override get message() {
    return `${this.where} names model chain "${this.ref}", but spec-orch.toml has no [model_chains.${this.ref}]${hint(this.suggestion, this.known, "chains")}`
  }
}

/** An `api_type` spec-orch cannot speak. */
export class ApiTypeUnknown extends Schema.TaggedError<ApiTypeUnknown>()("ApiTypeUnknown", {
  value: Schema.String,
  where: Schema.String,
  suggestion: Schema.UndefinedOr(Schema.String)
}) {
  override get message() {
    return `${this.where} = "${this.value}" is not a known API type${this.suggestion !== undefined ? ` (did you mean "${this.suggestion}"?)` : ""}; use "anthropic", "openai" (Chat Completions) or "openai_responses"`
  }
}

/** Nothing in the config or environment names a model for the role. */
export class RoleNotConfigured extends Schema.TaggedError<RoleNotConfigured>()("RoleNotConfigured", {
  role: Schema.String
}) {
  override get message() {
    return `no model is configured for [${this.role}]: set [${this.role}] model_chain, model_ref or model, or [llm] default_model_chain in spec-orch.toml`
  }
}

/** Every model of the role's chain lacks a key or base URL in the environment. */
export class RoleUnusable extends Schema.TaggedError<RoleUnusable>()("RoleUnusable", {
  role: Schema.String,
  chain: Schema.String,
  models: Schema.Array(Schema.Struct({ id: Schema.String, missing: Schema.Array(Schema.String) }))
}) {
  override get message() {
    const each = this.models.map((m) => `${m.id} needs ${describeMissing(m.missing)}`).join("; ")
    return `no usable model for [${this.role}] (${this.chain}): ${each}`
  }
}

/** `$FOO and $BAR (unset or empty)` for a profile's missing requirements. */
export const describeMissing = (missing: ReadonlyArray<string>): string => `${missing.join(" and ")} (unset or empty)`

/** A role's models could not be resolved; `reason` says why. */
export class ModelsError extends Schema.TaggedError<ModelsError>()("ModelsError", {
  reason: Schema.Union([ModelUnknown, ChainUnknown, ApiTypeUnknown, RoleNotConfigured, RoleUnusable])
}) {
  override get message() {
    return this.reason.message
  }
}
