/**
 * A retrospective of a mission, written from its packets' runs and evidence without a model: how each
 * packet ended (and why the skipped ones never ran), the gate conditions that blocked its packets
 * across all their attempts, findings, cost and time per stage over the whole mission. Deterministic
 * like the issue's retrospective: the same evidence gives the same file.
 */
import type { ConditionResult, Finding } from "@spec-orch/contract"
import { outcomeOf, summarize } from "./Analytics.js"
import type { RetroRun } from "./Retrospective.js"

/** One packet of the mission, in plan order. */
export interface MissionRetroPacket {
  readonly packetId: string
  readonly title: string
  readonly wave: number
  /** Its state now (`mission status`): succeeded, blocked, failed, skipped, not-started, … */
  readonly state: string
  /** Why it is blocked, failed or skipped. */
  readonly reason?: string | undefined
  /** Its runs, oldest first. */
  readonly runs: ReadonlyArray<RetroRun>
  /** Conditions that failed or could not be judged in its latest verdict. */
  readonly failing: ReadonlyArray<ConditionResult>
  readonly findings: ReadonlyArray<Finding>
}

export interface MissionRetroInput {
  readonly missionId: string
  readonly title?: string | undefined
  readonly packets: ReadonlyArray<MissionRetroPacket>
}

const inline = (text: string) => text.replace(/\s+/g, " ").replace(/\|/g, "\\|").trim()
const duration = (ms: number) =>
  ms < 1000
    ? `${Math.round(ms)} ms`
    : ms < 60_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
const runMs = (r: RetroRun) => Object.values(r.stageMs).reduce((s, x) => s + x, 0)

/** The mission's retrospective as Markdown. */
export const renderMissionRetrospective = (input: MissionRetroInput): string => {
  const runs = input.packets.flatMap((p) => p.runs)
  const summary = summarize(runs, `mission=${input.missionId}`)
  const out: Array<string> = [
    `# Retrospective: mission ${input.missionId}${input.title !== undefined ? ` — ${inline(input.title)}` : ""}`,
    ""
  ]
  out.push(
    "Written by `spec-orch retro` from the mission's plan, the run store and the evidence ledger, without a model.",
    ""
  )

  out.push("## Outcome", "")
  const states = new Map<string, number>()
  for (const p of input.packets) states.set(p.state, (states.get(p.state) ?? 0) + 1)
  const o = summary.outcomes
  out.push(
    `- ${input.packets.length} packet(s): ${[...states]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([s, n]) => `${n} ${s}`)
      .join(", ")}.`,
    `- ${runs.length} run(s): ${o.mergeable} mergeable, ${o.blocked} blocked, ${o.failed} failed${o.cancelled > 0 ? `, ${o.cancelled} cancelled` : ""}${o.unfinished > 0 ? `, ${o.unfinished} unfinished` : ""}.`,
    ""
  )
  out.push("| wave | packet | state | runs | latest run | time | cost |", "|---|---|---|---|---|---|---|")
  for (const p of input.packets) {
    const last = p.runs.at(-1)
    const time = p.runs.reduce((s, r) => s + runMs(r), 0)
    const cost = p.runs.flatMap((r) => (r.costUsd !== undefined ? [r.costUsd] : []))
    out.push(
      `| ${p.wave} | ${inline(p.packetId)} | ${inline(p.state)}${p.reason !== undefined ? `: ${inline(p.reason)}` : ""} | ${p.runs.length} | ${last !== undefined ? `${last.runId} (${outcomeOf(last.status)})` : "-"} | ${p.runs.length > 0 ? duration(time) : "-"} | ${cost.length > 0 ? `$${cost.reduce((a, b) => a + b, 0).toFixed(2)}` : "-"} |`
    )
  }
  out.push("")

  out.push("## Failed conditions", "")
  const failing = input.packets.filter((p) => p.failing.length > 0)
  if (failing.length === 0) out.push("None in the packets' latest verdicts.")
  for (const p of failing) {
    for (const c of p.failing) {
      out.push(
        `- ${inline(p.packetId)}: **${c.condition}** (${c.status === "failed" ? "failed" : "could not be judged"}): ${inline(c.reason)}${c.unblock !== undefined ? ` — to unblock: ${inline(c.unblock)}` : ""}`
      )
    }
  }
  if (summary.blockedBy.length > 0) {
    out.push(
      "",
      `Across all runs: ${summary.blockedBy.map((b) => `${b.condition} blocked ${b.runs} of ${runs.length}`).join("; ")}.`
    )
  }
  out.push("")

  out.push("## Findings", "")
  const findings = input.packets.flatMap((p) => p.findings.map((f) => ({ packet: p.packetId, f })))
  if (findings.length === 0) out.push("None recorded.")
  for (const { packet, f } of findings) {
    out.push(
      `- ${inline(packet)}: ${f.id} ${f.severity}, from ${inline(f.source)}: ${inline(f.description)}${f.resolved ? " (resolved)" : ""}`
    )
  }
  out.push("")

  out.push("## Cost", "")
  out.push(
    summary.cost.runsWithCost > 0
      ? `$${summary.cost.totalUsd.toFixed(2)} over ${summary.cost.runsWithCost} run(s) that reported it${summary.cost.runsWithCost < runs.length ? `; ${runs.length - summary.cost.runsWithCost} reported none` : ""}.`
      : "No run reported a cost.",
    ""
  )

  out.push("## Time per stage", "")
  if (summary.stages.length === 0) out.push("Not recorded.", "")
  else {
    out.push("| stage | mean over runs | runs |", "|---|---|---|")
    for (const s of summary.stages) out.push(`| ${s.stage} | ${duration(s.meanMs)} | ${s.n} |`)
    out.push("")
  }
  return `${out.join("\n").trimEnd()}\n`
}
