/**
 * The verification-learning evolver (deterministic): a verification step that failed in at least
 * `minRuns` runs (memory's `verification-failed` entries that still hold) becomes a `review-learning`
 * proposal telling the builder which step it keeps failing and what the step runs. Its content names
 * no run, so the same recurring failure is the same proposal (same content hash) however often it recurs.
 */
import { Effect } from "effect"
import { Memory, type MemoryEntry } from "./Memory.js"
import { type Actor, type Proposal, type ProposalInput, Proposals } from "./Proposals.js"

const STEP = /^Verification step (\S+) \((.*?)\) (failed|timed out)/

/** Proposals from memory's entries (pure); project-wide when the step failed for more than one issue. */
export const verificationLearnings = (entries: ReadonlyArray<MemoryEntry>, minRuns = 2): Array<ProposalInput> => {
  const groups = new Map<string, { name: string; command: string; runs: Set<string>; issues: Set<string> }>()
  for (const e of entries) {
    if (e.kind !== "verification-failed" || e.validTo !== null) continue
    const m = STEP.exec(e.content)
    if (m === null) continue
    const key = `${m[1]}\u0000${m[2]}`
    const g = groups.get(key) ?? { name: m[1]!, command: m[2]!, runs: new Set<string>(), issues: new Set<string>() }
    for (const r of e.provenance.runIds) g.runs.add(r)
    for (const s of e.scopes) if (s.type === "issue") g.issues.add(s.id)
    groups.set(key, g)
  }
  return [...groups.values()]
    .filter((g) => g.runs.size >= minRuns)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((g) => ({
      kind: "review-learning" as const,
      scope: g.issues.size === 1 ? `issue:${[...g.issues][0]}` : "project",
      sources: { runIds: [...g.runs].sort() },
      content: `Verification step ${g.name} runs \`${g.command}\` and failed in earlier runs: before you finish, make the change it checks for so that it passes.`
    }))
}

/** The evolver's actor in a proposal's history. */
export const VERIFICATION_EVOLVER: Actor = { type: "system", id: "evolver:verification-learning" }

/**
 * Runs the verification-learning evolver over memory now: proposes (state `proposed`, nothing reaches a
 * run before it is validated and approved) every step that failed in at least `minRuns` runs. Used by
 * `evolution run` and by the daemon's trigger (`[evolution] trigger_after_n_runs`).
 */
export const proposeFromFailures = (minRuns = 2) =>
  Effect.gen(function* () {
    const memory = yield* Memory
    const store = yield* Proposals
    const hits = yield* memory.recall({ kinds: ["verification-failed"], limit: 1000 })
    const made: Array<Proposal> = []
    for (const candidate of verificationLearnings(
      hits.map((h) => h.entry),
      minRuns
    )) {
      made.push(
        yield* store.propose(
          candidate,
          VERIFICATION_EVOLVER,
          `verification step failed in ${candidate.sources?.runIds?.length ?? 0} runs`
        )
      )
    }
    return made
  }).pipe(Effect.withSpan("VerificationEvolver.proposeFromFailures"))
