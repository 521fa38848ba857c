/**
 * Real git repositories for tests and benchmarks: temporary repositories with files and commits,
 * bare remotes, clones. Every git call here runs with a fixed author, fixed dates and no global or
 * system config, so results (and commit ids) do not depend on the machine.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { Effect, type Scope } from "effect"

/** The environment every helper runs git with: deterministic identity and dates, no prompts, no user config. */
export const gitEnv: Readonly<Record<string, string>> = {
  GIT_AUTHOR_NAME: "Test Author",
  GIT_AUTHOR_EMAIL: "author@example.test",
  GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
  GIT_COMMITTER_NAME: "Test Author",
  GIT_COMMITTER_EMAIL: "author@example.test",
  GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_TERMINAL_PROMPT: "0",
  LC_ALL: "C"
}

/** The process environment without variables that would redirect git to another repository. */
const baseEnv = (): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|COMMON_DIR|NAMESPACE)$/.test(k)) env[k] = v
  }
  return env
}

/** Runs git synchronously in `cwd` and returns stdout (untrimmed); throws with git's stderr on failure. */
export const git = (cwd: string, args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}): string => {
  try {
    return execFileSync("git", [...args], {
      cwd,
      env: { ...baseEnv(), ...gitEnv, ...env },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 256 * 1024 * 1024
    })
  } catch (e) {
    const err = e as { stderr?: string; status?: number }
    throw new Error(`git ${args.join(" ")} failed in ${cwd} (exit ${err.status}): ${String(err.stderr ?? e).trim()}`)
  }
}

/** Makes a fresh empty directory under the OS temp dir (its real path, no symlinks). */
export const makeTempDir = (prefix = "spec-orch-test-"): string => realpathSync(mkdtempSync(join(tmpdir(), prefix)))

/** Writes `files` (path relative to `root` → content), creating parent directories. */
export const writeFiles = (root: string, files: Readonly<Record<string, string>>): void => {
  for (const [rel, content] of Object.entries(files)) {
    const file = join(root, rel)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, content)
  }
}

/** A git repository on disk with helpers bound to it. */
export interface TempRepo {
  /** Absolute real path of the working tree. */
  readonly path: string
  /** Runs git in the repository and returns trimmed stdout. */
  readonly git: (...args: ReadonlyArray<string>) => string
  /** Writes files relative to the working tree. */
  readonly write: (files: Readonly<Record<string, string>>) => void
  /** Stages everything and commits; returns the new commit id. */
  readonly commit: (message: string, files?: Readonly<Record<string, string>>) => string
  /** The commit id `HEAD` (or `ref`) points at. */
  readonly head: (ref?: string) => string
}

/** Options for a new repository. */
export interface RepoOptions {
  /** Files of the first commit (default: a README). */
  readonly files?: Readonly<Record<string, string>>
  /** Name of the initial branch (default `main`). */
  readonly branch?: string
  /** Message of the first commit (default `initial`). */
  readonly message?: string
  /** Leave the repository without any commit (files are written but not committed). */
  readonly empty?: boolean
}

/** Binds the helpers of `TempRepo` to an existing working tree. */
export const repoAt = (path: string): TempRepo => {
  const run = (...args: ReadonlyArray<string>) => git(path, args).trim()
  const write = (files: Readonly<Record<string, string>>) => writeFiles(path, files)
  return {
    path,
    git: run,
    write,
    commit: (message, files) => {
      if (files) write(files)
      run("add", "-A")
      run("commit", "-q", "--allow-empty", "--no-verify", "-m", message)
      return run("rev-parse", "HEAD")
    },
    head: (ref = "HEAD") => run("rev-parse", ref)
  }
}

/** Creates a repository in `dir` (created if needed) with one commit of `options.files`. */
export const createRepo = (dir: string, options: RepoOptions = {}): TempRepo => {
  mkdirSync(dir, { recursive: true })
  git(dir, ["init", "-q", "-b", options.branch ?? "main"])
  const repo = repoAt(realpathSync(dir))
  repo.write(options.files ?? { "README.md": "# test repository\n" })
  if (options.empty !== true) repo.commit(options.message ?? "initial")
  return repo
}

/** Creates a bare repository next to `repo`, adds it as remote `name` and pushes `branches` (default: the current branch). */
export const addBareRemote = (
  repo: TempRepo,
  options: { readonly name?: string; readonly dir?: string; readonly branches?: ReadonlyArray<string> } = {}
): string => {
  const name = options.name ?? "origin"
  const dir = options.dir ?? makeTempDir("spec-orch-remote-")
  git(dir, ["init", "-q", "--bare"])
  repo.git("remote", "add", name, dir)
  const branches = options.branches ?? [repo.git("symbolic-ref", "--short", "HEAD")]
  for (const b of branches) repo.git("push", "-q", name, `${b}:${b}`)
  repo.git("fetch", "-q", name)
  return dir
}

/** Generates `count` small files spread over nested directories (for large-repository benchmarks). */
export const manyFiles = (count: number, perDir = 100): Record<string, string> => {
  const files: Record<string, string> = {}
  for (let i = 0; i < count; i++) {
    const d = Math.floor(i / perDir)
    files[`src/d${Math.floor(d / 10)}/d${d}/file-${i}.ts`] = `export const value${i} = ${i}\n`
  }
  return files
}

/** Removes a directory tree, ignoring errors (cleanup). */
export const removeDir = (dir: string): void => rmSync(dir, { recursive: true, force: true })

/** A temporary repository for the current scope: created with `options`, deleted when the scope closes. */
export const tempRepo = (options: RepoOptions = {}): Effect.Effect<TempRepo, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => createRepo(makeTempDir("spec-orch-repo-"), options)),
    (repo) => Effect.sync(() => removeDir(repo.path))
  )

/** A temporary directory for the current scope, deleted when the scope closes. */
export const tempDir = (prefix?: string): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => makeTempDir(prefix)),
    (dir) => Effect.sync(() => removeDir(dir))
  )

/** A bare remote for `repo` for the current scope (see `addBareRemote`), deleted when the scope closes. */
export const tempBareRemote = (
  repo: TempRepo,
  options: { readonly name?: string; readonly branches?: ReadonlyArray<string> } = {}
): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => addBareRemote(repo, options)),
    (dir) => Effect.sync(() => removeDir(dir))
  )
