/** Handler for `spec-orch verify`. */
import { IssueSource, Project, type StepResult, stepFailed, VerificationReport } from "@spec-orch/contract"
import {
  resolveSteps,
  Verifier,
  verifyOptionsFrom,
  WorkspaceError,
  Workspaces,
  WorkspaceUnknown
} from "@spec-orch/execution"
import { Clock, Console, Effect, FileSystem, Path, Schema } from "effect"
import { traced } from "../CommandTrace.js"
import { emit, setExitCode } from "../Output.js"
import { withPlanes } from "../Planes.js"

const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`)

const stepLine = (r: StepResult): Array<string> => {
  const mark = r.outcome === "passed" ? "✓" : r.outcome === "skipped" ? "-" : "✗"
  const detail =
    r.outcome === "passed"
      ? ""
      : ` ${r.outcome}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ""}${r.note !== undefined ? `: ${r.note}` : ""}`
  const lines = [`${mark} ${r.name}${detail}  [${seconds(r.durationMs)}]`]
  if (stepFailed(r) && r.outputTail !== "")
    lines.push(
      ...r.outputTail
        .split("\n")
        .slice(-15)
        .map((l) => `    ${l}`)
    )
  if (stepFailed(r) && r.logPath !== undefined) lines.push(`    log: ${r.logPath}`)
  return lines
}

export const verify = ({ issue: id, json }: { issue: string; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const project = yield* Project
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const issue = yield* (yield* IssueSource).get(id)
      const workspaces = yield* Workspaces
      const binding = yield* workspaces.get(issue.id)
      if (binding === undefined)
        return yield* new WorkspaceError({ runKey: issue.id, reason: new WorkspaceUnknown({ runKey: issue.id }) })
      yield* workspaces.check(binding)
      const steps = resolveSteps(issue, project.config)
      const stamp = new Date(yield* Clock.currentTimeMillis)
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d+Z$/, "Z")
      const logDir = path.join(project.stateDir, "runs", `verify-${issue.id}-${stamp}`)
      if (!json) yield* Console.log(`Verifying ${issue.id} in ${binding.path} (${steps.length} step(s))`)
      const traceId = `verify-${issue.id}-${stamp}`
      const report = yield* traced(
        "Verify",
        traceId,
        { "issue.id": issue.id },
        (yield* Verifier).run({
          cwd: binding.path,
          steps,
          logDir,
          ...verifyOptionsFrom(project.config),
          hide: [project.root, project.stateDir],
          // As in a run: a lockfile changed on the branch gets its dependencies reinstalled first.
          reinstall: true,
          onStep: (r) => (json ? Effect.void : Console.log(stepLine(r).join("\n")))
        })
      )
      const encoded = Schema.encodeSync(VerificationReport)(report)
      yield* fs
        .writeFileString(path.join(logDir, "report.json"), `${JSON.stringify(encoded, null, 2)}\n`)
        .pipe(Effect.orDie)
      const failed = report.steps.filter(stepFailed)
      yield* emit(
        json,
        {
          issue: issue.id,
          workspace: binding.path,
          logDir,
          passed: failed.length === 0 && steps.length > 0,
          report: encoded
        },
        () =>
          steps.length === 0
            ? `No verification steps for ${issue.id}: add [verification] to spec-orch.toml or verification_commands to the issue.`
            : [
                ...(report.notes ?? []).map((n) => `Note: ${n}`),
                `${report.steps.length - failed.length}/${report.steps.length} step(s) passed. Logs: ${logDir}`
              ]
      )
      yield* Console.error(`note: trace: \`spec-orch trace show ${traceId}\``)
      if (failed.length > 0 || steps.length === 0) yield* setExitCode(1)
    })
  )
