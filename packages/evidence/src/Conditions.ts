/**
 * Gate conditions: each a pure check over an `EvidenceBundle` that answers passed, failed or not
 * judgeable, with a reason a human can act on and what would unblock it. Missing evidence is
 * always "not judgeable", never a silent pass or fail. The registry holds the built-in conditions
 * plus any an embedder registers; a policy may only name conditions its registry knows.
 */
import {
  type AgentOutcome,
  type EvidenceBundle,
  type FailedToolCall,
  findingBlocks,
  stepFailed,
  type StepResult
} from "@spec-orch/contract"
import { Context } from "effect"
import { DEFAULT_BLOCK_ON, detectDeviations, deviationBlocks, type DeviationSeverity, placeFile } from "./Deviations.js"
import { DEFAULT_PROTECTED, type ProtectedPaths, protectedChanges } from "./ProtectedPaths.js"

/** What one condition concluded about the evidence (before the policy says whether it is required). */
export interface Judgement {
  readonly status: "passed" | "failed" | "not_judgeable"
  /** One sentence: why. */
  readonly reason: string
  /** What would make it pass, when it did not. */
  readonly unblock?: string
}

/** Settings from the policy that a condition may read. */
export interface ConditionContext {
  /** Deviation severities that block `within_boundaries` (the policy's `deviations.block_on`). */
  readonly blockOn: ReadonlyArray<DeviationSeverity>
  /** What `protected_paths` protects (the policy's `protected:` section); default `DEFAULT_PROTECTED`. */
  readonly protected?: ProtectedPaths | undefined
}

/** A named, pure check. `judge` must not throw; a thrown error is reported as a failed condition. */
export interface Condition {
  readonly name: string
  readonly description: string
  readonly judge: (evidence: EvidenceBundle, context: ConditionContext) => Judgement
}

/** A passed judgement. */
export const passed = (reason: string): Judgement => ({ status: "passed", reason })
/** A failed judgement with what would unblock it. */
export const failed = (reason: string, unblock: string): Judgement => ({ status: "failed", reason, unblock })
/** A "could not judge" judgement: the evidence needed is missing. */
export const notJudgeable = (reason: string, unblock: string): Judgement => ({
  status: "not_judgeable",
  reason,
  unblock
})

/** One line, at most `max` characters: for untrusted text quoted inside a reason. */
export const oneLine = (text: string, max = 160): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

