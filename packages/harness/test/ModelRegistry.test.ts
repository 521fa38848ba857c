import { assert, describe, it } from "@effect/vitest"
import { parseConfig, type SpecOrchConfig } from "@spec-orch/contract"
import { Redacted } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import {
  type ChainPlan,
  configuredProfiles,
  type EnvLookup,
  ModelsError,
  resolveRole,
  usableMembers
} from "../src/index.js"

const fixture = (name: string): SpecOrchConfig => {
  const file = join(__dirname, "fixtures", "models", name)
  const { config, problems } = parseConfig(readFileSync(file, "utf8"), file)
  if (config === undefined) throw new Error(problems.map((p) => p.message).join("\n"))
  return config
}
const toml = (text: string): SpecOrchConfig => {
  const { config, problems } = parseConfig(text, "spec-orch.toml")
  if (config === undefined) throw new Error(problems.map((p) => p.message).join("\n"))
  return config
}
const envOf =
  (vars: Record<string, string>): EnvLookup =>
  (name) =>
    vars[name] === undefined || vars[name] === "" ? undefined : vars[name]

const FULL_ENV = envOf({
  MINIMAX_API_KEY: "sk-minimax-secret-value",
  MINIMAX_ANTHROPIC_BASE_URL: "http://127.0.0.1:1/minimax/",
  ANTHROPIC_AUTH_TOKEN: "auth-token-secret-value",
  ANTHROPIC_BASE_URL: "http://127.0.0.1:2",
  OPENAI_API_KEY: "sk-openai-secret-value",
  OPENAI_API_BASE: "http://127.0.0.1:3/v1",
  SUPERVISOR_BASE: "http://127.0.0.1:4"
})

const plan = (
  config: SpecOrchConfig,
  role: "planner" | "reviewer" | "supervisor" | "acceptance_evaluator",
  env = FULL_ENV
): ChainPlan => {
  const p = resolveRole(config, role, env)
  if (p instanceof ModelsError) throw new Error(p.message)
  return p
}

