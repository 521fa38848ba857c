/**
 * Reads `git diff -z --raw -p` output into the changed files, their status letters and the patch, so
 * one git call answers what `--name-only`, `--name-status` and `-p` would.
 */
import { FileChange, fileChangeStatus } from "@spec-orch/contract"

/**
 * Splits `git diff -z --raw -p --no-renames` output: raw records (`:<modes> <ids> <status>\0<path>\0`),
 * a NUL, then the patch. Returns the paths (sorted), each path with its status letter, and the
 * patch, as separate `--name-status` and `-p` calls would.
 */
export const splitRawPatch = (
  out: string
): {
  readonly changedFiles: ReadonlyArray<string>
  readonly changes: ReadonlyArray<FileChange>
  readonly diff: string
} => {
  const changes: Array<FileChange> = []
  let at = 0
  while (out[at] === ":") {
    const meta = out.indexOf("\0", at)
    const end = out.indexOf("\0", meta + 1)
    if (meta === -1 || end === -1) break
    changes.push(
      new FileChange({
        path: out.slice(meta + 1, end),
        status: fileChangeStatus(out.slice(at, meta).trim().split(" ").pop()?.[0] ?? "M")
      })
    )
    at = end + 1
  }
  if (out[at] === "\0") at++
  changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return { changedFiles: changes.map((c) => c.path), changes, diff: out.slice(at) }
}
