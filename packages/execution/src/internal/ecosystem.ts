/**
 * What a verification step sees of the project's toolchains, so that it exercises the worktree's code
 * and not the main checkout's. Python: `{python}` is the project's virtualenv (the worktree's own, else
 * the main checkout's `.venv`/`venv`/`$VIRTUAL_ENV`), its `bin` is first on PATH, and PYTHONPATH starts
 * with the worktree's import roots — entries there come before site-packages, so they shadow an
 * editable install of the main checkout whichever way setuptools made it (a `.pth` path, its meta-path
 * finder, or a link tree). Node: the worktree's `node_modules/.bin` is first on PATH. A lockfile that
 * differs from the main checkout's is reported, because the dependencies were not reinstalled.
 */
import { Effect, FileSystem, Path } from "effect"
import { NODE_LOCKFILES, type Provision, sameBytes } from "./provision.js"

/** Lockfiles of the Python package managers, and pip's requirements file (often a pinned lock, as pip-compile writes it). */
export const PYTHON_LOCKFILES: ReadonlyArray<string> = [
  "uv.lock",
  "poetry.lock",
  "Pipfile.lock",
  "pdm.lock",
  "requirements.txt"
]

/** Directory names of a project's virtualenv, in the order they are looked for. */
const VENV_NAMES = [".venv", "venv"]

/** What `{python}`, `{node}`, `{workspace}` and `{project}` expand to (`python` undefined when there is none). */
export interface Tokens {
  readonly python: string | undefined
  readonly node: string
  readonly workspace: string
  readonly project: string
}

/** The toolchain view of one verification: tokens, variables over the scrubbed environment, notes for the report. */
export interface Ecosystem {
  readonly tokens: Tokens
  /** Variables to set (PATH, VIRTUAL_ENV, PYTHONPATH), already merged with the base environment's. */
  readonly env: Readonly<Record<string, string>>
  readonly notes: ReadonlyArray<string>
}

const exists = (fs: FileSystem.FileSystem, p: string) => fs.exists(p).pipe(Effect.orElseSucceed(() => false))

const isExecutable = (fs: FileSystem.FileSystem, p: string) =>
  fs.stat(p).pipe(
    Effect.map((i) => i.type !== "Directory" && (i.mode & 0o111) !== 0),
    Effect.orElseSucceed(() => false)
  )

/** The venv at `dir`: it has a `pyvenv.cfg` and an executable `bin/python`. */
const isVenv = (fs: FileSystem.FileSystem, path: Path.Path, dir: string) =>
  Effect.map(
    Effect.all([exists(fs, path.join(dir, "pyvenv.cfg")), isExecutable(fs, path.join(dir, "bin", "python"))]),
    ([cfg, py]) => cfg && py
  )

/** True when `inner` is `outer` or lies below it. */
const within = (path: Path.Path, outer: string, inner: string) => {
  const rel = path.relative(outer, inner)
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel))
}

/**
 * The project's virtualenvs, best first: the worktree's own (a real directory, not one linked from the
 * main checkout), then the main checkout's `.venv`/`venv`, then `$VIRTUAL_ENV` when it lies inside it.
 */
export const findVenvs = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  options: { readonly workspace: string; readonly project: string; readonly virtualEnv: string | undefined }
) =>
  Effect.gen(function* () {
    const out: Array<string> = []
    for (const name of VENV_NAMES) {
      const dir = path.join(options.workspace, name)
      const info = yield* fs.lstat(dir).pipe(Effect.option)
      if (info._tag === "Some" && info.value.type === "Directory" && (yield* isVenv(fs, path, dir))) out.push(dir)
    }
    if (options.project !== options.workspace) {
      for (const name of VENV_NAMES) {
        const dir = path.join(options.project, name)
        if (yield* isVenv(fs, path, dir)) out.push(dir)
      }
      const active = options.virtualEnv
      if (
        active !== undefined &&
        path.isAbsolute(active) &&
        within(path, options.project, active) &&
        !out.includes(active) &&
        (yield* isVenv(fs, path, active))
      )
        out.push(active)
    }
    return out
  })

