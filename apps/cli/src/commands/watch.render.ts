/**
 * What `spec-orch watch` draws, as plain text lines: pure functions over the dashboard's read model
 * (attention items, run rows, a run's timeline and events), so the TTY view, `--once` and the tests
 * share one renderer. No escape codes here: the TTY view adds its own around these lines.
 */
import type { AttentionItem, MissionDetailView, RunEvent, RunView, StageView } from "@spec-orch/control"
import { describeRunEvent } from "../Progress.js"

/** The overview: what needs a person, what runs, what finished lately. */
export interface WatchSnapshot {
  readonly now: number
  readonly attention: ReadonlyArray<AttentionItem>
  /** Runs in flight, each with its current step (the latest event worth a line), if any. */
  readonly running: ReadonlyArray<{ readonly run: RunView; readonly step: string | null }>
  /** Finished runs, newest first. */
  readonly recent: ReadonlyArray<RunView>
}

/** One issue: its latest run, the run's stages and the agent's last lines. */
export interface IssueSnapshot {
  readonly now: number
  readonly issue: string
  readonly run: RunView | null
  readonly timeline: ReadonlyArray<StageView>
  readonly lastLines: ReadonlyArray<string>
  readonly attention: ReadonlyArray<AttentionItem>
}

/** Text from runs (titles, agent output, messages) as inert text: control characters (escape sequences, bells) shown as `?`. */
export const inert = (text: string): string => text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "?")

const one = (text: string, max: number) => {
  const flat = inert(text.replace(/[\t\n\r]+/g, " "))
    .replace(/ +/g, " ")
    .trim()
  return flat.length > max ? `${flat.slice(0, Math.max(1, max - 1))}…` : flat
}

/** `4s`, `2m05s`, `1h03m`. */
export const duration = (ms: number): string => {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
}

/** `$0.0400`, `1500 tokens`, or `-`. */
export const costOf = (v: RunView): string =>
  v.cost_usd !== null ? `$${v.cost_usd.toFixed(4)}` : v.tokens !== null ? `${v.tokens.total_tokens} tokens` : "-"

const elapsedOf = (v: RunView, now: number) =>
  duration((v.finished_at !== null ? Date.parse(v.finished_at) : now) - Date.parse(v.started_at))

/** The attention lines of one item: what is needed, then each command that resolves it. */
export const attentionLines = (a: AttentionItem, width = 120): ReadonlyArray<string> => [
  one(`! ${a.kind} ${a.issue_id}${a.run_id !== null ? ` (${a.run_id})` : ""}: ${a.message}`, width),
  ...a.to_unblock.map((u) => `    ${one(`to unblock: ${u}`, width - 4)}`)
]

/** One finished run: issue, run, state, verdict, time and cost. */
export const finishedLine = (v: RunView, now: number, width = 120): string =>
  one(
    `${v.issue_id} ${v.run_id} ${v.state}${v.verdict !== null ? ` · verdict ${v.verdict}` : ""} · ${elapsedOf(v, now)} · ${costOf(v)}${v.title !== null ? ` · ${v.title}` : ""}`,
    width
  )

/** One running run: stage, elapsed time, current step and cost. */
export const runningLine = (v: RunView, step: string | null, now: number, width = 120): string =>
  one(
    `${v.issue_id} ${v.run_id} ${v.state} · ${v.stage} · ${elapsedOf(v, now)} · ${costOf(v)}${step !== null ? ` · ${step}` : ""}`,
    width
  )

/** The overview as lines, needs-attention first. */
export const renderOverview = (s: WatchSnapshot, width = 120): ReadonlyArray<string> => [
  `Needs attention (${s.attention.length})`,
  ...(s.attention.length === 0
    ? ["  nothing"]
    : s.attention.flatMap((a) => attentionLines(a, width - 2).map((l) => `  ${l}`))),
  "",
  `Running (${s.running.length})`,
  ...(s.running.length === 0
    ? ["  nothing"]
    : s.running.map((r) => `  ${runningLine(r.run, r.step, s.now, width - 2)}`)),
  "",
  `Recent (${s.recent.length})`,
  ...(s.recent.length === 0 ? ["  nothing"] : s.recent.map((v) => `  ${finishedLine(v, s.now, width - 2)}`))
]

const stageLine = (t: StageView) =>
  `${t.state === "started" ? "▸" : t.state === "failed" || t.ok === false ? "✗" : "✓"} ${t.stage}${t.ms !== null ? ` (${(t.ms / 1000).toFixed(1)}s)` : ""}${
    t.summary !== null && (t.state === "failed" || t.ok === false) ? `: ${t.summary}` : ""
  }`

