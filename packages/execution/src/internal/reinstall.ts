/**
 * Reinstalling a worktree's dependencies after the agent changed its lockfile. Provisioning gave the
 * worktree the main checkout's `node_modules` (and its steps the main checkout's virtualenv), which
 * the changed lockfile no longer describes; the verifier then runs the package manager's frozen
 * install from the worktree's lockfile (offline unless the verification box has network) before the
 * steps. Node: the provisioned directories are removed first, so an install never writes through a
 * link into the main checkout; if the install fails, they are linked again and the report says the
 * dependencies may be stale. uv: `uv sync` builds the worktree's own `.venv` (a linked one is
 * unlinked first), which the steps then use; when uv is not installed, the report says so.
 */
import { Effect, type FileSystem, type Path } from "effect"
import { findOnPath, findVenvs } from "./ecosystem.js"
import { linkEntries, NODE_LOCKFILES, nodeDependencies, sameBytes } from "./provision.js"

/** What to reinstall, and how. */
export interface ReinstallPlan {
  /** The worktree's lockfile that differs from the main checkout's. */
  readonly lockfile: string
  /** What the install replaces: the worktree's node_modules directories, its Python virtualenv, or (Go) the box's module cache. */
  readonly ecosystem: "node" | "python" | "go"
  /** The package manager's frozen install, as argv. */
  readonly command: ReadonlyArray<string>
  /** Variables for the install; for Go also for the steps after it (they read the modules it downloaded). */
  readonly env?: Readonly<Record<string, string>> | undefined
  /** Set when the package manager is not on the steps' PATH: the install cannot run (the program's name). */
  readonly missing?: string | undefined
}

/**
 * The frozen install for a lockfile: from the lockfile only, never rewriting it; `--offline` (from
 * the package manager's cache or local tarballs) when the box has no network, `--prefer-offline` when it has.
 */
export const installCommand = (lockfile: string, network: boolean, yarnBerry: boolean): ReadonlyArray<string> => {
  switch (lockfile) {
    case "pnpm-lock.yaml":
      return ["pnpm", "install", "--frozen-lockfile", network ? "--prefer-offline" : "--offline"]
    case "yarn.lock":
      return yarnBerry
        ? ["yarn", "install", "--immutable"]
        : ["yarn", "install", "--frozen-lockfile", network ? "--prefer-offline" : "--offline"]
    case "bun.lock":
    case "bun.lockb":
      return ["bun", "install", "--frozen-lockfile"]
    default:
      return ["npm", "ci", "--no-audit", "--no-fund", network ? "--prefer-offline" : "--offline"]
  }
}

const exists = (fs: FileSystem.FileSystem, p: string) => fs.exists(p).pipe(Effect.orElseSucceed(() => false))

/** uv's frozen sync into the project's `.venv`: from uv.lock only, never rewriting it; `--offline` (uv's cache only) without network. */
export const uvSyncCommand = (network: boolean): ReadonlyArray<string> => [
  "uv",
  "sync",
  "--frozen",
  ...(network ? [] : ["--offline"])
]

/** The Python lockfiles a reinstall understands, each with its tool and the install that syncs the worktree's `.venv` from it. */
const PYTHON_INSTALLS: ReadonlyArray<{
  readonly lockfile: string
  readonly command: (network: boolean) => ReadonlyArray<string>
  readonly env: (venv: string, cacheDir: string) => Record<string, string>
}> = [
  {
    lockfile: "uv.lock",
    command: (network) => uvSyncCommand(network),
    env: (venv, cache) => ({ UV_PROJECT_ENVIRONMENT: venv, UV_CACHE_DIR: `${cache}/uv` })
  },
  {
    lockfile: "poetry.lock",
    command: () => ["poetry", "install", "--sync", "--no-interaction"],
    env: (_, cache) => ({ POETRY_VIRTUALENVS_IN_PROJECT: "true", POETRY_CACHE_DIR: `${cache}/poetry` })
  },
  {
    lockfile: "pdm.lock",
    command: () => ["pdm", "sync", "--clean", "--no-self"],
    env: (_, cache) => ({ PDM_VENV_IN_PROJECT: "true", PDM_CACHE_DIR: `${cache}/pdm` })
  },
  {
    lockfile: "Pipfile.lock",
    command: () => ["pipenv", "sync"],
    env: (_, cache) => ({ PIPENV_VENV_IN_PROJECT: "1", PIPENV_CACHE_DIR: `${cache}/pipenv` })
  }
]

