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
import { configuredSteps, Confinement, defaultConfig, type Issue, verificationEnv, type SpecOrchConfig, StepResult, VerificationReport, VerificationStep } from "@spec-orch/contract"
import { hostEnvironment, Redactor } from "@spec-orch/harness"
import { Clock, Context, Duration, Effect, FileSystem, Layer, Path, Semaphore } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { createHash } from "node:crypto"
import { makeGitRunner } from "./Git.js"
import { resolveEcosystem, type Tokens } from "./internal/ecosystem.js"
import { verificationEnvironment } from "./internal/environment.js"
import { confinedAs, runBoxLayout } from "./internal/layout.js"
import { type Line, truncatedMarker } from "./internal/lines.js"
import { type Command, reapLeftover, runProcess, type Wrap } from "./internal/process.js"
import { clearNodeModules, reinstallPlans, restoreNodeModules } from "./internal/reinstall.js"
import { Sandbox, type SandboxUnavailable } from "./Sandbox.js"

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
   * When the worktree's Node lockfile or uv.lock differs from the main checkout's (the agent changed
   * it), first reinstall the dependencies in the box with the package manager's frozen install
   * (offline unless `allowHosts` gives network; uv into the worktree's own `.venv`); the report's
   * notes say it was done, that it failed and the dependencies may be stale, or that uv is not
   * installed. Off by default (hooks and previews never reinstall).
   */
  readonly reinstall?: boolean | undefined
}