const short = (hash: string) => hash.slice(0, 12)
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`
const names = (xs: ReadonlyArray<string>, max = 5) =>
  xs.length <= max ? xs.join(", ") : `${xs.slice(0, max).join(", ")} and ${xs.length - max} more`
const rerun = (id: string) => `re-run ${id} so the run records it`

const STEP_OUTCOME: Record<StepResult["outcome"], string> = {
  passed: "passed",
  failed: "failed",
  skipped: "skipped",
  timed_out: "timed out",
  missing_binary: "could not start (command not found)",
  crashed: "crashed"
}
const describeStep = (s: StepResult) =>
  `${s.name} ${STEP_OUTCOME[s.outcome]}${s.outcome === "failed" && s.exitCode !== null ? ` (exit ${s.exitCode})` : ""}`

const AGENT_OUTCOME: Record<string, string> = {
  failed: "failed",
  timed_out: "timed out",
  stalled: "stalled (no output for too long)",
  budget_exceeded: "stopped: budget exceeded",
  cancelled: "was cancelled"
}

const specExists: Condition = {
  name: "spec_exists",
  description: "Task spec file exists in the worktree",
  judge: (e) => {
    if (e.spec === undefined)
      return notJudgeable("the evidence has no spec record, so it is unknown whether a spec exists", rerun(e.issueId))
    return e.spec.exists
      ? passed("the issue's spec snapshot exists")
      : failed("the issue has no spec snapshot", `write the spec for ${e.issueId} and re-run`)
  }
}

const specApproved: Condition = {
  name: "spec_approved",
  description: "Spec has been approved by a reviewer",
  judge: (e) => {
    const s = e.spec
    if (s === undefined)
      return notJudgeable("the evidence has no spec record, so its approval cannot be checked", rerun(e.issueId))
    if (!s.exists)
      return failed(
        "there is no spec to approve",
        `write the spec, then approve it: spec-orch spec approve ${e.issueId}`
      )
    if (s.state === "unapproved")
      return failed("the spec has not been approved", `approve it: spec-orch spec approve ${e.issueId}`)
    if (s.state === "changed-since-approval") {
      return failed(
        "the spec changed after it was approved",
        `review the change and approve again: spec-orch spec approve ${e.issueId}`
      )
    }
    if (s.unresolvedBlockingQuestions > 0) {
      return failed(
        `the spec is approved but ${plural(s.unresolvedBlockingQuestions, "blocking question")} ${s.unresolvedBlockingQuestions === 1 ? "is" : "are"} unanswered`,
        `answer them: spec-orch questions list ${e.issueId}`
      )
    }
    return passed("the spec is approved")
  }
}

const withinBoundaries: Condition = {
  name: "within_boundaries",
  description: "Changes stay within the declared scope boundary",
  judge: (e, ctx) => {
    const deviations =
      e.deviations ??
      (e.changedFiles !== undefined && e.footprint !== undefined
        ? detectDeviations(e.changedFiles, e.footprint)
        : undefined)
    if (deviations === undefined) {
      return notJudgeable(
        "no scope check ran: the evidence has neither deviations nor changed files with a declared footprint",
        rerun(e.issueId)
      )
    }
    const blocking = deviations.filter((d) => deviationBlocks(d, ctx.blockOn))
    const rule = `this policy blocks on ${ctx.blockOn.length > 0 ? ctx.blockOn.join(", ") : "no severity"}`
    if (blocking.length === 0) {
      const advisory = deviations.filter((d) => d.resolution === "pending").length
      return passed(
        deviations.length === 0
          ? "no deviations from the declared scope"
          : `no blocking deviations (${plural(advisory, "advisory deviation")} pending, ${deviations.length - advisory} resolved; ${rule})`
      )
    }
    const shown = blocking.map((d) => `${d.filePath ?? d.id} (${d.severity})`)
    return failed(
      `${plural(blocking.length, "deviation")} from the declared scope block (${rule}): ${names(shown)}`,
      "revert those changes, or amend the spec/footprint to include them and re-run"
    )
  }
}

/** One failed tool call as a phrase: `apply_patch hello.txt: permission denied`. Agent text, so bounded. */
export const describeToolFailure = (f: FailedToolCall): string =>
  oneLine(`${f.name}${f.target !== undefined ? ` ${f.target}` : ""}: ${f.reason}`, 200)

/**
 * What went wrong inside the turn, as a clause: "1 file change failed: apply_patch hello.txt: …".
 * File changes first (they decide the condition), then any other failed or refused calls, counted.
 */
const toolFailures = (b: AgentOutcome): string | undefined => {
  const listed = b.failedToolCalls ?? []
  const total = Math.max(b.failedToolCallCount ?? 0, listed.length)
  if (total === 0) return undefined
  const files = listed.filter((f) => f.kind === "file_change")
  const others = total - files.length
  const verb = (fs: ReadonlyArray<FailedToolCall>) =>
    fs.every((f) => f.denied === true) ? (fs.length === 1 ? "was refused" : "were refused") : "failed"
  const parts: Array<string> = []
  if (files.length > 0)
    parts.push(
      `${plural(files.length, "file change")} ${verb(files)}: ${describeToolFailure(files[0]!)}${files.length > 1 ? ` (and ${files.length - 1} more)` : ""}`
    )
  if (others > 0) {
    const first = listed.find((f) => f.kind !== "file_change")
    parts.push(
      `${plural(others, files.length > 0 ? "other tool call" : "tool call")} failed${first !== undefined ? `, first ${describeToolFailure(first)}` : ""}`
    )
  }
  return parts.join("; ")
}

/** Paths the agent reported changing outside its worktree (the parsers keep those absolute). */
const outsideWorktree = (b: AgentOutcome) => b.filesChanged.filter((p) => p.startsWith("/"))

const builder: Condition = {
  name: "builder",
  description: "Builder agent completed successfully",
  judge: (e) => {
    const b = e.builder
    if (b === undefined) return notJudgeable("no builder outcome was recorded", rerun(e.issueId))
    const failures = toolFailures(b)
    const outside = outsideWorktree(b)
    const outsideNote =
      outside.length > 0
        ? `; it also reported changing ${plural(outside.length, "file")} outside its worktree: ${names(
            outside.map((p) => oneLine(p, 80)),
            3
          )}`
        : ""
    if (b.kind === "completed") {
      // The diff is the truth about what changed; the agent's own report only when there is no diff.
      const changed = (e.changedFiles ?? b.filesChanged).length
      // A turn that changed nothing while its file changes failed did not do the work, whatever the agent
      // says: passing it would let verification of the untouched base decide the verdict.
      if (changed === 0 && (b.failedToolCalls ?? []).some((f) => f.kind === "file_change")) {
        return failed(
          `builder ${b.adapter} completed but changed nothing: ${failures}${outsideNote}`,
          `read why in the run's agent log (events.jsonl, agent.stderr.log); if the agent's own sandbox or permission mode refused the change, see docs/agents.md; then re-run ${e.issueId}`
        )
      }
      return passed(
        `builder ${b.adapter} completed (${plural(changed, "file")} changed)${failures !== undefined ? `, but ${failures}` : ""}${outsideNote}`
      )
    }
    if (b.kind === "skipped") {
      return passed(
        `builder step skipped${b.message !== undefined ? `: ${oneLine(b.message, 120)}` : " (the issue has no builder prompt)"}; a skipped builder counts as passed`
      )
    }
    return failed(
      `builder ${b.adapter} ${AGENT_OUTCOME[b.kind] ?? b.kind}${b.message !== undefined ? `: ${oneLine(b.message)}` : ""}${failures !== undefined ? `; ${failures}` : ""}${outsideNote}`,
      `read the agent log in the run's artifacts, then re-run ${e.issueId}`
    )
  }
}