/** `[tool.setuptools.packages.find] where`, `package-dir = {"" = …}`, poetry `from`, hatch `packages`, setup.cfg `package_dir`. */
const declaredRoots = (pyproject: string, setupCfg: string): Array<string> => {
  const roots: Array<string> = []
  const add = (r: string) => {
    const clean = r.trim().replace(/^\.\//, "").replace(/\/+$/, "")
    if (clean !== "" && clean !== "." && !clean.split("/").includes("..") && !roots.includes(clean)) roots.push(clean)
  }
  const find = /^\[tool\.setuptools\.packages\.find\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(pyproject)
  const where = find !== null ? /^\s*where\s*=\s*\[([^\]]*)\]/m.exec(find[1]!) : null
  if (where !== null) for (const m of where[1]!.matchAll(/["']([^"']+)["']/g)) add(m[1]!)
  const packageDir = /package[-_]dir\s*=\s*\{[^}]*["']{2}\s*=\s*["']([^"']+)["']/.exec(pyproject)
  if (packageDir !== null) add(packageDir[1]!)
  for (const m of pyproject.matchAll(/\{[^}]*\bfrom\s*=\s*["']([^"']+)["'][^}]*\}/g)) add(m[1]!)
  const hatch = /^\[tool\.hatch\.build\.targets\.wheel\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(pyproject)
  const hatchPackages = hatch !== null ? /^\s*packages\s*=\s*\[([^\]]*)\]/m.exec(hatch[1]!) : null
  if (hatchPackages !== null) {
    for (const m of hatchPackages[1]!.matchAll(/["']([^"']+)["']/g))
      if (m[1]!.includes("/")) add(m[1]!.slice(0, m[1]!.lastIndexOf("/")))
  }
  const cfgDir = /^\s*package_dir\s*=\s*(?:\n\s+)?=\s*(\S+)/m.exec(setupCfg)
  if (cfgDir !== null) add(cfgDir[1]!)
  const cfgWhere = /^\[options\.packages\.find\]\s*$[\s\S]*?^\s*where\s*=\s*(\S+)/m.exec(setupCfg)
  if (cfgWhere !== null) add(cfgWhere[1]!)
  return roots
}

/**
 * The worktree's Python import roots (absolute), or none when it is not a Python project: the roots its
 * packaging config declares, else `src` when it holds a package (`src/<pkg>/__init__.py`), else the worktree.
 */
export const pythonImportRoots = (fs: FileSystem.FileSystem, path: Path.Path, workspace: string) =>
  Effect.gen(function* () {
    const read = (name: string) =>
      fs.readFileString(path.join(workspace, name)).pipe(Effect.orElseSucceed(() => undefined))
    const pyproject = yield* read("pyproject.toml")
    const setupCfg = yield* read("setup.cfg")
    const isPython =
      pyproject !== undefined || setupCfg !== undefined || (yield* exists(fs, path.join(workspace, "setup.py")))
    if (!isPython) return []
    const declared: Array<string> = []
    for (const r of declaredRoots(pyproject ?? "", setupCfg ?? "")) {
      if (yield* exists(fs, path.join(workspace, r))) declared.push(path.join(workspace, r))
    }
    if (declared.length > 0) return declared
    const src = path.join(workspace, "src")
    for (const name of yield* fs.readDirectory(src).pipe(Effect.orElseSucceed(() => []))) {
      if (yield* exists(fs, path.join(src, name, "__init__.py"))) return [src]
    }
    return [workspace]
  })

/** The first of `names` found as an executable file on `searchPath`. */
export const findOnPath = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  searchPath: string,
  names: ReadonlyArray<string>
) =>
  Effect.gen(function* () {
    const dirs = searchPath.split(":").filter((d) => d !== "")
    for (const name of names) {
      for (const dir of dirs) {
        const candidate = path.join(dir, name)
        if (yield* isExecutable(fs, candidate)) return candidate
      }
    }
    return undefined
  })

/**
 * Notes for lockfiles that differ between the worktree and the main checkout: the dependencies were
 * not reinstalled, so the steps ran with the main checkout's (or with none).
 */