/**
 * The host's Go module cache: `GOMODCACHE`, else the first `GOPATH` entry's `pkg/mod`, else `~/go/pkg/mod`
 * (what `go env GOMODCACHE` says). It is read-only in the box; steps read modules from it.
 */
export const hostGoModCache = (host: Readonly<Record<string, string | undefined>>): string | undefined => {
  if (host.GOMODCACHE !== undefined && host.GOMODCACHE !== "") return host.GOMODCACHE
  const gopath = (host.GOPATH ?? "").split(":").find((d) => d !== "")
  if (gopath !== undefined) return `${gopath}/pkg/mod`
  return host.HOME !== undefined && host.HOME !== "" ? `${host.HOME}/go/pkg/mod` : undefined
}

/**
 * `go mod download` after the agent changed go.sum: into the box's own module cache (the host's is
 * read-only there), served first from the host's cache as a file proxy, then from the host's GOPROXY
 * when the box has network; without network nothing else is asked (GOPROXY stops at the file proxy,
 * and the checksum database is not consulted: go.sum holds the hashes). The steps then use that cache.
 */
export const goDownload = (options: {
  readonly host: Readonly<Record<string, string | undefined>>
  readonly cacheDir: string
  readonly network: boolean
}): Pick<ReinstallPlan, "command" | "env"> => {
  const hostCache = hostGoModCache(options.host)
  const proxies = [
    ...(hostCache !== undefined ? [`file://${hostCache}/cache/download`] : []),
    ...(options.network ? [options.host.GOPROXY ?? "https://proxy.golang.org,direct"] : [])
  ]
  return {
    command: ["go", "mod", "download"],
    env: {
      GOMODCACHE: `${options.cacheDir}/go/mod`,
      GOFLAGS: "-modcacherw",
      GOPROXY: proxies.length > 0 ? proxies.join(",") : "off",
      ...(options.network ? {} : { GOSUMDB: "off" })
    }
  }
}

/** The Node reinstall: the first Node lockfile of the worktree, when it differs and dependencies are installed. */
const nodePlan = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  options: { readonly workspace: string; readonly project: string; readonly network: boolean }
) =>
  Effect.gen(function* (): Effect.fn.Return<ReinstallPlan | undefined> {
    const installed =
      (yield* exists(fs, path.join(options.workspace, "node_modules"))) ||
      (yield* exists(fs, path.join(options.project, "node_modules")))
    if (!installed) return undefined
    for (const lockfile of NODE_LOCKFILES) {
      const mine = path.join(options.workspace, lockfile)
      if (!(yield* exists(fs, mine))) continue
      if (yield* sameBytes(fs, mine, path.join(options.project, lockfile))) return undefined
      const yarnBerry = lockfile === "yarn.lock" && (yield* exists(fs, path.join(options.workspace, ".yarnrc.yml")))
      return { lockfile, ecosystem: "node", command: installCommand(lockfile, options.network, yarnBerry) }
    }
    return undefined
  })

/**
 * The reinstalls a worktree needs: for its first Node lockfile, its first Python lockfile (uv.lock,
 * poetry.lock, pdm.lock, Pipfile.lock) and its go.sum, when it differs from the main checkout's (or the
 * main checkout has none), the matching install. None when nothing changed, when the worktree is the
 * main checkout, when the worktree has no lockfile, or when neither checkout has dependencies installed
 * (node_modules; for Python, a virtualenv). A plan names its tool `missing` when `searchPath` has none.
 */