const verification: Condition = {
  name: "verification",
  description: "All verification commands (lint, typecheck, test, build) passed",
  judge: (e) => {
    const v = e.verification
    if (v === undefined) return notJudgeable("no verification report: verification did not run", rerun(e.issueId))
    const ran = v.steps.filter((s) => s.outcome !== "skipped")
    const skipped = v.steps.filter((s) => s.outcome === "skipped")
    if (ran.length === 0) {
      return notJudgeable(
        v.steps.length === 0
          ? "no verification step is configured, so nothing was verified"
          : `no verification step ran (${plural(skipped.length, "step")} skipped: ${names(skipped.map((s) => (s.note !== undefined ? `${s.name}: ${oneLine(s.note, 60)}` : s.name)))})`,
        "configure at least one step under [verification] in spec-orch.toml (or in the issue) and re-run"
      )
    }
    const bad = ran.filter(stepFailed)
    if (bad.length > 0) {
      return failed(
        `${plural(bad.length, "verification step")} did not pass: ${names(bad.map(describeStep))}`,
        "fix what the failing step output shows (see explain.md), then re-run"
      )
    }
    return passed(
      `${plural(ran.length, "step")} passed (${names(ran.map((s) => s.name))})${skipped.length > 0 ? `; ${skipped.length} skipped (${names(skipped.map((s) => s.name))})` : ""}`
    )
  }
}

const review: Condition = {
  name: "review",
  description: "Code review verdict is pass",
  judge: (e) => {
    const r = e.review
    const ask = `review it: spec-orch review-issue ${e.issueId} --verdict pass --reviewed-by <you>`
    if (r === undefined || r.verdict === "pending") return notJudgeable("nobody has reviewed this change yet", ask)
    if (r.diffHash !== undefined && e.diffHash !== undefined && r.diffHash !== e.diffHash) {
      return failed(
        `${r.reviewedBy} reviewed a different diff (reviewed ${short(r.diffHash)}, current ${short(e.diffHash)})`,
        `review the current change again: spec-orch review-issue ${e.issueId} --verdict <verdict> --reviewed-by <you>`
      )
    }
    const by = `${r.reviewedBy} (${r.source})`
    if (r.verdict === "pass" && r.partial !== undefined) {
      const p = r.partial
      return notJudgeable(
        `${by} passed the change on a partial view: ${p.charsNotShown} of ${p.totalChars} diff characters not shown (${names(p.files.map((f) => oneLine(f, 80)))})`,
        `a human reviews the whole change: spec-orch review-issue ${e.issueId} --verdict <verdict> --reviewed-by <you>`
      )
    }
    if (r.verdict === "pass") return passed(`review passed, by ${by}`)
    if (r.verdict === "changes_requested") {
      return failed(
        `${by} requested changes${r.summary !== "" ? `: ${oneLine(r.summary)}` : ""}`,
        "address the review, re-run, and have it reviewed again"
      )
    }
    return notJudgeable(
      `the reviewer ${by} could not decide${r.summary !== "" ? `: ${oneLine(r.summary)}` : ""}`,
      `a human reviews it: spec-orch review-issue ${e.issueId} --verdict <verdict> --reviewed-by <you>`
    )
  }
}

