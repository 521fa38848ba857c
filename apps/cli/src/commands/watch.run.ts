/**
 * Handler of `spec-orch watch`: the dashboard's read model (the shared stores, polled, so runs of
 * other processes appear) drawn on the terminal. A TTY gets a screen redrawn in place (ANSI, the
 * alternate screen; q or Ctrl-C restores the terminal); anything else gets one plain line per change,
 * or JSON Lines with `--json`; `--once` prints one snapshot.
 */
import { type AttentionItem, Dashboard, type DashboardEvent, DaemonStore, type RunEvent, type RunView } from "@spec-orch/control"
import { Console, Effect, Layer, Option, Schedule, Stream } from "effect"
import { ExitCode, OutputRedaction, setExitCode } from "../Output.js"
import { withPlanes } from "../Planes.js"
import { agentLines, attentionLines, changeLine, currentStep, type IssueSnapshot, renderIssue, renderOverview, type WatchSnapshot } from "./watch.render.js"

const UNFINISHED = new Set(["queued", "running"])
const now = Effect.clockWith((c) => c.currentTimeMillis)

const overview = Effect.gen(function*() {
  const dashboard = yield* Dashboard
  const attention = yield* dashboard.attention
  const state = yield* dashboard.state
  const running = yield* Effect.forEach(state.running, (run) =>
    Effect.map(dashboard.run(run.run_id), (detail) => ({ run, step: currentStep(detail?.events ?? []) })))
  return { now: yield* now, attention, running, recent: state.recent.filter((v) => !UNFINISHED.has(v.state)).slice(0, 10) } satisfies WatchSnapshot
})

const issueSnapshot = (issue: string) =>
  Effect.gen(function*() {
    const dashboard = yield* Dashboard
    const attention = (yield* dashboard.attention).filter((a) => a.issue_id === issue)
    const run = (yield* dashboard.issue(issue))?.runs[0]
    const detail = run === undefined ? undefined : yield* dashboard.run(run.run_id)
    return {
      now: yield* now,
      issue,
      run: detail?.run ?? run ?? null,
      timeline: detail?.timeline ?? [],
      lastLines: agentLines(detail?.events ?? []),
      attention
    } satisfies IssueSnapshot
  })

const attentionKey = (a: AttentionItem) => `${a.kind}|${a.issue_id}|${a.run_id ?? ""}`

/** Without a TTY: a line (or a JSON line) per change, until interrupted. */
const follow = (issue: string | undefined, json: boolean) =>
  Effect.gen(function*() {
    const dashboard = yield* Dashboard
    const printed = new Map<string, string>()
    const runsOfIssue = new Set<string>()
    // One poll's changes arrive together, a run's row before its new log events: a run that finished
    // since the last poll gets its final line after the log lines of how it got there.
    const finishedLast = (batch: ReadonlyArray<DashboardEvent>) => {
      const done = (e: DashboardEvent) => e.event === "run" && !UNFINISHED.has((e.data as RunView).state)
      return [...batch.filter((e) => !done(e)), ...batch.filter(done)]
    }
    const runLines = dashboard.changes({ pollMillis: 250 }).pipe(
      Stream.chunks,
      Stream.flatMap((batch) => Stream.fromIterable(finishedLast(batch))),
      Stream.mapEffect((e) =>
        Effect.gen(function*() {
          if (e.event === "run") {
            const v = e.data as RunView
            if (issue !== undefined && v.issue_id !== issue) return []
            runsOfIssue.add(v.run_id)
            // A run's line when its state or verdict changes; its stages come as their own lines.
            const key = `${v.state}|${v.verdict ?? ""}`
            if (printed.get(v.run_id) === key) return []
            printed.set(v.run_id, key)
            if (json) return [JSON.stringify({ type: "run", ...v })]
            const line = changeLine({ event: "run", data: v, now: yield* now })
            return line === undefined ? [] : [line]
          }
          const ev = e.data as RunEvent
          if (issue !== undefined && !runsOfIssue.has(ev.runId)) return []
          if (json) return [JSON.stringify({ type: "log", ...ev })]
          const line = changeLine({ event: "log", data: ev, agent: issue !== undefined })
          return line === undefined ? [] : [line]
        })),
      Stream.flattenIterable
    )
    // The attention queue, polled: a line when something starts needing a person, and when it stops.
    let open = new Map<string, AttentionItem>()
    const attentionLinesStream = Stream.fromEffect(Effect.gen(function*() {
      const items = (yield* dashboard.attention).filter((a) => issue === undefined || a.issue_id === issue)
      const next = new Map(items.map((a) => [attentionKey(a), a]))
      const out: Array<string> = []
      const at = new Date(yield* now).toISOString().slice(11, 19)
      for (const [k, a] of next) {
        if (open.has(k)) continue
        out.push(json ? JSON.stringify({ type: "attention", ...a }) : attentionLines(a, 400).map((l, i) => (i === 0 ? `${at} ${l}` : `${at} ${l.trimStart()}`)).join("\n"))
      }
      for (const [k, a] of open) {
        if (next.has(k)) continue
        out.push(json ? JSON.stringify({ type: "resolved", kind: a.kind, issue_id: a.issue_id, run_id: a.run_id }) : `${at} resolved: ${a.kind} ${a.issue_id}${a.run_id !== null ? ` (${a.run_id})` : ""}`)
      }
      open = next
      return out
    })).pipe(Stream.repeat(Schedule.spaced(1000)), Stream.flattenIterable)
    yield* Stream.runForEach(Stream.merge(runLines, attentionLinesStream), (line) => Console.log(line))
  })

