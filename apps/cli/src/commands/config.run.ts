/** Handlers for `spec-orch config check`: validate spec-orch.toml and every file it points at, naming each problem. */
import { FileProblem, formatProblem, IssueSource, Missions, Project, tomlLocator } from "@spec-orch/contract"
import { defaultGatePolicy, type GatePolicy, loadGatePolicy, profileReferenceProblems } from "@spec-orch/evidence"
import { Console, Effect, FileSystem, Layer, Option, Path, Result } from "effect"
import { emit, ExitCode, setExitCode } from "../Output.js"
import { Root } from "../Root.js"

export const check = ({ json }: { json: boolean }) =>
  Effect.gen(function* () {
    const flags = yield* Root
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const problems: Array<FileProblem> = []
    const checked: Array<string> = []

    // Find and parse the config the same way every command does; a config that loads keeps its warnings.
    const located = yield* Project.load({ start: flags.cwd, configFile: Option.getOrUndefined(flags.config) }).pipe(
      Effect.result
    )
    if (located._tag === "Failure") {
      const e = located.failure
      if (e._tag === "InvalidFile") problems.push(...e.problems)
      else problems.push(new FileProblem({ file: e.file, key: "", severity: "error", message: e.message }))
    } else {
      const project = located.success
      if (project.configFile !== undefined) {
        checked.push(path.relative(process.cwd(), project.configFile) || project.configFile)
        problems.push(...project.warnings)
      } else {
        checked.push("(no spec-orch.toml: embedded defaults)")
      }
      const layer = Layer.mergeAll(IssueSource.layerFixtures, Missions.layer).pipe(
        Layer.provide(Layer.succeed(Project, project))
      )
      yield* Effect.gen(function* () {
        const issues = yield* (yield* IssueSource)
          .list()
          .pipe(Effect.orElseSucceed(() => ({ issues: [], problems: [] })))
        checked.push(`${issues.issues.length} issue file(s) in ${project.config.issue.fixtures_dir}`)
        problems.push(...issues.problems)
        const missions = yield* (yield* Missions).list
        checked.push(`${missions.missions.length} mission(s) in docs/specs`)
        problems.push(...missions.problems)
      }).pipe(Effect.provide(layer))
      const gate = yield* policyCheck(
        project,
        project.configFile !== undefined ? yield* fs.readFileString(project.configFile) : undefined
      )
      checked.push(...gate.checked)
      problems.push(...gate.problems)
    }

    const errors = problems.filter((p) => p.severity === "error")
    if (errors.length > 0) yield* setExitCode(ExitCode.failure)
    yield* emit(json, { ok: errors.length === 0, checked, problems }, () => [
      ...checked.map((c) => `checked ${c}`),
      ...problems.map(formatProblem),
      errors.length === 0
        ? `ok: no errors${problems.length > 0 ? `, ${problems.length} warning(s)` : ""}`
        : `${errors.length} error(s), ${problems.length - errors.length} warning(s)`
    ])
    if (json && errors.length > 0) yield* Console.error(`spec-orch: ${errors.length} configuration error(s)`)
  })

/**
 * For `config check`: validates the project's gate policy file (when there is one) and the
 * profiles spec-orch.toml names (`[gate] profile` must exist; `[daemon] gate_profile` should).
 */
const policyCheck = (project: Project["Service"], configText: string | undefined) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const shown = (file: string) => path.relative(process.cwd(), file) || file
    const configFile = project.configFile !== undefined ? shown(project.configFile) : "spec-orch.toml"
    const locate = configText !== undefined ? tomlLocator(configText) : () => undefined
    const file = project.resolve(project.config.gate.policy)
    const checked: Array<string> = []
    const problems: Array<FileProblem> = []
    let policy: GatePolicy | undefined
    if (yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))) {
      checked.push(shown(file))
      const loaded = loadGatePolicy(yield* fs.readFileString(file).pipe(Effect.orElseSucceed(() => "")), shown(file))
      if (Result.isSuccess(loaded)) {
        policy = loaded.success
        problems.push(...policy.warnings)
      } else {
        problems.push(...loaded.failure.problems)
      }
    } else if (project.config.gate.policy !== "gate.policy.yaml") {
      problems.push(
        new FileProblem({
          file: configFile,
          ...locate(["gate", "policy"]),
          key: "gate.policy",
          severity: "error",
          message: `names the gate policy file ${project.config.gate.policy}, which does not exist`,
          hint: "fix the path, or remove the key to use gate.policy.yaml or the built-in policy"
        })
      )
    } else {
      checked.push("(no gate.policy.yaml: the built-in gate policy)")
      policy = defaultGatePolicy()
    }
    if (policy !== undefined) {
      const at = (key: Array<string>) => locate(key) ?? {}
      problems.push(
        ...profileReferenceProblems(policy, [
          ...(project.config.gate.profile !== undefined
            ? [
                {
                  profile: project.config.gate.profile,
                  file: configFile,
                  key: "gate.profile",
                  ...at(["gate", "profile"]),
                  severity: "error" as const
                }
              ]
            : []),
          // Only when written down: the default ("daemon") is checked by the daemon when it starts.
          ...(configText !== undefined && /^\s*gate_profile\s*=/m.test(configText)
            ? [
                {
                  profile: project.config.daemon.gate_profile,
                  file: configFile,
                  key: "daemon.gate_profile",
                  ...at(["daemon", "gate_profile"]),
                  severity: "warning" as const
                }
              ]
            : [])
        ])
      )
    }
    return { checked, problems }
  })
