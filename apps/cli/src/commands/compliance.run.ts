/** Handlers for `spec-orch compliance`: load the contracts, read an event log, judge it. */
import { FileMissing, InvalidFile, Project } from "@spec-orch/contract"
import {
  Compliance,
  type ComplianceContract,
  evaluateCompliance,
  loadComplianceContracts,
  parseEventLog
} from "@spec-orch/harness"
import { Console, Effect, FileSystem, Layer, Option, Path } from "effect"
import { emit, ExitCode, setExitCode, table } from "../Output.js"
import { Root } from "../Root.js"

/** Removes terminal control characters from text that came from an agent. */
const clean = (text: string): string => text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "")

/** The contracts in force: `--contracts`, else the project's (`[gate] compliance`, else the built-ins). */
const contractsFrom = (file: Option.Option<string>) =>
  Effect.gen(function* () {
    const flags = yield* Root
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    if (Option.isSome(file)) {
      const absolute = path.resolve(flags.cwd, file.value)
      const text = yield* fs.readFileString(absolute).pipe(
        Effect.mapError(
          () =>
            new FileMissing({
              file: file.value,
              what: "compliance contracts file",
              hint: "pass a YAML file with a `contracts:` list, e.g. compliance.contracts.yaml"
            })
        )
      )
      const loaded = loadComplianceContracts(text, file.value)
      if (loaded.contracts === undefined) return yield* new InvalidFile({ file: file.value, problems: loaded.problems })
      return { contracts: loaded.contracts, source: file.value }
    }
    const project = Project.layer({ start: flags.cwd, configFile: Option.getOrUndefined(flags.config) })
    const { compliance, configured } = yield* Effect.gen(function* () {
      const p = yield* Project
      return { compliance: yield* Compliance, configured: p.resolve(p.config.gate.compliance) }
    }).pipe(Effect.provide(Compliance.layer.pipe(Layer.provideMerge(project))))
    // Named relative to --cwd, as the user passes paths.
    const source =
      compliance.source === "built-in defaults"
        ? compliance.source
        : path.relative(path.resolve(flags.cwd), configured) || configured
    return { contracts: compliance.contracts, source }
  })

/** Reads and parses an event log; a run directory means its events.jsonl. */
const readEvents = (file: string) =>
  Effect.gen(function* () {
    const flags = yield* Root
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    let absolute = path.resolve(flags.cwd, file)
    let shown = file
    const info = yield* fs.stat(absolute).pipe(Effect.option)
    if (Option.isNone(info)) {
      return yield* new FileMissing({
        file,
        what: "event log",
        hint: "pass a run's events.jsonl (under .spec-orch/runs/<run-id>/) or its run directory"
      })
    }
    if (info.value.type === "Directory") {
      absolute = path.join(absolute, "events.jsonl")
      shown = path.join(file, "events.jsonl")
      if (!(yield* fs.exists(absolute).pipe(Effect.orElseSucceed(() => false)))) {
        return yield* new FileMissing({
          file: shown,
          what: "event log",
          hint: "this directory has no events.jsonl: pass a run directory whose agent has run, or the log itself"
        })
      }
    }
    const text = yield* fs
      .readFileString(absolute)
      .pipe(
        Effect.mapError(
          () => new FileMissing({ file: shown, what: "readable event log", hint: "check the file's permissions" })
        )
      )
    const parsed = parseEventLog(text, shown)
    if (parsed.problems.length > 0) return yield* new InvalidFile({ file: shown, problems: parsed.problems })
    return { file: shown, ...parsed }
  })

/** A missing or invalid input file: one paragraph on stderr (a JSON document with --json) and exit 2. */
const badInput = (json: boolean) => (e: FileMissing | InvalidFile) =>
  Effect.gen(function* () {
    if (json) yield* Console.log(JSON.stringify({ error: { kind: e._tag, message: e.message } }, null, 2))
    yield* Console.error(`spec-orch: ${e.message}`)
    yield* setExitCode(ExitCode.usage)
  })

const what = (c: ComplianceContract): string =>
  c.builtin ? "built-in check" : `${c.patterns.length} pattern${c.patterns.length === 1 ? "" : "s"}`

export const evaluate = (input: { events: string; contracts: Option.Option<string>; json: boolean }) =>
  Effect.gen(function* () {
    const { contracts, source } = yield* contractsFrom(input.contracts)
    const log = yield* readEvents(input.events)
    const report = evaluateCompliance(contracts, log.events)
    if (!report.compliant) yield* setExitCode(ExitCode.failure)
    const byContract = contracts.map((c) => ({
      id: c.id,
      severity: c.severity,
      violations: report.violations.filter((v) => v.contractId === c.id).length
    }))
    yield* emit(
      input.json,
      { file: log.file, contractsSource: source, events: log.events.length, ...report, byContract, notes: log.notes },
      () => {
        const lines = [
          `${log.file}: ${log.events.length} event${log.events.length === 1 ? "" : "s"} judged against ${contracts.length} contract${contracts.length === 1 ? "" : "s"} (${source})`,
          ""
        ]
        lines.push(
          table(
            ["CONTRACT", "SEVERITY", "RESULT"],
            byContract.map((c) => [
              c.id,
              c.severity,
              c.violations === 0 ? "ok" : `${c.violations} violation${c.violations === 1 ? "" : "s"}`
            ])
          )
        )
        if (report.violations.length > 0) {
          lines.push("", "Violations:")
          for (const v of report.violations)
            lines.push(`  ${v.severity.padEnd(7)} ${v.contractId} (${v.kind}): ${clean(v.excerpt)}`)
        }
        for (const n of log.notes) lines.push("", `note: ${clean(n)}`)
        lines.push(
          "",
          report.compliant
            ? `compliant${report.warningCount > 0 ? ` (${report.warningCount} warning${report.warningCount === 1 ? "" : "s"})` : ""}`
            : `NOT compliant: ${report.errorCount} error${report.errorCount === 1 ? "" : "s"}, ${report.warningCount} warning${report.warningCount === 1 ? "" : "s"}`
        )
        return lines
      }
    )
  }).pipe(Effect.catchTags({ FileMissing: badInput(input.json), InvalidFile: badInput(input.json) }))

export const listContracts = (input: { contracts: Option.Option<string>; json: boolean }) =>
  Effect.gen(function* () {
    const { contracts, source } = yield* contractsFrom(input.contracts)
    yield* emit(
      input.json,
      {
        source,
        contracts: contracts.map((c) => ({
          id: c.id,
          name: c.name,
          ...(c.description !== undefined ? { description: c.description } : {}),
          severity: c.severity,
          builtin: c.builtin,
          patterns: c.patterns.map((p) => p.source)
        }))
      },
      () => [
        `Compliance contracts from ${source}:`,
        "",
        table(
          ["ID", "SEVERITY", "CHECKS", "NAME"],
          contracts.map((c) => [c.id, c.severity, what(c), c.name])
        )
      ]
    )
  }).pipe(Effect.catchTags({ FileMissing: badInput(input.json), InvalidFile: badInput(input.json) }))