/** One issue as lines: its run, its attention items, its stage timeline and the agent's last lines. */
export const renderIssue = (s: IssueSnapshot, width = 120): ReadonlyArray<string> => {
  if (s.run === null) return [`${s.issue}: no run yet (waiting for one: \`spec-orch run ${s.issue}\`)`]
  const v = s.run
  const head =
    v.state === "running" || v.state === "queued" ? runningLine(v, null, s.now, width) : finishedLine(v, s.now, width)
  return [
    head,
    ...(s.attention.length === 0 ? [] : ["", ...s.attention.flatMap((a) => attentionLines(a, width))]),
    "",
    "Stages",
    ...(s.timeline.length === 0 ? ["  none yet"] : s.timeline.map((t) => `  ${one(stageLine(t), width - 2)}`)),
    "",
    "Agent",
    ...(s.lastLines.length === 0 ? ["  nothing yet"] : s.lastLines.map((l) => `  ${one(l, width - 2)}`))
  ]
}

/** The latest event of a run worth a line (its current step), without the timestamp. */
export const currentStep = (events: ReadonlyArray<RunEvent>): string | null => {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!
    const d = e.data as { stage?: string; state?: string }
    if (e.kind === "stage" && d.state === "started") return `▸ ${d.stage}`
    const line = describeRunEvent(e)
    if (line !== undefined) return line.trim()
  }
  return null
}

/** The agent's last `n` lines of a run. */
export const agentLines = (events: ReadonlyArray<RunEvent>, n = 8): ReadonlyArray<string> =>
  events
    .filter((e) => e.kind === "agent")
    .flatMap((e) => {
      const line = describeRunEvent(e)
      return line === undefined ? [] : [`${e.at.slice(11, 19)} ${line.trim().replace(/^agent /, "")}`]
    })
    .slice(-n)

/** One plain line (no escape codes) for a change, for logs; undefined when nothing worth a line changed. */
export const changeLine = (
  e:
    | { readonly event: "run"; readonly data: RunView; readonly now: number }
    | { readonly event: "log"; readonly data: RunEvent; readonly agent: boolean }
): string | undefined => {
  if (e.event === "run") {
    const v = e.data
    const body =
      v.state === "running" || v.state === "queued" ? runningLine(v, null, e.now, 200) : finishedLine(v, e.now, 200)
    return `${new Date(e.now).toISOString().slice(11, 19)} ${body}`
  }
  const d = e.data.data as { stage?: string; state?: string }
  if (e.data.kind === "agent" && !e.agent) return undefined
  const line = e.data.kind === "stage" && d.state === "started" ? `▸ ${d.stage}` : describeRunEvent(e.data)
  return line === undefined ? undefined : one(`${e.data.at.slice(11, 19)} ${e.data.runId} ${line}`, 400)
}

const PACKET_MARK: Readonly<Record<string, string>> = {
  succeeded: "✓",
  running: "▸",
  failed: "✗",
  blocked: "✗",
  interrupted: "!",
  waiting: "?",
  skipped: "-",
  "not-started": "·"
}

/** One packet of a mission: its state, its latest run and what `run-plan` would do with it. */
export const packetLine = (p: MissionDetailView["waves"][number]["packets"][number], width = 120): string =>
  one(
    `${PACKET_MARK[p.state] ?? "·"} ${p.packet_id} ${p.state}${p.run !== null ? ` · ${p.run.run_id}${p.run.state === "running" ? ` · ${p.run.stage}` : ""}${p.run.verdict !== null ? ` · verdict ${p.run.verdict}` : ""}` : ""}${
      p.integration !== null ? ` · integration ${p.integration.outcome}` : ""
    } · ${p.title}${p.reason !== null && p.state !== "succeeded" ? ` (${p.reason})` : ""}`,
    width
  )

/** A mission as lines: its progress, then its waves of packets. */
export const renderMission = (m: MissionDetailView, width = 120): ReadonlyArray<string> => {
  const total = m.waves.reduce((n, w) => n + w.packets.length, 0)
  const counts = Object.entries(m.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ")
  return [
    one(
      `${m.mission_id}: ${m.title} (${m.status}${m.mission_run !== null ? `, run-plan ${m.mission_run.outcome}` : ""})`,
      width
    ),
    one(`progress: ${m.counts.succeeded ?? 0}/${total} packets succeeded${counts !== "" ? ` · ${counts}` : ""}`, width),
    ...m.waves.flatMap((w) => [
      "",
      one(`Wave ${w.index}${w.description !== "" ? `: ${w.description}` : ""}`, width),
      ...w.packets.map((p) => `  ${packetLine(p, width - 2)}`)
    ])
  ]
}