export const lockfileNotes = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  workspace: string,
  project: string,
  handled: ReadonlyArray<string> = []
) =>
  Effect.gen(function* () {
    if (workspace === project) return []
    const notes: Array<string> = []
    for (const name of [...NODE_LOCKFILES, ...PYTHON_LOCKFILES]) {
      if (handled.includes(name)) continue
      const mine = path.join(workspace, name)
      const theirs = path.join(project, name)
      const [inWorktree, inMain] = yield* Effect.all([exists(fs, mine), exists(fs, theirs)])
      if (!inWorktree && !inMain) continue
      if (inWorktree && inMain && (yield* sameBytes(fs, mine, theirs))) continue
      const change = !inMain ? "was added" : !inWorktree ? "was deleted" : "differs from the main checkout's"
      const isNode = NODE_LOCKFILES.includes(name)
      const has = isNode
        ? yield* exists(fs, path.join(workspace, "node_modules"))
        : (yield* findVenvs(fs, path, { workspace, project, virtualEnv: undefined })).length > 0
      const used = isNode
        ? has
          ? "the steps ran with the main checkout's installed dependencies, which it no longer describes"
          : "the worktree has no node_modules"
        : has
          ? "the steps ran with the main checkout's virtualenv, which it no longer describes"
          : "no virtualenv of the project was found"
      notes.push(
        `${name} ${change} (changed on the run branch, or the main checkout moved on); dependencies were not reinstalled: ${used}. Reinstalling needs the network: install them in a verification step if the change is intended`
      )
    }
    return notes
  })

/**
 * Resolves the toolchain view for steps run in `workspace` of the project whose main checkout is
 * `project`, over the base environment `env` (the scrubbed one, with `[verification.env]`).
 */
export const resolveEcosystem = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  options: {
    readonly workspace: string
    readonly project: string
    readonly env: Readonly<Record<string, string>>
    readonly virtualEnv: string | undefined
    readonly nodePath: string
    /** Lockfiles whose change the caller already reported (a reinstall), left out of the notes. */
    readonly handled?: ReadonlyArray<string> | undefined
  }
): Effect.Effect<Ecosystem> =>
  Effect.gen(function* () {
    const { workspace, project, env } = options
    const pathDirs: Array<string> = []
    const out: Record<string, string> = {}
    const bin = path.join(workspace, "node_modules", ".bin")
    if (yield* exists(fs, bin)) pathDirs.push(bin)
    const venv = (yield* findVenvs(fs, path, { workspace, project, virtualEnv: options.virtualEnv }))[0]
    if (venv !== undefined) {
      pathDirs.push(path.join(venv, "bin"))
      out.VIRTUAL_ENV = venv
    }
    const searchPath = [
      ...pathDirs,
      ...(env.PATH ?? "").split(":").filter((d) => d !== "" && !pathDirs.includes(d))
    ].join(":")
    if (pathDirs.length > 0) out.PATH = searchPath
    const roots = yield* pythonImportRoots(fs, path, workspace)
    if (roots.length > 0) {
      const given = (env.PYTHONPATH ?? "").split(":").filter((d) => d !== "" && !roots.includes(d))
      out.PYTHONPATH = [...roots, ...given].join(":")
    }
    const python =
      venv !== undefined
        ? path.join(venv, "bin", "python")
        : yield* findOnPath(fs, path, searchPath, ["python3", "python"])
    return {
      tokens: { python, node: options.nodePath, workspace, project },
      env: out,
      notes: yield* lockfileNotes(fs, path, workspace, project, options.handled)
    }
  })

/**
 * The main checkout's directories a sandboxed step must see, read-only, for a worktree provisioned from
 * it: each linked or hard-linked dependency directory's source and the project's virtualenvs, each also
 * by its real path when that differs.
 */
export const dependencyDirectories = (options: {
  readonly project: string
  readonly workspace: string
  readonly provisioned: ReadonlyArray<Provision>
  readonly virtualEnv: string | undefined
}): Effect.Effect<ReadonlyArray<string>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dirs: Array<string> = []
    const add = (p: string) =>
      Effect.gen(function* () {
        if (!dirs.includes(p)) dirs.push(p)
        const real = yield* fs.realPath(p).pipe(Effect.orElseSucceed(() => p))
        if (!dirs.includes(real)) dirs.push(real)
      })
    for (const p of options.provisioned) if (p.kind !== "copy") yield* add(p.source)
    for (const venv of yield* findVenvs(fs, path, {
      workspace: options.workspace,
      project: options.project,
      virtualEnv: options.virtualEnv
    })) {
      if (!within(path, options.workspace, venv)) yield* add(venv)
    }
    return dirs
  })
