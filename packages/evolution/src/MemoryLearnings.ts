/**
 * `Learnings` from memory: what earlier runs of the same issue, or runs that touched the files it
 * names, showed — failed gate conditions, failing verification steps, findings and reviews that still
 * hold. Bounded (a handful of entries, each cut to a few hundred characters); the context assembler
 * fences them as data in the builder's prompt and lists their ids in the run's `context.json`. A memory
 * problem gives no learnings (logged): a run never depends on memory.
 *
 * With an embedding model, an issue's learnings also include entries about other issues and files
 * whose meaning is close to the issue's title and summary (vector recall fused with full text, as
 * `memory recall` ranks), so a lesson phrased in other words is found too.
 */
import type { Issue } from "@spec-orch/contract"
import { type Learning, type LearningAudience, Learnings, type MissionScope, withinTokens } from "@spec-orch/harness"
import { Effect, Layer } from "effect"
import { type EntityRef, Memory, type MemoryEntry } from "./Memory.js"

/** Kinds of entry that may teach the builder something (see `teaches` for which of them do); `summary` is a compacted history. */
export const LEARNING_KINDS = [
  "failed-condition",
  "verification-failed",
  "finding",
  "review",
  "run-outcome",
  "note",
  "summary"
] as const

/**
 * What each audience is told: the builder everything it can act on; the reviewer what earlier reviews
 * and the gate asked for (so it checks the change does not repeat it); the planner what failed and how
 * often (so it sizes and orders the work).
 */
export const AUDIENCE_KINDS: Record<LearningAudience, ReadonlyArray<string>> = {
  builder: LEARNING_KINDS,
  reviewer: ["finding", "review", "failed-condition", "note", "summary"],
  planner: ["failed-condition", "verification-failed", "run-outcome", "note", "summary"]
}

/**
 * Whether an entry tells the builder something it can act on: a review only when it asked for changes
 * (not a pass, a pending review or an unsure reviewer), a run's outcome only when the run broke before
 * the gate judged it.
 */
export const teaches = (entry: MemoryEntry): boolean =>
  entry.kind === "review"
    ? entry.tags.includes("review:changes_requested")
    : entry.kind === "run-outcome"
      ? entry.tags.includes("status:failed")
      : true

/** At most this many learnings per prompt. */
export const MAX_LEARNINGS = 8
/** At most this many characters per learning. */
export const MAX_LEARNING_CHARS = 400
/**
 * How similar (cosine) an entry about another issue or file must be to the issue's text to be taught
 * by meaning: below it, the nearest entries of a memory that holds nothing related would fill the
 * prompt. Embedding models place unrelated texts at different similarities (OpenAI's below about
 * 0.3, bge's up to about 0.5): 0.5 keeps what is close for either.
 */
export const LEARNING_MIN_SIMILARITY = 0.5
/** At most this many characters of the issue's text are embedded to find learnings by meaning. */
const MEANING_QUERY_CHARS = 1000

const KIND_LABEL: Record<string, string> = {
  "failed-condition": "gate condition failed",
  "verification-failed": "verification failed",
  finding: "finding",
  review: "review",
  "run-outcome": "run failed",
  note: "a person's note",
  summary: "summary of earlier runs"
}

const cut = (text: string) => (text.length <= MAX_LEARNING_CHARS ? text : `${text.slice(0, MAX_LEARNING_CHARS - 1)}…`)

/** The learning an entry gives (pure). */
export const learningOf = (entry: MemoryEntry): Learning => ({
  id: entry.id,
  text: cut(`${KIND_LABEL[entry.kind] ?? entry.kind}: ${entry.content.replace(/\s+/g, " ").trim()}`),
  source:
    entry.provenance.runIds.length === 0
      ? `memory ${entry.key}`
      : entry.provenance.runIds.length <= 5
        ? entry.provenance.runIds.join(", ")
        : `${entry.provenance.runIds.slice(-5).join(", ")} and ${entry.provenance.runIds.length - 5} earlier runs`
})

