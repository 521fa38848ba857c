/**
 * Gate policy files (`gate.policy.yaml`, the original spec-orch format, loaded unchanged) and the
 * built-in default policy. A policy comes only from this file or the built-in: nothing in an issue,
 * a spec or an agent's output can change it. Every problem names file, line and key; unknown
 * condition names are errors with a "did you mean".
 */
import { describeValue, didYouMean, FileProblem, InvalidFile, validateWith, yamlLocator } from "@spec-orch/contract"
import { Result } from "effect"
import { LineCounter, parseDocument } from "yaml"
import * as z from "zod/mini"
import { ConditionRegistry } from "./Conditions.js"
import { DEFAULT_BLOCK_ON, DEVIATION_SEVERITIES, type DeviationSeverity } from "./Deviations.js"
import { DEFAULT_PROTECTED, type ProtectedPaths } from "./ProtectedPaths.js"

/** One condition as the policy declares it. */
export interface PolicyCondition {
  readonly name: string
  /** Required conditions decide mergeability; the others are judged and shown as advisory. */
  readonly required: boolean
  readonly description: string
  /** Not declared by the policy: spec-orch requires it in every policy (see `ENFORCED_CONDITIONS`). */
  readonly enforced?: true | undefined
}

/** A named profile: conditions it makes required (`enable`) or switches off (`disable`). */
export interface PolicyProfile {
  readonly name: string
  readonly enable: ReadonlyArray<string>
  readonly disable: ReadonlyArray<string>
  /** Overrides the policy's `auto_merge` when set. */
  readonly autoMerge: boolean | undefined
  readonly description: string | undefined
  /** Built in, not written in the policy file (a file that defines a profile of the same name replaces it). */
  readonly builtin?: boolean | undefined
}

/** A loaded, validated gate policy. Immutable plain data plus the registry it was checked against. */
export interface GatePolicy {
  /** What verdicts call it: the policy file as given, or `built-in`. */
  readonly name: string
  readonly source: "file" | "built-in"
  /** Declared conditions, in file order. */
  readonly conditions: ReadonlyArray<PolicyCondition>
  readonly autoMerge: boolean
  /** Conditions that must pass for auto-merge; `undefined` = the required set. */
  readonly autoMergeConditions: ReadonlyArray<string> | undefined
  readonly profiles: ReadonlyArray<PolicyProfile>
  /** Deviation severities that make `within_boundaries` fail (`deviations.block_on`). */
  readonly blockOn: ReadonlyArray<DeviationSeverity>
  /** What `protected_paths` protects (`protected:`; each list the policy leaves out keeps its default). */
  readonly protected: ProtectedPaths
  /** The conditions this policy may name and evaluates with. */
  readonly registry: ConditionRegistry
  /** Non-fatal problems found while loading (unknown keys). */
  readonly warnings: ReadonlyArray<FileProblem>
}

const Names = z.array(z.string())

/** The zod schema of `gate.policy.yaml` (snake_case keys, as the original writes them). */
export const GatePolicyFile = z.object({
  conditions: z.record(
    z.string(),
    z.object({ required: z._default(z.boolean(), true), description: z.optional(z.string()) })
  ),
  auto_merge: z._default(z.boolean(), false),
  auto_merge_conditions: z.optional(Names),
  profiles: z._default(
    z.record(
      z.string(),
      z.object({
        description: z.optional(z.string()),
        enable: z._default(Names, []),
        disable: z._default(Names, []),
        auto_merge: z.optional(z.boolean())
      })
    ),
    {}
  ),
  /**
   * spec-orch's addition: which deviation severities block `within_boundaries`. A file that does not
   * say blocks on every severity, as the original does; only the built-in policy lets minor ones pass.
   */
  deviations: z.prefault(
    z.object({
      block_on: z._default(z.array(z.enum(DEVIATION_SEVERITIES as [DeviationSeverity, ...Array<DeviationSeverity>])), [
        ...DEVIATION_SEVERITIES
      ])
    }),
    {}
  ),
  /** spec-orch's addition: what `protected_paths` protects; a list left out keeps its default, `[]` empties it. */
  protected: z.prefault(
    z.object({
      tests: z.optional(Names),
      paths: z.optional(Names),
      keys: z.optional(z.record(z.string(), Names))
    }),
    {}
  )
})

