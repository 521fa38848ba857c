/**
 * The two reports of a judged run: `explain.md`, which a person reads in one minute (verdict
 * first, then each condition with its reason, failing step output, deviations, findings and the
 * acceptance checklist), and `report.json`, a stable, versioned schema for machines. Both are pure
 * renders of a bundle and its verdict. Text from issues, agents and tools is untrusted: it is
 * escaped or fenced so it can never pose as part of the verdict.
 */
import {
  ConditionStatus,
  type Confinement,
  describeModelCalls,
  formatModelCost,
  ModelCallsSummary,
  type Deviation,
  type EvidenceBundle,
  type Finding,
  findingBlocks,
  type GateVerdict,
  type Issue,
  type StepResult,
  stepFailed
} from "@spec-orch/contract"
import { Schema } from "effect"
import { DEFAULT_BLOCK_ON, detectDeviations, deviationBlocks, type DeviationSeverity } from "./Deviations.js"
import { verdictHeadline } from "./Gate.js"

/** The `report.json` schema version this module writes. */
export const REPORT_SCHEMA_VERSION = 1

const N = Schema.NullOr
/** `report.json`, schema version 1. Every field is always present (`null` when there is no evidence). */
export const ReportJson = Schema.Struct({
  schemaVersion: Schema.Literal(1),
  issueId: Schema.String,
  runId: N(Schema.String),
  title: N(Schema.String),
  verdict: Schema.Struct({
    /** `mergeable`, or `blocked` when a required condition failed or could not be judged. */
    status: Schema.Literals(["mergeable", "blocked"]),
    mergeable: Schema.Boolean,
    autoMergeable: Schema.Boolean,
    headline: Schema.String,
    policy: Schema.String,
    profile: N(Schema.String),
    failed: Schema.Array(Schema.String),
    notJudgeable: Schema.Array(Schema.String)
  }),
  conditions: Schema.Array(
    Schema.Struct({
      condition: Schema.String,
      required: Schema.Boolean,
      status: ConditionStatus,
      reason: Schema.String,
      unblock: N(Schema.String)
    })
  ),
  builder: N(
    Schema.Struct({
      kind: Schema.String,
      adapter: Schema.String,
      durationMs: Schema.Number,
      filesChanged: Schema.Array(Schema.String),
      inputTokens: Schema.Number,
      outputTokens: Schema.Number,
      costUsd: N(Schema.Number),
      message: N(Schema.String),
      /** Tool calls that failed or were refused inside the turn, in all (the list may be cut short). */
      failedToolCallCount: Schema.Number,
      failedToolCalls: Schema.Array(
        Schema.Struct({
          name: Schema.String,
          kind: Schema.String,
          reason: Schema.String,
          denied: Schema.Boolean,
          target: N(Schema.String)
        })
      )
    })
  ),
  verification: N(
    Schema.Struct({
      passed: Schema.Number,
      failed: Schema.Number,
      skipped: Schema.Number,
      steps: Schema.Array(
        Schema.Struct({
          name: Schema.String,
          outcome: Schema.String,
          exitCode: N(Schema.Number),
          durationMs: Schema.Number,
          command: Schema.Array(Schema.String),
          logPath: N(Schema.String),
          note: N(Schema.String)
        })
      ),
      /** What the reader must know about the environment the steps ran in (a reinstall, a changed lockfile). */
      notes: Schema.Array(Schema.String)
    })
  ),
  review: N(
    Schema.Struct({
      verdict: Schema.String,
      reviewedBy: Schema.String,
      source: Schema.String,
      reviewedAt: Schema.String,
      summary: Schema.String,
      diffHash: N(Schema.String),
      /** Present when the reviewer saw only part of the diff: which files were not shown in full, how much was not seen. */
      partial: N(
        Schema.Struct({ files: Schema.Array(Schema.String), charsNotShown: Schema.Number, totalChars: Schema.Number })
      ),
      /** For an LLM review: the model that answered, after how many calls, fallbacks and repair. */
      model: N(Schema.String),
      /** For an LLM review that produced no valid answer: why. */
      failure: N(Schema.String)
    })
  ),
  acceptance: N(
    Schema.Struct({
      acceptedBy: Schema.String,
      acceptedAt: Schema.String,
      diffHash: Schema.String,
      note: N(Schema.String),
      /** `null` when the run recorded no diff hash to compare with. */
      matchesCurrentDiff: N(Schema.Boolean)
    })
  ),
  findings: Schema.Array(
    Schema.Struct({
      id: Schema.String,
      source: Schema.String,
      severity: Schema.String,
      scope: Schema.String,
      confidence: Schema.Number,
      description: Schema.String,
      filePath: N(Schema.String),
      line: N(Schema.Number),
      resolved: Schema.Boolean,
      resolvedBy: N(Schema.String),
      blocks: Schema.Boolean
    })
  ),
  deviations: Schema.Array(
    Schema.Struct({
      id: Schema.String,
      severity: Schema.String,
      resolution: Schema.String,
      description: Schema.String,
      filePath: N(Schema.String),
      detectedBy: Schema.String,
      blocks: Schema.Boolean
    })
  ),
  changedFiles: Schema.Array(Schema.String),
  diffHash: N(Schema.String),
  compliance: N(Schema.Struct({ compliant: Schema.Boolean, errorCount: Schema.Number, warningCount: Schema.Number })),
  budget: N(
    Schema.Struct({
      spentUsd: N(Schema.Number),
      limitUsd: N(Schema.Number),
      tokens: N(Schema.Number),
      limitTokens: N(Schema.Number),
      seconds: N(Schema.Number),
      limitSeconds: N(Schema.Number)
    })
  ),
  /** The run's model calls (the LLM reviewer's, …): totals and per role; `costUsd` null = unknown (a model without prices). */
  modelCalls: N(ModelCallsSummary),
  acceptanceCriteria: Schema.Array(Schema.Struct({ id: Schema.String, text: Schema.String })),
  /** The learned proposals in use in this run (offered to the builder, or a policy that replaced it), each with the content hash of its text. */
  proposals: Schema.Array(Schema.Struct({ id: Schema.String, contentHash: Schema.String }))
})
/** The type of `report.json`. */
export type ReportJson = typeof ReportJson.Type