const preview: Condition = {
  name: "preview",
  description: "Preview environment check passed (only when preview_required)",
  judge: (e) => {
    const p = e.preview
    const configure =
      "configure the preview check: [preview] command in spec-orch.toml (run in the worktree after verification), then re-run"
    if (p === undefined) return notJudgeable("no preview result was recorded (no [preview] command ran)", configure)
    if (!p.required) return passed("no preview is required for this change")
    const at = p.url !== undefined ? ` (${oneLine(p.url, 100)})` : ""
    const outcome = p.passed ?? (p.step !== undefined ? p.step.outcome === "passed" : undefined)
    if (outcome === undefined) return notJudgeable("a preview is required but has no result yet", configure)
    if (outcome)
      return passed(`the preview check passed${p.step !== undefined ? ` (${describeStep(p.step)})` : ""}${at}`)
    return failed(
      `the preview check failed${p.step !== undefined ? `: ${describeStep(p.step)}` : ""}${at}`,
      "fix what the preview output shows (the run's verify/preview log), then re-run"
    )
  }
}

const protectedPaths: Condition = {
  name: "protected_paths",
  description:
    "No existing test, verification definition or spec-orch configuration changed unless the issue names it or a human accepted the diff",
  judge: (e, ctx) => {
    const changes = protectedChanges(e, ctx.protected ?? DEFAULT_PROTECTED)
    if (changes === undefined) {
      return notJudgeable(
        "the run recorded no list of changed files, so changes to tests and verification definitions cannot be checked",
        rerun(e.issueId)
      )
    }
    const named = changes.filter((c) => c.named)
    const open = changes.filter((c) => !c.named)
    // File names and manifest keys are the agent's text: one line each, bounded.
    const freeNote =
      named.length > 0
        ? ` (${plural(named.length, "protected file")} named by the issue: ${names(named.map((c) => oneLine(c.path, 120)))})`
        : ""
    if (open.length === 0) return passed(`no protected file changed outside the issue's targets${freeNote}`)
    const shown = names(
      open.map((c) => oneLine(`${c.path} (${c.why})`, 200)),
      4
    )
    const a = e.acceptance
    if (a !== undefined && e.diffHash !== undefined && a.diffHash === e.diffHash) {
      return passed(
        `${plural(open.length, "protected file")} changed and ${a.acceptedBy} accepted this exact diff: ${shown}`
      )
    }
    const unblock =
      `a human reads the diff and accepts this exact change: spec-orch accept-issue ${e.issueId} --accepted-by <you>; ` +
      "or name the file(s) as targets of the issue and re-run; or revert the change"
    const certain = open.filter((c) => !c.uncertain)
    if (certain.length > 0) {
      return failed(
        `the agent changed ${plural(open.length, "protected file")} the issue does not name: ${shown}`,
        unblock
      )
    }
    return notJudgeable(
      `${plural(open.length, "protected file")} may have been changed, but the evidence does not say how: ${shown}`,
      `record each file's status and changed keys (fileChanges), or: ${unblock}`
    )
  }
}

const humanAcceptance: Condition = {
  name: "human_acceptance",
  description: "A human has explicitly accepted the change",
  judge: (e) => {
    const a = e.acceptance
    const accept = `accept it: spec-orch accept-issue ${e.issueId} --accepted-by <you>`
    if (a === undefined) return notJudgeable("no human has accepted this change yet", accept)
    if (e.diffHash === undefined) {
      return notJudgeable(
        `accepted by ${a.acceptedBy}, but the run recorded no diff hash, so the acceptance cannot be matched to the current change`,
        `${rerun(e.issueId)}, then ${accept}`
      )
    }
    if (a.diffHash !== e.diffHash) {
      return failed(
        `${a.acceptedBy} accepted a different diff (accepted ${short(a.diffHash)}, current ${short(e.diffHash)})`,
        `look at the current change, then ${accept}`
      )
    }
    return passed(`accepted by ${a.acceptedBy} at ${a.acceptedAt}`)
  }
}

