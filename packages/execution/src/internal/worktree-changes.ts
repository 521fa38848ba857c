/**
 * What a verification step changed in the worktree: git's view of uncommitted files before and after
 * the step, each with a hash of its content. A step that changed files fails unless it may.
 */
import { StepResult, type VerificationStep } from "@spec-orch/contract"
import { Effect, type FileSystem, type Path } from "effect"
import { createHash } from "node:crypto"
import type { makeGitRunner } from "../Git.js"

type GitRun = ReturnType<typeof makeGitRunner>

/**
 * Where `cwd` stands in git: whether it is the top of a working tree (only then are its changes
 * watched), and the main checkout it belongs to (the parent of git's common dir; `cwd` when git cannot tell).
 */
export const gitPlaceOf = (git: GitRun, fs: FileSystem.FileSystem, path: Path.Path, cwd: string) =>
  Effect.gen(function* () {
    const r = yield* git(cwd, ["rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir"])
    const [top, common] = r.stdout.trim().split("\n")
    if (r.exitCode !== 0 || top === undefined || common === undefined) return { isTop: false, main: cwd }
    const real = yield* fs.realPath(cwd)
    return { isTop: top === real, main: path.basename(common) === ".git" ? path.dirname(common) : cwd }
  }).pipe(Effect.orElseSucceed(() => ({ isTop: false, main: cwd })))

/** Each path git reports as not clean (status letters and, for files, a content hash), or undefined outside a git worktree. */
export type Snapshot = ReadonlyMap<string, string>

/**
 * What git says is uncommitted in the worktree (untracked files included, ignored ones not), each
 * with a hash of its content, so a step that rewrites an already-dirty file is seen too.
 */
export const worktreeSnapshot = (
  git: GitRun,
  fs: FileSystem.FileSystem,
  path: Path.Path,
  cwd: string
): Effect.Effect<Snapshot | undefined> =>
  Effect.gen(function* () {
    const r = yield* git(cwd, [
      "status",
      "--porcelain=v1",
      "-z",
      "--untracked-files=all",
      "--no-renames",
      "--ignore-submodules=none",
      "--",
      ":(top)"
    ])
    if (r.exitCode !== 0) return undefined
    const out = new Map<string, string>()
    for (const field of r.stdout.split("\0")) {
      if (field.length < 4) continue
      const file = field.slice(3)
      const bytes = yield* fs.readFile(path.join(cwd, file)).pipe(Effect.option)
      out.set(
        file,
        `${field.slice(0, 2)} ${bytes._tag === "Some" ? createHash("sha256").update(bytes.value).digest("hex") : "-"}`
      )
    }
    return out
  }).pipe(Effect.orElseSucceed(() => undefined))

/** The files whose state differs between two snapshots, sorted. */
export const changedBetween = (before: Snapshot, after: Snapshot): Array<string> =>
  [...new Set([...before.keys(), ...after.keys()])].filter((f) => before.get(f) !== after.get(f)).sort()

const listFiles = (files: ReadonlyArray<string>) =>
  files.slice(0, 5).join(", ") + (files.length > 5 ? `, and ${files.length - 5} more` : "")

/**
 * A step that changed the worktree: the files are recorded; unless the step may modify (`may_modify`),
 * a pass becomes a failure, because what was verified is no longer what was committed.
 */
export const withModifications = (
  result: StepResult,
  step: VerificationStep,
  modified: ReadonlyArray<string>
): StepResult => {
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
