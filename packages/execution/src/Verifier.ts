/**
 * Runs a project's own verification commands in a worktree and reports each step as data. The rule:
 * `run` never fails — a failing, hanging, missing or crashing command is an outcome in the report.
 * What the agent wrote (tests, build scripts) is untrusted code, so every step gets a scrubbed
 * environment (no tracker, SCM, cloud or model credentials), its output is redacted and capped, and
 * nothing it starts outlives it; the caller's `wrap` puts it in the OS sandbox. Steps test the
 * worktree's code: the project's virtualenv and node_modules/.bin come first on PATH and the worktree's
 * import roots first on PYTHONPATH (`internal/ecosystem.ts`); a step that changes files in the worktree
 * fails, naming them, unless it may (`may_modify`).
 */
import {
  configuredSteps,
  Confinement,
  defaultConfig,
  type Issue,
  verificationEnv,
  type SpecOrchConfig,
  StepResult,
  VerificationReport,
  VerificationStep
} from "@spec-orch/contract"
import { hostEnvironment, Redactor } from "@spec-orch/harness"
import { Clock, Context, Effect, FileSystem, Layer, Path } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { makeGitRunner } from "./Git.js"
import { resolveEcosystem } from "./internal/ecosystem.js"
import { verificationEnvironment } from "./internal/environment.js"
import { confinedAs, runBoxLayout } from "./internal/layout.js"
import { type Command, reapLeftover } from "./internal/process.js"
import { clearNodeModules, hostGoModCache, reinstallPlans, restoreNodeModules } from "./internal/reinstall.js"
import { makeStepRunner } from "./internal/step.js"
import { changedBetween, gitPlaceOf, withModifications, worktreeSnapshot } from "./internal/worktree-changes.js"
import { Sandbox } from "./Sandbox.js"

/** Input of one verification run. */
export interface VerifyInput {
  /** Where the steps run (the worktree). */
  readonly cwd: string
  /** The main checkout the worktree belongs to (`{project}`, its virtualenv and lockfiles); default: found from the worktree with git. */
  readonly project?: string | undefined
  readonly steps: ReadonlyArray<VerificationStep>
  /** Each step's combined output goes to `<logDir>/<nn>-<step>.log`. */
  readonly logDir: string
  /** Timeout for steps without their own `timeoutSeconds` (default 600 s). */
  readonly defaultTimeoutSeconds?: number | undefined
  /** Called after each step, in order. */
  readonly onStep?: ((result: StepResult) => Effect.Effect<void>) | undefined
  /** Variables for every step (`[verification.env]`), on top of the scrubbed host environment; credentials are still refused. */
  readonly env?: Readonly<Record<string, string>> | undefined
  /** Extra variable names never passed (`[builder] secret_env`). */
  readonly secretEnv?: ReadonlyArray<string> | undefined
  /** Applied to every text written or reported (logs, output tails). */
  readonly redact?: ((text: string) => string) | undefined
  /** Bytes kept of each step's log (default: the built-in `[limits] step_log_bytes`). */
  readonly logBytes?: number | undefined
  /** Bytes kept of one output line; the rest of a longer line is dropped with a marker (default: the built-in `[limits] output_line_bytes`). */
  readonly lineBytes?: number | undefined
  /** Called whenever a step prints something (live progress). */
  readonly onOutput?: ((step: string) => Effect.Effect<void>) | undefined
  /** Paths hidden in the steps' box besides the main checkout (the state directory when it lives elsewhere). */
  readonly hide?: ReadonlyArray<string> | undefined
  /** Host names steps may reach (`[sandbox] verification_network`); none by default. */
  readonly allowHosts?: ReadonlyArray<string> | undefined
  /**
   * When the worktree's Node lockfile, Python lockfile (uv, poetry, pdm, Pipfile) or go.sum differs
   * from the main checkout's (the agent changed it), first reinstall the dependencies in the box with
   * the package manager's frozen install (offline unless `allowHosts` gives network; Python into the
   * worktree's own `.venv`; Go into the box's own module cache); the report's notes say it was done,
   * that it failed and the dependencies may be stale, or that the tool is not installed. Off by
   * default (hooks and previews never reinstall).
   */
  readonly reinstall?: boolean | undefined
}

export class Verifier extends Context.Service<
  Verifier,
  {
    /** Runs steps in order in cwd; never fails: every outcome is data in the report. Logs each step to <logDir>/<nn>-<step>.log. */
    readonly run: (input: VerifyInput) => Effect.Effect<VerificationReport>
  }