/** The issue and the files it names, in that order. */
export const scopesOf = (issue: Issue): Array<EntityRef> => [
  { type: "issue", id: issue.id },
  ...[...new Set([...issue.targetFiles, ...issue.filesToRead])].map((id): EntityRef => ({ type: "file", id }))
]

/** The mission, the issues of its packets, then the files they name, in that order. */
export const missionScopesOf = (scope: MissionScope): Array<EntityRef> => [
  { type: "mission", id: scope.missionId },
  ...[...new Set(scope.issueIds)].map((id): EntityRef => ({ type: "issue", id })),
  ...[...new Set(scope.files)].map((id): EntityRef => ({ type: "file", id }))
]

/**
 * Learnings for an issue from memory: its own entries first (newest first), then, with an embedding
 * model, entries close in meaning to the issue's text (best first), then entries about its files
 * (newest first); for the reviewer and the planner, also within `LEARNING_TOKENS`.
 */
export const MemoryLearnings: Layer.Layer<Learnings, never, Memory> = Layer.effect(
  Learnings,
  Effect.gen(function* () {
    const memory = yield* Memory
    /** Entries about `scopes` for `audience`, those `own` says are about the subject itself first. */
    /** Entries close in meaning to `text`, when vectors take part (nothing without a model, or when it fails). */
    const byMeaning = (text: string, audience: LearningAudience) =>
      Effect.gen(function* () {
        if (text.trim() === "") return []
        const found = yield* memory.search({
          text: text.slice(0, MEANING_QUERY_CHARS),
          kinds: [...AUDIENCE_KINDS[audience]],
          layers: ["episodic", "semantic", "procedural"],
          minSimilarity: LEARNING_MIN_SIMILARITY,
          limit: MAX_LEARNINGS
        })
        if (found.vector.state !== "used") return []
        // Fused, so what shares both words and meaning comes first; words alone do not make a learning.
        return found.results.filter((h) => h.retrievers.includes("vector")).map((h) => h.entry)
      })
    const recall = (
      scopes: Array<EntityRef>,
      audience: LearningAudience,
      own: (e: MemoryEntry) => boolean,
      subject: string,
      text: string
    ) =>
      Effect.gen(function* () {
        const hits = yield* memory.recall({
          scopes,
          kinds: [...AUDIENCE_KINDS[audience]],
          layers: ["episodic", "semantic", "procedural"],
          limit: 50
        })
        const close = yield* byMeaning(text, audience)
        const mine = hits.filter((h) => own(h.entry)).map((h) => h.entry)
        const others = hits.filter((h) => !own(h.entry)).map((h) => h.entry)
        const seen = new Set<string>()
        const ranked = [...mine, ...close, ...others].filter((e) => teaches(e) && !seen.has(e.id) && seen.add(e.id))
        const learnings = ranked.slice(0, MAX_LEARNINGS).map(learningOf)
        return audience === "builder" ? learnings : withinTokens(learnings)
      }).pipe(
        Effect.catch((e) => Effect.as(Effect.logWarning(`memory: no learnings for ${subject}: ${e.message}`), [])),
        Effect.withSpan("MemoryLearnings.recall", { attributes: { audience, subject } })
      )
    return Learnings.of({
      forIssue: (issue, audience = "builder") =>
        recall(
          scopesOf(issue),
          audience,
          (e) => e.scopes.some((s) => s.type === "issue" && s.id === issue.id),
          issue.id,
          `${issue.title}\n${issue.summary}`
        ),
      forMission: (scope) => {
        const mine = new Set(scope.issueIds)
        return recall(
          missionScopesOf(scope),
          "planner",
          (e) =>
            e.scopes.some(
              (s) => (s.type === "mission" && s.id === scope.missionId) || (s.type === "issue" && mine.has(s.id))
            ),
          `mission ${scope.missionId}`,
          ""
        )
      }
    })
  })
)
