/**
 * Handler of `spec-orch watch`: the dashboard's read model (the shared stores, polled, so runs of
 * other processes appear) drawn on the terminal. A TTY gets a screen redrawn in place (ANSI, the
 * alternate screen; q or Ctrl-C restores the terminal); anything else gets one plain line per change,
 * or JSON Lines with `--json`; `--once` prints one snapshot.
 */
import {
  type AttentionItem,
  Dashboard,
  DashboardActions,
  type DashboardEvent,
  DaemonStore,
  type RunEvent,
  type RunView
} from "@spec-orch/control"
import { Console, Effect, Layer, Option, Queue, Schedule, Stream } from "effect"
import { userInfo } from "node:os"
import { Actions } from "./dashboard.run.js"
import { InvalidFlagValue } from "./evidence.run.js"
import { ExitCode, OutputRedaction, setExitCode } from "../Output.js"
import { withPlanes } from "../Planes.js"
import {
  agentLines,
  attentionLines,
  changeLine,
  currentStep,
  inert,
  type IssueSnapshot,
  packetLine,
  renderIssue,
  renderMission,
  renderOverview,
  type WatchSnapshot
} from "./watch.render.js"

const UNFINISHED = new Set(["queued", "running"])
const now = Effect.clockWith((c) => c.currentTimeMillis)

const overview = Effect.gen(function* () {
  const dashboard = yield* Dashboard
  const attention = yield* dashboard.attention
  const state = yield* dashboard.state
  const running = yield* Effect.forEach(state.running, (run) =>
    Effect.map(dashboard.run(run.run_id), (detail) => ({ run, step: currentStep(detail?.events ?? []) }))
  )
  return {
    now: yield* now,
    attention,
    running,
    recent: state.recent.filter((v) => !UNFINISHED.has(v.state)).slice(0, 10)
  } satisfies WatchSnapshot
})

const issueSnapshot = (issue: string) =>
  Effect.gen(function* () {
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

/** A mission's view; a mission that is unknown or unusable is the command's error, in the mission's own words. */
const missionView = (missionId: string) => Effect.flatMap(Dashboard, (d) => d.mission(missionId))

/** Without a TTY: the mission once, then a line per packet whose state or run changes, until interrupted. */
const followMission = (missionId: string, json: boolean) =>
  Effect.gen(function* () {
    const printed = new Map<string, string>()
    const look = Effect.gen(function* () {
      const m = yield* missionView(missionId)
      const at = new Date(yield* now).toISOString().slice(11, 19)
      const out: Array<string> = []
      for (const w of m.waves) {
        for (const p of w.packets) {
          const key = `${p.state}|${p.run?.run_id ?? ""}|${p.run?.stage ?? ""}|${p.run?.verdict ?? ""}|${p.integration?.outcome ?? ""}`
          if (printed.get(p.packet_id) === key) continue
          printed.set(p.packet_id, key)
          out.push(
            json
              ? JSON.stringify({ type: "packet", mission_id: m.mission_id, wave: w.index, ...p })
              : `${at} wave ${w.index} ${packetLine(p, 400)}`
          )
        }
      }
      return out
    })
    yield* Stream.fromEffect(look).pipe(
      Stream.repeat(Schedule.spaced(1000)),
      Stream.flattenIterable,
      Stream.runForEach((line) => Console.log(line))
    )
  })

const attentionKey = (a: AttentionItem) => `${a.kind}|${a.issue_id}|${a.run_id ?? ""}`

/** Without a TTY: a line (or a JSON line) per change, until interrupted. */
const follow = (issue: string | undefined, json: boolean) =>
  Effect.gen(function* () {
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
        Effect.gen(function* () {
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
        })
      ),
      Stream.flattenIterable
    )
    // The attention queue, polled: a line when something starts needing a person, and when it stops.
    let open = new Map<string, AttentionItem>()
    const attentionLinesStream = Stream.fromEffect(
      Effect.gen(function* () {
        const items = (yield* dashboard.attention).filter((a) => issue === undefined || a.issue_id === issue)
        const next = new Map(items.map((a) => [attentionKey(a), a]))
        const out: Array<string> = []
        const at = new Date(yield* now).toISOString().slice(11, 19)
        for (const [k, a] of next) {
          if (open.has(k)) continue
          out.push(
            json
              ? JSON.stringify({ type: "attention", ...a })
              : attentionLines(a, 400)
                  .map((l, i) => (i === 0 ? `${at} ${l}` : `${at} ${l.trimStart()}`))
                  .join("\n")
          )
        }
        for (const [k, a] of open) {
          if (next.has(k)) continue
          out.push(
            json
              ? JSON.stringify({ type: "resolved", kind: a.kind, issue_id: a.issue_id, run_id: a.run_id })
              : `${at} resolved: ${a.kind} ${a.issue_id}${a.run_id !== null ? ` (${a.run_id})` : ""}`
          )
        }
        open = next
        return out
      })
    ).pipe(Stream.repeat(Schedule.spaced(1000)), Stream.flattenIterable)
    yield* Stream.runForEach(Stream.merge(runLines, attentionLinesStream), (line) => Console.log(line))
  })