/**
 * Conditions spec-orch requires in every policy and profile, whether or not the policy names them:
 * a policy file opts out only by declaring one with `required: false`, a profile only by disabling
 * it by name. Applied to the names the policy's registry knows (an embedder's registry may lack one).
 */
export const ENFORCED_CONDITIONS: ReadonlyArray<string> = ["protected_paths", "secrets"]

/** `declared` plus every enforced condition the registry knows and the policy does not declare, as required. */
const withEnforced = (
  declared: ReadonlyArray<PolicyCondition>,
  registry: ConditionRegistry
): ReadonlyArray<PolicyCondition> => [
  ...declared,
  ...ENFORCED_CONDITIONS.filter(
    (name) => registry.get(name) !== undefined && !declared.some((c) => c.name === name)
  ).map((name) => ({
    name,
    required: true,
    description: registry.get(name)!.description,
    enforced: true as const
  }))
]

/** The original spec-orch's profiles, also part of the built-in policy. */
const ORIGINAL_PROFILES: ReadonlyArray<PolicyProfile> = [
  {
    name: "daemon",
    enable: [],
    disable: ["human_acceptance"],
    autoMerge: true,
    description: "Unattended runs: no human acceptance, auto-merge"
  },
  {
    name: "ci",
    enable: ["findings"],
    disable: ["human_acceptance", "preview"],
    autoMerge: false,
    description: "CI: findings required, no human acceptance or preview"
  },
  {
    name: "strict",
    enable: ["preview", "findings", "compliance"],
    disable: [],
    autoMerge: false,
    description: "Everything, including preview, findings and compliance"
  },
  {
    name: "hotfix",
    enable: [],
    disable: ["human_acceptance", "compliance", "findings", "spec_exists", "spec_approved", "within_boundaries"],
    autoMerge: true,
    description: "Hotfixes: builder, verification and review only; auto-merge"
  }
]

/**
 * spec-orch's own built-in profiles. `unattended` is for the daemon and missions: no person in the
 * loop, so no human acceptance; verification, the (LLM) review and no unresolved blocking finding decide.
 */
const SPEC_ORCH_PROFILES: ReadonlyArray<PolicyProfile> = [
  {
    name: "unattended",
    enable: ["findings"],
    disable: ["human_acceptance"],
    autoMerge: false,
    description: "Daemon and missions: verification, review and no open blocking finding decide; no human acceptance"
  }
]

/** Every built-in profile, available in any policy that does not define one of the same name. */
export const BUILTIN_PROFILES: ReadonlyArray<PolicyProfile> = [...ORIGINAL_PROFILES, ...SPEC_ORCH_PROFILES].map(
  (p) => ({ ...p, builtin: true })
)

/**
 * The built-in policy, used when the project has no policy file: the original's defaults (required
 * spec_exists, spec_approved, within_boundaries, builder, verification, review, human_acceptance;
 * auto_merge false) plus its four sample profiles, and spec-orch's `secrets` (required; no profile
 * disables it).
 */
export const defaultGatePolicy = (registry: ConditionRegistry = ConditionRegistry.builtin): GatePolicy => ({
  name: "built-in",
  source: "built-in",
  conditions: withEnforced(
    ["spec_exists", "spec_approved", "within_boundaries", "builder", "verification", "review", "human_acceptance"].map(
      (name) => ({
        name,
        required: true,
        description: ConditionRegistry.builtin.get(name)!.description
      })
    ),
    registry
  ),
  autoMerge: false,
  autoMergeConditions: undefined,
  profiles: BUILTIN_PROFILES,
  blockOn: DEFAULT_BLOCK_ON,
  protected: DEFAULT_PROTECTED,
  registry,
  warnings: []
})