const findings: Condition = {
  name: "findings",
  description: "No unresolved blocking findings",
  judge: (e) => {
    const fs = e.findings
    if (fs === undefined)
      return notJudgeable(
        "no findings were collected (no reviewer, bot or CI reported any)",
        "collect findings (a review), or add them with spec-orch findings add"
      )
    const blocking = fs.filter(findingBlocks)
    if (blocking.length > 0) {
      return failed(
        `${plural(blocking.length, "unresolved blocking finding")}: ${names(blocking.map((f) => `${f.id}${f.filePath !== undefined ? ` (${f.filePath}${f.line !== undefined ? `:${f.line}` : ""})` : ""}`))}`,
        `fix them, then: spec-orch findings resolve ${e.issueId} <finding-id>`
      )
    }
    const resolved = fs.filter((f) => f.resolved).length
    const advisory = fs.filter((f) => !f.resolved && f.severity === "advisory").length
    const outOfSpec = fs.filter((f) => !f.resolved && f.severity === "blocking" && f.scope === "out_of_spec").length
    return passed(
      fs.length === 0
        ? "no findings"
        : `no unresolved blocking findings (${advisory} advisory, ${outOfSpec} out of spec, ${resolved} resolved)`
    )
  }
}

const compliance: Condition = {
  name: "compliance",
  description: "All compliance contracts pass (no error-level violations)",
  judge: (e) => {
    const c = e.compliance
    if (c === undefined)
      return notJudgeable(
        "no compliance report (no compliance contracts were evaluated)",
        "configure compliance contracts ([gate] compliance) and re-run"
      )
    if (c.compliant)
      return passed(
        `all ${plural(c.contracts.length, "compliance contract")} pass${c.warningCount > 0 ? ` (${plural(c.warningCount, "warning")})` : ""}`
      )
    const errors = c.violations.filter((v) => v.severity === "error")
    return failed(
      `${plural(c.errorCount, "error-level compliance violation")}${errors.length > 0 ? `: ${names([...new Set(errors.map((v) => `${v.contractId} (${v.kind})`))])}` : ""}`,
      "read the violations in the run's events; re-run with instructions that avoid them"
    )
  }
}

const budget: Condition = {
  name: "budget",
  description: "Spend (USD, tokens, time) stayed within the configured limits",
  judge: (e) => {
    const b = e.budget
    if (b === undefined) return notJudgeable("no budget record (spend was not measured)", rerun(e.issueId))
    const dims: Array<{
      name: string
      spent: number | undefined
      limit: number | undefined
      fmt: (n: number) => string
    }> = [
      { name: "cost", spent: b.spentUsd, limit: b.limitUsd, fmt: (n) => `$${n.toFixed(2)}` },
      { name: "tokens", spent: b.tokens, limit: b.limitTokens, fmt: (n) => `${n} tokens` },
      { name: "time", spent: b.seconds, limit: b.limitSeconds, fmt: (n) => `${Math.round(n)} s` }
    ]
    const limited = dims.filter((d) => d.limit !== undefined)
    if (limited.length === 0) return passed("no budget limits are set")
    const over = limited.filter((d) => d.spent !== undefined && d.spent > d.limit!)
    if (over.length > 0) {
      return failed(
        `over budget: ${over.map((d) => `${d.name} ${d.fmt(d.spent!)} of a ${d.fmt(d.limit!)} limit`).join("; ")}`,
        "raise the limit in spec-orch.toml if the spend is justified, or narrow the change and re-run"
      )
    }
    const unknown = limited.filter((d) => d.spent === undefined)
    if (unknown.length > 0) {
      return notJudgeable(
        `a ${names(unknown.map((d) => d.name))} limit is set but the spend was not measured`,
        rerun(e.issueId)
      )
    }
    return passed(
      `within budget: ${limited.map((d) => `${d.name} ${d.fmt(d.spent!)} of ${d.fmt(d.limit!)}`).join("; ")}`
    )
  }
}

