/** Handler for `spec-orch retro <issue>`. */
import { Project } from "@spec-orch/contract"
import { RunStore } from "@spec-orch/control"
import { EvidenceLedger } from "@spec-orch/evidence"
import { renderRetrospective, type RetroRun } from "@spec-orch/evolution"
import { Redactor } from "@spec-orch/harness"
import { Console, Effect, FileSystem, Option, Path } from "effect"
import { emit, ExitCode, setExitCode } from "../Output.js"
import { withPlanes } from "../Planes.js"
import { runFacts } from "./eval.run.js"
import { issueIfKnown } from "./gate.run.js"

export const retro = (input: { issue: string; json: boolean }) =>
  withPlanes(Effect.gen(function*() {
    const store = yield* RunStore
    const ledger = yield* EvidenceLedger
    const records = [...(yield* store.list({ issueId: input.issue, limit: 1_000_000 }))].reverse()
    const last = records.at(-1)
    if (last === undefined) {
      yield* Console.error(`spec-orch: ${input.issue} has never run, so there is nothing to look back on; start it with \`spec-orch run ${input.issue}\``)
      return yield* setExitCode(ExitCode.failure)
    }
    const acceptances = yield* ledger.acceptances(input.issue)
    const judged = yield* ledger.history(input.issue)
    const acceptedRuns = new Set(judged.flatMap((j) => (j.runId !== null && j.bundle.acceptance !== undefined ? [j.runId] : [])))
    const runs: Array<RetroRun> = yield* Effect.forEach(records, (r) =>
      Effect.map(store.events(r.runId), (events) => ({
        ...runFacts(r, events, acceptedRuns.has(r.runId)),
        attempt: r.attempt,
        message: r.message,
        inputTokens: r.inputTokens,
        outputTokens: r.outputTokens
      })))
    const latest = yield* ledger.latest(input.issue)
    const issue = yield* issueIfKnown(input.issue)
    const markdown = (yield* Redactor).redact(renderRetrospective({
      issueId: input.issue,
      title: issue?.title,
      runs,
      latest: Option.match(latest, { onNone: () => undefined, onSome: (l) => ({ bundle: l.bundle, verdict: l.verdict }) }),
      findings: yield* ledger.findings(input.issue),
      reviews: yield* ledger.reviews(input.issue),
      acceptances
    }))
    const project = yield* Project
    const path = yield* Path.Path
    const fs = yield* FileSystem.FileSystem
    const dir = path.join(project.stateDir, "runs", last.runId)
    yield* fs.makeDirectory(dir, { recursive: true })
    const file = path.join(dir, "retrospective.md")
    yield* fs.writeFileString(file, markdown)
    yield* emit(input.json, { issueId: input.issue, runId: last.runId, path: file, markdown }, () => [markdown.trimEnd(), "", `written to ${path.relative(project.root, file)}`])
  }))