/**
 * Parses and validates policy text. `file` is only used in messages. Unknown condition names (in
 * `conditions`, `auto_merge_conditions` or a profile) are errors; unknown keys are warnings.
 */
export const loadGatePolicy = (
  text: string,
  file: string,
  registry: ConditionRegistry = ConditionRegistry.builtin
): Result.Result<GatePolicy, InvalidFile> => {
  const invalid = (problems: ReadonlyArray<FileProblem>) => Result.fail(new InvalidFile({ file, problems }))
  if (text.trim() === "") {
    return invalid([
      new FileProblem({
        file,
        line: 1,
        column: 1,
        key: "",
        severity: "error",
        message: "the policy file is empty",
        hint: "it needs at least a `conditions:` table"
      })
    ])
  }
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true })
  if (doc.errors.length > 0) {
    return invalid(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0])
        return new FileProblem({
          file,
          line: pos.line,
          column: pos.col,
          key: "",
          severity: "error",
          message: `not valid YAML: ${e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`
        })
      })
    )
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 })
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return invalid([
      new FileProblem({
        file,
        line: 1,
        column: 1,
        key: "",
        severity: "error",
        message: `expected a table with a \`conditions:\` key, found ${describeValue(raw)}`
      })
    ])
  }
  // `builder:` with nothing after it is YAML null: the original reads it as an empty table.
  for (const section of ["conditions", "profiles"]) {
    const entries = (raw as Record<string, unknown>)[section]
    if (entries !== null && typeof entries === "object" && !Array.isArray(entries)) {
      for (const [k, v] of Object.entries(entries)) if (v === null) (entries as Record<string, unknown>)[k] = {}
    }
  }
  const locate = yamlLocator(text)
  const { problems, value } = validateWith(GatePolicyFile, raw, file, locate)
  if (value === undefined) return invalid(problems)

  const known = registry.names
  const all = [...problems]
  const problem = (path: ReadonlyArray<string | number>, message: string, hint?: string) => {
    const pos = locate(path)
    all.push(
      new FileProblem({
        file,
        ...(pos ? { line: pos.line, column: pos.column } : {}),
        key: path.join("."),
        severity: "error",
        message,
        ...(hint !== undefined ? { hint } : {})
      })
    )
  }
  const checkName = (path: ReadonlyArray<string | number>, name: string) => {
    if (registry.get(name) !== undefined) return
    const s = didYouMean(name, known)
    problem(
      path,
      `unknown condition "${name}"`,
      s !== undefined ? `did you mean "${s}"?` : `known conditions: ${known.join(", ")}`
    )
  }
  const declared = Object.keys(value.conditions)
  if (declared.length === 0) {
    problem(
      ["conditions"],
      "declares no conditions, so every change would be mergeable",
      `list the conditions to require, e.g. builder and verification`
    )
  }
  for (const name of declared) checkName(["conditions", name], name)
  value.auto_merge_conditions?.forEach((name, i) => {
    checkName(["auto_merge_conditions", i], name)
  })
  const profiles: Array<PolicyProfile> = []
  for (const [profile, body] of Object.entries(value.profiles)) {
    const p = body
    p.enable.forEach((name, i) => {
      checkName(["profiles", profile, "enable", i], name)
    })
    p.disable.forEach((name, i) => {
      checkName(["profiles", profile, "disable", i], name)
      if (p.enable.includes(name))
        problem(
          ["profiles", profile, "disable", i],
          `"${name}" is both enabled and disabled in profile "${profile}"`,
          "keep it in one list"
        )
    })
    profiles.push({
      name: profile,
      enable: p.enable,
      disable: p.disable,
      autoMerge: p.auto_merge,
      description: p.description
    })
  }
  const checkPattern = (path: ReadonlyArray<string | number>, pattern: string) => {
    const problemText = globProblem(pattern)
    if (problemText !== undefined)
      problem(
        path,
        `"${pattern}" is not a usable path pattern: ${problemText}`,
        "use a path, a directory ending in /, or a glob such as **/*.test.*"
      )
  }
  const prot = value.protected
  prot.tests?.forEach((p, i) => {
    checkPattern(["protected", "tests", i], p)
  })
  prot.paths?.forEach((p, i) => {
    checkPattern(["protected", "paths", i], p)
  })
  for (const pattern of Object.keys(prot.keys ?? {})) checkPattern(["protected", "keys", pattern], pattern)
  if (all.some((p) => p.severity === "error")) return invalid(all.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)))

  return Result.succeed({
    name: file,
    source: "file",
    conditions: withEnforced(
      declared.map((name) => {
        const c = value.conditions[name]!
        return { name, required: c.required, description: c.description ?? registry.get(name)!.description }
      }),
      registry
    ),
    autoMerge: value.auto_merge,
    autoMergeConditions: value.auto_merge_conditions,
    // The built-in profiles come along (the daemon's `daemon`, missions' `unattended`), unless the file defines its own of that name.
    profiles: [
      ...profiles,
      ...BUILTIN_PROFILES.filter((b) => !profiles.some((p) => p.name === b.name)).filter((b) =>
        [...b.enable, ...b.disable].every((n) => registry.get(n) !== undefined)
      )
    ],
    blockOn: value.deviations.block_on,
    protected: {
      tests: prot.tests ?? DEFAULT_PROTECTED.tests,
      paths: prot.paths ?? DEFAULT_PROTECTED.paths,
      keys:
        prot.keys !== undefined
          ? Object.entries(prot.keys).map(([pattern, keys]) => ({ pattern, keys }))
          : DEFAULT_PROTECTED.keys
    },
    registry,
    warnings: all
  })
}

