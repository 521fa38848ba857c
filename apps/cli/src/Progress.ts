/**
 * Live progress of a run on the terminal. On a TTY: one status line that redraws (stage, elapsed,
 * latest agent activity) above the finished stages. Otherwise: plain lines, one per event worth
 * reading, so logs and CI output stay readable.
 */
import type { AgentEvent } from "@spec-orch/contract"
import type { RunEvent } from "@spec-orch/control"

const SPIN = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

const short = (text: string, max = 70) => {
  const one = text.replace(/\s+/g, " ").trim()
  return one.length > max ? `${one.slice(0, max - 1)}…` : one
}

/** One line describing an agent event, or undefined when it is not worth showing. */
export const describeAgentEvent = (e: AgentEvent): string | undefined => {
  switch (e._tag) {
    case "message":
      return e.role === "assistant" && e.text.trim() !== "" ? `says: ${short(e.text)}` : undefined
    case "tool_call":
      return `tool ${e.name}${typeof e.input === "object" && e.input !== null ? ` ${short(JSON.stringify(e.input), 50)}` : ""}`
    case "command":
      return e.exitCode === undefined ? `runs: ${short(e.command)}` : `ran: ${short(e.command)} (exit ${e.exitCode})`
    case "file_change":
      return `${e.kind === "add" ? "created" : e.kind === "delete" ? "deleted" : "changed"} ${e.path}`
    case "error":
      return `error: ${short(e.message)}`
    case "turn_end":
      return `turn ended: ${e.reason}`
    default:
      return undefined
  }
}

/** One line for a run event, or undefined. */
export const describeRunEvent = (e: RunEvent): string | undefined => {
  const d = e.data as Record<string, any>
  switch (e.kind) {
    case "stage":
      if (d.state === "started") return undefined
      if (d.state !== "finished") return `✗ ${d.stage}: ${d.message}`
      // A stage can finish with bad news (the agent failed, a step failed): that is a ✗ too, with why; one that did nothing is a –, with why.
      return `${d.ok === false ? "✗" : d.skipped === true ? "–" : "✓"} ${d.stage} (${((d.ms ?? 0) / 1000).toFixed(1)}s)${(d.ok === false || d.skipped === true) && d.summary !== undefined ? `: ${short(d.summary, 160)}` : ""}`
    case "agent":
      return d && describeAgentEvent(d as AgentEvent) ? `  agent ${describeAgentEvent(d as AgentEvent)}` : undefined
    case "step":
      return `  verify ${d.name}: ${d.outcome}${d.exitCode !== null && d.exitCode !== undefined ? ` (exit ${d.exitCode})` : ""} ${((d.durationMs ?? 0) / 1000).toFixed(1)}s`
    case "verdict":
      return `  gate: ${d.mergeable ? "mergeable" : `blocked by ${[...(d.failed ?? []), ...(d.notJudgeable ?? [])].join(", ")}`}`
    case "note":
      return `  note: ${d.text}`
    case "model-call":
      // One request of an LLM role (spec-orch's own model calls, e.g. the reviewer's): which model, what it cost.
      return (
        `  model ${d.role ?? d.chain}: ${d.model} (${d.modelName}) attempt ${d.attempt}${d.repair === true ? " (repair)" : ""} ` +
        `${d.ok ? `ok, ${d.inputTokens} in / ${d.outputTokens} out tokens, ${typeof d.usd === "number" ? `$${d.usd.toFixed(4)}` : "cost unknown"}` : `failed: ${short(String(d.detail ?? d.error), 160)}`}, ${((d.latencyMs ?? 0) / 1000).toFixed(1)}s`
      )
    default:
      return undefined
  }
}

/** A progress display; `stop` clears the live line. */
export interface ProgressDisplay {
  readonly onEvent: (e: RunEvent) => void
  readonly stop: () => void
}

/** Creates the display for a stream (a TTY gets the live line). */
export const progressDisplay = (label: string, out: NodeJS.WriteStream = process.stderr): ProgressDisplay => {
  const tty = out.isTTY === true && process.env.TERM !== "dumb"
  const started = Date.now()
  let stage = "starting"
  let activity = ""
  let frame = 0
  let stageStarted = started
  let lastBeat = started
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`
  const clear = () => tty && out.write("\r\x1b[2K")
  const draw = () => {
    if (!tty) return
    clear()
    const width = (out.columns ?? 100) - 1
    out.write(
      `${SPIN[frame++ % SPIN.length]} ${label} · ${stage} · ${elapsed()}${activity ? ` · ${activity}` : ""}`.slice(
        0,
        width
      )
    )
  }
  // Without a terminal, a long stage still says it is alive: one plain line every 30 s.
  const beat = () => {
    const now = Date.now()
    if (now - lastBeat < 30_000) return
    lastBeat = now
    out.write(
      `  … ${label} · ${stage} for ${((now - stageStarted) / 1000).toFixed(0)}s${activity ? ` · ${activity}` : ""}\n`
    )
  }
  const timer = tty ? setInterval(draw, 100) : setInterval(beat, 5_000)
  timer.unref?.()
  return {
    onEvent: (e) => {
      const d = e.data as Record<string, any>
      if (e.kind === "stage" && d.state === "started") {
        stage = d.stage
        activity = "" // the agent's last line does not belong to verification
        stageStarted = Date.now()
      }
      if (e.kind === "step") activity = `${d.name} ${d.outcome}`
      if (e.kind === "agent") {
        const text = describeAgentEvent(d as AgentEvent)
        if (text) activity = text
      }
      const line = describeRunEvent(e)
      if (line === undefined) return draw()
      if (tty && e.kind === "agent") return draw()
      clear()
      out.write(`${line}\n`)
      lastBeat = Date.now()
      draw()
    },
    stop: () => {
      if (timer) clearInterval(timer)
      clear()
    }
  }
}
