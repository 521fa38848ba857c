/**
 * What a new worktree of the project will get of its installed dependencies, judged from the main
 * checkout: what `spec-orch doctor` shows under "dependencies". A lockfile whose dependencies are not
 * installed in the main checkout, or installed without a lockfile, leaves every worktree without them
 * (verification then fails with "command not found"); a Python lockfile without its tool on PATH cannot
 * be reinstalled when the agent changes it; a go.mod whose modules are not in the module cache cannot
 * be built in the box (no network). It looks and reports; it changes nothing.
 */
import { Effect, FileSystem, Path } from "effect"
import { findOnPath, findVenvs, pythonImportRoots } from "./internal/ecosystem.js"
import { NODE_LOCKFILES, nodeDependencies } from "./internal/provision.js"
import { hostGoModCache, installCommand } from "./internal/reinstall.js"

/** The Python lockfiles, each with its tool and the install that fills the main checkout's `.venv`. */
const PYTHON_TOOLS = [
  { lockfile: "uv.lock", tool: "uv", install: "uv sync" },
  { lockfile: "poetry.lock", tool: "poetry", install: "poetry config virtualenvs.in-project true && poetry install" },
  { lockfile: "pdm.lock", tool: "pdm", install: "pdm install" },
  { lockfile: "Pipfile.lock", tool: "pipenv", install: "PIPENV_VENV_IN_PROJECT=1 pipenv sync --dev" }
] as const

/** The files that mark each ecosystem, as `Name (file, file)`, for the ecosystems the main checkout has. */
const detectEcosystems = (fs: FileSystem.FileSystem, path: Path.Path, main: string) =>
  Effect.gen(function* () {
    const present = (names: ReadonlyArray<string>) =>
      Effect.filter(names, (n) => fs.exists(path.join(main, n)).pipe(Effect.orElseSucceed(() => false)))
    const out: Array<string> = []
    for (const [name, files] of [
      ["Node", ["package.json", ...NODE_LOCKFILES]],
      [
        "Python",
        [
          "pyproject.toml",
          "setup.py",
          "setup.cfg",
          "Pipfile",
          ...PYTHON_TOOLS.map((t) => t.lockfile),
          "requirements.txt"
        ]
      ],
      ["Go", ["go.mod", "go.sum"]],
      ["Rust", ["Cargo.toml", "Cargo.lock"]]
    ] as const) {
      const found = yield* present(files)
      if (found.length > 0) out.push(`${name} (${found.join(", ")})`)
    }
    return out
  })

