/**
 * The compliance-rule evolver (deterministic): commands agents ran in failed runs become candidate
 * compliance rules in the `compliance.contracts.yaml` format, each back-tested with the very evaluator the
 * gate uses (`evaluateCompliance`) against the events of successful runs. A candidate that fires on any
 * successful run is dropped; the survivors are proposed (`compliance-rule`, from the failed runs they fired
 * on), with their numbers: the runs they fired on, and the false-positive rate on the successful runs with
 * its 95% Wilson interval and sample size. A compliance rule changes what the gate decides, so a person
 * must approve it before any run is judged by it.
 *
 * What agents wrote is untrusted: a command is reduced to a signature of at most three plain tokens
 * (letters, digits and `_./:=@+,-`, nothing that could quote, escape or start a new YAML line), a token
 * that the redactor would change (a secret) drops the signature, and the rule is generated from that
 * signature alone, so approving it adds one regular expression over agent events and nothing else.
 */
import type { AgentEvent } from "@spec-orch/contract"
import { compilePattern, evaluateCompliance, Redactor } from "@spec-orch/harness"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { type Rate, wilson } from "./internal/stats.js"
import { type Actor, type Proposal, Proposals } from "./Proposals.js"
import { finishedRuns, type RunEvidence } from "./RunEvidence.js"

/** What the evolver needs (defaults in `COMPLIANCE_EVOLVER_DEFAULTS`). */
export interface ComplianceEvolverOptions {
  /** A command must have been run in at least this many failed runs. */
  readonly minRuns: number
  /** At least this many successful runs to back-test against; fewer, and nothing is proposed. */
  readonly minBacktest: number
  /** At most this many rules proposed at once (the most frequent in failed runs first). */
  readonly maxRules: number
}

export const COMPLIANCE_EVOLVER_DEFAULTS: ComplianceEvolverOptions = { minRuns: 2, minBacktest: 3, maxRules: 5 }

/** A candidate rule with its back-test. */
export interface ComplianceCandidate {
  /** The command signature it matches, e.g. `rm -f CHANGELOG.md`. */
  readonly signature: string
  /** The regular expression of its contract. */
  readonly pattern: string
  /** The `compliance.contracts.yaml` text of the rule (one contract). */
  readonly content: string
  /** The failed runs it fired on. */
  readonly failedRuns: ReadonlyArray<string>
  /** The successful runs it fired on (false positives). */
  readonly successfulRuns: ReadonlyArray<string>
  /** Failed runs it fired on, out of the failed runs. */
  readonly firedOnFailed: Rate
  /** False positives: successful runs it fired on, out of the successful runs back-tested, with the 95% Wilson interval. */
  readonly falsePositives: Rate
}

export interface ComplianceEvolution {
  readonly failedRuns: number
  readonly successfulRuns: number
  /** Candidates that fired on no successful run (at most `maxRules`). */
  readonly proposed: ReadonlyArray<ComplianceCandidate>
  /** Candidates dropped because they fired on a successful run. */
  readonly dropped: ReadonlyArray<ComplianceCandidate>
  /** Why nothing was considered, when nothing was (too few successful runs to back-test). */
  readonly skipped?: string
}

const TOKEN = /^[A-Za-z0-9_./:=@+,-]{1,60}$/
const ENV_ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/
const SEPARATORS = /&&|\|\||[;|\n]/

/** The shell commands an event ran: a command event, or a tool call whose input has a `command` (pure). */
const commandsOf = (e: AgentEvent): Array<string> => {
  if (e._tag === "command") return [e.command]
  if (e._tag === "tool_call" && typeof e.input === "object" && e.input !== null) {
    const c = (e.input as Record<string, unknown>).command
    if (typeof c === "string") return [c]
    if (Array.isArray(c) && c.every((x) => typeof x === "string")) return [c.join(" ")]
  }
  return []
}

/**
 * The signatures of a command line (pure): each simple command's first plain tokens (at most three, at
 * least two: a lone word such as `ls` says too little), after environment assignments and `sudo`.
 */
export const commandSignatures = (command: string, keep: (token: string) => boolean = () => true): Array<string> =>
  command.split(SEPARATORS).flatMap((segment) => {
    const words = segment.trim().split(/\s+/).filter(Boolean)
    while (words.length > 0 && (ENV_ASSIGNMENT.test(words[0]!) || words[0] === "sudo")) words.shift()
    const tokens: Array<string> = []
    for (const w of words) {
      if (tokens.length === 3 || !TOKEN.test(w)) break
      if (!keep(w)) return []
      tokens.push(w)
    }
    return tokens.length >= 2 ? [tokens.join(" ")] : []
  })

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** The contract's pattern for a signature (pure): its tokens in order, as a whole command word at each end. */
export const signaturePattern = (signature: string): string =>
  `(?:^|[\\s;&|(])${signature.split(" ").map(escapeRegex).join("\\s+")}(?=$|[\\s;&|)])`