/** Options for both renders. */
export interface ReportOptions {
  /** The policy's `deviations.block_on`, to mark which deviations block (default: major, blocking). */
  readonly blockOn?: ReadonlyArray<DeviationSeverity> | undefined
  /** The learned proposals active in the run (docs/evolution.md). */
  readonly proposals?: ReadonlyArray<{ readonly id: string; readonly contentHash: string }> | undefined
}

const deviationsOf = (b: EvidenceBundle): ReadonlyArray<Deviation> =>
  b.deviations ??
  (b.changedFiles !== undefined && b.footprint !== undefined ? detectDeviations(b.changedFiles, b.footprint) : [])

/** `report.json` for a judged bundle. */
export const reportJson = (
  bundle: EvidenceBundle,
  verdict: GateVerdict,
  issue?: Issue,
  options?: ReportOptions
): ReportJson => {
  const blockOn = options?.blockOn ?? DEFAULT_BLOCK_ON
  const steps = bundle.verification?.steps ?? []
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    issueId: bundle.issueId,
    runId: bundle.runId ?? null,
    title: issue?.title ?? null,
    verdict: {
      status: verdict.mergeable ? "mergeable" : "blocked",
      mergeable: verdict.mergeable,
      autoMergeable: verdict.autoMergeable,
      headline: verdictHeadline(verdict),
      policy: verdict.policy,
      profile: verdict.profile,
      failed: verdict.failed,
      notJudgeable: verdict.notJudgeable
    },
    conditions: verdict.conditions.map((c) => ({
      condition: c.condition,
      required: c.required,
      status: c.status,
      reason: c.reason,
      unblock: c.unblock ?? null
    })),
    builder:
      bundle.builder === undefined
        ? null
        : {
            kind: bundle.builder.kind,
            adapter: bundle.builder.adapter,
            durationMs: bundle.builder.durationMs,
            filesChanged: bundle.builder.filesChanged,
            inputTokens: bundle.builder.usage.inputTokens,
            outputTokens: bundle.builder.usage.outputTokens,
            costUsd: bundle.builder.usage.costUsd ?? null,
            message: bundle.builder.message ?? null,
            failedToolCallCount: Math.max(
              bundle.builder.failedToolCallCount ?? 0,
              bundle.builder.failedToolCalls?.length ?? 0
            ),
            failedToolCalls: (bundle.builder.failedToolCalls ?? []).map((f) => ({
              name: f.name,
              kind: f.kind,
              reason: f.reason,
              denied: f.denied === true,
              target: f.target ?? null
            }))
          },
    verification:
      bundle.verification === undefined
        ? null
        : {
            passed: steps.filter((s) => s.outcome === "passed").length,
            failed: steps.filter(stepFailed).length,
            skipped: steps.filter((s) => s.outcome === "skipped").length,
            steps: steps.map((s) => ({
              name: s.name,
              outcome: s.outcome,
              exitCode: s.exitCode,
              durationMs: s.durationMs,
              command: s.command,
              logPath: s.logPath ?? null,
              note: s.note ?? null
            })),
            notes: [...(bundle.verification.notes ?? [])]
          },
    review:
      bundle.review === undefined
        ? null
        : {
            verdict: bundle.review.verdict,
            reviewedBy: bundle.review.reviewedBy,
            source: bundle.review.source,
            reviewedAt: bundle.review.reviewedAt,
            summary: bundle.review.summary,
            diffHash: bundle.review.diffHash ?? null,
            partial:
              bundle.review.partial === undefined
                ? null
                : {
                    files: [...bundle.review.partial.files],
                    charsNotShown: bundle.review.partial.charsNotShown,
                    totalChars: bundle.review.partial.totalChars
                  },
            model: bundle.review.model ?? null,
            failure: bundle.review.failure ?? null
          },
    acceptance:
      bundle.acceptance === undefined
        ? null
        : {
            acceptedBy: bundle.acceptance.acceptedBy,
            acceptedAt: bundle.acceptance.acceptedAt,
            diffHash: bundle.acceptance.diffHash,
            note: bundle.acceptance.note ?? null,
            matchesCurrentDiff: bundle.diffHash === undefined ? null : bundle.diffHash === bundle.acceptance.diffHash
          },
    findings: (bundle.findings ?? []).map((f) => ({
      id: f.id,
      source: f.source,
      severity: f.severity,
      scope: f.scope,
      confidence: f.confidence,
      description: f.description,
      filePath: f.filePath ?? null,
      line: f.line ?? null,
      resolved: f.resolved,
      resolvedBy: f.resolvedBy ?? null,
      blocks: findingBlocks(f)
    })),
    deviations: deviationsOf(bundle).map((d) => ({
      id: d.id,
      severity: d.severity,
      resolution: d.resolution,
      description: d.description,
      filePath: d.filePath ?? null,
      detectedBy: d.detectedBy,
      blocks: deviationBlocks(d, blockOn)
    })),
    changedFiles: bundle.changedFiles ?? [],
    diffHash: bundle.diffHash ?? null,
    compliance:
      bundle.compliance === undefined
        ? null
        : {
            compliant: bundle.compliance.compliant,
            errorCount: bundle.compliance.errorCount,
            warningCount: bundle.compliance.warningCount
          },
    budget:
      bundle.budget === undefined
        ? null
        : {
            spentUsd: bundle.budget.spentUsd ?? null,
            limitUsd: bundle.budget.limitUsd ?? null,
            tokens: bundle.budget.tokens ?? null,
            limitTokens: bundle.budget.limitTokens ?? null,
            seconds: bundle.budget.seconds ?? null,
            limitSeconds: bundle.budget.limitSeconds ?? null
          },
    modelCalls: bundle.modelCalls ?? null,
    acceptanceCriteria: (issue?.acceptanceCriteria ?? []).map((c) => ({ id: c.id, text: c.text })),
    proposals: (options?.proposals ?? []).map((p) => ({ id: p.id, contentHash: p.contentHash }))
  }
}

