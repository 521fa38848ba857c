/** Handlers for `spec-orch contract`: generate, validate and assess task contracts. */
import {
  assessRisk as assess,
  FileMissing,
  formatProblem,
  generateTaskContract,
  IssueSource,
  loadTaskContract,
  Project,
  taskContractToYaml
} from "@spec-orch/contract"
import { Console, Effect, FileSystem, Option, Path } from "effect"
import { emit, ExitCode, setExitCode } from "../Output.js"
import { withContract } from "../Planes.js"
import { Root } from "../Root.js"

export const generate = (input: { issue: string; output: Option.Option<string>; json: boolean }) =>
  withContract(
    Effect.gen(function* () {
      const issue = yield* (yield* IssueSource).get(input.issue)
      const project = yield* Project
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const flags = yield* Root
      const contract = generateTaskContract(issue, project.config)
      const yaml = taskContractToYaml(contract)
      const out = Option.getOrUndefined(input.output)
      if (out === "-") {
        yield* emit(input.json, { contract }, () => yaml.trimEnd())
        return
      }
      const absolute =
        out !== undefined ? path.resolve(flags.cwd, out) : path.join(project.stateDir, "contracts", `${issue.id}.yaml`)
      yield* fs.makeDirectory(path.dirname(absolute), { recursive: true })
      yield* fs.writeFileString(absolute, yaml)
      const shown = path.relative(path.resolve(flags.cwd), absolute) || absolute
      yield* emit(input.json, { file: shown, contract }, () => [
        `Wrote ${shown}: the task contract for ${issue.id} (risk ${contract.risk_level}, ${contract.completion_criteria.length} completion criteria, ${Object.keys(contract.verification_commands).length} verification commands).`,
        ...(contract.completion_criteria.length === 0
          ? [`It does not validate yet: ${issue.id} has no acceptance criteria; add completion_criteria to the file.`]
          : []),
        `Check it with \`spec-orch contract validate ${shown}\`.`
      ])
    })
  )

export const validate = (input: { file: string; json: boolean }) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const flags = yield* Root
    const text = yield* fs.readFileString(path.resolve(flags.cwd, input.file)).pipe(
      Effect.mapError(
        () =>
          new FileMissing({
            file: input.file,
            what: "task contract file",
            hint: "write one with `spec-orch contract generate <issue>`"
          })
      )
    )
    const { contract, problems } = loadTaskContract(text, input.file)
    if (contract === undefined) yield* setExitCode(ExitCode.failure)
    yield* emit(
      input.json,
      { file: input.file, valid: contract !== undefined, problems, ...(contract ? { contract } : {}) },
      () => [
        ...problems.map(formatProblem),
        contract !== undefined
          ? `${input.file}: a valid task contract for ${contract.issue_id} (risk ${contract.risk_level}, ${contract.completion_criteria.length} completion criteria)`
          : `${input.file}: not a valid task contract (${problems.filter((p) => p.severity === "error").length} problem(s) above)`
      ]
    )
    if (input.json) for (const p of problems) yield* Console.error(formatProblem(p))
  })

export const assessRisk = (input: { issue: string; json: boolean }) =>
  withContract(
    Effect.gen(function* () {
      const issue = yield* (yield* IssueSource).get(input.issue)
      const risk = assess(issue)
      yield* emit(input.json, risk, () => [
        `${issue.id}: risk ${risk.level}`,
        ...(risk.reasons.length === 0
          ? ["  no risk signals: a small declared scope, no sensitive paths"]
          : risk.reasons.map((r) => `  ${r.level.padEnd(8)} ${r.reason}${r.paths ? `: ${r.paths.join(", ")}` : ""}`))
      ])
    })
  )