describe("resolveRole", () => {
  it("gives the planner's Anthropic models 8192 output tokens unless the model or the role sets max_tokens", () => {
    const config = (model: string, role = "") =>
      toml(
        `${role}[llm]\ndefault_model_chain = "main"\n[models.a]\nmodel = "claude"\napi_type = "anthropic"\napi_key_env = "K"\n${model}[models.o]\nmodel = "gpt"\napi_type = "openai"\napi_key_env = "K"\n[model_chains.main]\nprimary = "a"\nfallbacks = ["o"]\n`
      )
    const env = envOf({ K: "k" })
    const tokens = (c: SpecOrchConfig, role: "planner" | "reviewer") =>
      plan(c, role, env).members.map((m) => m.maxTokens)
    assert.deepStrictEqual(tokens(config(""), "planner"), [8192, undefined])
    assert.deepStrictEqual(tokens(config(""), "reviewer"), [undefined, undefined])
    assert.deepStrictEqual(tokens(config("max_tokens = 2000\n"), "planner"), [2000, undefined])
    assert.deepStrictEqual(tokens(config("", "[planner]\nmax_tokens = 30000\n"), "planner"), [30000, 30000])
  })

  it("lets a role without model keys inherit [llm] default_model_chain, in chain order", () => {
    const p = plan(fixture("original-chain.toml"), "planner")
    assert.strictEqual(p.name, "chain:default_reasoning")
    assert.strictEqual(p.source, "llm.default_model_chain")
    assert.deepStrictEqual(
      p.members.map((m) => m.id),
      ["minimax_reasoning", "doubao_seed_code", "gpt"]
    )
  })

  it("reads keys and bases from the named env vars, as Redacted, and picks the auth style from the name", () => {
    const [minimax, doubao, gpt] = plan(fixture("original-chain.toml"), "planner").members
    assert.strictEqual(minimax!.baseUrl, "http://127.0.0.1:1/minimax")
    assert.strictEqual(minimax!.baseSource, "MINIMAX_ANTHROPIC_BASE_URL")
    assert.isTrue(minimax!.key?.kind === "env" && Redacted.isRedacted(minimax!.key.value) && !minimax!.key.bearer)
    assert.isTrue(doubao!.key?.kind === "env" && doubao!.key.name === "ANTHROPIC_AUTH_TOKEN" && doubao!.key.bearer)
    assert.strictEqual(gpt!.apiType, "openai_chat")
    assert.strictEqual(gpt!.model, "gpt-5.5", "the LiteLLM-style openai/ prefix is not sent on the wire")
    assert.strictEqual(minimax!.timeoutMs, 3000)
    assert.deepStrictEqual(minimax!.prices, { inputUsdPerMtok: 3, outputUsdPerMtok: 15 })
    assert.notInclude(JSON.stringify(minimax), "sk-minimax-secret-value")
  })

  it("prefers the section's model_chain, then model_ref, then inline keys, then [llm]", () => {
    const config = fixture("original-chain.toml")
    assert.strictEqual(plan(config, "acceptance_evaluator").source, "model_chain")
    const reviewer = plan(config, "reviewer")
    assert.strictEqual(reviewer.source, "model_ref")
    assert.deepStrictEqual(
      reviewer.members.map((m) => m.id),
      ["gpt"]
    )
    assert.strictEqual(reviewer.members[0]!.temperature, 0.2, "the role's temperature applies to its models")
    const supervisor = plan(config, "supervisor")
    assert.strictEqual(supervisor.source, "inline")
    assert.deepStrictEqual(
      supervisor.members.map((m) => [m.id, m.apiType, m.key?.kind]),
      [
        ["[supervisor]", "anthropic", "command"],
        ["[supervisor] fallbacks[0]", "openai_responses", "env"]
      ]
    )
  })

  it("falls back to [llm] default_model_ref, then to $SPEC_ORCH_LLM_MODEL with the env key fallbacks", () => {
    const config = toml(`[llm]\ndefault_model_ref = "m"\n[models.m]\nmodel = "claude-x"\n`)
    assert.strictEqual(plan(config, "planner", envOf({ ANTHROPIC_API_KEY: "k" })).source, "llm.default_model_ref")

    const bare = toml("")
    const fromEnv = plan(
      bare,
      "planner",
      envOf({ SPEC_ORCH_LLM_MODEL: "claude-y", ANTHROPIC_AUTH_TOKEN: "t", SPEC_ORCH_LLM_API_KEY: "s" })
    )
    assert.strictEqual(fromEnv.source, "env")
    const key = fromEnv.members[0]!.key
    assert.isTrue(key?.kind === "env" && key.name === "SPEC_ORCH_LLM_API_KEY", "SPEC_ORCH_LLM_API_KEY comes first")
    assert.strictEqual(fromEnv.members[0]!.baseUrl, "https://api.anthropic.com")
  })

  it("uses the original's env fallbacks for a model that names no key env, by api type", () => {
    const config = toml(
      `[planner]\nmodel = "anthropic/claude-sonnet-4"\n[reviewer]\nmodel = "gpt-4o"\napi_type = "openai"\n`
    )
    const anthropic = plan(
      config,
      "planner",
      envOf({ MINIMAX_CN_API_KEY: "cn", ANTHROPIC_API_KEY: "a", MINIMAX_ANTHROPIC_BASE_URL: "http://mm" })
    ).members[0]!
    assert.isTrue(anthropic.key?.kind === "env" && anthropic.key.name === "MINIMAX_CN_API_KEY")
    assert.strictEqual(anthropic.baseUrl, "http://mm")
    assert.strictEqual(anthropic.model, "claude-sonnet-4")
    const openai = plan(config, "reviewer", envOf({ OPENAI_API_KEY: "o", ANTHROPIC_API_KEY: "a" })).members[0]!
    assert.isTrue(openai.key?.kind === "env" && openai.key.name === "OPENAI_API_KEY" && openai.key.bearer)
    assert.strictEqual(openai.baseUrl, "https://api.openai.com/v1")
  })

  it("says which section to set when nothing names a model", () => {
    const error = resolveRole(toml(""), "planner", envOf({ ANTHROPIC_API_KEY: "a" }))
    assert.instanceOf(error, ModelsError)
    assert.strictEqual((error as ModelsError).reason._tag, "RoleNotConfigured")
    assert.include((error as ModelsError).message, "[planner] model_chain, model_ref or model")
  })
})

describe("usable", () => {
  it("skips members whose env is empty and keeps the chain order", () => {
    const p = plan(
      fixture("original-chain.toml"),
      "planner",
      envOf({ ANTHROPIC_AUTH_TOKEN: "t", ANTHROPIC_BASE_URL: "http://b", MINIMAX_API_KEY: "" })
    )
    const members = usableMembers("planner", p)
    assert.notInstanceOf(members, ModelsError)
    assert.deepStrictEqual(
      (members as ReadonlyArray<{ id: string }>).map((m) => m.id),
      ["doubao_seed_code"]
    )
  })

  it("names every missing env var, and never a value, when no member is usable", () => {
    const p = plan(fixture("original-chain.toml"), "planner", envOf({ OPENAI_API_KEY: "sk-only-the-key-no-base" }))
    const error = usableMembers("planner", p)
    assert.instanceOf(error, ModelsError)
    const message = (error as ModelsError).message
    assert.strictEqual(
      message,
      "no usable model for [planner] (chain:default_reasoning): minimax_reasoning needs $MINIMAX_API_KEY and $MINIMAX_ANTHROPIC_BASE_URL (unset or empty); " +
        "doubao_seed_code needs $ANTHROPIC_AUTH_TOKEN and $ANTHROPIC_BASE_URL (unset or empty); gpt needs $OPENAI_API_BASE (unset or empty)"
    )
    assert.notInclude(message, "sk-only-the-key-no-base")
  })
})

describe("configuredProfiles", () => {
  it("lists every [models.*] entry once, then the inline role profiles", () => {
    const ids = configuredProfiles(fixture("original-chain.toml"), FULL_ENV).map((p) =>
      p instanceof ModelsError ? p.message : p.id
    )
    assert.deepStrictEqual(ids, [
      "minimax_reasoning",
      "doubao_seed_code",
      "gpt",
      "[supervisor]",
      "[supervisor] fallbacks[0]"
    ])
  })
})
