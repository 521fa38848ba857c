/** Handler for `spec-orch trace show`. */
import { Project } from "@spec-orch/contract"
import { Console, Effect, FileSystem, Path } from "effect"
import { emit, ExitCode, setExitCode } from "../Output.js"
import { withContract } from "../Planes.js"
import { type SpanLine, TRACE_FILE } from "../Trace.js"

/** A span with the spans under it, in start order. */
export interface SpanNode extends SpanLine {
  readonly children: Array<SpanNode>
}

/** Plumbing hidden unless `--all`: every SQL statement and the workflow engine's own bookkeeping. */
const hidden = (name: string) =>
  name === "sqlite" || name === "sql.transaction" || name.startsWith("Workflow/") || name.endsWith(".poll")

/**
 * The tree of `lines`: a span whose parent is not in the file (the run's root, or the root of a resumed
 * process) is a root; hidden spans are left out and their children hang under the nearest shown ancestor.
 */
export const spanTree = (lines: ReadonlyArray<SpanLine>, all: boolean): Array<SpanNode> => {
  const byId = new Map(lines.map((l) => [l.spanId, l]))
  const nodes = new Map<string, SpanNode>()
  for (const l of lines) if (all || !hidden(l.name)) nodes.set(l.spanId, { ...l, children: [] })
  const roots: Array<SpanNode> = []
  for (const node of nodes.values()) {
    let parent = node.parentSpanId ?? undefined
    if (parent !== undefined && !byId.has(parent)) parent = node.ancestors?.find((id) => byId.has(id)) ?? parent
    // Bounded: a hand-edited file with a cycle of parents must not hang `trace show`.
    for (let hops = 0; parent !== undefined && !nodes.has(parent) && hops < lines.length; hops++)
      parent = byId.get(parent)?.parentSpanId ?? undefined
    if (parent !== undefined && !nodes.has(parent)) parent = undefined
    if (parent === undefined) roots.push(node)
    else nodes.get(parent)!.children.push(node)
  }
  const order = (list: Array<SpanNode>) => {
    list.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
    for (const n of list) order(n.children)
  }
  order(roots)
  return roots
}

const issueOf = (lines: ReadonlyArray<SpanLine>) => {
  const id = lines.find((l) => typeof l.attributes["issue.id"] === "string")?.attributes["issue.id"]
  return typeof id === "string" ? id : undefined
}

const duration = (ms: number) =>
  ms < 1
    ? "<1ms"
    : ms < 1000
      ? `${Math.round(ms)}ms`
      : ms < 60_000
        ? `${(ms / 1000).toFixed(1)}s`
        : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`

/** Attributes worth a glance on the tree's line (the rest are in --json). */
const SHOWN = ["stage", "adapter", "step", "model", "outcome", "exit_code"]

/** Outcomes that are not a failure; a span whose `outcome` is anything else (a step that failed, an agent that timed out) counts as failed. */
const GOOD_OUTCOMES = new Set(["passed", "skipped", "completed"])

/** A span that failed: it ended with an error, or what it ran came out badly (a verification step that failed, an agent that timed out). */
export const failed = (n: SpanLine): boolean =>
  n.status === "error" || (typeof n.attributes.outcome === "string" && !GOOD_OUTCOMES.has(n.attributes.outcome))

/** The tree as indented lines: ✓ ok, ✗ failed (with why, when it ended with an error), ⊘ interrupted (a killed or cancelled process). */
export const renderTree = (roots: ReadonlyArray<SpanNode>): Array<string> => {
  const out: Array<string> = []
  const walk = (n: SpanNode, depth: number) => {
    const mark = failed(n) ? "✗" : n.status === "ok" ? "✓" : "⊘"
    const attrs = SHOWN.flatMap((k) =>
      n.attributes[k] !== undefined && n.attributes[k] !== "" && !(k === "stage" && n.attributes[k] === n.name)
        ? [`${k}=${String(n.attributes[k])}`]
        : []
    )
    const label = `${"  ".repeat(depth)}${mark} ${n.name}${attrs.length > 0 ? ` (${attrs.join(", ")})` : ""}`
    out.push(
      `${label.padEnd(Math.max(48, label.length + 2))}${duration(n.durationMs).padStart(7)}${n.status === "error" && n.error ? `  ${n.error}` : ""}`
    )
    for (const c of n.children) walk(c, depth + 1)
  }
  for (const r of roots) walk(r, 0)
  return out
}

export const show = (input: { run: string; all: boolean; json: boolean }) =>
  withContract(
    Effect.gen(function* () {
      const project = yield* Project
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const runs = path.join(project.stateDir, "runs")
      const fail = (text: string) =>
        Console.error(`spec-orch: ${text}`).pipe(Effect.andThen(setExitCode(ExitCode.failure)))
      if (!/^[A-Za-z0-9][A-Za-z0-9._#@-]*$/.test(input.run)) {
        return yield* fail(
          `"${input.run}" is not a run id (like HELLO-1-r1: letters, digits, '.', '_', '-'); \`spec-orch status\` lists the runs`
        )
      }
      const file = path.join(runs, input.run, TRACE_FILE)
      const text = yield* fs.readFileString(file).pipe(Effect.orElseSucceed(() => undefined))
      if (text === undefined) {
        if (yield* fs.exists(path.join(runs, input.run)).pipe(Effect.orElseSucceed(() => false))) {
          return yield* fail(
            `run ${input.run} has no trace (${path.relative(process.cwd(), file) || file}): it ran before spec-orch recorded traces, or ended before its first span`
          )
        }
        const known = (yield* fs.readDirectory(runs).pipe(Effect.orElseSucceed((): Array<string> => []))).sort()
        return yield* fail(
          `no run ${input.run} in ${runs}` +
            (known.length > 0
              ? `; runs here: ${known.slice(-8).join(", ")}${known.length > 8 ? ", …" : ""}`
              : "; no run has been recorded yet (`spec-orch run <issue>`)") +
            (/-r\d+$/.test(input.run) ? "" : ` (a run id is the issue id and attempt, e.g. ${input.run}-r1)`)
        )
      }
      const lines: Array<SpanLine> = []
      let unreadable = 0
      for (const line of text.split("\n")) {
        if (line.trim() === "") continue
        try {
          lines.push(JSON.parse(line) as SpanLine)
        } catch {
          unreadable++ // a line cut short by a killed process
        }
      }
      const roots = spanTree(lines, input.all)
      yield* emit(input.json, { runId: input.run, file, spans: roots, unreadableLines: unreadable }, () => [
        `trace of ${input.run}${issueOf(lines) !== undefined ? ` · ${issueOf(lines)}` : ""} (${lines.length} spans${input.all ? "" : "; --all shows database and engine spans"})`,
        ...renderTree(roots),
        ...(unreadable > 0 ? [`(${unreadable} unreadable line(s) skipped: cut short by a killed process)`] : [])
      ])
    })
  )
