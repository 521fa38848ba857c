/**
 * Handlers for the gate's policy commands (`gate show-policy|list-conditions|profiles`): they need the
 * project and its gate policy, not the evidence formats, which gate.run.ts loads for `gate evaluate`.
 * Apart, a policy command does not initialise those modules.
 */
import { formatProblem } from "@spec-orch/contract"
import { GatePolicies, policyJson, resolveProfile } from "@spec-orch/evidence"
import { Console, Effect, Option, Path } from "effect"
import { emit, table } from "../Output.js"
import { withProject } from "../ProjectScope.js"
import { Root } from "../Root.js"

/** Runs `effect` with the project and its gate policies only (no state database). */
export const withPolicies = withProject(GatePolicies.layer)

/** The policy named by `--policy` (relative to --cwd), else the project's; warnings go to stderr. */
export const policyFrom = (explicit: Option.Option<string>) =>
  Effect.gen(function* () {
    const policies = yield* GatePolicies
    const path = yield* Path.Path
    const flags = yield* Root
    const policy = Option.isSome(explicit)
      ? yield* policies.load(path.resolve(flags.cwd, explicit.value))
      : yield* policies.current
    for (const w of policy.warnings) yield* Console.error(formatProblem(w))
    return policy
  })

/** `--profile`, else `[gate] profile`, else none. */
export const profileFrom = (explicit: Option.Option<string>) =>
  Effect.map(Effect.service(GatePolicies), (p) => Option.getOrElse(explicit, () => p.configuredProfile))

export const showPolicy = (input: { policy: Option.Option<string>; profile: Option.Option<string>; json: boolean }) =>
  withPolicies(
    Effect.gen(function* () {
      const policy = yield* policyFrom(input.policy)
      const plan = yield* Effect.fromResult(resolveProfile(policy, yield* profileFrom(input.profile)))
      const conditions = plan.conditions.map((c) => {
        const declared = policy.conditions.find((d) => d.name === c.name)
        return {
          name: c.name,
          status: c.disabled ? "disabled" : c.required ? "required" : "advisory",
          enforced: declared?.enforced === true,
          description: declared?.description ?? c.condition.description
        }
      })
      const enforced = conditions.filter((c) => c.enforced)
      const p = policy.protected
      yield* emit(
        input.json,
        {
          ...policyJson(policy),
          profile: plan.profile,
          effective: { conditions, autoMerge: plan.autoMerge, autoMergeConditions: plan.autoMergeConditions }
        },
        () => [
          `policy: ${policy.name}${policy.source === "built-in" ? " (no policy file: the built-in default)" : ""}`,
          `profile: ${plan.profile ?? "none"}`,
          `auto-merge: ${plan.autoMerge ? `yes, when mergeable, ${plan.autoMergeConditions.join(", ") || "(no conditions)"} passed and no blocking finding is open` : "no"}`,
          `deviations block on: ${policy.blockOn.join(", ") || "nothing"}`,
          "",
          table(
            ["CONDITION", "STATUS", "DESCRIPTION"],
            conditions.map((c) => [c.name, `${c.status}${c.enforced ? " (enforced)" : ""}`, c.description])
          ),
          ...(enforced.length > 0
            ? [
                "",
                `enforced: ${enforced.map((c) => c.name).join(", ")} — required in every profile though the policy does not name ${enforced.length === 1 ? "it" : "them"}; ` +
                  "only `required: false` in the policy file or a profile that disables it by name turns it off"
              ]
            : []),
          "",
          "protected paths (protected_paths; the issue's target files and a human's acceptance of the exact diff free them):",
          `  existing tests: ${p.tests.join(", ") || "(none)"}`,
          `  definitions:    ${p.paths.join(", ") || "(none)"}`,
          `  keys:           ${p.keys.map((k) => `${k.pattern} (${k.keys.join(", ")})`).join("; ") || "(none)"}`
        ]
      )
    })
  )

export const listConditions = (input: { policy: Option.Option<string>; json: boolean }) =>
  withPolicies(
    Effect.gen(function* () {
      const policy = yield* policyFrom(input.policy)
      const rows = policy.registry.conditions.map((c) => {
        const used = policy.conditions.find((d) => d.name === c.name)
        return {
          name: c.name,
          inPolicy:
            used === undefined
              ? "no"
              : `${used.required ? "required" : "advisory"}${used.enforced === true ? " (enforced)" : ""}`,
          description: c.description
        }
      })
      yield* emit(input.json, { policy: policy.name, conditions: rows }, () =>
        table(
          ["CONDITION", "IN POLICY", "DESCRIPTION"],
          rows.map((r) => [r.name, r.inPolicy, r.description])
        )
      )
    })
  )

export const profiles = (input: { policy: Option.Option<string>; json: boolean }) =>
  withPolicies(
    Effect.gen(function* () {
      const policy = yield* policyFrom(input.policy)
      const enforced = policy.conditions.filter((c) => c.enforced === true && c.required).map((c) => c.name)
      const rows = policy.profiles.map((p) => ({
        name: p.name,
        enable: p.enable,
        disable: p.disable,
        autoMerge: p.autoMerge ?? policy.autoMerge,
        // Enforced conditions stay required unless this profile disables them by name.
        enforced: enforced.filter((n) => !p.disable.includes(n)),
        description: p.description ?? null
      }))
      yield* emit(input.json, { policy: policy.name, enforced, profiles: rows }, () =>
        rows.length === 0
          ? `${policy.name} defines no profiles.`
          : table(
              ["PROFILE", "ENABLES", "DISABLES", "ENFORCED", "AUTO-MERGE"],
              rows.map((r) => [
                r.name,
                r.enable.join(", ") || "-",
                r.disable.join(", ") || "-",
                r.enforced.join(", ") || "-",
                r.autoMerge ? "yes" : "no"
              ])
            )
      )
    })
  )
