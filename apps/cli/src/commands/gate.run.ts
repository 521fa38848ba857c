/** Handlers for `spec-orch gate`: load the policy, judge evidence, render verdicts and policies. */
import {
  type EvidenceBundle,
  FileMissing,
  FileProblem,
  formatProblem,
  type GateVerdict,
  InvalidFile,
  type Issue,
  IssueSource,
  Project,
  tomlLocator
} from "@spec-orch/contract"
import {
  evaluatePlan,
  defaultGatePolicy,
  Gate,
  GatePolicies,
  type GatePolicy,
  loadGatePolicy,
  NoEvidence,
  parseEvidence,
  policyJson,
  profileReferenceProblems,
  reportJson,
  resolveProfile,
  verdictHeadline
} from "@spec-orch/evidence"
import { Console, Duration, Effect, FileSystem, Option, Path, Result } from "effect"
import { emit, ExitCode, setExitCode, table } from "../Output.js"
import { withProject } from "../ProjectScope.js"
import { Root } from "../Root.js"

/** Removes terminal control characters from text that came from issues, agents or tools. */
export const clean = (text: string): string => text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "")

/** Runs `effect` with the project and its gate policies only (no state database). */
const withPolicies = withProject(GatePolicies.layer)

/**
 * Fail before work: checks, with the project and its gate policy only (no state database, nothing
 * written), that the gate can judge a run under `profile` (default `[gate] profile`). On a problem it
 * prints one paragraph (what, where, how to fix; nothing was started), sets exit status 2 and
 * returns `false`. `what` names the work, e.g. "run HELLO-1".
 */
export const gatePreflight = (
  what: string,
  profileOf: string | undefined | ((project: Project["Service"]) => string | undefined)
) =>
  withPolicies(
    Effect.gen(function* () {
      const policies = yield* GatePolicies
      const gate = Gate.make(policies.current, policies.configuredProfile)
      const profile = typeof profileOf === "function" ? profileOf(yield* Project) : profileOf
      const checked = yield* Effect.result(gate.plan(profile))
      if (Result.isSuccess(checked)) return true
      const e = checked.failure
      const fix =
        e._tag === "UnknownProfile"
          ? typeof profileOf === "function"
            ? "Fix the profile in spec-orch.toml (`spec-orch gate profiles` lists the policy's profiles)."
            : profile !== undefined
              ? "Pass a profile the policy defines (`spec-orch gate profiles` lists them)."
              : "Fix `[gate] profile` in spec-orch.toml (`spec-orch gate profiles` lists the policy's profiles)."
          : "Fix the gate policy (`spec-orch config check` shows every problem), then run again."
      yield* Console.error(
        `spec-orch: cannot ${what}: the gate could not judge it. ${e.message}\nNothing was started. ${fix}`
      )
      yield* setExitCode(ExitCode.usage)
      return false
    })
  )

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

const SYMBOL: Record<string, string> = { passed: "✓", failed: "✗", not_judgeable: "?", disabled: "–" }

/** The verdict as text: headline, then every condition with its reason and what would unblock it. */
export const verdictLines = (issueId: string, v: GateVerdict): Array<string> => {
  const width = Math.max(...v.conditions.map((c) => c.condition.length))
  const order: Record<string, number> = { failed: 0, not_judgeable: 1, passed: 2, disabled: 3 }
  const rows = v.conditions
    .map((c, i) => ({ c, i }))
    .sort((a, b) => order[a.c.status]! - order[b.c.status]! || a.i - b.i)
    .flatMap(({ c }) => [
      `  ${SYMBOL[c.status]} ${c.condition.padEnd(width)}  ${(c.status === "disabled" ? "off" : c.required ? "required" : "advisory").padEnd(8)}  ${clean(c.reason)}`,
      ...(c.unblock !== undefined ? [`  ${" ".repeat(width + 14)}→ ${clean(c.unblock)}`] : [])
    ])
  return [
    `${issueId}: ${verdictHeadline(v)}`,
    `policy ${v.policy}, profile ${v.profile ?? "none"} · auto-merge: ${v.autoMergeable ? "yes" : "no"}`,
    "",
    ...rows
  ]
}

