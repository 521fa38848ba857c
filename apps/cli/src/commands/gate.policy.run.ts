/**
 * Handlers for the gate's policy commands (`gate show-policy|list-conditions|profiles`) and the policy
 * part of `config check`: they need the project and its gate policy, not the evidence formats, which
 * gate.run.ts loads for `gate evaluate`. Apart, a policy command does not initialise those modules.
 */
import { FileProblem, formatProblem, type Project, tomlLocator } from "@spec-orch/contract"
import {
  defaultGatePolicy,
  GatePolicies,
  type GatePolicy,
  loadGatePolicy,
  policyJson,
  profileReferenceProblems,
  resolveProfile
} from "@spec-orch/evidence"
import { Console, Effect, FileSystem, Option, Path, Result } from "effect"
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

/**
 * For `config check`: validates the project's gate policy file (when there is one) and the
 * profiles spec-orch.toml names (`[gate] profile` must exist; `[daemon] gate_profile` should).
 */
export const policyCheck = (project: Project["Service"], configText: string | undefined) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const shown = (file: string) => path.relative(process.cwd(), file) || file
    const configFile = project.configFile !== undefined ? shown(project.configFile) : "spec-orch.toml"
    const locate = configText !== undefined ? tomlLocator(configText) : () => undefined
    const file = project.resolve(project.config.gate.policy)
    const checked: Array<string> = []
    const problems: Array<FileProblem> = []
    let policy: GatePolicy | undefined
    if (yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))) {
      checked.push(shown(file))
      const loaded = loadGatePolicy(yield* fs.readFileString(file).pipe(Effect.orElseSucceed(() => "")), shown(file))
      if (Result.isSuccess(loaded)) {
        policy = loaded.success
        problems.push(...policy.warnings)
      } else {
        problems.push(...loaded.failure.problems)
      }
    } else if (project.config.gate.policy !== "gate.policy.yaml") {
      problems.push(
        new FileProblem({
          file: configFile,
          ...locate(["gate", "policy"]),
          key: "gate.policy",
          severity: "error",
          message: `names the gate policy file ${project.config.gate.policy}, which does not exist`,
          hint: "fix the path, or remove the key to use gate.policy.yaml or the built-in policy"
        })
      )
    } else {
      checked.push("(no gate.policy.yaml: the built-in gate policy)")
      policy = defaultGatePolicy()
    }
    if (policy !== undefined) {
      const at = (key: Array<string>) => locate(key) ?? {}
      problems.push(
        ...profileReferenceProblems(policy, [
          ...(project.config.gate.profile !== undefined
            ? [
                {
                  profile: project.config.gate.profile,
                  file: configFile,
                  key: "gate.profile",
                  ...at(["gate", "profile"]),
                  severity: "error" as const
                }
              ]
            : []),
          // Only when written down: the default ("daemon") is checked by the daemon when it starts.
          ...(configText !== undefined && /^\s*gate_profile\s*=/m.test(configText)
            ? [
                {
                  profile: project.config.daemon.gate_profile,
                  file: configFile,
                  key: "daemon.gate_profile",
                  ...at(["daemon", "gate_profile"]),
                  severity: "warning" as const
                }
              ]
            : [])
        ])
      )
    }
    return { checked, problems }
  })