/** The `require`d modules of a go.mod (single lines and blocks; `// indirect` included). */
const goRequirements = (goMod: string): Array<{ readonly path: string; readonly version: string }> => {
  const out: Array<{ path: string; version: string }> = []
  let block = false
  for (const raw of goMod.split("\n")) {
    const line = raw.replace(/\/\/.*$/, "").trim()
    if (block) {
      if (line === ")") block = false
      else {
        const m = /^(\S+)\s+(\S+)$/.exec(line)
        if (m !== null) out.push({ path: m[1]!, version: m[2]! })
      }
      continue
    }
    if (/^require\s*\($/.test(line)) block = true
    else {
      const m = /^require\s+(\S+)\s+(\S+)$/.exec(line)
      if (m !== null) out.push({ path: m[1]!, version: m[2]! })
    }
  }
  return out
}

/** Go's module-cache escaping: each upper-case letter becomes `!` and its lower case. */
const goEscape = (s: string) => s.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`)

/** One finding: `warn` when worktrees will lack what the project's steps likely need. */
export interface DependencyFinding {
  readonly status: "ok" | "warn"
  readonly detail: string
  /** What to do about it, when it is a warning. */
  readonly fix?: string
}

/** The install that fills the main checkout from a lockfile, as a person would type it. */
const installFor = (lockfile: string) =>
  lockfile === "package-lock.json" || lockfile === "npm-shrinkwrap.json"
    ? "npm ci"
    : installCommand(lockfile, true, false).slice(0, 2).join(" ")

/**
 * The findings for the main checkout `main`: the ecosystems detected, Node (lockfile, node_modules,
 * provisioning), Python (virtualenv, its lockfile and tool) and Go (go on PATH, required modules in the
 * module cache). Empty when the project has none of them.
 */
export const dependencyFindings = (
  main: string,
  options: {
    /** `[workspace] provision`. */
    readonly provision: boolean
    /** The PATH verification steps get (where `uv` is looked for). */
    readonly searchPath: string
    readonly virtualEnv: string | undefined
    /** The host's variables (where Go's module cache is). */
    readonly host?: Readonly<Record<string, string | undefined>> | undefined
    /** The main-checkout-relative paths, of those given, that git ignores; a trailing `/` asks about a directory. */
    readonly ignored: (paths: ReadonlyArray<string>) => Effect.Effect<ReadonlySet<string>>
  }
): Effect.Effect<ReadonlyArray<DependencyFinding>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const exists = (p: string) => fs.exists(path.join(main, p)).pipe(Effect.orElseSucceed(() => false))
    const findings: Array<DependencyFinding> = []

    const node = yield* nodeDependencies(fs, path, main)
    const installed = node.dirs.length > 0
    const detected = yield* detectEcosystems(fs, path, main)
    if (detected.length > 0) findings.push({ status: "ok", detail: `detected: ${detected.join("; ")}` })
    if (node.lockfile !== undefined && !installed) {
      findings.push({
        status: "warn",
        detail: `${node.lockfile}, but no node_modules in the main checkout: worktrees get no dependencies, and steps that need them fail ("command not found")`,
        fix: `run \`${installFor(node.lockfile)}\` in ${main}, once: each worktree then links to it`
      })
    } else if (node.lockfile === undefined && installed) {
      findings.push({
        status: "warn",
        detail:
          "node_modules is installed but there is no lockfile: worktrees get no dependencies (without one nothing tells whether they fit the worktree)",
        fix: "commit your package manager's lockfile"
      })
    } else if (node.lockfile !== undefined && !options.provision) {
      findings.push({
        status: "ok",
        detail: `${node.lockfile}; provisioning is off ([workspace] provision = false): worktrees get no node_modules unless a hook installs them`
      })
    } else if (
      node.lockfile !== undefined &&
      (yield* Effect.map(options.ignored(["node_modules/"]), (set) => !set.has("node_modules/"))) &&
      node.dirs.includes("node_modules")
    ) {
      findings.push({
        status: "warn",
        detail:
          "node_modules is not ignored by git: worktrees do not get it (a provisioned node_modules would be committed)",
        fix: "add node_modules/ to .gitignore"
      })
    } else if (node.lockfile !== undefined) {
      const how = node.monorepo ? "copied as hard links" : "linked"
      findings.push({
        status: "ok",
        detail: `node_modules (${node.lockfile}) ${how} into each new worktree while its lockfile is unchanged; reinstalled in the box when the agent changes it`
      })
    }

    const pythonLock = yield* Effect.findFirst(PYTHON_TOOLS, (t) => exists(t.lockfile)).pipe(
      Effect.map((o) => (o._tag === "Some" ? o.value : undefined))
    )
    const isPython = (yield* pythonImportRoots(fs, path, main)).length > 0 || pythonLock !== undefined
    if (isPython) {
      const venv = (yield* findVenvs(fs, path, { workspace: main, project: main, virtualEnv: options.virtualEnv }))[0]
      if (venv === undefined) {
        findings.push(
          pythonLock !== undefined
            ? {
                status: "warn",
                detail: `${pythonLock.lockfile}, but no virtualenv (.venv, venv) in the main checkout: steps run without the project's dependencies`,
                fix: `run \`${pythonLock.install}\` in ${main}`
              }
            : {
                status: "ok",
                detail: "no virtualenv (.venv, venv) in the main checkout: `{python}` is the first python3 on PATH"
              }
        )
      } else {
        findings.push({
          status: "ok",
          detail: `virtualenv ${path.relative(main, venv) || venv}: verification uses it, with the worktree's code first on PYTHONPATH`
        })
      }
      if (
        pythonLock !== undefined &&
        (yield* findOnPath(fs, path, options.searchPath, [pythonLock.tool])) === undefined
      ) {
        findings.push({
          status: "warn",
          detail: `${pythonLock.lockfile}, but ${pythonLock.tool} is not on PATH: when the agent changes ${pythonLock.lockfile}, verification cannot reinstall it and runs with the main checkout's virtualenv (the report says so)`,
          fix: `install ${pythonLock.tool} and put it on PATH`
        })
      }
    }

    const goMod = yield* fs.readFileString(path.join(main, "go.mod")).pipe(Effect.orElseSucceed(() => undefined))
    if (goMod !== undefined) {
      const cache = hostGoModCache(options.host ?? {})
      if ((yield* findOnPath(fs, path, options.searchPath, ["go"])) === undefined) {
        findings.push({
          status: "warn",
          detail:
            "go.mod, but go is not on PATH: steps that build or test the module fail, and a changed go.sum cannot be downloaded",
          fix: "install Go (Debian: `apt-get install golang-go`) and put it on PATH"
        })
      } else {
        const missing: Array<string> = []
        for (const m of goRequirements(goMod)) {
          if (
            cache === undefined ||
            !(yield* fs
              .exists(path.join(cache, "cache", "download", goEscape(m.path), "@v", `${goEscape(m.version)}.mod`))
              .pipe(Effect.orElseSucceed(() => false)))
          )
            missing.push(`${m.path}@${m.version}`)
        }
        findings.push(
          missing.length > 0
            ? {
                status: "warn",
                detail: `go.mod requires ${missing.length} module${missing.length === 1 ? "" : "s"} not in the module cache${cache !== undefined ? ` (${cache})` : ""}: verification has no network by default, so steps that build fail (${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ", …" : ""})`,
                fix: `run \`go mod download\` in ${main}, once: each worktree then reads the cache`
              }
            : {
                status: "ok",
                detail: `go.mod: steps read modules from the module cache${cache !== undefined ? ` (${cache})` : ""}, read-only in the box; a changed go.sum is downloaded in the box`
              }
        )
      }
    }
    return findings
  })
