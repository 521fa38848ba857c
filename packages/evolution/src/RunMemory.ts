/**
 * The run writer: what a finished run showed, recorded as episodic memory with its provenance.
 *
 * - `run:<run>`: the outcome (issue, attempt, adapter, status, verdict, changed files, review);
 * - `issue:<issue>:condition:<c>`: a gate condition that failed (why, how to unblock, the runs that
 *   showed it); a later run where it passes supersedes it with a `condition-passed` entry;
 * - `issue:<issue>:step:<name>`: a verification step that failed, with its output's tail; likewise
 *   superseded when the step passes again;
 * - `finding:<fingerprint>`: each finding (`finding-resolved` once resolved);
 * - `issue:<issue>:review`: the latest review verdict.
 *
 * Recording is best-effort: `record` never fails; a memory or ledger problem is logged and the run
 * goes on as if memory were off.
 */
import type { EvidenceBundle, Finding, RunRecord } from "@spec-orch/contract"
import { EvidenceLedger } from "@spec-orch/evidence"
import { Cause, Context, Effect, Layer } from "effect"
import { type EntityRef, Memory, type MemoryInput } from "./Memory.js"

const MAX_FILES = 50
const MAX_TAIL = 800

const listed = (xs: ReadonlyArray<string>, max = 10) =>
  xs.length <= max ? xs.join(", ") : `${xs.slice(0, max).join(", ")} and ${xs.length - max} more`
/** Stack frames of runtimes say nothing a builder can use and crowd out the assertion: left out. */
const FRAME = /^\s*(at\s|.*\((node|internal)[:/])|.*node:(internal|async_hooks)/
const tail = (text: string) => {
  const t = text
    .split("\n")
    .filter((l) => !FRAME.test(l))
    .join("\n")
    .trim()
  return t.length <= MAX_TAIL ? t : `…${t.slice(t.length - MAX_TAIL)}`
}
/** The lines of a step's output that say what went wrong (assertions, errors, failing tests), at most 400 characters. */
const KEY_LINE = /error|fail|expected|actual|assert|not ok|exception|panic|traceback|\u2716|\u00d7/i
const gist = (text: string) => {
  const lines = [
    ...new Set(
      text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && KEY_LINE.test(l) && !FRAME.test(l))
    )
  ]
  let out = ""
  for (const l of lines) {
    if (out.length + l.length + 3 > 400) break
    out += out === "" ? l : ` | ${l}`
  }
  return out
}
const commandText = (c: ReadonlyArray<string> | string) => (typeof c === "string" ? c : c.join(" "))

/**
 * The issue's failures that hold now (`failed-condition` and `verification-failed` entries): key →
 * the runs that showed it. A passing run closes them; a run that fails the same way again adds itself.
 */
export type OpenFailures = ReadonlyMap<string, ReadonlyArray<string>>

/** At most this many runs named in a failure's provenance (the most recent). */
const MAX_RUNS = 20