const scope: Condition = {
  name: "scope",
  description: "Every changed file is within the declared footprint",
  judge: (e) => {
    if (e.changedFiles === undefined) return notJudgeable("the run recorded no list of changed files", rerun(e.issueId))
    const fp = e.footprint
    if (fp === undefined || (fp.allowed.length === 0 && fp.forbidden.length === 0)) {
      return notJudgeable(
        "no footprint was declared for this change",
        "declare the files in scope (the issue's target files, or the work packet's footprint) and re-run"
      )
    }
    const outside = e.changedFiles.filter((f) => placeFile(fp, f) !== "inside")
    if (outside.length > 0) {
      return failed(
        `${plural(outside.length, "changed file")} outside the declared footprint: ${names(outside)}`,
        "revert them, or widen the declared footprint to include them and re-run"
      )
    }
    return passed(
      `all ${plural(e.changedFiles.length, "changed file")} are within the declared footprint${fp.allowed.length === 0 ? " (only forbidden paths are declared)" : ""}`
    )
  }
}

/** `@secretlint/secretlint-rule-github` → `github`: the rule as a reader knows it. */
const ruleName = (rule: string) => rule.replace(/^@secretlint\/secretlint-rule-/, "")

const secrets: Condition = {
  name: "secrets",
  description: "The change adds no secret (token shapes and secret environment values)",
  judge: (e) => {
    const found = e.secrets
    if (found === undefined) return notJudgeable("no secret scan ran on the run's diff", rerun(e.issueId))
    if (found.length === 0) return passed("the secret scan found no secret on the added lines")
    const places = [...new Set(found.map((f) => `${f.file}:${f.line}`))]
    return failed(
      `${plural(found.length, "secret")} added: ${names(found.map((f) => `${oneLine(f.file, 100)}:${f.line} (${oneLine(ruleName(f.rule), 60)})`))}`,
      places.length === 1
        ? `remove the secret from ${oneLine(places[0]!, 120)}, rotate it, re-run`
        : `remove the secrets from ${names(places.map((p) => oneLine(p, 120)))}, rotate them, re-run`
    )
  }
}

/** The built-in conditions, in the order reports list them. */
export const BUILTIN_CONDITIONS: ReadonlyArray<Condition> = [
  specExists,
  specApproved,
  withinBoundaries,
  protectedPaths,
  builder,
  verification,
  review,
  preview,
  humanAcceptance,
  findings,
  compliance,
  budget,
  scope,
  secrets
]

const NAME = /^[a-z][a-z0-9_]{0,63}$/

/**
 * The conditions a policy may name: the built-ins plus the embedder's own. Immutable; `register`
 * returns a new registry, so a registry handed to a loaded policy never changes under it.
 */
export class ConditionRegistry {
  private constructor(private readonly byName: ReadonlyMap<string, Condition>) {}

  /** The built-in conditions only. */
  static readonly builtin: ConditionRegistry = new ConditionRegistry(
    new Map(BUILTIN_CONDITIONS.map((c) => [c.name, c]))
  )

  /**
   * The registry in use for policies loaded through `GatePolicies` (default: the built-ins).
   * Provide another with `Effect.provideService(ConditionRegistry.Current, registry)`.
   */
  static readonly Current = Context.Reference<ConditionRegistry>("@spec-orch/evidence/ConditionRegistry", {
    defaultValue: () => ConditionRegistry.builtin
  })

  /** A registry with `condition` added; replacing a built-in needs `{ replace: true }`. */
  register(condition: Condition, options?: { readonly replace?: boolean }): ConditionRegistry {
    if (!NAME.test(condition.name))
      throw new TypeError(`condition name "${condition.name}" must be lower_snake_case (a-z, 0-9, _)`)
    if (this.byName.has(condition.name) && options?.replace !== true) {
      throw new TypeError(`condition "${condition.name}" is already registered; pass { replace: true } to replace it`)
    }
    const next = new Map(this.byName)
    next.set(condition.name, condition)
    return new ConditionRegistry(next)
  }

  /** The condition named `name`, if registered. */
  get(name: string): Condition | undefined {
    return this.byName.get(name)
  }

  /** Every registered name, built-ins first, in registration order. */
  get names(): ReadonlyArray<string> {
    return [...this.byName.keys()]
  }

  /** Every registered condition. */
  get conditions(): ReadonlyArray<Condition> {
    return [...this.byName.values()]
  }
}

/** The context used when a policy does not say otherwise. */
export const DEFAULT_CONTEXT: ConditionContext = { blockOn: DEFAULT_BLOCK_ON, protected: DEFAULT_PROTECTED }
