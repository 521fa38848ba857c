/**
 * The models of a project: each LLM role's chain resolved from `spec-orch.toml` and the environment
 * (read once, when the layer is built; keys held as `Redacted`), handed out as `effect/ai`
 * `LanguageModel`s, and a probe of every configured model. Building the layer sends nothing: a
 * request is made only when a role's model is called or `check` runs.
 */
import { Project, type SpecOrchConfig } from "@spec-orch/contract"
import { Clock, Config, Context, Duration, Effect, Layer, Option, Schema, Stream } from "effect"
import { AiError, LanguageModel } from "effect/ai"
import type { HttpClient } from "effect/http"
import { ModelChain, type RetryPolicy } from "./ModelChain.js"
import {
  type ApiType,
  type ChainPlan,
  configuredProfiles,
  type EnvLookup,
  envNamesOf,
  LLM_ROLES,
  type LlmRole,
  type ModelProfile,
  resolveRole,
  usableMembers
} from "./ModelRegistry.js"
import { describeMissing, ModelsError } from "./ModelsError.js"
import type { ModelCall } from "./ModelUsage.js"
import { scrub } from "./providers/http.js"

/** A role's models: the chain it resolved to (if any), its usable members, and why it has none. */
export interface RoleModels {
  readonly role: LlmRole
  /** The resolved chain; members may be unusable (missing env). */
  readonly plan: ChainPlan | undefined
  /** The members that have a key and base, in order. */
  readonly usable: ReadonlyArray<ModelProfile>
  /** Why the role cannot call a model: not configured, an unknown id, or every member unusable. */
  readonly problem: ModelsError | undefined
}

/** The outcome of probing one configured model. */
export interface ModelCheck {
  /** `[models.<id>]` id, inline id (`[planner]`), `env`, or the config key of a broken reference. */
  readonly id: string
  readonly api: ApiType | undefined
  readonly model: string | undefined
  readonly ok: boolean
  readonly latencyMs: number | undefined
  /** Why it failed: the missing env var, the HTTP error, the timeout, … (never a key). */
  readonly reason: string | undefined
  /** The roles whose chain includes this model. */
  readonly usedBy: ReadonlyArray<LlmRole>
  readonly inputTokens: number
  readonly outputTokens: number
  /** USD of the probe from the model's prices; `null` = unknown (the model has no prices); 0 when nothing was sent. */
  readonly costUsd: number | null
}

/** Tunables for tests and the CLI. */
export interface ModelsOptions {
  readonly retry?: Partial<RetryPolicy> | undefined
  /** Upper bound for each probe of `check` (default 60 s; a model's own timeout applies when shorter). */
  readonly checkTimeoutMs?: number | undefined
  /** The bound on one call of a role's chain, retries, fallbacks and repair included (default `[llm] role_timeout_seconds`, else 300 s). */
  readonly roleTimeoutMs?: number | undefined
  /** How many models `check` probes at once (default 4). */
  readonly checkConcurrency?: number | undefined
}

/** The structured answer a probe asks for. */
const Probe = Schema.Struct({ ok: Schema.Boolean }).annotate({ identifier: "spec_orch_check" })

const PROBE_PROMPT = [
  { role: "system" as const, content: "You are answering a spec-orch connectivity check." },
  { role: "user" as const, content: 'Reply with the JSON object {"ok": true} and nothing else.' }
]

/** Reads the environment variables `config` may use through the current `ConfigProvider` (process env by default). */
export const snapshotEnv = (config: SpecOrchConfig) =>
  Effect.gen(function* () {
    const values: Record<string, string> = {}
    for (const name of envNamesOf(config)) {
      const value = yield* Config.option(Config.String(name)).pipe(Effect.orElseSucceed(() => Option.none<string>()))
      if (Option.isSome(value) && value.value.trim() !== "") values[name] = value.value.trim()
    }
    const lookup: EnvLookup = (name) => values[name]
    return lookup
  })