/** The entries a finished run adds to memory (pure). */
export const runEntries = (
  record: RunRecord,
  bundle: EvidenceBundle | undefined,
  open: OpenFailures = new Map()
): Array<MemoryInput> => {
  const issue: EntityRef = { type: "issue", id: record.issueId }
  const files = [...new Set(bundle?.changedFiles ?? bundle?.fileChanges?.map((f) => f.path) ?? [])].slice(0, MAX_FILES)
  const fileScopes = files.map((id): EntityRef => ({ type: "file", id }))
  const adapter: Array<EntityRef> = record.adapter !== undefined ? [{ type: "adapter", id: record.adapter }] : []
  const runIds = [record.runId]
  const at = record.finishedAt ?? record.updatedAt
  const verdict = record.verdict
  const review = bundle?.review
  // A failure seen again: the runs that showed it, oldest first, this one last.
  const seenIn = (key: string) => [...new Set([...(open.get(key) ?? []), record.runId])].slice(-MAX_RUNS)
  const inRuns = (runs: ReadonlyArray<string>) =>
    `in run${runs.length > 1 ? "s" : ""} ${listed(runs.length > 5 ? runs.slice(-5) : runs)}`
  const reviewId = review !== undefined ? `${review.source}:${review.reviewedBy}@${review.reviewedAt}` : undefined
  const findings = bundle?.findings ?? []

  const outcome =
    verdict === undefined
      ? `ended ${record.status} at stage ${record.stage}`
      : verdict.mergeable
        ? `ended ${record.status}: mergeable${verdict.autoMergeable ? " (auto-merge allowed)" : ""}`
        : `ended ${record.status}: blocked by ${listed([...verdict.failed, ...verdict.notJudgeable])}`
  const entries: Array<MemoryInput> = [
    {
      key: `run:${record.runId}`,
      layer: "episodic",
      kind: "run-outcome",
      scopes: [issue, ...adapter, ...fileScopes],
      tags: [
        `status:${record.status}`,
        `outcome:${verdict?.mergeable === true ? "pass" : "fail"}`,
        ...adapter.map((a) => `adapter:${a.id}`)
      ],
      provenance: {
        runIds,
        findingIds: findings.map((f) => f.id),
        ...(reviewId !== undefined ? { reviewIds: [reviewId] } : {})
      },
      content: [
        `Run ${record.runId} of ${record.issueId} (attempt ${record.attempt}${record.adapter !== undefined ? `, ${record.adapter}` : ""}) ${outcome}.`,
        ...(record.message !== undefined ? [record.message] : []),
        ...(files.length > 0 ? [`Changed files: ${listed(files)}.`] : []),
        ...(review !== undefined ? [`Review: ${review.verdict} by ${review.reviewedBy} (${review.source}).`] : []),
        ...(bundle?.acceptance !== undefined ? [`Accepted by ${bundle.acceptance.acceptedBy}.`] : [])
      ].join(" "),
      validFrom: at
    }
  ]

  for (const c of verdict?.conditions ?? []) {
    const key = `issue:${record.issueId}:condition:${c.condition}`
    if (c.status === "failed") {
      entries.push({
        key,
        layer: "episodic",
        kind: "failed-condition",
        scopes: [issue, ...fileScopes],
        tags: [`condition:${c.condition}`, "failed"],
        provenance: { runIds: seenIn(key) },
        content: `${c.condition} failed ${inRuns(seenIn(key))}: ${c.reason}${c.unblock !== undefined ? ` To unblock: ${c.unblock}` : ""}`,
        validFrom: at
      })
    } else if (c.status === "passed" && open.has(key)) {
      entries.push({
        key,
        layer: "episodic",
        kind: "condition-passed",
        scopes: [issue, ...fileScopes],
        tags: [`condition:${c.condition}`, "passed"],
        provenance: { runIds },
        content: `${c.condition} passed in run ${record.runId}.`,
        validFrom: at
      })
    }
  }

  for (const step of bundle?.verification?.steps ?? []) {
    const key = `issue:${record.issueId}:step:${step.name}`
    if (step.outcome !== "passed" && step.outcome !== "skipped") {
      entries.push({
        key,
        layer: "episodic",
        kind: "verification-failed",
        scopes: [issue, ...fileScopes],
        tags: [`step:${step.name}`, "failed"],
        provenance: { runIds: seenIn(key) },
        content: `Verification step ${step.name} (${commandText(step.command)}) ${step.outcome.replace("_", " ")}${step.exitCode !== null ? ` (exit ${step.exitCode})` : ""} ${inRuns(seenIn(key))}.${gist(step.outputTail) !== "" ? ` Key lines: ${gist(step.outputTail)}.` : ""}${step.outputTail.trim() !== "" ? ` Output ends: ${tail(step.outputTail)}` : ""}`,
        validFrom: at
      })
    } else if (step.outcome === "passed" && open.has(key)) {
      entries.push({
        key,
        layer: "episodic",
        kind: "verification-passed",
        scopes: [issue, ...fileScopes],
        tags: [`step:${step.name}`, "passed"],
        provenance: { runIds },
        content: `Verification step ${step.name} passed in run ${record.runId}.`,
        validFrom: at
      })
    }
  }

  const tools = bundle?.builder?.toolCalls
  if (tools !== undefined && tools.total > 0) {
    const byName = Object.entries(tools.byName).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    entries.push({
      key: `run:${record.runId}:tools`,
      layer: "episodic",
      kind: "tool-calls",
      scopes: [issue, ...adapter],
      tags: [
        "telemetry",
        ...adapter.map((a) => `adapter:${a.id}`),
        ...byName.slice(0, 20).map(([name]) => `tool:${name}`)
      ],
      provenance: { runIds },
      content: `Run ${record.runId}${record.adapter !== undefined ? ` (${record.adapter})` : ""} made ${tools.total} tool call${tools.total === 1 ? "" : "s"}: ${byName.map(([name, n]) => `${name} ${n}`).join(", ")}. In order: ${tools.sequence.join(" → ")}${tools.sequence.length < tools.total ? " …" : ""}.`,
      validFrom: at
    })
  }
  entries.push(...evidenceEntries(record.issueId, record.runId, bundle, fileScopes))
  return entries
}

