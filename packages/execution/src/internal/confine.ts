/**
 * Keeps an agent's file access inside its worktree. A path is accepted only when it resolves — after
 * following every symlink that exists — to a place inside the worktree's real path, is not inside
 * `.git`, and names no `..` segment.
 */
import { existsSync, lstatSync, realpathSync } from "node:fs"
import { dirname, isAbsolute, relative, resolve, sep } from "node:path"

/** A path the agent may use, or why not. */
export type Confined =
  | { readonly ok: true; readonly path: string; readonly relative: string }
  | { readonly ok: false; readonly reason: string }

const inside = (root: string, p: string) => {
  const r = relative(root, p)
  return r === "" || (!r.startsWith(`..${sep}`) && r !== ".." && !isAbsolute(r))
}

/** Resolves `path` (absolute, or relative to the worktree) for reading or writing inside `worktree`. */
export const confine = (worktree: string, path: string): Confined => {
  if (typeof path !== "string" || path === "") return { ok: false, reason: "no path given" }
  if (path.split(/[\\/]/).includes("..")) return { ok: false, reason: `"${path}" contains "..", which is not allowed` }
  const root = realpathSync(worktree)
  const lexical = resolve(worktree, path)
  if (!inside(worktree, lexical) && !inside(root, lexical))
    return { ok: false, reason: `"${path}" is outside the worktree ${worktree}` }
  // Follow symlinks: the deepest existing ancestor (or the file itself) must really be inside.
  let existing = lexical
  while (!existsSync(existing)) {
    const parent = dirname(existing)
    if (parent === existing) break
    existing = parent
  }
  let real: string
  try {
    real = realpathSync(existing)
  } catch {
    // a dangling symlink: refuse, its target is unknown
    return { ok: false, reason: `"${path}" goes through a broken symlink` }
  }
  const full = resolve(real, relative(existing, lexical))
  if (!inside(root, full))
    return { ok: false, reason: `"${path}" resolves to ${full}, outside the worktree (through a symlink)` }
  try {
    if (existing !== lexical && lstatSync(lexical, { throwIfNoEntry: false })?.isSymbolicLink()) {
      return { ok: false, reason: `"${path}" is a broken symlink` }
    }
  } catch {
    // fine
  }
  const rel = relative(root, full)
  if (rel === ".git" || rel.startsWith(`.git${sep}`))
    return { ok: false, reason: `"${path}" is inside .git, which agents may not touch` }
  return { ok: true, path: full, relative: rel }
}