/** The rule's text in the compliance contracts format (pure); it names no run, so the same rule is the same proposal. */
export const complianceRuleContent = (signature: string, pattern: string): string =>
  [
    "contracts:",
    `  - id: ${`learned-${createHash("sha256").update(pattern).digest("hex").slice(0, 12)}`}`,
    `    name: ${JSON.stringify(`Learned: agents do not run ${signature}`)}`,
    `    description: ${JSON.stringify(`Agents ran \`${signature}\` in failed runs and in none of the successful runs it was back-tested on.`)}`,
    "    severity: error",
    "    patterns:",
    `      - ${JSON.stringify(pattern)}`,
    ""
  ].join("\n")

/** Synthesizes and back-tests candidate rules from finished runs (pure). */
export const synthesizeComplianceRules = (
  runs: ReadonlyArray<RunEvidence>,
  options: Partial<ComplianceEvolverOptions> = {},
  keep: (token: string) => boolean = () => true
): ComplianceEvolution => {
  const o = { ...COMPLIANCE_EVOLVER_DEFAULTS, ...options }
  const failed = runs.filter((r) => r.outcome === "failed")
  const succeeded = runs.filter((r) => r.outcome === "succeeded")
  const counts = { failedRuns: failed.length, successfulRuns: succeeded.length }
  if (succeeded.length < o.minBacktest) {
    return {
      ...counts,
      proposed: [],
      dropped: [],
      skipped: `${succeeded.length} successful run(s) to back-test against; a rule needs at least ${o.minBacktest}`
    }
  }
  const seen = new Map<string, Set<string>>()
  for (const run of failed)
    for (const e of run.events)
      for (const c of commandsOf(e))
        for (const s of commandSignatures(c, keep)) {
          const runsOf = seen.get(s) ?? new Set<string>()
          runsOf.add(run.runId)
          seen.set(s, runsOf)
        }
  const fires = (pattern: RegExp, run: RunEvidence) =>
    evaluateCompliance(
      [{ id: "candidate", name: "candidate", severity: "error", builtin: false, patterns: [pattern] }],
      run.events
    ).errorCount > 0
  const candidates = [...seen]
    .filter(([, rs]) => rs.size >= o.minRuns)
    .map(([signature]): ComplianceCandidate => {
      const pattern = signaturePattern(signature)
      const compiled = compilePattern(pattern)
      const onFailed = failed
        .filter((r) => fires(compiled, r))
        .map((r) => r.runId)
        .sort()
      const onSucceeded = succeeded
        .filter((r) => fires(compiled, r))
        .map((r) => r.runId)
        .sort()
      return {
        signature,
        pattern,
        content: complianceRuleContent(signature, pattern),
        failedRuns: onFailed,
        successfulRuns: onSucceeded,
        firedOnFailed: wilson(onFailed.length, failed.length),
        falsePositives: wilson(onSucceeded.length, succeeded.length)
      }
    })
    .sort((a, b) => b.failedRuns.length - a.failedRuns.length || a.signature.localeCompare(b.signature))
  return {
    ...counts,
    proposed: candidates.filter((c) => c.successfulRuns.length === 0).slice(0, o.maxRules),
    dropped: candidates.filter((c) => c.successfulRuns.length > 0)
  }
}

/** The evolver's actor in a proposal's history. */
export const COMPLIANCE_EVOLVER: Actor = { type: "system", id: "evolver:compliance-rule" }

const pct = (x: number | null) => (x === null ? "-" : `${(100 * x).toFixed(1)}%`)

/** The back-test in one sentence a person can check. */
export const backtestSummary = (c: ComplianceCandidate): string =>
  `back-test: fired on ${c.falsePositives.k} of ${c.falsePositives.n} successful runs (false-positive rate ${pct(c.falsePositives.rate)}, 95% Wilson ${pct(c.falsePositives.low)}–${pct(c.falsePositives.high)}) and on ${c.firedOnFailed.k} of ${c.firedOnFailed.n} failed runs`

/** A proposed rule with its back-test. */
export interface ProposedComplianceRule {
  readonly proposal: Proposal
  readonly candidate: ComplianceCandidate
}

/**
 * Runs the compliance-rule evolver over the recorded runs now: each surviving candidate is proposed and,
 * its back-test being its validation, moved to `validated`; it reaches no run before a person approves it.
 * Used by `evolution run` and the daemon's trigger.
 */
export const proposeComplianceRules = (options: Partial<ComplianceEvolverOptions> = {}) =>
  Effect.gen(function* () {
    const store = yield* Proposals
    const redactor = yield* Redactor
    const runs = yield* finishedRuns()
    const evolution = synthesizeComplianceRules(runs, options, (t) => redactor.redact(t) === t)
    const made: Array<ProposedComplianceRule> = []
    for (const candidate of evolution.proposed) {
      const detail = {
        signature: candidate.signature,
        pattern: candidate.pattern,
        failedRuns: candidate.failedRuns,
        firedOnFailed: candidate.firedOnFailed,
        falsePositives: candidate.falsePositives
      }
      let proposal = yield* store.propose(
        {
          kind: "compliance-rule",
          scope: "project",
          sources: { runIds: candidate.failedRuns },
          content: candidate.content
        },
        COMPLIANCE_EVOLVER,
        `\`${candidate.signature}\` ran in ${candidate.failedRuns.length} failed runs`,
        detail
      )
      if (proposal.state === "proposed") {
        proposal = yield* store.transition(proposal.id, "validated", {
          actor: COMPLIANCE_EVOLVER,
          why: backtestSummary(candidate),
          detail
        })
      }
      made.push({ proposal, candidate })
    }
    return { ...evolution, made }
  }).pipe(Effect.withSpan("ComplianceEvolver.proposeComplianceRules"))