export const reinstallPlans = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  options: {
    readonly workspace: string
    readonly project: string
    readonly network: boolean
    /** The steps' PATH, where the package managers are looked for. */
    readonly searchPath: string
    readonly virtualEnv: string | undefined
    /** The host's variables (where Go's module cache is). */
    readonly host?: Readonly<Record<string, string | undefined>> | undefined
    /** The verification's private cache directory (Python tools' caches, the box's Go module cache). */
    readonly cacheDir?: string | undefined
  }
) =>
  Effect.gen(function* (): Effect.fn.Return<ReadonlyArray<ReinstallPlan>> {
    if (path.resolve(options.workspace) === path.resolve(options.project)) return []
    const plans: Array<ReinstallPlan> = []
    const node = yield* nodePlan(fs, path, options)
    if (node !== undefined) plans.push(node)
    const cacheDir = options.cacheDir ?? path.join(options.workspace, ".cache")
    const missing = (tool: string) =>
      Effect.map(findOnPath(fs, path, options.searchPath, [tool]), (found) =>
        found === undefined ? { missing: tool } : {}
      )
    for (const install of PYTHON_INSTALLS) {
      const lock = path.join(options.workspace, install.lockfile)
      if (!(yield* exists(fs, lock))) continue
      if (yield* sameBytes(fs, lock, path.join(options.project, install.lockfile))) break
      const venvs = yield* findVenvs(fs, path, {
        workspace: options.workspace,
        project: options.project,
        virtualEnv: options.virtualEnv
      })
      const linked = yield* fs.lstat(path.join(options.workspace, ".venv")).pipe(
        Effect.map((i) => i.type === "SymbolicLink"),
        Effect.orElseSucceed(() => false)
      )
      if (venvs.length > 0 || linked) {
        const tool = install.command(options.network)[0]!
        plans.push({
          lockfile: install.lockfile,
          ecosystem: "python",
          command: install.command(options.network),
          env: install.env(path.join(options.workspace, ".venv"), cacheDir),
          ...(yield* missing(tool))
        })
      }
      break
    }
    const goSum = path.join(options.workspace, "go.sum")
    if (
      (yield* exists(fs, path.join(options.workspace, "go.mod"))) &&
      (yield* exists(fs, goSum)) &&
      !(yield* sameBytes(fs, goSum, path.join(options.project, "go.sum")))
    ) {
      plans.push({
        lockfile: "go.sum",
        ecosystem: "go",
        ...goDownload({ host: options.host ?? {}, cacheDir, network: options.network }),
        ...(yield* missing("go"))
      })
    }
    return plans
  })

/**
 * Removes the worktree's `node_modules` directories (the top one and each workspace package's): links
 * and hard-link copies of the main checkout's, which an install must not write through. Removing a
 * link never touches what it points at. Returns the repo-relative directories removed.
 */
export const clearNodeModules = (fs: FileSystem.FileSystem, path: Path.Path, workspace: string) =>
  Effect.gen(function* () {
    const deps = yield* nodeDependencies(fs, path, workspace)
    for (const dir of deps.dirs) yield* fs.remove(path.join(workspace, dir), { recursive: true }).pipe(Effect.ignore)
    return deps.dirs
  })

/**
 * After a failed install: each of `dirs` (the ones the install replaced) that the main checkout has
 * becomes again a directory of links to the main checkout's entries. Returns the directories restored.
 */
export const restoreNodeModules = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  workspace: string,
  project: string,
  dirs: ReadonlyArray<string>
) =>
  Effect.gen(function* () {
    const restored: Array<string> = []
    for (const dir of (yield* nodeDependencies(fs, path, project)).dirs) {
      if (!dirs.includes(dir)) continue
      const target = path.join(workspace, dir)
      if (!(yield* exists(fs, path.dirname(target)))) continue
      yield* fs.remove(target, { recursive: true }).pipe(Effect.ignore)
      const ok = yield* linkEntries(fs, path, path.join(project, dir), target).pipe(
        Effect.as(true),
        Effect.orElseSucceed(() => false)
      )
      if (ok) restored.push(dir)
    }
    return restored
  })
