/**
 * What a run's boxes see of the host. The main checkout is hidden — an agent cannot read its `.env`
 * or write into it, and a verification step cannot import its code instead of the worktree's — with
 * only what a run needs put back: the shared git directory read-only (so `git status` works in the
 * worktree), the dependency directories read-only, the agent's executable and the files its command
 * names read-only, and, writable, the worktree and the agent's private home. Pure: paths in, mounts out.
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs"
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path"
import { Effect } from "effect"
import type { Boxed, BoxSpec, Mount, NetworkPolicy } from "../Sandbox.js"
import type { Wrapped } from "./process.js"

/** Where a worktree's git metadata lives. */
export interface GitPaths {
  /** The worktree's own git directory (`<common>/worktrees/<name>`), or the repository's for a main checkout. */
  readonly gitDir: string
  /** The shared git directory (`<main>/.git` usually). */
  readonly commonDir: string
  /** The main checkout (the common directory's parent when it is named `.git`). */
  readonly main: string | undefined
}

const real = (p: string) => {
  try {
    return realpathSync(p)
  } catch {
    return resolve(p)
  }
}

/** Reads `<worktree>/.git` and the pointers git keeps, without running git; `undefined` when it is not a git checkout. */
export const gitPathsOf = (worktree: string): GitPaths | undefined => {
  const dotGit = join(worktree, ".git")
  try {
    const info = statSync(dotGit)
    if (info.isDirectory()) return { gitDir: real(dotGit), commonDir: real(dotGit), main: real(worktree) }
    const m = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, "utf8"))
    if (m === null) return undefined
    const gitDir = real(resolve(worktree, m[1]!))
    const commonFile = join(gitDir, "commondir")
    const commonDir = existsSync(commonFile) ? real(resolve(gitDir, readFileSync(commonFile, "utf8").trim())) : gitDir
    return { gitDir, commonDir, main: basename(commonDir) === ".git" ? dirname(commonDir) : undefined }
  } catch {
    return undefined
  }
}

/** `p` is `dir` or below it. */
export const within = (dir: string, p: string): boolean => {
  const r = relative(dir, p)
  return r === "" || (!r.startsWith(`..${sep}`) && r !== ".." && !isAbsolute(r))
}

/** Ignored directories of a checkout that hold installed dependencies, read-only in every box. */
const DEPENDENCY_DIRS = ["node_modules", ".venv", "venv", ".tox", ".nox"]

/** The main checkout's dependency directories that exist (top level only; workspaces add their own through `extra`). */
export const dependencyDirs = (main: string): Array<string> =>
  DEPENDENCY_DIRS.map((d) => join(main, d)).filter((d) => existsSync(d))

/**
 * What to expose read-only for a program inside a hidden area: for a file inside a `node_modules`
 * tree, the outermost `node_modules` (the package and its own dependencies); otherwise the file itself.
 */
const exposeFor = (file: string, hidden: ReadonlyArray<string>): string | undefined => {
  if (!isAbsolute(file) || !existsSync(file)) return undefined
  const path = real(file)
  const under = hidden.find((h) => within(h, path) || within(h, file))
  if (under === undefined) return undefined
  const parts = path.split(sep)
  const nm = parts.indexOf("node_modules")
  if (nm > 0) return parts.slice(0, nm + 1).join(sep)
  return path
}

/** The inputs of a run's box layout. */
export interface RunBox {
  /** The worktree (writable). */
  readonly worktree: string
  /** Paths to hide besides the main checkout (the state directory when it lives elsewhere, `[sandbox] hide`). */
  readonly hide?: ReadonlyArray<string> | undefined
  /** Extra host paths to expose read-only (dependency directories of workspace packages, a venv elsewhere, Go's module cache). */
  readonly readOnly?: ReadonlyArray<string> | undefined
  /** Extra writable paths (an agent's private home). */
  readonly writable?: ReadonlyArray<string> | undefined
  /** Files the command names (its program, scripts): put back read-only when they lie in a hidden area. */
  readonly programs?: ReadonlyArray<string> | undefined
  /**
   * The command's PATH. Its directories under the host's /tmp (private in the box) are put back
   * read-only, so a tool the command finds on PATH there still runs; never one that holds or lies in a
   * hidden path.
   */
  readonly searchPath?: string | undefined
  readonly network: NetworkPolicy
}

/**
 * The hide list and mounts of one box: the main checkout hidden; its git directory, dependencies and
 * the programs the command needs back read-only; the worktree and `writable` paths writable (mounted
 * last, so they win). A worktree that is itself the main checkout (no linked worktree) stays visible.
 */
export const runBoxLayout = (box: RunBox): Pick<BoxSpec, "hide" | "mounts" | "network"> => {
  const worktree = real(box.worktree)
  const git = gitPathsOf(worktree)
  const main = git?.main !== undefined && git.main !== worktree ? git.main : undefined
  const hide = [...(main !== undefined ? [main] : []), ...(box.hide ?? [])].filter((h) => !within(h, worktree))
  const ro = (source: string): Mount => ({ source, access: "ro" })
  const rw = (source: string): Mount => ({ source, access: "rw" })
  const mounts: Array<Mount> = []
  const add = (m: Mount) => {
    if (!mounts.some((x) => x.source === m.source && x.access === m.access)) mounts.push(m)
  }
  if (git !== undefined && hide.some((h) => within(h, git.commonDir))) add(ro(git.commonDir))
  if (main !== undefined) for (const d of dependencyDirs(main)) add(ro(d))
  // Only what the box would not show otherwise: a path in a hidden area or under the host's /tmp (the box's own is empty).
  for (const p of box.readOnly ?? [])
    if (existsSync(p) && [...hide, "/tmp"].some((h) => within(h, real(p)) || within(h, p))) add(ro(p))
  // The box's /tmp is its own empty tmpfs (BASE_ARGS): a program the command names there is hidden too.
  for (const p of box.programs ?? []) {
    const exposed = exposeFor(p, [...hide, "/tmp"])
    if (exposed !== undefined) add(ro(exposed))
  }
  for (const d of (box.searchPath ?? "").split(":")) {
    if (!isAbsolute(d) || !existsSync(d)) continue
    const r = real(d)
    if (r === "/tmp" || !within("/tmp", r)) continue
    if (hide.some((h) => within(h, r) || within(r, h) || within(r, real(h)))) continue
    add(ro(r))
  }
  add(rw(worktree))
  for (const p of box.writable ?? []) add(rw(p))
  return { hide, mounts, network: box.network }
}

/** What `runProcess` needs of a box: the command, whether it is confined, and what the box says and refused. */
export const confinedAs = (boxed: Boxed): Wrapped => ({
  argv: boxed.argv,
  env: boxed.env,
  cwd: boxed.cwd,
  confined: boxed.confined,
  notes: boxed.notes,
  refused: Effect.map(boxed.refused, (rs) => rs.map((r) => r.message))
})