/** On a TTY: the screen, redrawn every half second in the alternate screen; q or Ctrl-C quits and restores the terminal. */
const screen = (issue: string | undefined) =>
  Effect.gen(function*() {
    const out = process.stdout
    const stdin = process.stdin
    const redact = (yield* OutputRedaction).current
    const keys = stdin.isTTY === true
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        if (keys) {
          stdin.setRawMode(true)
          stdin.resume()
        }
        out.write("\x1b[?1049h\x1b[?25l")
      }),
      () =>
        Effect.sync(() => {
          out.write("\x1b[?25h\x1b[?1049l")
          if (keys) {
            stdin.setRawMode(false)
            stdin.pause()
          }
        })
    )
    const quit = Effect.callback<void>((resume) => {
      const onKey = (b: Buffer) => {
        const s = b.toString("utf8")
        if (s === "q" || s === "Q" || s.includes("\x03")) resume(Effect.void)
      }
      stdin.on("data", onKey)
      return Effect.sync(() => void stdin.off("data", onKey))
    })
    const draw = Effect.gen(function*() {
      const width = Math.max(40, (out.columns ?? 100) - 1)
      const height = Math.max(5, (out.rows ?? 40) - 1)
      const body = issue === undefined ? renderOverview(yield* overview, width) : renderIssue(yield* issueSnapshot(issue), width)
      const title = `spec-orch watch${issue !== undefined ? ` ${issue}` : ""} · ${new Date(yield* now).toISOString().slice(11, 19)} · q quits`
      const lines = [title, "", ...body].slice(0, height)
      out.write(`\x1b[H${lines.map((l) => `${redact(l)}\x1b[K`).join("\n")}\x1b[J`)
    })
    yield* Effect.raceFirst(quit, draw.pipe(Effect.repeat(Schedule.spaced(500)), Effect.asVoid))
  }).pipe(Effect.scoped)

export const watch = (input: { issue: Option.Option<string>; once: boolean; json: boolean }) =>
  withPlanes(Effect.gen(function*() {
    const issue = Option.getOrUndefined(input.issue)
    if (input.once) {
      if (issue !== undefined) {
        const snapshot = yield* issueSnapshot(issue)
        if (snapshot.run === null) {
          yield* Console.error(`spec-orch: ${issue} has never run; start it with \`spec-orch run ${issue}\`, or watch it without --once to see it when it starts`)
          return yield* setExitCode(ExitCode.failure)
        }
        return yield* Console.log(input.json ? JSON.stringify(snapshot) : renderIssue(snapshot).join("\n"))
      }
      const snapshot = yield* overview
      return yield* Console.log(input.json ? JSON.stringify(snapshot) : renderOverview(snapshot).join("\n"))
    }
    const tty = process.stdout.isTTY === true && process.env.TERM !== "dumb" && !input.json
    return yield* tty ? screen(issue) : follow(issue, input.json)
  }).pipe(Effect.provide(Dashboard.layer.pipe(Layer.provide(DaemonStore.layer)))))