>()("@spec-orch/execution/Verifier") {
  /** Runs steps as child processes (argv without a shell, strings with `sh -c`). */
  static readonly layer: Layer.Layer<
    Verifier,
    never,
    ChildProcessSpawner.ChildProcessSpawner | FileSystem.FileSystem | Path.Path | Sandbox | Redactor
  > = Layer.effect(
    Verifier,
    Effect.gen(function* () {
      const services = yield* Effect.context<ChildProcessSpawner.ChildProcessSpawner>()
      const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const sandbox = yield* Sandbox
      const redactor = yield* Redactor
      const runStep = makeStepRunner(fs, services)

      const run = Effect.fn("Verifier.run")(function* (input: VerifyInput) {
        return yield* Effect.scoped(runScoped(input))
      })
      const runScoped = Effect.fnUntraced(function* (input: VerifyInput) {
        const startedAt = yield* nowIso
        yield* fs.makeDirectory(input.logDir, { recursive: true }).pipe(Effect.orDie)
        // A step left running by a controller that was killed must not run beside the new ones.
        for (const name of yield* fs.readDirectory(input.logDir).pipe(Effect.orElseSucceed(() => []))) {
          if (name.endsWith(".pid")) yield* reapLeftover(path.join(input.logDir, name))
        }
        const host = yield* hostEnvironment
        const git = makeGitRunner(spawner, host)
        // Caches (npm, pip, XDG) live for this verification only, outside the logs and the worktree.
        const cacheDir = yield* fs.makeTempDirectoryScoped({ prefix: "spec-orch-verify-cache-" }).pipe(Effect.orDie)
        const base = verificationEnvironment({
          host,
          extra: input.env ?? {},
          secretEnv: input.secretEnv ?? [],
          cacheDir
        })
        const place = yield* gitPlaceOf(git, fs, path, input.cwd)
        const project = input.project ?? place.main
        const redact = input.redact ?? redactor.redact
        const hosts = input.allowHosts ?? []
        // Go: steps read modules from the host's cache (read-only in the box), or from the box's own after a `go mod download`.
        const goCache = hostGoModCache(host)
        const stepEnv: Record<string, string> =
          goCache !== undefined &&
          (yield* fs.exists(path.join(input.cwd, "go.mod")).pipe(Effect.orElseSucceed(() => false)))
            ? { GOMODCACHE: goCache }
            : {}
        const layout = runBoxLayout({
          worktree: input.cwd,
          hide: input.hide,
          ...(stepEnv.GOMODCACHE !== undefined ? { readOnly: [stepEnv.GOMODCACHE] } : {}),
          writable: [cacheDir],
          searchPath: base.PATH,
          network: hosts.length > 0 ? { _tag: "allow", hosts, forwards: [] } : { _tag: "none" }
        })
        // One account of the box for the whole report: the last step's notes, every refusal.
        let confinement: { confined: boolean; notes: ReadonlyArray<string> } | undefined
        const refused: Array<string> = []
        const wrap = (command: Command) =>
          sandbox.wrap({ ...command, ...layout }).pipe(
            Effect.map((boxed) => {
              const w = confinedAs(boxed)
              confinement = { confined: w.confined, notes: w.notes ?? [] }
              return {
                ...w,
                refused: Effect.tap(w.refused ?? Effect.succeed([]), (rs) =>
                  Effect.sync(() => refused.push(...rs.filter((r) => !refused.includes(r))))
                )
              }
            })
          )
        const logBytes = input.logBytes ?? defaultConfig().limits.step_log_bytes
        const lineBytes = input.lineBytes ?? defaultConfig().limits.output_line_bytes
        const reinstallNotes: Array<string> = []
        const plans =
          input.reinstall === true
            ? yield* reinstallPlans(fs, path, {
                workspace: input.cwd,
                project,
                network: hosts.length > 0,
                searchPath: base.PATH ?? "",
                virtualEnv: host.VIRTUAL_ENV,
                host,
                cacheDir
              })
            : []
        for (const plan of plans) {
          const shown = plan.command.join(" ")
          const go = plan.ecosystem === "go"
          if (plan.missing !== undefined) {
            reinstallNotes.push(
              `${plan.lockfile} changed on the run branch; ${plan.missing} is not installed (no \`${plan.missing}\` on the steps' PATH), so the dependencies were not reinstalled (\`${shown}\`): ` +
                `the steps ran with ${go ? "the host's Go module cache" : "the main checkout's virtualenv"}, which ${plan.lockfile} no longer describes. Install ${plan.missing}, or install the dependencies in a verification step`
            )
            continue
          }
          const python = plan.ecosystem === "python"
          const logPath = path.join(
            input.logDir,
            go
              ? "00-reinstall-go-modules.log"
              : python
                ? "00-reinstall-python-dependencies.log"
                : "00-reinstall-dependencies.log"
          )
          const venv = path.join(input.cwd, ".venv")
          // Node: the provisioned node_modules go first. uv: a .venv linked from the main checkout is unlinked (never written through).
          const replaced = python || go ? [] : yield* clearNodeModules(fs, path, input.cwd)
          const venvBefore = python
            ? yield* fs.lstat(venv).pipe(
                Effect.map((i) => i.type),
                Effect.orElseSucceed(() => undefined)
              )
            : undefined
          const linkedVenv =
            venvBefore === "SymbolicLink"
              ? yield* fs.readLink(venv).pipe(Effect.orElseSucceed(() => undefined))
              : undefined
          if (linkedVenv !== undefined) yield* fs.remove(venv).pipe(Effect.ignore)
          const { VIRTUAL_ENV: _active, ...withoutActive } = base
          const ran = yield* runStep({
            step: new VerificationStep({
              name: go ? "reinstall-go-modules" : python ? "reinstall-python-dependencies" : "reinstall-dependencies",
              command: [...plan.command],
              mayModify: true
            }),
            cwd: input.cwd,
            // The user's package stores are read-only in the box: pnpm and yarn get this verification's own; the Python tools sync
            // the worktree's .venv; go downloads into the box's own module cache.
            env: go
              ? { ...base, ...plan.env }
              : python
                ? { ...withoutActive, ...plan.env }
                : {
                    ...base,
                    npm_config_store_dir: path.join(cacheDir, "pnpm-store"),
                    YARN_CACHE_FOLDER: path.join(cacheDir, "yarn")
                  },
            shown: {},
            tokens: { python: undefined, node: process.execPath, workspace: input.cwd, project },
            logPath,
            timeoutSeconds: input.defaultTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
            logBytes,
            lineBytes,
            redact,
            onOutput: input.onOutput,
            wrap
          })
          if (ran.outcome === "passed") {
            // Git never sees the worktree's own virtualenv (uv writes this file too; older versions did not).
            if (python)
              yield* fs.writeFileString(path.join(venv, ".gitignore"), "*\n", { flag: "wx" }).pipe(Effect.ignore)
            if (go) Object.assign(stepEnv, plan.env)
            const where = go
              ? "into the box's own Go module cache"
              : python
                ? "in the worktree's .venv"
                : "in the worktree"
            reinstallNotes.push(
              `${plan.lockfile} changed on the run branch: the dependencies were reinstalled ${where} before the steps (\`${shown}\`, ${(ran.durationMs / 1000).toFixed(1)} s; log: ${logPath})`
            )
          } else {
            const how = `${ran.outcome.replace("_", " ")}${ran.exitCode !== null ? ` (exit ${ran.exitCode})` : ""}${ran.note !== undefined ? `: ${ran.note}` : ""}`
            let after: string
            if (go) {
              after = "the steps ran with the host's Go module cache, which go.sum may no longer describe"
            } else if (python) {
              // A virtualenv the failed sync made goes; a linked one comes back.
              if (venvBefore === undefined || linkedVenv !== undefined)
                yield* fs.remove(venv, { recursive: true }).pipe(Effect.ignore)
              if (linkedVenv !== undefined) yield* fs.symlink(linkedVenv, venv).pipe(Effect.ignore)
              after =
                venvBefore === "Directory"
                  ? "the steps ran with the worktree's virtualenv as the failed sync left it"
                  : "the steps ran with the main checkout's virtualenv, which the lockfile no longer describes"
            } else {
              // What the failed install left goes; what provisioning had put there comes back.
              yield* clearNodeModules(fs, path, input.cwd)
              const restored = yield* restoreNodeModules(fs, path, input.cwd, project, replaced)
              after =
                restored.length > 0
                  ? "the steps ran with the main checkout's installed dependencies, which the lockfile no longer describes"
                  : "the worktree has no node_modules"
            }
            reinstallNotes.push(
              `dependencies may be stale: ${plan.lockfile} changed on the run branch and reinstalling them (\`${shown}\`) ${how}; ${after}` +
                `. Log: ${logPath}. Allow the ${go ? "module proxy" : python ? "package index" : "registry"} in [sandbox] allow_hosts with verification_network = true, or install in a verification step`
            )
          }
        }
        const ecosystem = yield* resolveEcosystem(fs, path, {
          workspace: input.cwd,
          project,
          env: base,
          virtualEnv: host.VIRTUAL_ENV,
          nodePath: process.execPath,
          handled: plans.map((p) => p.lockfile)
        })
        const env = { ...base, ...stepEnv, ...ecosystem.env }
        const notes = [...reinstallNotes, ...ecosystem.notes]
        const results: Array<StepResult> = []
        const snapshot = worktreeSnapshot(git, fs, path, input.cwd)
        // Only a worktree's own top is watched: a directory inside another repository would see that repository's changes.
        let before = input.steps.length > 0 && place.isTop ? yield* snapshot : undefined
        for (const [i, step] of input.steps.entries()) {
          const logPath = path.join(
            input.logDir,
            `${String(i + 1).padStart(2, "0")}-${fileSafe(redact(step.name))}.log`
          )
          const ran = yield* runStep({
            step,
            cwd: input.cwd,
            env,
            shown: ecosystem.env,
            tokens: ecosystem.tokens,
            logPath,
            timeoutSeconds: step.timeoutSeconds ?? input.defaultTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
            logBytes,
            lineBytes,
            redact,
            onOutput: input.onOutput,
            wrap
          })
          const after = before !== undefined ? yield* snapshot : undefined
          const modified = before !== undefined && after !== undefined ? changedBetween(before, after) : []
          before = after
          const result = redactResult(modified.length === 0 ? ran : withModifications(ran, step, modified), redact)
          if (modified.length > 0) {
            yield* fs.writeFileString(logPath, `# ${result.note ?? ""}\n`, { flag: "a" }).pipe(Effect.ignore)
          }
          results.push(result)
          if (input.onStep) yield* input.onStep(result)
        }
        return new VerificationReport({
          steps: results,
          ...(notes.length > 0 ? { notes: notes.map(redact) } : {}),
          ...(confinement !== undefined
            ? {
                sandbox: new Confinement({
                  confined: confinement.confined,
                  notes: confinement.notes.map(redact),
                  refused: refused.map(redact)
                })
              }
            : {}),
          startedAt,
          finishedAt: yield* nowIso
        })
      })

      return Verifier.of({ run })
    })
  )
}