/** How long a read command waits for the tracker before showing an issue without its title and criteria. */
export const ISSUE_LOOKUP_WAIT = Duration.seconds(5)

/**
 * The issue from the configured source, when it can be read (it only adds a title and criteria). With
 * `within`, a tracker that has not answered by then (each request may wait 30 s and be retried) is given
 * up on with a note on stderr, so a read command stays quick; `accept-issue` passes none, as the criteria
 * are what a person accepts.
 */
export const issueIfKnown = (id: string, within?: Duration.Duration) =>
  Effect.serviceOption(IssueSource).pipe(
    Effect.flatMap(
      Option.match({
        onNone: () => Effect.succeed(undefined as Issue | undefined),
        onSome: (source) => {
          const read = source.get(id).pipe(
            Effect.map((i): Issue | undefined => i),
            Effect.orElseSucceed(() => undefined)
          )
          return within === undefined
            ? read
            : read.pipe(
                Effect.timeoutOrElse({
                  duration: within,
                  orElse: () =>
                    Effect.as(
                      Console.error(
                        `spec-orch: the issue tracker did not answer within ${Duration.format(within)}; ${id} is shown without its title and acceptance criteria`
                      ),
                      undefined
                    )
                })
              )
        }
      })
    )
  )

const readEvidence = (file: string, issue: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const flags = yield* Root
    const absolute = path.resolve(flags.cwd, file)
    const text = yield* fs
      .readFileString(absolute)
      .pipe(
        Effect.mapError(
          () => new FileMissing({ file, what: "evidence file", hint: "pass a JSON evidence bundle (schemaVersion 1)" })
        )
      )
    const bundle = yield* Effect.fromResult(parseEvidence(text, file))
    if (bundle.issueId !== issue) {
      return yield* new InvalidFile({
        file,
        problems: [
          new FileProblem({
            file,
            key: "issueId",
            severity: "error",
            message: `is "${bundle.issueId}", but the command judges ${issue}`,
            hint: `run \`spec-orch gate evaluate ${bundle.issueId} --evidence ${file}\``
          })
        ]
      })
    }
    return bundle
  })

const judge = (
  bundle: EvidenceBundle,
  policy: GatePolicy,
  profile: string | null,
  json: boolean,
  issue: Issue | undefined
) =>
  Effect.gen(function* () {
    const plan = yield* Effect.fromResult(resolveProfile(policy, profile))
    const verdict = evaluatePlan(plan, bundle)
    if (!verdict.mergeable) yield* setExitCode(ExitCode.failure)
    yield* emit(json, reportJson(bundle, verdict, issue, { blockOn: policy.blockOn }), () =>
      verdictLines(bundle.issueId, verdict)
    )
  })

export const evaluate = (input: {
  issue: string
  policy: Option.Option<string>
  profile: Option.Option<string>
  evidence: Option.Option<string>
  json: boolean
}) => {
  const evidenceFile = Option.getOrUndefined(input.evidence)
  return evidenceFile !== undefined
    ? // The embedding / CI path: plain JSON in, verdict out; no state database is opened.
      withPolicies(
        Effect.gen(function* () {
          const bundle = yield* readEvidence(evidenceFile, input.issue)
          yield* judge(
            bundle,
            yield* policyFrom(input.policy),
            yield* profileFrom(input.profile),
            input.json,
            undefined
          )
        })
      )
    : // The ledger's services are loaded here, on demand: `--evidence` and the policy commands never open the state database.
      Effect.flatMap(
        Effect.promise(() => import("../LedgerPlane.js")),
        ({ withLedger, EvidenceLedger }) =>
          withLedger(
            Effect.gen(function* () {
              const ledger = yield* EvidenceLedger
              const bundle = yield* ledger.currentBundle(input.issue)
              if (Option.isNone(bundle)) return yield* new NoEvidence({ issueId: input.issue, ledger: ledger.location })
              yield* judge(
                bundle.value,
                yield* policyFrom(input.policy),
                yield* profileFrom(input.profile),
                input.json,
                yield* issueIfKnown(input.issue, ISSUE_LOOKUP_WAIT)
              )
            })
          )
      )
}

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