/** A review's id in provenance: who reviewed, how, and when. */
const reviewIdOf = (review: NonNullable<EvidenceBundle["review"]>) =>
  `${review.source}:${review.reviewedBy}@${review.reviewedAt}`

/**
 * What people (and reviewers) added to an issue's evidence: its findings, its latest review and its
 * acceptance, each with provenance (finding ids, review ids; the run, when there is one).
 */
export const evidenceEntries = (
  issueId: string,
  runId: string | undefined,
  bundle: Partial<Pick<EvidenceBundle, "findings" | "review" | "acceptance">> | undefined,
  fileScopes: ReadonlyArray<EntityRef> = []
): Array<MemoryInput> => {
  const entries: Array<MemoryInput> = []
  const issue: EntityRef = { type: "issue", id: issueId }
  const runIds = runId !== undefined ? [runId] : []
  const review = bundle?.review
  const reviewId = review !== undefined ? reviewIdOf(review) : undefined
  const findings = bundle?.findings ?? []
  const ofRun = runId !== undefined ? `run ${runId}` : "the issue"
  for (const f of findings) {
    const where = f.filePath !== undefined ? ` (${f.filePath}${f.line !== undefined ? `:${f.line}` : ""})` : ""
    entries.push({
      key: `finding:${issueId}:${f.fingerprint}`,
      layer: "episodic",
      kind: f.resolved ? "finding-resolved" : "finding",
      scopes: [issue, ...(f.filePath !== undefined ? [{ type: "file" as const, id: f.filePath }] : [])],
      tags: [`severity:${f.severity}`, `source:${f.source}`, ...(f.resolved ? ["resolved"] : [])],
      provenance: { runIds, findingIds: [f.id] },
      content: `${f.resolved ? `Resolved${f.resolvedBy !== undefined ? ` by ${f.resolvedBy}` : ""}: ` : ""}[${f.severity}] ${f.source}: ${f.description}${where}${f.suggestedAction !== undefined ? ` Suggested: ${f.suggestedAction}` : ""}`,
      validFrom: f.createdAt
    })
  }

  if (review !== undefined && reviewId !== undefined) {
    entries.push({
      key: `issue:${issueId}:review`,
      layer: "episodic",
      kind: "review",
      scopes: [issue, ...fileScopes],
      tags: [`review:${review.verdict}`, `source:${review.source}`],
      provenance: { runIds, reviewIds: [reviewId] },
      content:
        `Review of ${ofRun} by ${review.reviewedBy} (${review.source}): ${review.verdict}. ${review.summary}`.trim(),
      validFrom: review.reviewedAt
    })
  }
  const acceptance = bundle?.acceptance
  if (acceptance !== undefined) {
    entries.push({
      key: `issue:${issueId}:acceptance`,
      layer: "episodic",
      kind: "acceptance",
      scopes: [issue, ...fileScopes],
      tags: ["accepted", "source:human"],
      provenance: { runIds, reviewIds: [`acceptance:${acceptance.acceptedBy}@${acceptance.acceptedAt}`] },
      content: `${acceptance.acceptedBy} accepted the diff ${acceptance.diffHash.slice(0, 12)} of ${ofRun}.${acceptance.note !== undefined ? ` ${acceptance.note}` : ""}`,
      validFrom: acceptance.acceptedAt
    })
  }
  return entries
}

