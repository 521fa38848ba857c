/**
 * A short summary of a repository's files for the planner prompt: every path when few, otherwise
 * the biggest and deepest directories folded into one line each (`src/legacy/ (212 files)`).
 */
import { Effect, type FileSystem, type Path } from "effect"

/** Directory names never listed: dependencies, builds, caches, VCS and spec-orch state. */
const SKIP = new Set([
  "node_modules",
  "dist",
  "build",
  "out",
  "target",
  "coverage",
  "vendor",
  "__pycache__",
  ".venv",
  "venv",
  ".git",
  ".spec-orch",
  ".spec_orch_runs",
  ".turbo",
  ".next",
  ".cache",
  ".worktrees"
])

/** Folds `paths` (repository-relative, `/`-separated) into at most `maxLines` lines. */
export const summarizeFileTree = (paths: ReadonlyArray<string>, maxLines = 200): string => {
  const files = [...paths].sort()
  if (files.length <= maxLines) return files.join("\n")
  const counts = new Map<string, number>()
  for (const f of files) {
    const parts = f.split("/")
    for (let i = 1; i < parts.length; i++) {
      const dir = `${parts.slice(0, i).join("/")}/`
      counts.set(dir, (counts.get(dir) ?? 0) + 1)
    }
  }
  const folded = new Set<string>()
  const lines = () => {
    const out = new Set<string>()
    for (const f of files) {
      const dir = [...folded].find((d) => f.startsWith(d))
      out.add(dir !== undefined ? `${dir} (${counts.get(dir)} files)` : f)
    }
    return [...out]
  }
  const candidates = [...counts.keys()].sort(
    (a, b) => b.split("/").length - a.split("/").length || counts.get(b)! - counts.get(a)! || a.localeCompare(b)
  )
  let current = files.length
  for (const dir of candidates) {
    if (current <= maxLines) break
    // Deeper directories fold first, so a folded one is never inside `dir`'s folded parent.
    const inner = [...folded].filter((d) => d.startsWith(dir))
    const innerFiles = inner.reduce((n, d) => n + counts.get(d)!, 0)
    const saving = inner.length + (counts.get(dir)! - innerFiles) - 1
    if (saving <= 0) continue
    for (const d of inner) folded.delete(d)
    folded.add(dir)
    current -= saving
  }
  const out = lines()
  return (out.length > maxLines ? [...out.slice(0, maxLines), `… and ${out.length - maxLines} more`] : out).join("\n")
}

/** Lists the repository's files (at most `limit`), skipping dependencies, builds and state. */
export const listFiles = (fs: FileSystem.FileSystem, path: Path.Path, root: string, limit = 5000) =>
  Effect.gen(function* () {
    const out: Array<string> = []
    const queue: Array<string> = [""]
    while (queue.length > 0 && out.length < limit) {
      const rel = queue.shift()!
      const names = yield* fs.readDirectory(path.join(root, rel)).pipe(Effect.orElseSucceed(() => [] as Array<string>))
      for (const name of [...names].sort()) {
        if (SKIP.has(name)) continue
        const child = rel === "" ? name : `${rel}/${name}`
        const info = yield* fs.stat(path.join(root, child)).pipe(Effect.option)
        if (info._tag === "None") continue
        if (info.value.type === "Directory") queue.push(child)
        else if (info.value.type === "File" && out.length < limit) out.push(child)
      }
    }
    return out
  })
