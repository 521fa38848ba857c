/** Handlers for `spec-orch gate evaluate` and the gate helpers other commands share: judge evidence, render verdicts. The policy commands are in gate.policy.run.ts. */
import {
  type EvidenceBundle,
  FileMissing,
  FileProblem,
  type GateVerdict,
  InvalidFile,
  type Issue,
  Project
} from "@spec-orch/contract"
import {
  evaluatePlan,
  Gate,
  GatePolicies,
  type GatePolicy,
  NoEvidence,
  parseEvidence,
  reportJson,
  resolveProfile,
  verdictHeadline
} from "@spec-orch/evidence"
import { Console, Effect, FileSystem, Option, Path, Result } from "effect"
import { emit, ExitCode, setExitCode } from "../Output.js"
import { Root } from "../Root.js"
import { policyFrom, profileFrom, withPolicies } from "./gate.policy.run.js"

/** Removes terminal control characters from text that came from issues, agents or tools. */
export const clean = (text: string): string => text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "")

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
        Effect.promise(() => Promise.all([import("../LedgerPlane.js"), import("./issue-lookup.js")])),
        ([{ withLedger, EvidenceLedger }, { issueIfKnown, ISSUE_LOOKUP_WAIT }]) =>
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