const resolveRoles = (config: SpecOrchConfig, env: EnvLookup): ReadonlyArray<RoleModels> =>
  LLM_ROLES.map((role) => {
    const plan = resolveRole(config, role, env)
    if (plan instanceof ModelsError) return { role, plan: undefined, usable: [], problem: plan }
    const members = usableMembers(role, plan)
    return members instanceof ModelsError
      ? { role, plan, usable: [], problem: members }
      : { role, plan, usable: members, problem: undefined }
  })

/** Every LLM role's models, and a probe of each configured model. */
export class Models extends Context.Service<
  Models,
  {
    /** Each LLM role's resolution, in the order planner, reviewer, supervisor, acceptance_evaluator. */
    readonly roles: ReadonlyArray<RoleModels>
    /** One role's resolution. */
    readonly role: (role: LlmRole) => RoleModels
    /**
     * The role's chain as a `LanguageModel` (retries, fallback, repair, usage). Fails with
     * `ModelsError` when the role has no model or none of its models has a key; sends nothing.
     */
    readonly forRole: (role: LlmRole) => Effect.Effect<LanguageModel.LanguageModel, ModelsError>
    /** Probes every configured model with a trivial structured-output call. Never fails: each result says ok or why not. */
    readonly check: Effect.Effect<ReadonlyArray<ModelCheck>>
  }