export class Verifier extends Context.Service<Verifier, {
  /** Runs steps in order in cwd; never fails: every outcome is data in the report. Logs each step to <logDir>/<nn>-<step>.log. */
  readonly run: (input: VerifyInput) => Effect.Effect<VerificationReport>
}>()("@spec-orch/execution/Verifier") {
  /** Runs steps as child processes (argv without a shell, strings with `sh -c`). */
  static readonly layer: Layer.Layer<Verifier, never, ChildProcessSpawner.ChildProcessSpawner | FileSystem.FileSystem | Path.Path | Sandbox | Redactor> = Layer.effect(
    Verifier,
    Effect.gen(function*() {
      const services = yield* Effect.context<ChildProcessSpawner.ChildProcessSpawner>()
      const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const sandbox = yield* Sandbox
      const redactor = yield* Redactor
      const runStep = makeStepRunner(fs, services)

      const run = Effect.fn("Verifier.run")(function*(input: VerifyInput) {
        return yield* Effect.scoped(runScoped(input))
      })
      const runScoped = Effect.fnUntraced(function*(input: VerifyInput) {
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
        const base = verificationEnvironment({ host, extra: input.env ?? {}, secretEnv: input.secretEnv ?? [], cacheDir })
        const place = yield* gitPlaceOf(git, fs, path, input.cwd)
        const project = input.project ?? place.main
        const redact = input.redact ?? redactor.redact
        const hosts = input.allowHosts ?? []
        const layout = runBoxLayout({
          worktree: input.cwd,
          hide: input.hide,
          writable: [cacheDir],
          searchPath: base["PATH"],
          network: hosts.length > 0 ? { _tag: "allow", hosts, forwards: [] } : { _tag: "none" }
        })
        // One account of the box for the whole report: the last step's notes, every refusal.
        let confinement: { confined: boolean; notes: ReadonlyArray<string> } | undefined
        const refused: Array<string> = []
        const wrap = (command: Command) =>
          sandbox.wrap({ ...command, ...layout }).pipe(Effect.map((boxed) => {
            const w = confinedAs(boxed)
            confinement = { confined: w.confined, notes: w.notes ?? [] }
            return { ...w, refused: Effect.tap(w.refused ?? Effect.succeed([]), (rs) => Effect.sync(() => refused.push(...rs.filter((r) => !refused.includes(r))))) }
          }))
        const logBytes = input.logBytes ?? defaultConfig().limits.step_log_bytes
        const lineBytes = input.lineBytes ?? defaultConfig().limits.output_line_bytes
        const reinstallNotes: Array<string> = []
        const plans = input.reinstall === true
          ? yield* reinstallPlans(fs, path, { workspace: input.cwd, project, network: hosts.length > 0, searchPath: base["PATH"] ?? "", virtualEnv: host["VIRTUAL_ENV"] })
          : []
        for (const plan of plans) {
          const shown = plan.command.join(" ")
          if (plan.missing !== undefined) {
            reinstallNotes.push(
              `${plan.lockfile} changed on the run branch; ${plan.missing} is not installed (no \`${plan.missing}\` on the steps' PATH), so the dependencies were not reinstalled (\`${shown}\`): ` +
                `the steps ran with the main checkout's virtualenv, which ${plan.lockfile} no longer describes. Install ${plan.missing}, or install the dependencies in a verification step`
            )
            continue
          }
          const python = plan.ecosystem === "python"
          const logPath = path.join(input.logDir, python ? "00-reinstall-python-dependencies.log" : "00-reinstall-dependencies.log")
          const venv = path.join(input.cwd, ".venv")
          // Node: the provisioned node_modules go first. uv: a .venv linked from the main checkout is unlinked (never written through).
          const replaced = python ? [] : yield* clearNodeModules(fs, path, input.cwd)
          const venvBefore = python ? yield* fs.lstat(venv).pipe(Effect.map((i) => i.type), Effect.orElseSucceed(() => undefined)) : undefined
          const linkedVenv = venvBefore === "SymbolicLink" ? yield* fs.readLink(venv).pipe(Effect.orElseSucceed(() => undefined)) : undefined
          if (linkedVenv !== undefined) yield* fs.remove(venv).pipe(Effect.ignore)
          const { VIRTUAL_ENV: _active, ...withoutActive } = base
          const ran = yield* runStep({
            step: new VerificationStep({ name: python ? "reinstall-python-dependencies" : "reinstall-dependencies", command: [...plan.command], mayModify: true }),
            cwd: input.cwd,
            // The user's package stores are read-only in the box: pnpm and yarn get this verification's own; uv syncs the worktree's .venv.
            env: python
              ? { ...withoutActive, UV_PROJECT_ENVIRONMENT: venv, UV_CACHE_DIR: path.join(cacheDir, "uv") }
              : { ...base, npm_config_store_dir: path.join(cacheDir, "pnpm-store"), YARN_CACHE_FOLDER: path.join(cacheDir, "yarn") },
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
            if (python) yield* fs.writeFileString(path.join(venv, ".gitignore"), "*\n", { flag: "wx" }).pipe(Effect.ignore)
            reinstallNotes.push(`${plan.lockfile} changed on the run branch: the dependencies were reinstalled in the worktree${python ? "'s .venv" : ""} before the steps (\`${shown}\`, ${(ran.durationMs / 1000).toFixed(1)} s; log: ${logPath})`)
          } else {
            const how = `${ran.outcome.replace("_", " ")}${ran.exitCode !== null ? ` (exit ${ran.exitCode})` : ""}${ran.note !== undefined ? `: ${ran.note}` : ""}`
            let after: string
            if (python) {
              // A virtualenv the failed sync made goes; a linked one comes back.
              if (venvBefore === undefined || linkedVenv !== undefined) yield* fs.remove(venv, { recursive: true }).pipe(Effect.ignore)
              if (linkedVenv !== undefined) yield* fs.symlink(linkedVenv, venv).pipe(Effect.ignore)
              after = venvBefore === "Directory" ? "the steps ran with the worktree's virtualenv as the failed sync left it" : "the steps ran with the main checkout's virtualenv, which the lockfile no longer describes"
            } else {
              // What the failed install left goes; what provisioning had put there comes back.
              yield* clearNodeModules(fs, path, input.cwd)
              const restored = yield* restoreNodeModules(fs, path, input.cwd, project, replaced)
              after = restored.length > 0 ? "the steps ran with the main checkout's installed dependencies, which the lockfile no longer describes" : "the worktree has no node_modules"
            }
            reinstallNotes.push(
              `dependencies may be stale: ${plan.lockfile} changed on the run branch and reinstalling them (\`${shown}\`) ${how}; ${after}` +
                `. Log: ${logPath}. Allow the ${python ? "package index" : "registry"} in [sandbox] allow_hosts with verification_network = true, or install in a verification step`
            )
          }
        }
        const ecosystem = yield* resolveEcosystem(fs, path, { workspace: input.cwd, project, env: base, virtualEnv: host["VIRTUAL_ENV"], nodePath: process.execPath, handled: plans.map((p) => p.lockfile) })
        const env = { ...base, ...ecosystem.env }
        const notes = [...reinstallNotes, ...ecosystem.notes]
        const results: Array<StepResult> = []
        const snapshot = worktreeSnapshot(git, fs, path, input.cwd)
        // Only a worktree's own top is watched: a directory inside another repository would see that repository's changes.
        let before = input.steps.length > 0 && place.isTop ? yield* snapshot : undefined
        for (const [i, step] of input.steps.entries()) {
          const logPath = path.join(input.logDir, `${String(i + 1).padStart(2, "0")}-${fileSafe(redact(step.name))}.log`)
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
          ...(confinement !== undefined ? { sandbox: new Confinement({ confined: confinement.confined, notes: confinement.notes.map(redact), refused: refused.map(redact) }) } : {}),
          startedAt,
          finishedAt: yield* nowIso
        })
      })

      return Verifier.of({ run })
    })
  )
}

