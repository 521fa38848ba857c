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
import { Effect, FileSystem, Path } from "effect"
import { findOnPath, findVenvs } from "./ecosystem.js"
import { linkEntries, NODE_LOCKFILES, nodeDependencies, sameBytes } from "./provision.js"

/** What to reinstall, and how. */
export interface ReinstallPlan {
  /** The worktree's lockfile that differs from the main checkout's. */
  readonly lockfile: string
  /** What the install replaces: the worktree's node_modules directories, or its Python virtualenv. */
  readonly ecosystem: "node" | "python"
  /** The package manager's frozen install, as argv. */
  readonly command: ReadonlyArray<string>
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
      return yarnBerry ? ["yarn", "install", "--immutable"] : ["yarn", "install", "--frozen-lockfile", network ? "--prefer-offline" : "--offline"]
    case "bun.lock":
    case "bun.lockb":
      return ["bun", "install", "--frozen-lockfile"]
    default:
      return ["npm", "ci", "--no-audit", "--no-fund", network ? "--prefer-offline" : "--offline"]
  }
}

const exists = (fs: FileSystem.FileSystem, p: string) => fs.exists(p).pipe(Effect.orElseSucceed(() => false))

/** uv's frozen sync into the project's `.venv`: from uv.lock only, never rewriting it; `--offline` (uv's cache only) without network. */
export const uvSyncCommand = (network: boolean): ReadonlyArray<string> => ["uv", "sync", "--frozen", ...(network ? [] : ["--offline"])]

/** The Node reinstall: the first Node lockfile of the worktree, when it differs and dependencies are installed. */
const nodePlan = (fs: FileSystem.FileSystem, path: Path.Path, options: { readonly workspace: string; readonly project: string; readonly network: boolean }) =>
  Effect.gen(function*(): Effect.fn.Return<ReinstallPlan | undefined> {
    const installed = (yield* exists(fs, path.join(options.workspace, "node_modules"))) || (yield* exists(fs, path.join(options.project, "node_modules")))
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
 * The reinstalls a worktree needs: for its first Node lockfile and for `uv.lock`, when it differs from
 * the main checkout's (or the main checkout has none), the matching frozen install. None when nothing
 * changed, when the worktree is the main checkout, when the worktree has no lockfile, or when neither
 * checkout has dependencies installed (node_modules; for uv, a virtualenv). A uv plan names uv
 * `missing` when `searchPath` has no `uv`.
 */
export const reinstallPlans = (fs: FileSystem.FileSystem, path: Path.Path, options: {
  readonly workspace: string
  readonly project: string
  readonly network: boolean
  /** The steps' PATH, where the package managers are looked for. */
  readonly searchPath: string
  readonly virtualEnv: string | undefined
}) =>
  Effect.gen(function*(): Effect.fn.Return<ReadonlyArray<ReinstallPlan>> {
    if (path.resolve(options.workspace) === path.resolve(options.project)) return []
    const plans: Array<ReinstallPlan> = []
    const node = yield* nodePlan(fs, path, options)
    if (node !== undefined) plans.push(node)
    const uvLock = path.join(options.workspace, "uv.lock")
    if ((yield* exists(fs, uvLock)) && !(yield* sameBytes(fs, uvLock, path.join(options.project, "uv.lock")))) {
      const venvs = yield* findVenvs(fs, path, { workspace: options.workspace, project: options.project, virtualEnv: options.virtualEnv })
      const linked = yield* fs.lstat(path.join(options.workspace, ".venv")).pipe(Effect.map((i) => i.type === "SymbolicLink"), Effect.orElseSucceed(() => false))
      if (venvs.length > 0 || linked) {
        const uv = yield* findOnPath(fs, path, options.searchPath, ["uv"])
        plans.push({ lockfile: "uv.lock", ecosystem: "python", command: uvSyncCommand(options.network), ...(uv === undefined ? { missing: "uv" } : {}) })
      }
    }
    return plans
  })

/**
 * Removes the worktree's `node_modules` directories (the top one and each workspace package's): links
 * and hard-link copies of the main checkout's, which an install must not write through. Removing a
 * link never touches what it points at. Returns the repo-relative directories removed.
 */
export const clearNodeModules = (fs: FileSystem.FileSystem, path: Path.Path, workspace: string) =>
  Effect.gen(function*() {
    const deps = yield* nodeDependencies(fs, path, workspace)
    for (const dir of deps.dirs) yield* fs.remove(path.join(workspace, dir), { recursive: true }).pipe(Effect.ignore)
    return deps.dirs
  })

/**
 * After a failed install: each of `dirs` (the ones the install replaced) that the main checkout has
 * becomes again a directory of links to the main checkout's entries. Returns the directories restored.
 */
export const restoreNodeModules = (fs: FileSystem.FileSystem, path: Path.Path, workspace: string, project: string, dirs: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const restored: Array<string> = []
    for (const dir of (yield* nodeDependencies(fs, path, project)).dirs) {
      if (!dirs.includes(dir)) continue
      const target = path.join(workspace, dir)
      if (!(yield* exists(fs, path.dirname(target)))) continue
      yield* fs.remove(target, { recursive: true }).pipe(Effect.ignore)
      const ok = yield* linkEntries(fs, path, path.join(project, dir), target).pipe(Effect.as(true), Effect.orElseSucceed(() => false))
      if (ok) restored.push(dir)
    }
    return restored
  })
