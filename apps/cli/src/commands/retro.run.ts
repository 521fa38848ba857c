/** Handler for `spec-orch retro <issue|mission>`. */
import { Project, type RunRecord } from "@spec-orch/contract"
import { missionStatus, RunStore } from "@spec-orch/control"
import { EvidenceLedger } from "@spec-orch/evidence"
import {
  type MissionRetroPacket,
  renderMissionRetrospective,
  renderRetrospective,
  type RetroRun
} from "@spec-orch/evolution"
import { Redactor } from "@spec-orch/harness"
import { Console, Effect, FileSystem, Option, Path } from "effect"
import { emit, ExitCode, setExitCode } from "../Output.js"
import { withPlanes } from "../Planes.js"
import { runFacts } from "./eval.run.js"
import { ISSUE_LOOKUP_WAIT, issueIfKnown } from "./issue-lookup.js"

/** The facts of an issue's runs (oldest first) for a retrospective. */
const retroRuns = (issueId: string, records: ReadonlyArray<RunRecord>) =>
  Effect.gen(function* () {
    const store = yield* RunStore
    const judged = yield* (yield* EvidenceLedger).history(issueId)
    const acceptedRuns = new Set(
      judged.flatMap((j) => (j.runId !== null && j.bundle.acceptance !== undefined ? [j.runId] : []))
    )
    return yield* Effect.forEach(records, (r) =>
      Effect.map(
        store.events(r.runId),
        (events): RetroRun => ({
          ...runFacts(r, events, acceptedRuns.has(r.runId)),
          attempt: r.attempt,
          message: r.message,
          inputTokens: r.inputTokens,
          outputTokens: r.outputTokens
        })
      )
    )
  })

/** `retro <mission>`: every packet's runs, written to `<state dir>/missions/<mission>/retrospective.md`. */
const missionRetro = (mission: Effect.Success<ReturnType<typeof missionStatus>>, json: boolean) =>
  Effect.gen(function* () {
    const store = yield* RunStore
    const ledger = yield* EvidenceLedger
    const packets: Array<MissionRetroPacket> = []
    for (const w of mission.waves) {
      for (const p of w.packets) {
        const records = [...(yield* store.list({ issueId: p.runKey, limit: 1_000_000 }))].reverse()
        const latest = yield* ledger.latest(p.runKey)
        packets.push({
          packetId: p.packetId,
          title: p.title,
          wave: p.wave,
          state: p.state,
          reason: p.reason,
          runs: yield* retroRuns(p.runKey, records),
          failing: Option.match(latest, {
            onNone: () => [],
            onSome: (l) => l.verdict.conditions.filter((c) => c.status === "failed" || c.status === "not_judgeable")
          }),
          findings: yield* ledger.findings(p.runKey)
        })
      }
    }
    const markdown = (yield* Redactor).redact(
      renderMissionRetrospective({ missionId: mission.missionId, title: mission.title, packets })
    )
    const project = yield* Project
    const path = yield* Path.Path
    const fs = yield* FileSystem.FileSystem
    const dir = path.join(project.stateDir, "missions", mission.missionId)
    yield* fs.makeDirectory(dir, { recursive: true })
    const file = path.join(dir, "retrospective.md")
    yield* fs.writeFileString(file, markdown)
    yield* emit(json, { missionId: mission.missionId, path: file, markdown }, () => [
      markdown.trimEnd(),
      "",
      `written to ${path.relative(project.root, file)}`
    ])
  })

export const retro = (input: { issue: string; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const store = yield* RunStore
      const ledger = yield* EvidenceLedger
      const records = [...(yield* store.list({ issueId: input.issue, limit: 1_000_000 }))].reverse()
      const last = records.at(-1)
      if (last === undefined) {
        const mission = yield* missionStatus(input.issue).pipe(Effect.option)
        if (Option.isSome(mission)) return yield* missionRetro(mission.value, input.json)
        yield* Console.error(
          `spec-orch: ${input.issue} has never run, so there is nothing to look back on; start it with \`spec-orch run ${input.issue}\``
        )
        return yield* setExitCode(ExitCode.failure)
      }
      const acceptances = yield* ledger.acceptances(input.issue)
      const runs = yield* retroRuns(input.issue, records)
      const latest = yield* ledger.latest(input.issue)
      const issue = yield* issueIfKnown(input.issue, ISSUE_LOOKUP_WAIT)
      const markdown = (yield* Redactor).redact(
        renderRetrospective({
          issueId: input.issue,
          title: issue?.title,
          runs,
          latest: Option.match(latest, {
            onNone: () => undefined,
            onSome: (l) => ({ bundle: l.bundle, verdict: l.verdict })
          }),
          findings: yield* ledger.findings(input.issue),
          reviews: yield* ledger.reviews(input.issue),
          acceptances
        })
      )
      const project = yield* Project
      const path = yield* Path.Path
      const fs = yield* FileSystem.FileSystem
      const dir = path.join(project.stateDir, "runs", last.runId)
      yield* fs.makeDirectory(dir, { recursive: true })
      const file = path.join(dir, "retrospective.md")
      yield* fs.writeFileString(file, markdown)
      yield* emit(input.json, { issueId: input.issue, runId: last.runId, path: file, markdown }, () => [
        markdown.trimEnd(),
        "",
        `written to ${path.relative(project.root, file)}`
      ])
    })
  )
