/**
 * What a new worktree of the project will get of its installed dependencies, judged from the main
 * checkout: what `spec-orch doctor` shows under "dependencies". A lockfile whose dependencies are not
 * installed in the main checkout, or installed without a lockfile, leaves every worktree without them
 * (verification then fails with "command not found"); a uv.lock without uv on PATH cannot be
 * reinstalled when the agent changes it. It looks and reports; it changes nothing.
 */
import { Effect, FileSystem, Path } from "effect"
import { findOnPath, findVenvs, pythonImportRoots } from "./internal/ecosystem.js"
import { nodeDependencies } from "./internal/provision.js"
import { installCommand } from "./internal/reinstall.js"

/** One finding: `warn` when worktrees will lack what the project's steps likely need. */
export interface DependencyFinding {
  readonly status: "ok" | "warn"
  readonly detail: string
  /** What to do about it, when it is a warning. */
  readonly fix?: string
}

/** The install that fills the main checkout from a lockfile, as a person would type it. */
const installFor = (lockfile: string) => lockfile === "package-lock.json" || lockfile === "npm-shrinkwrap.json" ? "npm ci" : installCommand(lockfile, true, false).slice(0, 2).join(" ")

/**
 * The findings for the main checkout `main`: Node (lockfile, node_modules, provisioning) and Python
 * (virtualenv, uv.lock and uv). Empty when the project has neither a package.json nor Python packaging.
 */
export const dependencyFindings = (main: string, options: {
  /** `[workspace] provision`. */
  readonly provision: boolean
  /** The PATH verification steps get (where `uv` is looked for). */
  readonly searchPath: string
  readonly virtualEnv: string | undefined
  /** The main-checkout-relative paths, of those given, that git ignores; a trailing `/` asks about a directory. */
  readonly ignored: (paths: ReadonlyArray<string>) => Effect.Effect<ReadonlySet<string>>
}): Effect.Effect<ReadonlyArray<DependencyFinding>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const exists = (p: string) => fs.exists(path.join(main, p)).pipe(Effect.orElseSucceed(() => false))
    const findings: Array<DependencyFinding> = []

    const node = yield* nodeDependencies(fs, path, main)
    const installed = node.dirs.length > 0
    if (node.lockfile !== undefined && !installed) {
      findings.push({
        status: "warn",
        detail: `${node.lockfile}, but no node_modules in the main checkout: worktrees get no dependencies, and steps that need them fail ("command not found")`,
        fix: `run \`${installFor(node.lockfile)}\` in ${main}, once: each worktree then links to it`
      })
    } else if (node.lockfile === undefined && installed) {
      findings.push({
        status: "warn",
        detail: "node_modules is installed but there is no lockfile: worktrees get no dependencies (without one nothing tells whether they fit the worktree)",
        fix: "commit your package manager's lockfile"
      })
    } else if (node.lockfile !== undefined && !options.provision) {
      findings.push({ status: "ok", detail: `${node.lockfile}; provisioning is off ([workspace] provision = false): worktrees get no node_modules unless a hook installs them` })
    } else if (node.lockfile !== undefined && (yield* Effect.map(options.ignored(["node_modules/"]), (set) => !set.has("node_modules/"))) && node.dirs.includes("node_modules")) {
      findings.push({
        status: "warn",
        detail: "node_modules is not ignored by git: worktrees do not get it (a provisioned node_modules would be committed)",
        fix: "add node_modules/ to .gitignore"
      })
    } else if (node.lockfile !== undefined) {
      const how = node.monorepo ? "copied as hard links" : "linked"
      findings.push({ status: "ok", detail: `node_modules (${node.lockfile}) ${how} into each new worktree while its lockfile is unchanged; reinstalled in the box when the agent changes it` })
    }

    if ((yield* pythonImportRoots(fs, path, main)).length > 0 || (yield* exists("uv.lock"))) {
      const venv = (yield* findVenvs(fs, path, { workspace: main, project: main, virtualEnv: options.virtualEnv }))[0]
      const uvLock = yield* exists("uv.lock")
      if (venv === undefined) {
        findings.push(uvLock
          ? { status: "warn", detail: "uv.lock, but no virtualenv (.venv, venv) in the main checkout: steps run without the project's dependencies", fix: `run \`uv sync\` in ${main}` }
          : { status: "ok", detail: "no virtualenv (.venv, venv) in the main checkout: `{python}` is the first python3 on PATH" })
      } else {
        findings.push({ status: "ok", detail: `virtualenv ${path.relative(main, venv) || venv}: verification uses it, with the worktree's code first on PYTHONPATH` })
      }
      if (uvLock && (yield* findOnPath(fs, path, options.searchPath, ["uv"])) === undefined) {
        findings.push({
          status: "warn",
          detail: "uv.lock, but uv is not on PATH: when the agent changes uv.lock, verification cannot reinstall it and runs with the main checkout's virtualenv (the report says so)",
          fix: "install uv and put it on PATH"
        })
      }
    }
    return findings
  })
