/**
 * A retrospective of one issue, written from its evidence without a model: how each attempt ended,
 * the gate conditions that failed and why, failed verification steps, deviations, findings, reviews and
 * acceptance, cost, and the time each stage took. Deterministic: the same evidence gives the same file
 * (no clock, no randomness), so it can be committed and diffed.
 */
import type { EvidenceBundle, Finding, GateVerdict, HumanAcceptance, ReviewVerdict } from "@spec-orch/contract"
import { outcomeOf, type RunFacts, summarize } from "./Analytics.js"

/** One attempt at the issue. */
export interface RetroRun extends RunFacts {
  readonly attempt: number
  /** The run's one-sentence message (what happened or what is needed). */
  readonly message?: string | undefined
  readonly inputTokens?: number | undefined
  readonly outputTokens?: number | undefined
}

export interface RetroInput {
  readonly issueId: string
  readonly title?: string | undefined
  /** The issue's runs, oldest first. */
  readonly runs: ReadonlyArray<RetroRun>
  /** The latest judged evidence and its verdict, when the gate judged a run. */
  readonly latest?: { readonly bundle: EvidenceBundle; readonly verdict: GateVerdict } | undefined
  /** Every finding on the issue, resolved ones too. */
  readonly findings: ReadonlyArray<Finding>
  readonly reviews: ReadonlyArray<ReviewVerdict>
  readonly acceptances: ReadonlyArray<HumanAcceptance>
}

/** One line of text from anything: newlines and table pipes cannot break the Markdown around it. */
const inline = (text: string) => text.replace(/\s+/g, " ").replace(/\|/g, "\\|").trim()

/** A fenced block long enough that the text cannot close it. */
const fenced = (text: string) => {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length))
  const fence = "`".repeat(longest + 1)
  return [`${fence}text`, text.trimEnd(), fence]
}

const lastLines = (text: string, n: number) => text.trimEnd().split("\n").slice(-n).join("\n")