/** Records finished runs in memory. */
export class RunMemory extends Context.Service<
  RunMemory,
  {
    /** Records a finished run (best-effort: never fails, problems are logged). */
    readonly record: (record: RunRecord) => Effect.Effect<void>
    /**
     * Records an issue's evidence after a person added to it and it was judged again (`review-issue`,
     * `accept-issue`, `findings add|resolve`): its findings, review and acceptance, and, when the judged
     * run is given (with its new verdict), the run's outcome and conditions, so an acceptance supersedes
     * "blocked by acceptance". Best-effort like `record`.
     */
    readonly recordJudged: (bundle: EvidenceBundle, record?: RunRecord | undefined) => Effect.Effect<void>
    /** Records an issue's findings when it has no judged evidence yet (`findings add` before any run). Best-effort. */
    readonly recordFindings: (issueId: string, findings: ReadonlyArray<Finding>) => Effect.Effect<void>
  }
>()("@spec-orch/evolution/RunMemory") {
  /** Records into `Memory`, with the run's evidence from the ledger. */
  static readonly layer: Layer.Layer<RunMemory, never, Memory | EvidenceLedger> = Layer.effect(
    RunMemory,
    Effect.gen(function* () {
      const memory = yield* Memory
      const ledger = yield* EvidenceLedger
      const openFailures = (issueId: string) =>
        Effect.map(
          memory.recall({
            scopes: [{ type: "issue", id: issueId }],
            kinds: ["failed-condition", "verification-failed"],
            limit: 1000
          }),
          (open): OpenFailures => new Map(open.map((h) => [h.entry.key, h.entry.provenance.runIds]))
        )
      const bestEffort =
        (what: string) =>
        <E, R>(effect: Effect.Effect<void, E, R>) =>
          effect.pipe(
            Effect.catchCause((cause) =>
              Cause.hasInterruptsOnly(cause)
                ? Effect.interrupt
                : Effect.logWarning(`memory: could not record ${what}; the run is not affected`, Cause.pretty(cause))
            )
          )
      return RunMemory.of({
        record: (record) =>
          Effect.gen(function* () {
            const records = yield* ledger.byRun(record.runId)
            const bundle = records.at(-1)?.bundle
            yield* memory.rememberAll(runEntries(record, bundle, yield* openFailures(record.issueId)))
          }).pipe(bestEffort(`run ${record.runId}`), Effect.withSpan("RunMemory.record")),
        recordJudged: (bundle, record) =>
          Effect.gen(function* () {
            const entries =
              record !== undefined
                ? runEntries(record, bundle, yield* openFailures(record.issueId))
                : evidenceEntries(bundle.issueId, bundle.runId, bundle)
            yield* memory.rememberAll(entries)
          }).pipe(bestEffort(`the evidence of ${bundle.issueId}`), Effect.withSpan("RunMemory.recordJudged")),
        recordFindings: (issueId, findings) =>
          memory
            .rememberAll(evidenceEntries(issueId, undefined, { findings: [...findings] }))
            .pipe(bestEffort(`the findings of ${issueId}`), Effect.asVoid)
      })
    })
  )

  /** Records nothing (memory off). */
  static readonly layerNone: Layer.Layer<RunMemory> = Layer.succeed(
    RunMemory,
    RunMemory.of({ record: () => Effect.void, recordJudged: () => Effect.void, recordFindings: () => Effect.void })
  )
}