>()("@spec-orch/harness/Models") {
  /** The models of `config`, with `cwd` for `token_command`. Reads the environment when built. */
  static readonly layerConfig = (
    config: SpecOrchConfig,
    options: ModelsOptions & { readonly cwd?: string | undefined } = {}
  ): Layer.Layer<Models, never, HttpClient.HttpClient> =>
    Layer.effect(
      Models,
      Effect.gen(function* () {
        const env = yield* snapshotEnv(config)
        // Captured so token_command can use the process spawner of the layer's context, when there is one.
        const context = yield* Effect.context<HttpClient.HttpClient>()
        const roles = resolveRoles(config, env)
        const role = (r: LlmRole) => roles.find((x) => x.role === r)!

        const roleTimeoutMs =
          options.roleTimeoutMs ??
          (config.llm.role_timeout_seconds !== undefined
            ? Math.round(config.llm.role_timeout_seconds * 1000)
            : ModelChain.DEFAULT_ROLE_TIMEOUT_MS)
        const chain = (
          name: string,
          members: ReadonlyArray<ModelProfile>,
          extra: { retry?: Partial<RetryPolicy>; onCall?: (c: ModelCall) => Effect.Effect<void>; role?: LlmRole } = {}
        ) =>
          ModelChain.make({
            name,
            members,
            retry: extra.retry ?? options.retry,
            cwd: options.cwd,
            onCall: extra.onCall,
            role: extra.role,
            deadline: Duration.millis(roleTimeoutMs)
          }).pipe(Effect.provideContext(context))

        const forRole = Effect.fn("Models.forRole")(function* (r: LlmRole) {
          const resolved = role(r)
          if (resolved.problem !== undefined) return yield* resolved.problem
          for (const skipped of resolved.plan!.members.filter((m) => m.key === undefined)) {
            yield* Effect.logDebug(
              `[${r}] skips model ${skipped.id} of ${resolved.plan!.name}: it needs ${describeMissing(skipped.missing)}`
            )
          }
          return yield* chain(resolved.plan!.name, resolved.usable, { role: r })
        })

        const probe = (profile: ModelProfile) =>
          Effect.gen(function* () {
            const usedBy = roles.filter((x) => x.plan?.members.some((m) => m.id === profile.id)).map((x) => x.role)
            const base = { id: profile.id, api: profile.apiType, model: profile.model, usedBy }
            if (profile.key === undefined) {
              return {
                ...base,
                ok: false,
                latencyMs: undefined,
                reason: `needs ${describeMissing(profile.missing)}`,
                inputTokens: 0,
                outputTokens: 0,
                costUsd: 0
              }
            }
            const tokens: { input: number; output: number; usd: number | null } = { input: 0, output: 0, usd: 0 }
            const limited = { ...profile, timeoutMs: Math.min(profile.timeoutMs, options.checkTimeoutMs ?? 60_000) }
            const model = yield* chain(`check:${profile.id}`, [limited], {
              retry: { retries: 0 },
              onCall: (c) =>
                Effect.sync(() => {
                  tokens.input += c.inputTokens
                  tokens.output += c.outputTokens
                  // Unknown, never guessed, once tokens went to a model without prices.
                  if (c.usd !== undefined) tokens.usd = tokens.usd === null ? null : tokens.usd + c.usd
                  else if (c.inputTokens + c.outputTokens > 0) tokens.usd = null
                })
            })
            const started = yield* Clock.currentTimeMillis
            const result = yield* model
              .generateObject({ prompt: PROBE_PROMPT, schema: Probe, objectName: "spec_orch_check" })
              .pipe(Effect.result)
            const latencyMs = (yield* Clock.currentTimeMillis) - started
            const key = profile.key.kind === "env" ? profile.key.value : undefined
            return {
              ...base,
              ok: result._tag === "Success",
              latencyMs,
              reason:
                result._tag === "Success"
                  ? undefined
                  : scrub(
                      AiError.isAiError(result.failure)
                        ? ModelChain.describeFailure(result.failure)
                        : String(result.failure),
                      key
                    ),
              inputTokens: tokens.input,
              outputTokens: tokens.output,
              costUsd: tokens.usd
            }
          })

        const check = Effect.gen(function* () {
          const seenProblems = new Set<string>()
          const entries = configuredProfiles(config, env).filter((p) => {
            if (!(p instanceof ModelsError)) return true
            if (seenProblems.has(p.message)) return false
            seenProblems.add(p.message)
            return true
          })
          return yield* Effect.forEach(
            entries,
            (p): Effect.Effect<ModelCheck> =>
              p instanceof ModelsError
                ? Effect.succeed({
                    id: "config",
                    api: undefined,
                    model: undefined,
                    ok: false,
                    latencyMs: undefined,
                    reason: p.message,
                    usedBy: [],
                    inputTokens: 0,
                    outputTokens: 0,
                    costUsd: 0
                  })
                : probe(p),
            { concurrency: options.checkConcurrency ?? 4 }
          )
        }).pipe(Effect.withSpan("Models.check"))

        return Models.of({ roles, role, forRole, check })
      })
    )

  /** The project's models (`Project` config; `token_command` runs in the project root). */
  static readonly layer: Layer.Layer<Models, never, Project | HttpClient.HttpClient> = Layer.unwrap(
    Effect.map(Effect.service(Project), (project) => Models.layerConfig(project.config, { cwd: project.root }))
  )

  /** The `LanguageModel` of `role`; building it fails with `ModelsError` when the role has no usable model. */
  static readonly languageModel = (role: LlmRole): Layer.Layer<LanguageModel.LanguageModel, ModelsError, Models> =>
    Layer.effect(
      LanguageModel.LanguageModel,
      Effect.flatMap(Effect.service(Models), (models) => models.forRole(role))
    )

  /**
   * The `LanguageModel` of `role`, or, when it has none, a model whose every call fails with an
   * authentication error carrying the reason (so a configured-but-unusable role explains itself
   * in the evidence of each call instead of breaking every command).
   */
  static readonly languageModelOrFailing = (role: LlmRole): Layer.Layer<LanguageModel.LanguageModel, never, Models> =>
    Layer.effect(
      LanguageModel.LanguageModel,
      Effect.flatMap(Effect.service(Models), (models) =>
        models.forRole(role).pipe(
          Effect.catch((problem) => {
            const error = AiError.make({
              module: "Models",
              method: "generateText",
              reason: new AiError.AuthenticationError({ kind: "MissingKey", description: problem.message })
            })
            return LanguageModel.make({ generateText: () => Effect.fail(error), streamText: () => Stream.fail(error) })
          })
        )
      )
    )
}
