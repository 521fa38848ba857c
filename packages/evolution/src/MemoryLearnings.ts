/**
 * `Learnings` from memory: what earlier runs of the same issue, or runs that touched the files it
 * names, showed — failed gate conditions, failing verification steps, findings and reviews that still
 * hold. Bounded (a handful of entries, each cut to a few hundred characters); the context assembler
 * fences them as data in the builder's prompt and lists their ids in the run's `context.json`. A memory
 * problem gives no learnings (logged): a run never depends on memory.
 */
import type { Issue } from "@spec-orch/contract"
import { type Learning, Learnings } from "@spec-orch/harness"
import { Effect, Layer } from "effect"
import { type EntityRef, Memory, type MemoryEntry } from "./Memory.js"

/** Kinds of entry that may teach the builder something (see `teaches` for which of them do). */
export const LEARNING_KINDS = ["failed-condition", "verification-failed", "finding", "review", "run-outcome", "note"] as const

/**
 * Whether an entry tells the builder something it can act on: a review only when it asked for changes
 * (not a pass, a pending review or an unsure reviewer), a run's outcome only when the run broke before
 * the gate judged it.
 */
export const teaches = (entry: MemoryEntry): boolean =>
  entry.kind === "review" ? entry.tags.includes("review:changes_requested") : entry.kind === "run-outcome" ? entry.tags.includes("status:failed") : true

/** At most this many learnings per prompt. */
export const MAX_LEARNINGS = 8
/** At most this many characters per learning. */
export const MAX_LEARNING_CHARS = 400

const KIND_LABEL: Record<string, string> = {
  "failed-condition": "gate condition failed",
  "verification-failed": "verification failed",
  finding: "finding",
  review: "review",
  "run-outcome": "run failed",
  note: "a person's note"
}

const cut = (text: string) => (text.length <= MAX_LEARNING_CHARS ? text : `${text.slice(0, MAX_LEARNING_CHARS - 1)}…`)

/** The learning an entry gives (pure). */
export const learningOf = (entry: MemoryEntry): Learning => ({
  id: entry.id,
  text: cut(`${KIND_LABEL[entry.kind] ?? entry.kind}: ${entry.content.replace(/\s+/g, " ").trim()}`),
  source: entry.provenance.runIds.length > 0 ? entry.provenance.runIds.join(", ") : `memory ${entry.key}`
})

/** The issue and the files it names, in that order. */
export const scopesOf = (issue: Issue): Array<EntityRef> => [
  { type: "issue", id: issue.id },
  ...[...new Set([...issue.targetFiles, ...issue.filesToRead])].map((id): EntityRef => ({ type: "file", id }))
]

/** Learnings for an issue from memory: its own entries first, then entries about its files, newest first within each. */
export const MemoryLearnings: Layer.Layer<Learnings, never, Memory> = Layer.effect(
  Learnings,
  Effect.gen(function*() {
    const memory = yield* Memory
    return Learnings.of({
      forIssue: (issue) =>
        Effect.gen(function*() {
          const hits = yield* memory.recall({ scopes: scopesOf(issue), kinds: [...LEARNING_KINDS], layers: ["episodic", "semantic", "procedural"], limit: 50 })
          const own = (e: MemoryEntry) => e.scopes.some((s) => s.type === "issue" && s.id === issue.id)
          const useful = hits.filter((h) => teaches(h.entry))
          const ranked = [...useful.filter((h) => own(h.entry)), ...useful.filter((h) => !own(h.entry))]
          return ranked.slice(0, MAX_LEARNINGS).map((h) => learningOf(h.entry))
        }).pipe(
          Effect.catch((e) => Effect.as(Effect.logWarning(`memory: no learnings for ${issue.id}: ${e.message}`), [])),
          Effect.withSpan("MemoryLearnings.forIssue")
        )
    })
  })
)
