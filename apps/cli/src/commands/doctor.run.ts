/** Handler of `spec-orch doctor`: runs the control plane's checks and prints them. */
import { doctorChecks } from "@spec-orch/control"
import { Effect } from "effect"
import { emit, setExitCode } from "../Output.js"
import { withPlanes } from "../Planes.js"

const MARK = { ok: "✓", warn: "!", fail: "✗" } as const

export const doctor = ({ json }: { json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const checks = yield* doctorChecks
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