/** The parts of a `VerifyInput` that come from the project's configuration. */
export const verifyOptionsFrom = (
  config: SpecOrchConfig
): Pick<VerifyInput, "env" | "secretEnv" | "logBytes" | "lineBytes" | "allowHosts"> => ({
  env: verificationEnv(config.verification),
  secretEnv: config.builder.secret_env,
  logBytes: config.limits.step_log_bytes,
  lineBytes: config.limits.output_line_bytes,
  allowHosts: config.sandbox.verification_network ? config.sandbox.allow_hosts : []
})

/** Timeout of a step that names none, as in the original. */
export const DEFAULT_TIMEOUT_SECONDS = 600

/** Pure: the issue's steps replace [verification] entirely when present (original semantics), else the config's, in file order. */
export const resolveSteps = (issue: Issue, config: SpecOrchConfig): ReadonlyArray<VerificationStep> => {
  if (issue.verification !== undefined) return issue.verification
  return configuredSteps(config.verification).map((s) => new VerificationStep(s))
}

const nowIso = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

const fileSafe = (name: string) =>
  name
    .replace(/[^A-Za-z0-9_.-]+/g, "-")
    .replace(/^[-.]+/, "")
    .slice(0, 60) || "step"

/**
 * The result as it may be written and shown: every text in it redacted — the command (a token on the
 * command line, a secret expanded into an argument), the note (it may quote output), the output tail
 * and the files it changed. Every step result passes here before anything sees it.
 */
const redactResult = (result: StepResult, redact: (text: string) => string): StepResult =>
  new StepResult({
    ...result,
    name: redact(result.name),
    command: result.command.map(redact),
    outputTail: redact(result.outputTail),
    ...(result.note !== undefined ? { note: redact(result.note) } : {}),
    ...(result.modified !== undefined ? { modified: result.modified.map(redact) } : {})
  })
