/**
 * Where the repository is and whether a path is one of its worktrees: the main checkout, git's common
 * dir, the directory that holds this repository's worktrees (never inside the repository), and the
 * check read straight from git's worktree files. Nothing here changes the repository.
 */
import { type Project, sha256 } from "@spec-orch/contract"
import { Effect, type FileSystem, type Path } from "effect"
import { homedir } from "node:os"
import { InvalidWorkspaceRoot, NotAGitRepo } from "../WorkspaceErrors.js"
import type { WorkspaceBinding } from "../WorkspaceModel.js"
import { lines, type WorkspaceGit } from "./git.js"

/** The repository a project's workspaces belong to. */
export interface RepoInfo {
  /** Real path of the main working tree. */
  readonly top: string
  /** Real path of the common git dir (`<top>/.git` usually). */
  readonly commonDir: string
  /** Real path of the directory holding this repository's worktrees. */
  readonly worktreesDir: string
  /** Pathspecs excluding spec-orch's own files (the state dir, when inside the repository). */
  readonly exclude: ReadonlyArray<string>
  /** The state dir relative to the top, `/`-separated, when it is inside the repository. */
  readonly stateRel?: string
}

/**
 * Finds the project's repository and the worktrees directory under `[workspace] root` (default
 * `$XDG_CACHE_HOME/spec-orch/worktrees`, created here), refusing a root inside the repository.
 */
export const findRepo = (
  git: WorkspaceGit,
  fs: FileSystem.FileSystem,
  path: Path.Path,
  project: Project["Service"],
  host: Readonly<Record<string, string>>
): Effect.Effect<RepoInfo, NotAGitRepo | InvalidWorkspaceRoot> =>
  Effect.gen(function* () {
    const realPath = (p: string) => fs.realPath(p).pipe(Effect.orElseSucceed(() => p))
    const out = yield* git(project.root, [
      "rev-parse",
      "--path-format=absolute",
      "--show-toplevel",
      "--git-common-dir"
    ]).pipe(Effect.mapError(() => new NotAGitRepo({ path: project.root })))
    const [toplevel, common] = lines(out.stdout)
    if (toplevel === undefined || common === undefined) return yield* new NotAGitRepo({ path: project.root })
    const commonDir = yield* realPath(common)
    // The main working tree is the parent of the common dir; from inside a linked worktree, --show-toplevel is not it.
    const top = path.basename(commonDir) === ".git" ? path.dirname(commonDir) : yield* realPath(toplevel)
    const rootSetting = project.config.workspace.root
    const cacheHome = host.XDG_CACHE_HOME ?? path.join(host.HOME ?? homedir(), ".cache")
    const root =
      rootSetting === undefined
        ? path.join(cacheHome, "spec-orch", "worktrees")
        : path.resolve(
            project.root,
            rootSetting.startsWith("~/") ? path.join(homedir(), rootSetting.slice(2)) : rootSetting
          )
    yield* fs.makeDirectory(root, { recursive: true }).pipe(Effect.orDie)
    const realRoot = yield* realPath(root)
    const rel = path.relative(top, realRoot)
    if (rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel)))
      return yield* new InvalidWorkspaceRoot({ root: realRoot, repo: top })
    // The state dir may not exist yet: resolve it through the project root's real path instead.
    const stateRel = path.relative(
      top,
      path.resolve(yield* realPath(project.root), path.relative(project.root, project.stateDir))
    )
    const inside = stateRel !== "" && !stateRel.startsWith("..") && !path.isAbsolute(stateRel)
    const exclude = inside ? [`:(top,exclude)${stateRel}`] : []
    return {
      top,
      commonDir,
      worktreesDir: path.join(realRoot, `${path.basename(top)}-${sha256(top).slice(0, 8)}`),
      exclude,
      ...(inside ? { stateRel: stateRel.split(path.sep).join("/") } : {})
    } satisfies RepoInfo
  })

/**
 * The check read straight from git's worktree layout, without starting git: `<path>/.git` names
 * the worktree's git dir, which points back at `<path>/.git`, belongs to this repository's common
 * dir and has HEAD on the binding's branch. Undefined whenever anything differs or cannot be read,
 * and then git itself decides (with the precise reason).
 */
export const checkFromFiles = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  binding: WorkspaceBinding,
  repo: RepoInfo
): Effect.Effect<{ readonly index: string } | undefined> =>
  Effect.gen(function* () {
    const read = (file: string) => fs.readFileString(file).pipe(Effect.map((t) => t.trim()))
    const real = yield* fs.realPath(binding.path)
    if (real === repo.top) return undefined
    const dotGit = path.join(real, ".git")
    const pointer = yield* read(dotGit)
    if (!pointer.startsWith("gitdir: ")) return undefined
    const gitDir = yield* fs.realPath(path.resolve(real, pointer.slice("gitdir: ".length)))
    const back = yield* read(path.join(gitDir, "gitdir"))
    if ((yield* fs.realPath(path.resolve(gitDir, back))) !== dotGit) return undefined
    if ((yield* fs.realPath(path.resolve(gitDir, yield* read(path.join(gitDir, "commondir"))))) !== repo.commonDir)
      return undefined
    if ((yield* read(path.join(gitDir, "HEAD"))) !== `ref: refs/heads/${binding.branch}`) return undefined
    return { index: path.join(gitDir, "index") }
  }).pipe(Effect.orElseSucceed(() => undefined))