/** The policy as plain JSON (for `gate show-policy --json` and reports). */
export const policyJson = (policy: GatePolicy) => ({
  name: policy.name,
  source: policy.source,
  conditions: policy.conditions.map((c) => ({
    name: c.name,
    required: c.required,
    description: c.description,
    enforced: c.enforced === true
  })),
  autoMerge: policy.autoMerge,
  autoMergeConditions: policy.autoMergeConditions ?? null,
  profiles: policy.profiles.map((p) => ({
    name: p.name,
    enable: p.enable,
    disable: p.disable,
    autoMerge: p.autoMerge ?? null,
    description: p.description ?? null
  })),
  deviations: { blockOn: policy.blockOn },
  protected: {
    tests: policy.protected.tests,
    paths: policy.protected.paths,
    keys: Object.fromEntries(policy.protected.keys.map((k) => [k.pattern, k.keys]))
  }
})

/** Why `pattern` cannot be used as a path pattern, or `undefined` when it can (globs themselves always compile). */
const globProblem = (pattern: string): string | undefined => (pattern.trim() === "" ? "it is empty" : undefined)

/** A place in another file that names a profile of this policy (`[gate] profile` in spec-orch.toml). */
export interface ProfileReference {
  readonly profile: string
  readonly file: string
  readonly key: string
  readonly line?: number | undefined
  readonly column?: number | undefined
  /** `error` when the reference is used for every run, `warning` when only some commands use it. */
  readonly severity: "error" | "warning"
}

/** Problems for references to profiles the policy does not define, with a "did you mean". */
export const profileReferenceProblems = (
  policy: GatePolicy,
  refs: ReadonlyArray<ProfileReference>
): Array<FileProblem> => {
  const known = policy.profiles.map((p) => p.name)
  return refs
    .filter((r) => !known.includes(r.profile))
    .map((r) => {
      const s = didYouMean(r.profile, known)
      return new FileProblem({
        file: r.file,
        ...(r.line !== undefined ? { line: r.line } : {}),
        ...(r.column !== undefined ? { column: r.column } : {}),
        key: r.key,
        severity: r.severity,
        message: `names gate profile "${r.profile}", which ${policy.name} does not define`,
        hint:
          s !== undefined
            ? `did you mean "${s}"?`
            : known.length > 0
              ? `profiles: ${known.join(", ")}`
              : "the policy defines no profiles"
      })
    })
}