const duration = (ms: number) =>
  ms < 1000
    ? `${Math.round(ms)} ms`
    : ms < 60_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`

const runMs = (r: RunFacts) => Object.values(r.stageMs).reduce((s, x) => s + x, 0)

const outcomeText = (r: RetroRun) => {
  const o = outcomeOf(r.status)
  return o === "blocked" && r.blockedBy.length > 0 ? `blocked by ${r.blockedBy.join(", ")}` : o
}

/** The retrospective as Markdown. */
export const renderRetrospective = (input: RetroInput): string => {
  const { runs } = input
  const latest = runs.at(-1)
  const summary = summarize(runs, `issue=${input.issueId}`)
  const out: Array<string> = [
    `# Retrospective: ${input.issueId}${input.title !== undefined ? ` — ${inline(input.title)}` : ""}`,
    ""
  ]
  out.push("Written by `spec-orch retro` from the run store and the evidence ledger, without a model.", "")

  out.push("## Outcome", "")
  if (latest === undefined) {
    out.push("The issue has never run.", "")
  } else {
    const o = summary.outcomes
    out.push(
      `- ${runs.length} attempt(s): ${o.mergeable} mergeable, ${o.blocked} blocked, ${o.failed} failed${o.cancelled > 0 ? `, ${o.cancelled} cancelled` : ""}${o.unfinished > 0 ? `, ${o.unfinished} unfinished` : ""}.`,
      `- Latest: ${latest.runId} (attempt ${latest.attempt}), ${outcomeText(latest)}${latest.message !== undefined && inline(latest.message) !== outcomeText(latest) ? `: ${inline(latest.message)}` : ""}.`,
      ...(input.acceptances.length > 0
        ? [
            `- Accepted by ${input.acceptances.map((a) => `${inline(a.acceptedBy)} (${a.acceptedAt.slice(0, 10)})`).join(", ")}.`
          ]
        : []),
      ""
    )
    out.push("| run | started | outcome | adapter | time | cost |", "|---|---|---|---|---|---|")
    for (const r of runs) {
      out.push(
        `| ${r.runId} | ${r.startedAt.replace("T", " ").slice(0, 16)} | ${inline(outcomeText(r))} | ${inline(r.adapter ?? "-")} | ${duration(runMs(r))} | ${r.costUsd !== undefined ? `$${r.costUsd.toFixed(2)}` : "-"} |`
      )
    }
    out.push("")
  }

  out.push("## Failed conditions", "")
  const failing =
    input.latest?.verdict.conditions.filter((c) => c.status === "failed" || c.status === "not_judgeable") ?? []
  if (failing.length === 0)
    out.push(input.latest === undefined ? "The gate has not judged a run." : "None in the latest verdict.")
  for (const c of failing) {
    out.push(
      `- **${c.condition}** (${c.required ? "required" : "advisory"}, ${c.status === "failed" ? "failed" : "could not be judged"}): ${inline(c.reason)}${c.unblock !== undefined ? ` — to unblock: ${inline(c.unblock)}` : ""}`
    )
  }
  if (summary.blockedBy.length > 0 && runs.length > 1) {
    out.push(
      "",
      `Across the attempts: ${summary.blockedBy.map((b) => `${b.condition} blocked ${b.runs} of ${runs.length}`).join("; ")}.`
    )
  }
  out.push("")

  const steps =
    input.latest?.bundle.verification?.steps.filter((s) => s.outcome !== "passed" && s.outcome !== "skipped") ?? []
  if (steps.length > 0) {
    out.push("## Failed verification steps", "")
    for (const s of steps) {
      out.push(
        `- \`${inline(s.name)}\`: ${s.outcome}${s.exitCode !== null ? ` (exit ${s.exitCode})` : ""}, ${duration(s.durationMs)}${s.note !== undefined ? ` — ${inline(s.note)}` : ""}`,
        ""
      )
      if (s.outputTail.trim() !== "") out.push(...fenced(lastLines(s.outputTail, 12)), "")
    }
  }

  const deviations = input.latest?.bundle.deviations ?? []
  out.push("## Deviations", "")
  if (deviations.length === 0) out.push("None recorded.")
  for (const d of deviations)
    out.push(
      `- ${d.severity}, ${d.resolution}: ${inline(d.description)}${d.filePath !== undefined ? ` (\`${inline(d.filePath)}\`)` : ""} — found by ${inline(d.detectedBy)}`
    )
  out.push("")

  out.push("## Findings", "")
  if (input.findings.length === 0) out.push("None recorded.")
  for (const f of input.findings) {
    out.push(
      `- ${f.id} ${f.severity}, ${f.scope === "in_spec" ? "in spec" : "out of spec"}, from ${inline(f.source)}${f.filePath !== undefined ? ` at \`${inline(f.filePath)}${f.line !== undefined ? `:${f.line}` : ""}\`` : ""}: ${inline(f.description)}${f.resolved ? ` (resolved${f.resolvedBy !== undefined ? ` by ${inline(f.resolvedBy)}` : ""})` : ""}`
    )
  }
  out.push("")

  out.push("## Reviews", "")
  if (input.reviews.length === 0) out.push("None recorded.")
  for (const r of input.reviews)
    out.push(
      `- ${r.verdict} by ${inline(r.reviewedBy)} (${r.source}, ${r.reviewedAt.slice(0, 10)})${r.summary.trim() !== "" ? `: ${inline(r.summary)}` : ""}`
    )
  out.push("")

  out.push("## Cost", "")
  const tokensIn = runs.reduce((s, r) => s + (r.inputTokens ?? 0), 0)
  const tokensOut = runs.reduce((s, r) => s + (r.outputTokens ?? 0), 0)
  out.push(
    summary.cost.runsWithCost > 0
      ? `$${summary.cost.totalUsd.toFixed(2)} over ${summary.cost.runsWithCost} attempt(s) that reported it${summary.cost.runsWithCost < runs.length ? `; ${runs.length - summary.cost.runsWithCost} reported none` : ""}.`
      : "No attempt reported a cost.",
    ...(tokensIn + tokensOut > 0 ? [`Tokens: ${tokensIn} in, ${tokensOut} out.`] : []),
    ""
  )

  out.push("## Time per stage", "")
  if (summary.stages.length === 0) out.push("Not recorded.", "")
  else {
    out.push(`| stage | latest | mean over attempts | attempts |`, "|---|---|---|---|")
    for (const s of summary.stages) {
      const last = latest?.stageMs[s.stage]
      out.push(`| ${s.stage} | ${last !== undefined ? duration(last) : "-"} | ${duration(s.meanMs)} | ${s.n} |`)
    }
    out.push("")
  }
  return `${out.join("\n").trimEnd()}\n`
}
