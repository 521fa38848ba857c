/**
 * The scoper-hint evolver (deterministic): a file that runs of several issues had to change outside
 * their declared scope (a `major` deviation the gate's scope check recorded) becomes a `scoper-hint`
 * proposal telling the planner to put that file in the scope of packets whose work reaches it. Approved,
 * it is given to the planner model with a mission's other learnings (`ProposalLearnings.forMission`);
 * the builder is never told it (a hint is about scope, which the builder cannot change).
 *
 * Why from deviations: a plan whose scope misses a file the work needs ends as a blocked run or a person
 * accepting the deviation by hand; the same file missed for several issues is a property of the project
 * (a registry, a changelog, an index that every feature touches), which is what a scoper should know.
 * Forbidden paths (`blocking`) are never hinted into scope, nor incidental files (`minor`: lockfiles and
 * the like). Paths are what agents wrote, so untrusted: one that is not a plain relative path, or that
 * the redactor would change, is dropped.
 */
import type { LedgerRecord } from "@spec-orch/evidence"
import { detectDeviations, EvidenceLedger } from "@spec-orch/evidence"
import { Redactor } from "@spec-orch/harness"
import { Effect } from "effect"
import { type Actor, type Proposal, Proposals } from "./Proposals.js"

/** What the evolver needs (defaults in `SCOPER_HINT_DEFAULTS`). */
export interface ScoperHintOptions {
  /** The file must have been changed out of scope in runs of at least this many distinct issues. */
  readonly minIssues: number
  /** At most this many hints proposed at once (the most frequent first). */
  readonly maxHints: number
}

export const SCOPER_HINT_DEFAULTS: ScoperHintOptions = { minIssues: 2, maxHints: 5 }

/** A candidate hint with the evidence for it. */
export interface ScoperHintCandidate {
  /** The repository-relative file the scopes kept missing. */
  readonly file: string
  /** The runs (last judgement of each) that changed it outside their scope. */
  readonly runs: ReadonlyArray<string>
  /** Their issues. */
  readonly issues: ReadonlyArray<string>
  /** The declared scope entries of those runs, most frequent first: the work the file goes with. */
  readonly alongside: ReadonlyArray<string>
  /** The proposal's text (names the file only, so the same pattern is the same proposal however often it recurs). */
  readonly content: string
}

/** A plain relative path: no `..`, no leading `/`, nothing that could quote or start a new line. */
const PLAIN_PATH = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9_.@+\-/]{1,200}$/

/** The hint's text for a file (pure). */
export const scoperHintText = (file: string): string =>
  `Runs of several issues had to change ${file} although their declared scope left it out: when a packet's work reaches what ${file} registers or documents, list ${file} in that packet's files_in_scope.`

/**
 * The candidates in the ledger's records (pure): the last judgement of each run counts once. `isSafe`
 * says whether a path may appear in a proposal (the redactor leaves it alone).
 */
export const scoperHintCandidates = (
  records: ReadonlyArray<LedgerRecord>,
  options: Partial<ScoperHintOptions> = {},
  isSafe: (text: string) => boolean = () => true
): ReadonlyArray<ScoperHintCandidate> => {
  const o = { ...SCOPER_HINT_DEFAULTS, ...options }
  const last = new Map<string, LedgerRecord>()
  for (const r of records) {
    if (r.runId === null) continue
    last.delete(r.runId)
    last.set(r.runId, r)
  }
  const byFile = new Map<string, { runs: Set<string>; issues: Set<string>; alongside: Map<string, number> }>()
  for (const [runId, r] of last) {
    const b = r.bundle
    const deviations =
      b.deviations ??
      (b.changedFiles !== undefined && b.footprint !== undefined ? detectDeviations(b.changedFiles, b.footprint) : [])
    for (const d of deviations) {
      if (d.severity !== "major" || d.filePath === undefined) continue
      if (!PLAIN_PATH.test(d.filePath) || !isSafe(d.filePath)) continue
      const g = byFile.get(d.filePath) ?? { runs: new Set(), issues: new Set(), alongside: new Map() }
      g.runs.add(runId)
      g.issues.add(r.issueId)
      for (const a of b.footprint?.allowed ?? []) if (isSafe(a)) g.alongside.set(a, (g.alongside.get(a) ?? 0) + 1)
      byFile.set(d.filePath, g)
    }
  }
  return [...byFile]
    .filter(([, g]) => g.issues.size >= o.minIssues)
    .sort(([fa, a], [fb, b]) => b.issues.size - a.issues.size || b.runs.size - a.runs.size || fa.localeCompare(fb))
    .slice(0, o.maxHints)
    .map(([file, g]) => ({
      file,
      runs: [...g.runs].sort(),
      issues: [...g.issues].sort(),
      alongside: [...g.alongside].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([a]) => a),
      content: scoperHintText(file)
    }))
}

/** The evolver's actor in a proposal's history. */
export const SCOPER_HINT_EVOLVER: Actor = { type: "system", id: "evolver:scoper-hint" }

/** A proposed hint with its evidence. */
export interface ProposedScoperHint {
  readonly proposal: Proposal
  readonly candidate: ScoperHintCandidate
}

/**
 * Runs the scoper-hint evolver over the evidence ledger now: every candidate is proposed (state
 * `proposed`: it reaches no plan before it is validated and approved). Used by `evolution run` and the
 * daemon's trigger.
 */
export const proposeScoperHints = (options: Partial<ScoperHintOptions> = {}) =>
  Effect.gen(function* () {
    const store = yield* Proposals
    const ledger = yield* EvidenceLedger
    const redactor = yield* Redactor
    const candidates = scoperHintCandidates(yield* ledger.between({}), options, (t) => redactor.redact(t) === t)
    const made: Array<ProposedScoperHint> = []
    for (const candidate of candidates) {
      const proposal = yield* store.propose(
        { kind: "scoper-hint", scope: "project", sources: { runIds: candidate.runs }, content: candidate.content },
        SCOPER_HINT_EVOLVER,
        `${candidate.file} changed outside the declared scope in ${candidate.runs.length} runs of ${candidate.issues.length} issues`,
        { file: candidate.file, runs: candidate.runs, issues: candidate.issues, alongside: candidate.alongside }
      )
      made.push({ proposal, candidate })
    }
    return made
  }).pipe(Effect.withSpan("ScoperHintEvolver.proposeScoperHints"))