// ---------------------------------------------------------------------------------------------
// explain.md

/**
 * Untrusted text as one inert line of markdown, still readable as plain text: newlines are
 * flattened (no headings, lists or fences can start), and table pipes, HTML, links, code spans and
 * emphasis markers are escaped (so nothing can pose as a bold verdict or a link).
 */
export const mdText = (text: string, max = 300): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  const cut = flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
  return cut
    .replace(/[\\`*|[\]~]/g, "\\$&")
    .replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, "\\_")
    .replace(/</g, "&lt;")
}

/**
 * explain.md as a person reads it in a terminal: the escapes `mdText` adds for Markdown renderers
 * (`\\[`, `\\_`, `&lt;`) undone, outside code fences. The file keeps them.
 */
export const markdownForTerminal = (markdown: string): string => {
  let inFence: string | undefined
  return markdown
    .split("\n")
    .map((line) => {
      const fence = /^(`{3,})/.exec(line)?.[1]
      if (fence !== undefined) {
        if (inFence === undefined) inFence = fence
        else if (fence.length >= inFence.length && line.trim() === fence) inFence = undefined
        return line
      }
      if (inFence !== undefined) return line
      return line.replace(/\\([\\`*|[\]~_])/g, "$1").replace(/&lt;/g, "<")
    })
    .join("\n")
}

/** Untrusted text in a fenced code block whose fence no line of the text can close. */
export const mdFence = (text: string, info = "text"): string => {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length))
  const fence = "`".repeat(Math.max(3, longest + 1))
  return `${fence}${info}\n${text.replace(/\n+$/, "")}\n${fence}`
}

const code = (text: string) => `\`${text.replace(/`/g, "'").replace(/\s+/g, " ")}\``
const short = (hash: string) => hash.slice(0, 12)
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`
const STATUS_ORDER: Record<string, number> = { failed: 0, not_judgeable: 1, passed: 2, disabled: 3 }
const STATUS_TEXT: Record<string, string> = {
  failed: "✗ failed",
  not_judgeable: "? could not judge",
  passed: "✓ passed",
  disabled: "– disabled"
}
const TAIL_LINES = 30
/** Failed tool calls listed in explain.md (the outcome keeps up to 20). */
const FAILED_CALLS_SHOWN = 10

const stepTail = (s: StepResult): string => {
  const lines = s.outputTail.replace(/\n+$/, "").split("\n")
  return lines.slice(-TAIL_LINES).join("\n")
}

const findingLine = (f: Finding): string =>
  `- ${f.resolved ? "✓ resolved" : f.severity === "blocking" ? "**blocking**" : "advisory"}, ${f.scope === "in_spec" ? "in spec" : "out of spec"} · ${code(f.id)}` +
  `${f.filePath !== undefined ? ` ${code(`${f.filePath}${f.line !== undefined ? `:${f.line}` : ""}`)}` : ""} · ${mdText(f.description)} _(${mdText(f.source, 40)})_` +
  `${f.resolved && f.resolvedBy !== undefined ? ` · resolved by ${mdText(f.resolvedBy, 60)}` : ""}`

/** `explain.md` for a judged bundle: a person reads it in one minute. */
export const renderExplain = (
  bundle: EvidenceBundle,
  verdict: GateVerdict,
  issue?: Issue,
  options?: ReportOptions
): string => {
  const blockOn = options?.blockOn ?? DEFAULT_BLOCK_ON
  const out: Array<string> = []
  const id = mdText(bundle.issueId, 80)
  out.push(`# ${id}${issue !== undefined ? `: ${mdText(issue.title, 120)}` : ""}`, "")

  // The verdict comes first and is written only from the verdict.
  const counts = [
    ...(verdict.failed.length > 0 ? [`${verdict.failed.length} failed (${verdict.failed.join(", ")})`] : []),
    ...(verdict.notJudgeable.length > 0
      ? [`${verdict.notJudgeable.length} could not be judged (${verdict.notJudgeable.join(", ")})`]
      : [])
  ]
  out.push(
    `**Verdict: ${verdict.mergeable ? "MERGEABLE" : "BLOCKED"}**${counts.length > 0 ? ` · ${counts.join(" · ")}` : ""}`,
    "",
    `Policy ${code(verdict.policy)}, profile ${verdict.profile === null ? "none" : code(verdict.profile)} · auto-merge: ${verdict.autoMergeable ? "yes" : "no"}${bundle.runId !== undefined ? ` · run ${code(bundle.runId)}` : ""}`,
    ""
  )
  const proposals = options?.proposals ?? []
  if (proposals.length > 0)
    out.push(
      `Learned proposals in use (rules and skills offered to the builder, a policy that replaced it): ${proposals.map((p) => `${code(p.id)} (sha256 ${code(short(p.contentHash))})`).join(", ")}`,
      ""
    )

  out.push("## Conditions", "", "| Result | Condition | Required | Why | To unblock |", "|---|---|---|---|---|")
  const ordered = verdict.conditions
    .map((c, i) => ({ c, i }))
    .sort((a, b) => STATUS_ORDER[a.c.status]! - STATUS_ORDER[b.c.status]! || a.i - b.i)
  for (const { c } of ordered) {
    out.push(
      `| ${STATUS_TEXT[c.status]} | ${c.condition} | ${c.status === "disabled" ? "off" : c.required ? "required" : "advisory"} | ${mdText(c.reason)} | ${c.unblock !== undefined ? mdText(c.unblock) : ""} |`
    )
  }
  out.push("")

  const steps = bundle.verification?.steps ?? []
  const bad = steps.filter(stepFailed)
  if (bad.length > 0) {
    out.push("## Failing verification steps", "")
    for (const s of bad) {
      out.push(
        `### ${mdText(s.name, 60)}: ${s.outcome.replace("_", " ")}${s.exitCode !== null ? ` (exit ${s.exitCode})` : ""}, ${seconds(s.durationMs)}`,
        "",
        `Command: ${code(s.command.join(" "))}${s.logPath !== undefined ? ` · full log: ${code(s.logPath)}` : ""}${s.note !== undefined ? ` · ${mdText(s.note)}` : ""}`,
        "",
        s.outputTail.trim() === "" ? "_(no output)_" : mdFence(stepTail(s)),
        ""
      )
    }
  }

  // A step that changed the worktree: what was verified is not what was committed.
  const changing = steps.filter((s) => (s.modified ?? []).length > 0)
  if (changing.length > 0) {
    out.push("## Verification changed the worktree", "")
    for (const s of changing) {
      const files = s.modified ?? []
      out.push(
        `- ${mdText(s.name, 60)}${s.outcome === "passed" ? " (allowed by may_modify)" : ""}: ${files.slice(0, 10).map(code).join(", ")}${files.length > 10 ? `, and ${files.length - 10} more` : ""}`
      )
    }
    out.push(
      "",
      "The changes are left uncommitted in the worktree for you to see; the committed branch does not have them.",
      ""
    )
  }
  const notes = bundle.verification?.notes ?? []
  if (notes.length > 0) out.push("## Verification notes", "", ...notes.map((n) => `- ${mdText(n)}`), "")

  const deviations = deviationsOf(bundle)
  if (deviations.length > 0) {
    out.push(`## Deviations (${deviations.length})`, "")
    for (const d of deviations) {
      const blocks = deviationBlocks(d, blockOn)
      out.push(
        `- ${blocks ? `**${d.severity}, blocks**` : `${d.severity}, advisory`} · ${d.filePath !== undefined ? `${code(d.filePath)} · ` : ""}${mdText(d.description)} · ${d.resolution.replace("_", " ")}`
      )
    }
    out.push("")
  }

  const findings = bundle.findings ?? []
  if (findings.length > 0) {
    const blocking = findings.filter(findingBlocks).length
    out.push(`## Findings (${findings.length}${blocking > 0 ? `, ${blocking} blocking` : ""})`, "")
    const order = (f: Finding) => (findingBlocks(f) ? 0 : f.resolved ? 2 : 1)
    for (const f of [...findings].sort((a, b) => order(a) - order(b))) out.push(findingLine(f))
    out.push("")
  }

  out.push("## Acceptance checklist", "")
  const criteria = issue?.acceptanceCriteria ?? []
  // Ticked once a person accepted exactly this diff: the acceptance covers every item of the list.
  const accepted =
    bundle.acceptance !== undefined && bundle.diffHash !== undefined && bundle.acceptance.diffHash === bundle.diffHash
  const box = accepted ? "- [x]" : "- [ ]"
  if (criteria.length === 0)
    out.push(`${box} The change does what the issue asks (the issue lists no acceptance criteria)`)
  for (const c of criteria) out.push(`${box} ${mdText(c.id, 20)}: ${mdText(c.text)}`)
  if (deviations.length > 0)
    out.push(
      `${box} The ${deviations.length} deviation${deviations.length === 1 ? "" : "s"} above ${deviations.length === 1 ? "is" : "are"} acceptable`
    )
  out.push("")
  const a = bundle.acceptance
  if (a === undefined) {
    out.push(`Not accepted yet: ${code(`spec-orch accept-issue ${bundle.issueId} --accepted-by <you>`)}`)
  } else {
    const match =
      bundle.diffHash === undefined
        ? "the run recorded no diff hash to compare with"
        : bundle.diffHash === a.diffHash
          ? "matches the current diff"
          : `**a different diff**: the current diff is ${code(short(bundle.diffHash))}`
    out.push(
      `Accepted by ${mdText(a.acceptedBy, 80)} at ${mdText(a.acceptedAt, 40)} for diff ${code(short(a.diffHash))} (${match})${a.note !== undefined ? `: ${mdText(a.note)}` : ""}`
    )
  }
  out.push("")

  const facts: Array<string> = []
  const b = bundle.builder
  if (b !== undefined) {
    facts.push(
      `- Builder: ${mdText(b.adapter, 40)} ${b.kind.replace("_", " ")} in ${seconds(b.durationMs)}, ${(bundle.changedFiles ?? b.filesChanged).length} file(s) changed, ${b.usage.inputTokens + b.usage.outputTokens} tokens${b.usage.costUsd !== undefined ? `, $${b.usage.costUsd.toFixed(2)}` : ""}`
    )
    const listed = b.failedToolCalls ?? []
    const total = Math.max(b.failedToolCallCount ?? 0, listed.length)
    if (total > 0) {
      facts.push(`- Failed tool calls inside the turn (${total}):`)
      for (const f of listed.slice(0, FAILED_CALLS_SHOWN)) {
        facts.push(
          `  - ${f.denied === true ? "refused" : "failed"} ${f.kind.replace("_", " ")}: ${code(f.name.slice(0, 60))}${f.target !== undefined ? ` ${mdText(f.target, 120)}` : ""}: ${mdText(f.reason, 200)}`
        )
      }
      if (total > Math.min(listed.length, FAILED_CALLS_SHOWN))
        facts.push(
          `  - and ${total - Math.min(listed.length, FAILED_CALLS_SHOWN)} more (the run's events.jsonl has them all)`
        )
    }
  }
  if (b?.outputTruncated !== undefined) {
    const t = b.outputTruncated
    facts.push(
      `- Agent output beyond the caps (\`[limits]\`): ${t.lines} line(s) cut (${t.lineBytesDropped} bytes), ${t.artifactBytesDropped} bytes not kept in the artifacts`
    )
  }
  if (steps.length > 0)
    facts.push(`- Verification: ${steps.map((s) => `${mdText(s.name, 40)} ${s.outcome.replace("_", " ")}`).join(", ")}`)
  const sandboxLine = (who: string, c: Confinement | undefined) => {
    if (c === undefined) return
    facts.push(
      c.confined
        ? `- Sandbox (${who}): ${c.notes.map((n) => mdText(n, 600)).join("; ")}`
        : `- **Sandbox (${who}): NOT confined** — ${c.notes.map((n) => mdText(n, 600)).join("; ")}`
    )
    for (const refused of c.refused.slice(0, 10)) facts.push(`  - ${mdText(refused, 200)}`)
  }
  sandboxLine("agent", b?.sandbox)
  sandboxLine("verification", bundle.verification?.sandbox)
  const r = bundle.review
  if (r !== undefined)
    facts.push(
      `- Review: ${r.verdict.replace("_", " ")} by ${mdText(r.reviewedBy, 60)} (${r.source})${r.summary !== "" ? `: ${mdText(r.summary)}` : ""}`
    )
  if (r?.partial !== undefined) {
    const p = r.partial
    facts.push(
      `  - **Partial view:** the reviewer did not see ${p.charsNotShown} of ${p.totalChars} diff characters; not shown in full: ${p.files.slice(0, 10).map(code).join(", ")}${p.files.length > 10 ? `, and ${p.files.length - 10} more` : ""}`
    )
  }
  if (r?.model !== undefined) facts.push(`- Reviewed by model ${mdText(r.model, 400)}`)
  const m = bundle.modelCalls
  if (m !== undefined) {
    facts.push(`- Model calls: ${mdText(describeModelCalls(m), 600)}`)
    // Beside the agent's cost, so a reader sees what the whole run cost.
    const agentCost =
      b === undefined
        ? undefined
        : b.usage.costUsd !== undefined
          ? formatModelCost(b.usage.costUsd)
          : "unknown (the agent reported none)"
    facts.push(
      `- Cost: ${agentCost !== undefined ? `agent ${agentCost} · ` : ""}model calls ${formatModelCost(m.costUsd)}`
    )
  }
  if (bundle.compliance !== undefined)
    facts.push(
      `- Compliance: ${bundle.compliance.compliant ? "compliant" : "not compliant"}, ${bundle.compliance.errorCount} error(s), ${bundle.compliance.warningCount} warning(s)`
    )
  if (bundle.changedFiles !== undefined) {
    const files = bundle.changedFiles
    facts.push(
      `- Changed files (${files.length}): ${files.slice(0, 10).map(code).join(", ")}${files.length > 10 ? `, and ${files.length - 10} more` : ""}`
    )
  }
  if (bundle.diffHash !== undefined) facts.push(`- Diff: ${code(short(bundle.diffHash))}`)
  if (facts.length > 0) out.push("## Run", "", ...facts, "")
  return out.join("\n")
}