/** On a TTY: the screen, redrawn every half second in the alternate screen; q or Ctrl-C quits and restores the terminal. */
const screen = (issue: string | undefined, missionId?: string | undefined) =>
  Effect.gen(function* () {
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
    const keyQueue = yield* Queue.unbounded<string>()
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        const onKey = (b: Buffer) => void Queue.offerUnsafe(keyQueue, b.toString("utf8"))
        stdin.on("data", onKey)
        return onKey
      }),
      (onKey) => Effect.sync(() => void stdin.off("data", onKey))
    )
    const actions = yield* DashboardActions
    const who = process.env.SPEC_ORCH_USER ?? userInfo().username
    // The run the keys act on, and what the screen asks or last said.
    let selected = 0
    let prompt: {
      readonly text: string
      readonly answer: (key: string) => Effect.Effect<void, never, Dashboard>
    } | null = null
    let status = ""
    let targets: ReadonlyArray<{ readonly issue: string; readonly runId: string; readonly state: string | null }> = []
    const targetsOf = (snapshot: WatchSnapshot) => {
      const seen = new Set<string>()
      const all = [
        ...snapshot.attention.flatMap((a) =>
          a.run_id === null ? [] : [{ issue: a.issue_id, runId: a.run_id, state: null as string | null }]
        ),
        ...snapshot.running.map((r) => ({
          issue: r.run.issue_id,
          runId: r.run.run_id,
          state: r.run.state as string | null
        })),
        ...snapshot.recent.map((v) => ({ issue: v.issue_id, runId: v.run_id, state: v.state as string | null }))
      ]
      return all.filter((t) => {
        if (seen.has(t.runId)) return false
        seen.add(t.runId)
        return true
      })
    }
    const said = (what: string) => (result: unknown) => {
      const report = (result as { report?: { verdict?: { mergeable?: boolean; headline?: string } } }).report
      status =
        report?.verdict === undefined
          ? what
          : `${what}; the gate now says ${report.verdict.mergeable === true ? "MERGEABLE" : `BLOCKED: ${report.verdict.headline ?? ""}`}`
    }
    const act = (
      running: string,
      effect: Effect.Effect<unknown, { readonly message: string }>,
      done: (r: unknown) => void
    ) =>
      Effect.gen(function* () {
        status = running
        prompt = null
        yield* draw
        yield* effect.pipe(
          Effect.match({
            onFailure: (e) => {
              status = `refused: ${e.message}`
            },
            onSuccess: done
          })
        )
      })
    const confirm = (text: string, onYes: Effect.Effect<void, never, Dashboard>) => {
      prompt = {
        text: `${text} y/n`,
        answer: (k) =>
          k === "y" || k === "Y"
            ? onYes
            : Effect.sync(() => {
                status = "cancelled"
              })
      }
    }
    const onKey = (key: string): Effect.Effect<boolean, never, Dashboard> =>
      Effect.gen(function* () {
        if (key === "q" || key === "Q" || key.includes("\x03")) return true
        if (prompt !== null) {
          const p = prompt
          prompt = null
          yield* key === "\x1b"
            ? Effect.sync(() => {
                status = "cancelled"
              })
            : p.answer(key)
          return false
        }
        const t = targets[Math.min(selected, targets.length - 1)]
        if (key === "\x1b[A" || key === "k") selected = Math.max(0, selected - 1)
        else if (key === "\x1b[B" || key === "j") selected = Math.min(Math.max(0, targets.length - 1), selected + 1)
        else if ((key === "r" || key === "a" || key === "t") && t === undefined) status = "no run to act on"
        else if (key === "r" && t !== undefined) {
          const verdicts: Readonly<Record<string, "pass" | "changes_requested" | "uncertain">> = {
            p: "pass",
            c: "changes_requested",
            u: "uncertain"
          }
          prompt = {
            text: `Review ${t.issue} (${t.runId}): p pass · c changes requested · u uncertain · Esc cancels`,
            answer: (k) =>
              Effect.sync(() => {
                const verdict = verdicts[k]
                if (verdict === undefined) {
                  status = "cancelled"
                  return
                }
                confirm(
                  `Record the review "${verdict}" of ${t.issue} as ${who}?`,
                  act(
                    `recording the review of ${t.issue}…`,
                    actions.review({ issue: t.issue, verdict, reviewedBy: who }),
                    said(`review of ${t.issue} recorded`)
                  )
                )
              })
          }
        } else if (key === "a" && t !== undefined) {
          confirm(
            `Accept the current diff of ${t.issue} as ${who}?`,
            act(
              `recording the acceptance of ${t.issue}…`,
              actions.accept({ issue: t.issue, acceptedBy: who }),
              said(`acceptance of ${t.issue} recorded`)
            )
          )
        } else if (key === "t" && t !== undefined) {
          const resume = t.state === "interrupted" || t.state === "cancelled"
          confirm(
            resume ? `Resume ${t.issue} (${t.runId})?` : `Run ${t.issue} again (a new attempt)?`,
            act(`starting ${t.issue}…`, actions.retry({ issue: t.issue, newAttempt: !resume }), (r) => {
              const log = (r as { log?: string }).log
              status = `${t.issue} ${resume ? "resumes" : "runs again"}${log !== undefined ? ` (its output: ${log})` : ""}`
            })
          )
        }
        return false
      })
    const draw: Effect.Effect<void, never, Dashboard> = Effect.gen(function* () {
      const width = Math.max(40, (out.columns ?? 100) - 1)
      const height = Math.max(5, (out.rows ?? 40) - 1)
      let body: ReadonlyArray<string>
      if (missionId !== undefined) {
        const m = yield* missionView(missionId).pipe(Effect.result)
        if (m._tag === "Failure") {
          targets = []
          body = [`${missionId}: ${m.failure.message}`]
        } else {
          targets = m.success.waves.flatMap((w) =>
            w.packets.flatMap((p) =>
              p.run === null
                ? []
                : [{ issue: p.run.issue_id, runId: p.run.run_id, state: p.run.state as string | null }]
            )
          )
          body = renderMission(m.success, width)
        }
      } else if (issue === undefined) {
        const snapshot = yield* overview
        targets = targetsOf(snapshot)
        body = renderOverview(snapshot, width)
      } else {
        const snapshot = yield* issueSnapshot(issue)
        targets = snapshot.run === null ? [] : [{ issue, runId: snapshot.run.run_id, state: snapshot.run.state }]
        body = renderIssue(snapshot, width)
      }
      // The selected run: a › before its first line.
      const target = targets[Math.min(selected, targets.length - 1)]
      const mark =
        target === undefined
          ? -1
          : body.findIndex(
              (l) =>
                l.includes(`(${target.runId})`) ||
                l.includes(` ${target.runId} `) ||
                l.startsWith(`${target.issue} ${target.runId} `)
            )
      const marked = body.map((l, i) => (i !== mark ? l : l.startsWith("  ") ? `›${l.slice(1)}` : `› ${l}`))
      const title = `spec-orch watch${issue !== undefined ? ` ${issue}` : ""}${missionId !== undefined ? ` --mission ${missionId}` : ""} · ${new Date(yield* now).toISOString().slice(11, 19)} · q quits`
      const help =
        prompt !== null
          ? `? ${prompt.text}`
          : `↑/↓ select · r review · a accept · t retry${status !== "" ? ` · ${status}` : ""}`
      const lines = [title, help, "", ...marked].slice(0, height)
      out.write(`\x1b[H${lines.map((l) => `${redact(inert(l))}\x1b[K`).join("\n")}\x1b[J`)
    })
    for (;;) {
      yield* draw
      const key = yield* Queue.take(keyQueue).pipe(Effect.timeoutOption(500))
      if (Option.isSome(key) && (yield* onKey(key.value))) return
    }
  }).pipe(Effect.scoped)