/** The parts of a `VerifyInput` that come from the project's configuration. */
export const verifyOptionsFrom = (config: SpecOrchConfig): Pick<VerifyInput, "env" | "secretEnv" | "logBytes" | "lineBytes" | "allowHosts"> => ({
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

/** ANSI escape sequences (SGR colours, cursor movement, OSC titles). */
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g

/** Lines of output kept in `StepResult.outputTail`. */
const TAIL_LINES = 40
/** Characters of output kept in memory for the tail (whole lines, already redacted). */
const TAIL_BYTES = 64 * 1024
/** After SIGTERM to the process group, how long before SIGKILL. */
const KILL_GRACE = Duration.seconds(2)

const nowIso = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

const fileSafe = (name: string) => name.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[-.]+/, "").slice(0, 60) || "step"

type GitRun = ReturnType<typeof makeGitRunner>

/**
 * Where `cwd` stands in git: whether it is the top of a working tree (only then are its changes
 * watched), and the main checkout it belongs to (the parent of git's common dir; `cwd` when git cannot tell).
 */
const gitPlaceOf = (git: GitRun, fs: FileSystem.FileSystem, path: Path.Path, cwd: string) =>
  Effect.gen(function*() {
    const r = yield* git(cwd, ["rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir"])
    const [top, common] = r.stdout.trim().split("\n")
    if (r.exitCode !== 0 || top === undefined || common === undefined) return { isTop: false, main: cwd }
    const real = yield* fs.realPath(cwd)
    return { isTop: top === real, main: path.basename(common) === ".git" ? path.dirname(common) : cwd }
  }).pipe(Effect.orElseSucceed(() => ({ isTop: false, main: cwd })))

/** Each path git reports as not clean (status letters and, for files, a content hash), or undefined outside a git worktree. */
type Snapshot = ReadonlyMap<string, string>

/**
 * What git says is uncommitted in the worktree (untracked files included, ignored ones not), each
 * with a hash of its content, so a step that rewrites an already-dirty file is seen too.
 */
const worktreeSnapshot = (git: GitRun, fs: FileSystem.FileSystem, path: Path.Path, cwd: string): Effect.Effect<Snapshot | undefined> =>
  Effect.gen(function*() {
    const r = yield* git(cwd, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--ignore-submodules=none", "--", ":(top)"])
    if (r.exitCode !== 0) return undefined
    const out = new Map<string, string>()
    for (const field of r.stdout.split("\0")) {
      if (field.length < 4) continue
      const file = field.slice(3)
      const bytes = yield* fs.readFile(path.join(cwd, file)).pipe(Effect.option)
      out.set(file, `${field.slice(0, 2)} ${bytes._tag === "Some" ? createHash("sha256").update(bytes.value).digest("hex") : "-"}`)
    }
    return out
  }).pipe(Effect.orElseSucceed(() => undefined))

/** The files whose state differs between two snapshots, sorted. */
const changedBetween = (before: Snapshot, after: Snapshot): Array<string> =>
  [...new Set([...before.keys(), ...after.keys()])].filter((f) => before.get(f) !== after.get(f)).sort()

const listFiles = (files: ReadonlyArray<string>) => files.slice(0, 5).join(", ") + (files.length > 5 ? `, and ${files.length - 5} more` : "")

/**
 * A step that changed the worktree: the files are recorded; unless the step may modify (`may_modify`),
 * a pass becomes a failure, because what was verified is no longer what was committed.
 */
const withModifications = (result: StepResult, step: VerificationStep, modified: ReadonlyArray<string>): StepResult => {
  const count = `${modified.length} file${modified.length === 1 ? "" : "s"}`
  const allowed = step.mayModify === true
  const note = allowed
    ? `changed ${count} in the worktree (allowed by may_modify): ${listFiles(modified)}`
    : `changed ${count} in the worktree: ${listFiles(modified)} — the verified code is not what was committed (a formatter, or a linter set to fix?). The changes are left in the worktree; make the step only check, or allow it with { command = …, may_modify = true } in [verification]`
  return new StepResult({
    ...result,
    outcome: !allowed && result.outcome === "passed" ? "failed" : result.outcome,
    note: result.note !== undefined ? `${result.note}; ${note}` : note,
    modified
  })
}

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

/** Whether `program` (a name looked up on `searchPath`, or a path relative to `cwd`) is an executable file. */
const programExists = (fs: FileSystem.FileSystem, cwd: string, program: string, searchPath: string) =>
  Effect.gen(function*() {
    const executable = (p: string) =>
      fs.stat(p).pipe(Effect.map((info) => info.type !== "Directory" && (info.mode & 0o111) !== 0), Effect.orElseSucceed(() => false))
    if (program.includes("/")) return yield* executable(program.startsWith("/") ? program : `${cwd}/${program}`)
    for (const dir of searchPath.split(":").filter((d) => d !== "")) if (yield* executable(`${dir}/${program}`)) return true
    return false
  })

/** Quotes a value for a POSIX shell when it contains anything but safe characters. */
const shellQuote = (value: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`)

const expand = (text: string, tokens: Tokens, quote: (s: string) => string): { readonly text: string; readonly missingPython: boolean } => {
  let missingPython = false
  const out = text.replace(/\{(python|node|workspace|project)\}/g, (_, token: keyof Tokens) => {
    const value = tokens[token]
    if (value === undefined) {
      missingPython = true
      return token
    }
    return quote(value)
  })
  return { text: out, missingPython }
}

/** Signals whose conventional `128+n` shell exit status we read as a crash. */
const CRASH_SIGNALS: Record<number, string> = { 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV" }

/** Finds the command a shell could not find in its output (`sh: 1: foo: not found`, `bash: foo: command not found`). */
const notFoundIn = (output: string): string | undefined => {
  const m = /(?:^|\n)[^\n]*?:\s*(?:\d+:\s*)?(\[redacted:[^\]\s]+\]|[^\s:]+): (?:command )?not found/.exec(output)
  return m?.[1]
}

interface StepInput {
  readonly step: VerificationStep
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  /** The variables the project's toolchains set (PATH, VIRTUAL_ENV, PYTHONPATH), shown in the log header. */
  readonly shown: Readonly<Record<string, string>>
  readonly tokens: Tokens
  readonly logPath: string
  readonly timeoutSeconds: number
  readonly logBytes: number
  readonly lineBytes: number
  readonly redact: (text: string) => string
  readonly onOutput: ((step: string) => Effect.Effect<void>) | undefined
  readonly wrap: Wrap<SandboxUnavailable>
}

type Ending =
  | { readonly _tag: "Exited"; readonly code: number }
  | { readonly _tag: "Signalled"; readonly signal: string }
  | { readonly _tag: "TimedOut" }
  | { readonly _tag: "SpawnFailed"; readonly notFound: boolean; readonly detail: string }

const makeStepRunner = (fs: FileSystem.FileSystem, services: Context.Context<ChildProcessSpawner.ChildProcessSpawner>) =>
  Effect.fnUntraced(function*(input: StepInput) {
    const { step, tokens } = input
    const isShell = typeof step.command === "string"
    const expanded = typeof step.command === "string"
      ? (() => {
        const e = expand(step.command, tokens, shellQuote)
        return { argv: ["sh", "-c", e.text], missingPython: e.missingPython }
      })()
      : (() => {
        const parts = step.command.map((a) => expand(a, tokens, (s) => s))
        return { argv: parts.map((p) => p.text), missingPython: parts.some((p) => p.missingPython) }
      })()
    const argv = expanded.argv
    const started = yield* Clock.currentTimeMillis
    const result = (fields: { outcome: StepResult["outcome"]; exitCode: number | null; outputTail: string; note?: string | undefined }) =>
      Effect.map(Clock.currentTimeMillis, (end) =>
        new StepResult({
          name: step.name,
          outcome: fields.outcome,
          command: argv,
          exitCode: fields.exitCode,
          durationMs: end - started,
          outputTail: fields.outputTail,
          logPath: input.logPath,
          ...(fields.note !== undefined ? { note: fields.note } : {})
        }))

    const shown = Object.entries(input.shown).map(([k, v]) => `# ${k}=${v}\n`).join("")
    // Redacted like the output: the command line may carry a token, the variables a secret.
    const header = input.redact(`# step: ${step.name}\n# command: ${JSON.stringify(argv)}\n# cwd: ${input.cwd}\n# timeout: ${input.timeoutSeconds}s\n${shown}`)
    const ended = (outcome: StepResult["outcome"], note: string) => fs.writeFileString(input.logPath, `${header}${input.redact(`# outcome: ${outcome} (${note})`)}\n`).pipe(Effect.orDie)
    if (expanded.missingPython) {
      const note = "{python} is used but neither python3 nor python is on PATH"
      yield* ended("missing_binary", note)
      return yield* result({ outcome: "missing_binary", exitCode: null, outputTail: "", note })
    }
    if (argv.length === 0 || argv[0] === "") {
      const note = "the step's command is empty"
      yield* ended("failed", note)
      return yield* result({ outcome: "failed", exitCode: null, outputTail: "", note })
    }
    if (!(yield* fs.exists(input.cwd).pipe(Effect.orElseSucceed(() => false)))) {
      const note = `the working directory ${input.cwd} does not exist`
      yield* ended("failed", note)
      return yield* result({ outcome: "failed", exitCode: null, outputTail: "", note })
    }
    // Looked up here, on the same PATH the step gets: inside the box a missing program is only an exit code.
    if (!isShell && !(yield* programExists(fs, input.cwd, argv[0]!, input.env["PATH"] ?? ""))) {
      const note = `${argv[0]} was not found on PATH`
      yield* ended("missing_binary", note)
      return yield* result({ outcome: "missing_binary", exitCode: null, outputTail: "", note })
    }

    const { ending, tail, logDropped } = yield* Effect.scoped(Effect.gen(function*() {
      const file = yield* fs.open(input.logPath, { flag: "w" }).pipe(Effect.orDie)
      const encoder = new TextEncoder()
      yield* file.writeAll(encoder.encode(header)).pipe(Effect.orDie)
      // stdout and stderr arrive as whole lines (each capped at lineBytes), redacted one by one: a
      // secret that one read split in two, or that the other stream interrupted, is still whole here.
      const tailLines: Array<string> = []
      let tailBytes = 0
      let logged = 0
      let dropped = 0
      let pending: Array<Uint8Array> = []
      const append = (text: string) => {
        const bytes = encoder.encode(text)
        if (logged + bytes.length > input.logBytes) {
          dropped += bytes.length
          if (logged >= input.logBytes) return
          logged = input.logBytes
          pending.push(encoder.encode(`\n# [spec-orch: the log reached its cap of ${input.logBytes} bytes ([limits] step_log_bytes); the rest is not kept]\n`))
          return
        }
        logged += bytes.length
        pending.push(bytes)
      }
      const keep = (line: string) => {
        // A line longer than the whole tail keeps its start; the tail stays within TAIL_BYTES.
        const kept = line.length > TAIL_BYTES ? line.slice(0, TAIL_BYTES) : line
        tailLines.push(kept)
        tailBytes += kept.length + 1
        while (tailLines.length > 1 && (tailLines.length > TAIL_LINES || tailBytes > TAIL_BYTES)) tailBytes -= tailLines.shift()!.length + 1
      }
      // Both streams' readers write the one log: one write at a time, in the order lines were taken.
      const lock = yield* Semaphore.make(1)
      const drain = lock.withPermits(1)(Effect.suspend(() => {
        if (pending.length === 0) return Effect.void
        const out = pending.length === 1 ? pending[0]! : Buffer.concat(pending)
        pending = []
        return file.writeAll(out).pipe(Effect.orDie)
      }))
      const onLines = (lines: ReadonlyArray<Line>) =>
        Effect.suspend(() => {
          let text = ""
          for (const line of lines) {
            const clean = input.redact(line.text)
            keep(clean)
            text += `${clean}${line.dropped > 0 ? truncatedMarker(line.dropped) : ""}\n`
          }
          append(text)
          return input.onOutput !== undefined ? Effect.andThen(input.onOutput(step.name), drain) : drain
        })
      const run = yield* runProcess(
        { argv, cwd: input.cwd, env: input.env, pidFile: `${input.logPath.replace(/\.log$/, "")}.pid` },
        { _tag: "Lines", lineBytes: input.lineBytes, onLines, onStderr: onLines },
        { timeout: Duration.seconds(input.timeoutSeconds), grace: KILL_GRACE },
        input.wrap
      ).pipe(Effect.provide(services), Effect.result)
      yield* drain
      if (run._tag === "Failure") {
        const e = run.failure
        if (e._tag === "SandboxUnavailable") return { ending: { _tag: "SpawnFailed", notFound: false, detail: e.message } satisfies Ending, tail: "", logDropped: 0 }
        return { ending: { _tag: "SpawnFailed", notFound: e.notFound, detail: e.notFound && e.detail.endsWith("was not found") ? `${argv[0]} was not found on PATH` : e.detail } satisfies Ending, tail: "", logDropped: 0 }
      }
      const end = run.success
      const ending: Ending = end.stopped?._tag === "TimedOut"
        ? { _tag: "TimedOut" }
        : end.ending._tag === "Exited"
        ? { _tag: "Exited", code: end.ending.code }
        : { _tag: "Signalled", signal: end.ending._tag === "Signalled" ? end.ending.signal : "a signal" }
      return { ending, tail: tailLines.join("\n"), logDropped: dropped }
    }))

    // Colour codes and cursor movement are for terminals, not for explain.md or a pull request.
    const outputTail = tail.replace(ANSI, "")
    let outcome: StepResult["outcome"]
    let exitCode: number | null = null
    let note: string | undefined
    switch (ending._tag) {
      case "Exited": {
        exitCode = ending.code
        if (ending.code === 0) outcome = "passed"
        else if (ending.code === 127) {
          outcome = "missing_binary"
          const which = notFoundIn(tail) ?? (isShell ? undefined : argv[0])
          note = which !== undefined ? `${which}: command not found (exit 127)` : "a command was not found (exit 127)"
        } else if (isShell && CRASH_SIGNALS[ending.code - 128] !== undefined) {
          outcome = "crashed"
          note = `killed by ${CRASH_SIGNALS[ending.code - 128]} (the shell exited ${ending.code})`
        } else {
          outcome = "failed"
          if (ending.code === 126) note = "a command was found but could not be executed (exit 126)"
        }
        break
      }
      case "Signalled":
        outcome = "crashed"
        note = `killed by ${ending.signal}`
        break
      case "TimedOut":
        outcome = "timed_out"
        note = `no exit after ${input.timeoutSeconds} s; the step's process group was killed`
        break
      case "SpawnFailed":
        outcome = ending.notFound ? "missing_binary" : "failed"
        note = ending.detail
        break
    }
    if (logDropped > 0) note = [note, `${logDropped} bytes of output beyond [limits] step_log_bytes were not kept in the log`].filter((n) => n !== undefined).join("; ")
    yield* Effect.scoped(Effect.gen(function*() {
      const file = yield* fs.open(input.logPath, { flag: "a" })
      yield* file.writeAll(new TextEncoder().encode(input.redact(`\n# outcome: ${outcome}${exitCode !== null ? ` (exit ${exitCode})` : ""}${note !== undefined ? ` — ${note}` : ""}\n`)))
    })).pipe(Effect.orDie)
    return yield* result({ outcome, exitCode, outputTail, note })
  }, (effect, input) =>
    effect.pipe(
      Effect.tap((r) => Effect.annotateCurrentSpan({ outcome: r.outcome, ...(r.exitCode !== null ? { exit_code: r.exitCode } : {}) })),
      // One span per step, named by the step (redacted: a name may quote its command).
      Effect.withSpan("Verifier.step", { attributes: { step: input.redact(input.step.name) } })
    ))
