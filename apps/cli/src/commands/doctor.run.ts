/**
 * Handler of `spec-orch doctor`: runs the control plane's checks and prints them. Only the planes the
 * checks use are built, and the state database is opened by its check alone: one that does not open is a
 * failed check with its fix, not the end of doctor. Doctor only reads (`reads` in doctor.ts): on a project
 * that never ran, it creates no state database.
 */
import { doctorChecks } from "@spec-orch/control"
import { Effect, Layer } from "effect"
import { emit, setExitCode } from "../Output.js"
import { ExecutionPlaneLive, ModelsLive } from "../Planes.js"
import { withProject } from "../ProjectScope.js"
import { StateDb } from "../StatePlane.js"

const MARK = { ok: "✓", warn: "!", fail: "✗" } as const

export const doctor = ({ json }: { json: boolean }) =>
  withProject(Layer.mergeAll(ExecutionPlaneLive, ModelsLive))(
    Effect.gen(function* () {
      const checks = yield* doctorChecks(StateDb)
      const failed = checks.filter((c) => c.status === "fail")
      yield* emit(json, { ok: failed.length === 0, checks }, () => {
        const width = Math.max(...checks.map((c) => c.name.length))
        const lines = checks.flatMap((c) => [
          `${MARK[c.status]} ${c.name.padEnd(width)}  ${c.detail}`,
          ...(c.fix !== undefined ? [`  ${" ".repeat(width)}  fix: ${c.fix}`] : [])
        ])
        const warned = checks.filter((c) => c.status === "warn").length
        return [
          ...lines,
          "",
          failed.length === 0
            ? `ready${warned > 0 ? ` (${warned} warning${warned === 1 ? "" : "s"})` : ""}`
            : `${failed.length} problem${failed.length === 1 ? "" : "s"} would stop a run`
        ].join("\n")
      })
      if (failed.length > 0) yield* setExitCode(1)
    })
  )