export const watch = (input: {
  issue: Option.Option<string>
  mission: Option.Option<string>
  once: boolean
  json: boolean
}) =>
  withPlanes(
    Effect.gen(function* () {
      const issue = Option.getOrUndefined(input.issue)
      const missionId = Option.getOrUndefined(input.mission)
      if (missionId !== undefined) {
        if (issue !== undefined)
          return yield* Effect.fail(
            new InvalidFlagValue({
              flag: "--mission",
              reason: `watch one issue or one mission, not both (${issue} and --mission ${missionId})`
            })
          )
        const tty = process.stdout.isTTY === true && process.env.TERM !== "dumb" && !input.json
        if (input.once || !tty) {
          // The mission must exist before a follow starts: an unknown one is an error at once.
          const m = yield* missionView(missionId)
          if (input.once) return yield* Console.log(input.json ? JSON.stringify(m) : renderMission(m).join("\n"))
          return yield* followMission(missionId, input.json)
        }
        return yield* screen(undefined, missionId)
      }
      if (input.once) {
        if (issue !== undefined) {
          const snapshot = yield* issueSnapshot(issue)
          if (snapshot.run === null) {
            yield* Console.error(
              `spec-orch: ${issue} has never run; start it with \`spec-orch run ${issue}\`, or watch it without --once to see it when it starts`
            )
            return yield* setExitCode(ExitCode.failure)
          }
          return yield* Console.log(input.json ? JSON.stringify(snapshot) : renderIssue(snapshot).join("\n"))
        }
        const snapshot = yield* overview
        return yield* Console.log(input.json ? JSON.stringify(snapshot) : renderOverview(snapshot).join("\n"))
      }
      const tty = process.stdout.isTTY === true && process.env.TERM !== "dumb" && !input.json
      if (tty) return yield* screen(issue)
      // Plain lines come only with changes: an issue that has never run would show nothing at all.
      if (issue !== undefined && !input.json && (yield* issueSnapshot(issue)).run === null)
        yield* Console.error(
          `waiting for ${issue} to start: it has never run (start it with \`spec-orch run ${issue}\`; Ctrl-C quits)`
        )
      return yield* follow(issue, input.json)
    }).pipe(Effect.provide(Layer.mergeAll(Dashboard.layer.pipe(Layer.provide(DaemonStore.layer)), Actions)))
  )
