/**
 * One git worktree per run key, outside the repository, on branch `spec-orch/<key>`, recorded as a
 * binding (`<stateDir>/workspaces/<key>.json`). The rule nobody may break: every agent turn and every
 * commit is preceded by `check`, so work never silently lands in the main checkout, and removal
 * never deletes uncommitted or unpushed work unless forced.
 */
import { type FileChange, Project, RunKey, stepFailed, VerificationStep } from "@spec-orch/contract"
import { atomicWriter } from "@spec-orch/contract"
import { Clock, Context, Effect, FileSystem, Layer, Option, Path, Schema, Semaphore } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { hostEnvironment } from "@spec-orch/harness"
import { splitRawPatch } from "./internal/diff.js"
import { dependencyDirectories as ecosystemDirectories } from "./internal/ecosystem.js"
import { lines, makeGit, nul, statusPaths, worktreeBranches } from "./internal/git.js"
import { provisionWorktree } from "./internal/provision.js"
import { checkFromFiles, findRepo, type RepoInfo } from "./internal/repo.js"
import { Verifier, verifyOptionsFrom } from "./Verifier.js"
import {
  BaseNotFound,
  BindingUnreadable,
  Detached,
  NotAWorktree,
  PathOccupied,
  WorkspaceError,
  WorkspaceUnknown,
  WorktreeMissing,
  WouldLoseWork,
  WrongBranch
} from "./WorkspaceErrors.js"
import {
  type BeforeRemove,
  branchFor,
  type CleanReport,
  Provisioned,
  type RemoveReport,
  UnpushedCommit,
  WorkspaceBinding,
  WorkspaceStatus
} from "./WorkspaceModel.js"

/**
 * The main checkout's directories a sandboxed step in this binding's worktree must see, read-only:
 * the sources of its linked or hard-linked dependencies and the project's virtualenvs (each also by
 * its real path when that differs). Everything else of the main checkout may stay hidden.
 */
export const dependencyDirectories = (
  binding: WorkspaceBinding
): Effect.Effect<ReadonlyArray<string>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.flatMap(hostEnvironment, (host) =>
    ecosystemDirectories({
      project: binding.repo,
      workspace: binding.path,
      provisioned: binding.provisioned ?? [],
      virtualEnv: host.VIRTUAL_ENV
    })
  )

/** The binding without its `finishedAt` mark. */
const withoutFinished = (b: WorkspaceBinding): WorkspaceBinding => {
  const { finishedAt: _, ...rest } = b
  return new WorkspaceBinding(rest)
}

type Reason = WorkspaceError["reason"]

// ── service ───────────────────────────────────────────────────────────────────────────────────

/** Options of the real layer. */
export interface WorkspacesOptions {
  /** Author and committer of host-side commits (default `spec-orch <spec-orch@localhost>`). */
  readonly author?: { readonly name: string; readonly email: string }
}

export class Workspaces extends Context.Service<
  Workspaces,
  {
    /** Creates the worktree for runKey from `base` (default: [workspace] base, else [github] base_branch if it exists, else HEAD), or reuses the existing binding. */
    readonly prepare: (input: {
      readonly runKey: RunKey
      readonly base?: string | undefined
      /**
       * Start over from the base: an existing branch is moved back to the base commit (its old tip kept as
       * `refs/spec-orch/attempts/<key>/<time>`, so nothing is lost); refused when the worktree has uncommitted work.
       */
      readonly fresh?: boolean | undefined
    }) => Effect.Effect<WorkspaceBinding, WorkspaceError>
    /** Fails unless the worktree exists, is a worktree of repo, is on the binding's branch (not detached) — called before every agent turn and every commit. */
    readonly check: (binding: WorkspaceBinding) => Effect.Effect<void, WorkspaceError>
    /** Files changed vs baseCommit (committed + staged + unstaged + untracked, not ignored), repo-relative, sorted. */
    readonly changedFiles: (binding: WorkspaceBinding) => Effect.Effect<ReadonlyArray<string>, WorkspaceError>
    /** Unified diff vs baseCommit including uncommitted and untracked changes. */
    readonly diff: (binding: WorkspaceBinding) => Effect.Effect<string, WorkspaceError>
    /**
     * Host-side commit of everything in the worktree (git add -A; never includes spec-orch artifacts;
     * `commit` undefined when nothing changed), then what the branch holds beyond baseCommit: the
     * changed files (sorted), the same files with git's status letter (`changes`: added, modified,
     * deleted, type changed) and the unified diff, as `changedFiles` and `diff` would report them.
     */
    readonly commitAll: (
      binding: WorkspaceBinding,
      message: string,
      /** Author of the commit (default spec-orch; a person whose edits these are, e.g. on a rerun). */
      author?: { readonly name: string; readonly email: string } | undefined
    ) => Effect.Effect<
      {
        readonly commit: string | undefined
        readonly changedFiles: ReadonlyArray<string>
        readonly changes: ReadonlyArray<FileChange>
        readonly diff: string
      },
      WorkspaceError
    >
    /** The binding recorded for a run key, if any. */
    readonly get: (runKey: string) => Effect.Effect<WorkspaceBinding | undefined, WorkspaceError>
    /** Every recorded workspace with its state (clean/dirty/missing/broken, uncommitted files, unpushed commits), sorted by run key. */
    readonly list: Effect.Effect<ReadonlyArray<WorkspaceStatus>, WorkspaceError>
    /** The state of one workspace. */
    readonly status: (runKey: string) => Effect.Effect<WorkspaceStatus, WorkspaceError>
    /**
     * Removes worktree (and optionally branch); refuses with a message listing what would be lost (uncommitted files, unpushed commits) unless force.
     * `[workspace] before_remove` runs in the worktree first; its failure is reported and does not keep the worktree.
     */
    readonly remove: (
      runKey: string,
      options?: { readonly force?: boolean; readonly deleteBranch?: boolean }
    ) => Effect.Effect<RemoveReport, WorkspaceError>
    /** Records that the run using this workspace has finished, so `clean` may remove it. */
    readonly markFinished: (runKey: string) => Effect.Effect<void, WorkspaceError>
    /**
     * Drops records whose worktree is gone and removes finished workspaces (all of them with `all`).
     * Keeps those with uncommitted files unless `force`; never deletes a branch holding unpushed commits.
     */
    readonly clean: (options?: {
      readonly force?: boolean
      readonly all?: boolean
    }) => Effect.Effect<CleanReport, WorkspaceError>
  }
>()("@spec-orch/execution/Workspaces") {
  /**
   * Worktrees under `[workspace] root` (default `$XDG_CACHE_HOME/spec-orch/worktrees`), bindings in the project's state dir.
   * `[workspace] before_remove` runs through the `Verifier` when the context has one (as the CLI's planes do).
   */
  static readonly layer: Layer.Layer<
    Workspaces,
    never,
    Project | FileSystem.FileSystem | Path.Path | ChildProcessSpawner.ChildProcessSpawner
  > = Layer.effect(
    Workspaces,
    Effect.suspend(() => make({}))
  )

  /** The real layer with options (commit identity). */
  static readonly layerWith = (
    options: WorkspacesOptions
  ): Layer.Layer<
    Workspaces,
    never,
    Project | FileSystem.FileSystem | Path.Path | ChildProcessSpawner.ChildProcessSpawner
  > =>
    Layer.effect(
      Workspaces,
      Effect.suspend(() => make(options))
    )
}

const make = Effect.fnUntraced(function* (options: WorkspacesOptions) {
  const project = yield* Project
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const host = yield* hostEnvironment
  const git = makeGit(yield* ChildProcessSpawner.ChildProcessSpawner, host, options)
  const verifier = yield* Effect.serviceOption(Verifier)
  const write = atomicWriter(fs, path)
  const bindingsDir = path.join(project.stateDir, "workspaces")
  const locks = new Map<string, Semaphore.Semaphore>()
  const worktreeAdds = Semaphore.makeUnsafe(1)
  const lockFor = (runKey: string) => {
    let s = locks.get(runKey)
    if (s === undefined) {
      s = Semaphore.makeUnsafe(1)
      locks.set(runKey, s)
    }
    return s
  }
  const wrap =
    (runKey: string | undefined) =>
    <A, R>(effect: Effect.Effect<A, Reason, R>) =>
      Effect.mapError(effect, (reason) => new WorkspaceError({ ...(runKey !== undefined ? { runKey } : {}), reason }))
  const realPath = (p: string) => fs.realPath(p).pipe(Effect.orElseSucceed(() => p))
  const exists = (p: string) => fs.exists(p).pipe(Effect.orElseSucceed(() => false))
  const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())
  /** Pathspecs of everything that is the run's work: the whole tree but spec-orch's state and what provisioning put there. */
  const scope = (repo: RepoInfo, binding: WorkspaceBinding) => [
    ":(top)",
    ...repo.exclude,
    ...(binding.provisioned ?? []).map((p) => `:(top,exclude,literal)${p.path}`)
  ]
  /**
   * `scope` for `git add`, which refuses (exit 1) a pathspec naming an ignored path even to exclude it:
   * provisioned paths git ignores need no exclusion there, the others (the agent un-ignored them) keep theirs.
   */
  const addScope = (repo: RepoInfo, binding: WorkspaceBinding) =>
    Effect.gen(function* () {
      const provisioned = binding.provisioned ?? []
      if (provisioned.length === 0) return scope(repo, binding)
      const ignored = yield* ignoredIn(binding.path)(provisioned.map((p) => p.path))
      return [
        ":(top)",
        ...repo.exclude,
        ...provisioned.filter((p) => !ignored.has(p.path)).map((p) => `:(top,exclude,literal)${p.path}`)
      ]
    })

  const repoInfo = yield* Effect.cached(findRepo(git, fs, path, project, host))

  const bindingFile = (runKey: string) => path.join(bindingsDir, `${runKey}.json`)
  const decodeBinding = Schema.decodeUnknownEffect(Schema.fromJsonString(WorkspaceBinding))
  const encodeBinding = Schema.encodeSync(WorkspaceBinding)
  const saveBinding = (b: WorkspaceBinding) =>
    write(bindingFile(b.runKey), `${JSON.stringify(encodeBinding(b), null, 2)}\n`)

  const readBinding = (runKey: string): Effect.Effect<WorkspaceBinding | undefined, Reason> =>
    Effect.gen(function* () {
      if (Option.isNone(Schema.decodeUnknownOption(RunKey)(runKey))) return undefined
      const file = bindingFile(runKey)
      if (!(yield* exists(file))) return undefined
      const text = yield* fs
        .readFileString(file)
        .pipe(Effect.mapError((e) => new BindingUnreadable({ file, problem: e.message })))
      return yield* decodeBinding(text).pipe(
        Effect.mapError((e) => new BindingUnreadable({ file, problem: e.message.split("\n")[0] ?? "invalid" }))
      )
    })

  const resolveCommit = (cwd: string, ref: string) =>
    git(cwd, ["rev-parse", "--verify", "-q", `${ref}^{commit}`], { ok: [1, 128] }).pipe(
      Effect.map((o) => (o.code === 0 ? lines(o.stdout)[0] : undefined))
    )

  /** The commits of the given full ref names that exist, and of HEAD as "HEAD" (one git call). */
  const refCommits = (repo: RepoInfo, names: ReadonlyArray<string>) =>
    git(repo.top, ["show-ref", "--head", ...names], { ok: [1] }).pipe(
      Effect.map((o) => {
        const found = new Map<string, string>()
        for (const line of lines(o.stdout)) {
          const space = line.indexOf(" ")
          const name = line.slice(space + 1)
          // show-ref matches patterns by their tail: keep exact names only.
          if (space > 0 && (name === "HEAD" || names.includes(name))) found.set(name, line.slice(0, space))
        }
        return found
      })
    )

  /**
   * The base commit (explicit, else [workspace] base, else [github] base_branch locally or on the
   * remote, else HEAD) and whether the run branch already exists: one git call unless a base is given.
   */
  const resolveBase = (repo: RepoInfo, explicit: string | undefined, branch: string) =>
    Effect.gen(function* () {
      const branchRef = `refs/heads/${branch}`
      const configured = explicit ?? project.config.workspace.base
      if (configured !== undefined) {
        const commit = yield* resolveCommit(repo.top, configured)
        if (commit === undefined) return yield* new BaseNotFound({ base: configured, repo: repo.top })
        const hasBranch = (yield* refCommits(repo, [branchRef])).has(branchRef)
        return { commit, ref: configured === "HEAD" ? undefined : configured, hasBranch }
      }
      const { base_branch, remote } = project.config.github
      const local = `refs/heads/${base_branch}`
      const remoteRef = `refs/remotes/${remote}/${base_branch}`
      const found = yield* refCommits(repo, [local, remoteRef, branchRef])
      const hasBranch = found.has(branchRef)
      if (found.has(local)) return { commit: found.get(local)!, ref: base_branch, hasBranch }
      if (found.has(remoteRef)) return { commit: found.get(remoteRef)!, ref: `${remote}/${base_branch}`, hasBranch }
      const head = found.get("HEAD")
      if (head === undefined) return yield* new BaseNotFound({ base: "HEAD", repo: repo.top })
      return { commit: head, ref: undefined, hasBranch }
    })

  /** The registered worktrees of the repository: path → branch ref (or undefined when detached). */
  const registeredWorktrees = (repo: RepoInfo) =>
    git(repo.top, ["worktree", "list", "--porcelain", "-z"]).pipe(Effect.map((o) => worktreeBranches(o.stdout)))

  /** Checks the binding; on success, the absolute path of the worktree's index. */
  const checkReason = (binding: WorkspaceBinding): Effect.Effect<{ readonly index: string }, Reason> =>
    Effect.gen(function* () {
      const repo = yield* repoInfo
      const fast = yield* checkFromFiles(fs, path, binding, repo)
      if (fast !== undefined) return fast
      if (!(yield* exists(binding.path)))
        return yield* new WorktreeMissing({ path: binding.path, branch: binding.branch })
      const real = yield* realPath(binding.path)
      const out = yield* git(real, [
        "rev-parse",
        "--path-format=absolute",
        "--show-toplevel",
        "--git-common-dir",
        "--symbolic-full-name",
        "HEAD",
        "--git-path",
        "index"
      ]).pipe(
        Effect.mapError(
          (e) =>
            new NotAWorktree({
              path: binding.path,
              repo: repo.top,
              detail: e.stderr.trim().split("\n")[0] ?? "git does not recognise it"
            })
        )
      )
      const [toplevel = "", common = "", head = "", index = path.join(real, ".git", "index")] = lines(out.stdout)
      if ((yield* realPath(toplevel)) !== real) {
        return yield* new NotAWorktree({
          path: binding.path,
          repo: repo.top,
          detail: `it is a directory inside the working tree ${toplevel}`
        })
      }
      if ((yield* realPath(common)) !== repo.commonDir) {
        return yield* new NotAWorktree({
          path: binding.path,
          repo: repo.top,
          detail: `it belongs to the repository at ${common}`
        })
      }
      if (real === repo.top)
        return yield* new NotAWorktree({ path: binding.path, repo: repo.top, detail: "it is the main checkout" })
      const expected = `refs/heads/${binding.branch}`
      if (head === "HEAD") {
        const commit = yield* git(real, ["rev-parse", "HEAD"]).pipe(Effect.map((o) => lines(o.stdout)[0] ?? "unknown"))
        return yield* new Detached({ path: binding.path, expected: binding.branch, commit })
      }
      if (head !== expected)
        return yield* new WrongBranch({
          path: binding.path,
          expected: binding.branch,
          actual: head.replace(/^refs\/heads\//, "")
        })
      return { index }
    })

  const check = Effect.fn("Workspaces.check")(function* (binding: WorkspaceBinding) {
    yield* checkReason(binding).pipe(Effect.asVoid, wrap(binding.runKey))
  })

  const branchExists = (repo: RepoInfo, branch: string) =>
    git(repo.top, ["rev-parse", "--verify", "-q", `refs/heads/${branch}`], { ok: [1] }).pipe(
      Effect.map((o) => o.code === 0)
    )

  const mergeBase = (repo: RepoInfo, a: string, b: string) =>
    git(repo.top, ["merge-base", a, b], { ok: [1] }).pipe(
      Effect.map((o) => (o.code === 0 ? lines(o.stdout)[0] : undefined))
    )

  /**
   * Adds the worktree at `wtPath`, on the existing branch or on a new one at the base commit. A stale
   * registration (its directory deleted by hand) is pruned and the add retried, so the common path
   * costs one git call.
   */
  const addWorktree = (repo: RepoInfo, wtPath: string, branch: string, baseCommit: string, hasBranch: boolean) => {
    const add = hasBranch
      ? git(repo.top, ["worktree", "add", "-q", wtPath, branch])
      : git(repo.top, ["worktree", "add", "-q", "--no-track", "-b", branch, wtPath, baseCommit])
    return add.pipe(
      Effect.catch((e) =>
        /already registered|already checked out|is a missing/.test(e.stderr)
          ? Effect.andThen(git(repo.top, ["worktree", "prune"]), add)
          : Effect.fail(e)
      ),
      // Concurrent `git worktree add`s in one repository race on .git/worktrees ("failed to read
      // .git/worktrees/<other>/commondir"), as a mission wave's packets do: one at a time.
      worktreeAdds.withPermit
    )
  }

  /** Moves the run branch back to the base commit, keeping its old tip under refs/spec-orch/attempts/. */
  const startOver = (
    repo: RepoInfo,
    runKey: string,
    existing: WorkspaceBinding | undefined,
    base: string | undefined
  ) =>
    Effect.gen(function* () {
      const branch = existing?.branch ?? branchFor(runKey)
      if (!(yield* branchExists(repo, branch))) return
      const to = yield* resolveBase(repo, base, branch)
      const tip = (yield* resolveCommit(repo.top, `refs/heads/${branch}`)) ?? ""
      if (tip === to.commit) return
      const live = existing !== undefined && (yield* Effect.result(checkReason(existing)))._tag === "Success"
      if (live) {
        const dirty = yield* uncommittedOf(repo, existing)
        if (dirty.length > 0) return yield* new WouldLoseWork({ path: existing.path, uncommitted: dirty, unpushed: [] })
      }
      const stamp = new Date(yield* Clock.currentTimeMillis).toISOString().replace(/[-:.]/g, "")
      yield* git(repo.top, ["update-ref", `refs/spec-orch/attempts/${runKey}/${stamp}`, tip])
      if (live) yield* git(existing.path, ["reset", "-q", "--hard", to.commit])
      else yield* git(repo.top, ["branch", "-f", branch, to.commit])
      if (existing !== undefined)
        yield* saveBinding(
          new WorkspaceBinding({
            ...existing,
            baseCommit: to.commit,
            ...(to.ref !== undefined ? { baseRef: to.ref } : {})
          })
        )
    })

  const prepare = Effect.fn("Workspaces.prepare")(function* (input: {
    readonly runKey: RunKey
    readonly base?: string | undefined
    readonly fresh?: boolean | undefined
  }) {
    const runKey = input.runKey
    return yield* lockFor(runKey).withPermit(
      Effect.gen(function* () {
        const repo = yield* repoInfo
        if (input.fresh === true) yield* startOver(repo, runKey, yield* readBinding(runKey), input.base)
        const existing = yield* readBinding(runKey)
        if (existing !== undefined) {
          const checked = yield* Effect.result(checkReason(existing))
          if (checked._tag === "Success") {
            // A finished workspace that a run takes up again is no longer `clean`'s to remove.
            const reopened =
              existing.finishedAt === undefined
                ? existing
                : yield* Effect.as(saveBinding(withoutFinished(existing)), withoutFinished(existing))
            // A worktree made before provisioning existed gets its dependencies now.
            if (reopened.provisioned !== undefined) return reopened
            return yield* provisioned(repo, reopened)
          }
          if (checked.failure._tag !== "WorktreeMissing") return yield* checked.failure
          // The directory was deleted but the record and branch remain: restore the worktree from the branch.
          yield* Effect.logWarning(`worktree ${existing.path} was missing; recreating it from ${existing.branch}`)
          yield* addWorktree(
            repo,
            existing.path,
            existing.branch,
            existing.baseCommit,
            yield* branchExists(repo, existing.branch)
          )
          const { provisioned: _, ...rest } = existing
          return yield* provisioned(repo, new WorkspaceBinding(rest))
        }
        const branch = branchFor(runKey)
        const base = yield* resolveBase(repo, input.base, branch)
        const hasBranch = base.hasBranch
        const wtPath = path.join(repo.worktreesDir, runKey)
        const registered = (yield* exists(wtPath))
          ? yield* registeredWorktrees(repo)
          : new Map<string, string | undefined>()
        const adopt = registered.has(wtPath)
        if (adopt) {
          // A worktree left without a record (a crash between `worktree add` and writing the record).
          if (registered.get(wtPath) !== `refs/heads/${branch}`) return yield* new PathOccupied({ path: wtPath })
        } else {
          if (yield* exists(wtPath)) {
            const entries = yield* fs.readDirectory(wtPath).pipe(Effect.orElseSucceed(() => ["?"]))
            if (entries.length > 0) return yield* new PathOccupied({ path: wtPath })
            yield* fs.remove(wtPath, { recursive: true }).pipe(Effect.orDie)
          }
          yield* fs.makeDirectory(path.dirname(wtPath), { recursive: true }).pipe(Effect.orDie)
          yield* addWorktree(repo, wtPath, branch, base.commit, hasBranch)
        }
        // On an existing branch, changes are measured from where it left the base.
        const baseCommit =
          hasBranch || adopt
            ? ((yield* mergeBase(repo, base.commit, `refs/heads/${branch}`)) ?? base.commit)
            : base.commit
        const binding = new WorkspaceBinding({
          runKey,
          repo: repo.top,
          path: wtPath,
          branch,
          baseCommit,
          ...(base.ref !== undefined ? { baseRef: base.ref } : {}),
          createdAt: yield* now
        })
        return yield* provisioned(repo, binding)
      }).pipe(wrap(runKey))
    )
  })

  /** Which of the worktree-relative paths git ignores in the worktree (a trailing `/` asks about a directory). */
  const ignoredIn =
    (cwd: string) =>
    (paths: ReadonlyArray<string>): Effect.Effect<ReadonlySet<string>> =>
      paths.length === 0
        ? Effect.succeed(new Set<string>())
        : git(cwd, ["check-ignore", "--", ...paths], { ok: [1] }).pipe(
            // One path per line as given (quoted only when it holds control characters or quotes, which then count as not ignored).
            Effect.map((o) => new Set(o.stdout.split("\n").filter((l) => l !== ""))),
            Effect.catch((e) =>
              Effect.as(
                Effect.logWarning(`could not ask git what it ignores in ${cwd}: ${e.message}`),
                new Set<string>()
              )
            )
          )

  /**
   * Provisions the binding's worktree from the main checkout (`[workspace] provision`, `copy`, `link`),
   * records what it put there in the binding and saves it. What it could not do is logged, never fatal.
   */
  const provisioned = (repo: RepoInfo, binding: WorkspaceBinding) =>
    Effect.gen(function* () {
      const settings = project.config.workspace
      const result = yield* provisionWorktree({
        main: repo.top,
        worktree: binding.path,
        provision: settings.provision,
        copy: settings.copy,
        link: settings.link,
        ignored: ignoredIn(binding.path)
      }).pipe(Effect.provideService(FileSystem.FileSystem, fs), Effect.provideService(Path.Path, path))
      for (const note of result.notes) yield* Effect.logWarning(`workspace ${binding.runKey}: ${note}`)
      const out = new WorkspaceBinding({ ...binding, provisioned: result.provisioned.map((p) => new Provisioned(p)) })
      yield* saveBinding(out)
      return out
    })

  const uncommittedOf = (repo: RepoInfo, binding: WorkspaceBinding) =>
    git(binding.path, [
      "status",
      "--porcelain=v1",
      "-z",
      "--untracked-files=all",
      "--ignore-submodules=none",
      "--",
      ...scope(repo, binding)
    ]).pipe(Effect.map((o) => statusPaths(o.stdout)))

  /** Commits reachable from `tips` that are on no remote branch and not in the base. */
  const unpushedOf = (repo: RepoInfo, binding: WorkspaceBinding, tips: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      if (tips.length === 0) return []
      const exclusions = [binding.baseCommit]
      if (binding.baseRef !== undefined && (yield* resolveCommit(repo.top, binding.baseRef)) !== undefined)
        exclusions.push(binding.baseRef)
      const out = yield* git(repo.top, ["log", "--format=%H%x09%s", ...tips, "--not", "--remotes", ...exclusions, "--"])
      return lines(out.stdout).map((l) => {
        const tab = l.indexOf("\t")
        return new UnpushedCommit({ commit: l.slice(0, tab), subject: l.slice(tab + 1) })
      })
    })

  const statusOf = (binding: WorkspaceBinding): Effect.Effect<WorkspaceStatus, Reason> =>
    Effect.gen(function* () {
      const repo = yield* repoInfo
      const hasBranch = yield* branchExists(repo, binding.branch)
      const tips = hasBranch ? [`refs/heads/${binding.branch}`] : []
      const ahead = hasBranch
        ? Number(
            lines(
              (yield* git(repo.top, ["rev-list", "--count", `${binding.baseCommit}..refs/heads/${binding.branch}`]))
                .stdout
            )[0] ?? 0
          )
        : 0
      if (!(yield* exists(binding.path))) {
        return new WorkspaceStatus({
          binding,
          state: "missing",
          uncommitted: [],
          unpushed: yield* unpushedOf(repo, binding, tips),
          commitsAhead: ahead
        })
      }
      const checked = yield* Effect.result(checkReason(binding))
      if (checked._tag === "Failure") {
        const broken = checked.failure
        // Still list what a removal would lose: files in that directory and commits on its HEAD.
        const isWorktree = broken._tag === "WrongBranch" || broken._tag === "Detached"
        const uncommitted = isWorktree ? yield* uncommittedOf(repo, binding) : []
        const headTips = isWorktree ? [...tips, (yield* resolveCommit(binding.path, "HEAD")) ?? "HEAD"] : tips
        return new WorkspaceStatus({
          binding,
          state: "broken",
          problem: broken.message,
          uncommitted,
          unpushed: yield* unpushedOf(repo, binding, headTips),
          commitsAhead: ahead
        })
      }
      const uncommitted = yield* uncommittedOf(repo, binding)
      return new WorkspaceStatus({
        binding,
        state: uncommitted.length > 0 ? "dirty" : "clean",
        uncommitted,
        unpushed: yield* unpushedOf(repo, binding, tips),
        commitsAhead: ahead
      })
    })

  const changedFiles = Effect.fn("Workspaces.changedFiles")(function* (binding: WorkspaceBinding) {
    return yield* Effect.gen(function* () {
      yield* checkReason(binding)
      const repo = yield* repoInfo
      const tracked = yield* git(binding.path, [
        "diff",
        "--name-only",
        "-z",
        "--no-renames",
        "--no-ext-diff",
        binding.baseCommit,
        "--",
        ...scope(repo, binding)
      ])
      const untracked = yield* git(binding.path, [
        "ls-files",
        "--others",
        "--exclude-standard",
        "-z",
        "--",
        ...scope(repo, binding)
      ])
      return [...new Set([...nul(tracked.stdout), ...nul(untracked.stdout)])].sort()
    }).pipe(wrap(binding.runKey))
  })

  const diff = Effect.fn("Workspaces.diff")(function* (binding: WorkspaceBinding) {
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const { index } = yield* checkReason(binding)
        const repo = yield* repoInfo
        // Stage everything into a copy of the index, so untracked files show up without touching the real index.
        const dir = yield* fs.makeTempDirectoryScoped({ prefix: "spec-orch-index-" }).pipe(Effect.orDie)
        const tmpIndex = path.join(dir, "index")
        const env = { GIT_INDEX_FILE: tmpIndex }
        if (yield* exists(index)) yield* fs.copyFile(index, tmpIndex).pipe(Effect.orDie)
        else yield* git(binding.path, ["read-tree", "HEAD"], { env })
        yield* git(binding.path, ["add", "-A", "--", ...(yield* addScope(repo, binding))], { env })
        const out = yield* git(
          binding.path,
          [
            "diff",
            "--cached",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            binding.baseCommit,
            "--",
            ...scope(repo, binding)
          ],
          { env }
        )
        return out.stdout
      })
    ).pipe(wrap(binding.runKey))
  })

  /** The commit at the tip of the binding's branch: the loose ref git just wrote, else git's answer. */
  const branchTip = (repo: RepoInfo, binding: WorkspaceBinding) =>
    fs.readFileString(path.join(repo.commonDir, "refs", "heads", ...binding.branch.split("/"))).pipe(
      Effect.map((t) => t.trim()),
      Effect.filterOrFail((sha) => /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha)),
      Effect.catch(() => git(binding.path, ["rev-parse", "HEAD"]).pipe(Effect.map((o) => lines(o.stdout)[0] ?? "")))
    )

  const commitAll = Effect.fn("Workspaces.commitAll")(function* (
    binding: WorkspaceBinding,
    message: string,
    author?: { readonly name: string; readonly email: string }
  ) {
    return yield* lockFor(binding.runKey).withPermit(
      Effect.gen(function* () {
        yield* checkReason(binding)
        const repo = yield* repoInfo
        yield* git(binding.path, ["add", "-A", "--", ...(yield* addScope(repo, binding))])
        // Someone may have staged spec-orch's own files earlier; they never go into a commit.
        const staged = nul((yield* git(binding.path, ["diff", "--cached", "--name-only", "-z", "--no-renames"])).stdout)
        const own =
          repo.stateRel === undefined
            ? []
            : staged.filter((f) => f === repo.stateRel || f.startsWith(`${repo.stateRel}/`))
        if (own.length > 0) yield* git(binding.path, ["reset", "-q", "--", `:(top)${repo.stateRel}`])
        let commit: string | undefined
        if (own.length < staged.length) {
          yield* git(
            binding.path,
            ["commit", "-q", "--no-verify", "-m", message],
            author === undefined ? {} : { env: { GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email } }
          )
          commit = yield* branchTip(repo, binding)
        }
        // Everything in scope is committed now, so the branch beyond the base is the whole change:
        // its files (raw records) and its patch from one git call.
        const out = yield* git(binding.path, [
          "diff",
          "-z",
          "--raw",
          "-p",
          "--no-renames",
          "--no-color",
          "--no-ext-diff",
          "--no-textconv",
          "--src-prefix=a/",
          "--dst-prefix=b/",
          binding.baseCommit,
          "HEAD",
          "--",
          ...scope(repo, binding)
        ])
        return { commit, ...splitRawPatch(out.stdout) }
      }).pipe(wrap(binding.runKey))
    )
  })

  const get = Effect.fn("Workspaces.get")(function* (runKey: string) {
    return yield* readBinding(runKey).pipe(wrap(runKey))
  })

  const allBindings = Effect.gen(function* () {
    if (!(yield* exists(bindingsDir))) return []
    const names = yield* fs.readDirectory(bindingsDir).pipe(Effect.orDie)
    const out: Array<WorkspaceBinding> = []
    for (const name of names.filter((n) => n.endsWith(".json")).sort()) {
      // One corrupt record must not hide the others.
      const b = yield* readBinding(name.slice(0, -".json".length)).pipe(
        Effect.catch((reason) => Effect.as(Effect.logWarning(reason.message), undefined))
      )
      if (b !== undefined) out.push(b)
    }
    return out
  })

  const list = Effect.gen(function* () {
    const bindings = yield* allBindings
    return yield* Effect.forEach(bindings, statusOf, { concurrency: 4 })
  }).pipe(wrap(undefined), Effect.withSpan("Workspaces.list"))

  const status = Effect.fn("Workspaces.status")(function* (runKey: string) {
    return yield* Effect.gen(function* () {
      const binding = yield* readBinding(runKey)
      if (binding === undefined) return yield* new WorkspaceUnknown({ runKey })
      return yield* statusOf(binding)
    }).pipe(wrap(runKey))
  })

  /**
   * Runs `[workspace] before_remove` in the worktree like a verification step (boxed, scrubbed, timed out
   * after hook_timeout_seconds), its logs kept under `<state dir>/logs/before_remove/<key>-<time>/`.
   * Never fails: what went wrong is the summary, and the removal goes on.
   */
  const beforeRemove = (binding: WorkspaceBinding): Effect.Effect<BeforeRemove | undefined> =>
    Effect.gen(function* () {
      const commands = project.config.workspace.before_remove
      if (commands.length === 0) return undefined
      if (verifier._tag === "None") {
        return {
          passed: false,
          summary:
            "[workspace] before_remove was not run (no verifier in this process); the worktree was removed anyway"
        }
      }
      const stamp = new Date(yield* Clock.currentTimeMillis).toISOString().replace(/[:.]/g, "-")
      const logDir = path.join(project.stateDir, "logs", "before_remove", `${binding.runKey}-${stamp}`)
      const report = yield* verifier.value.run({
        cwd: binding.path,
        steps: commands.map(
          (command, i) =>
            new VerificationStep({
              name: `before_remove-${i + 1}`,
              command,
              timeoutSeconds: project.config.workspace.hook_timeout_seconds,
              mayModify: true
            })
        ),
        logDir,
        ...verifyOptionsFrom(project.config),
        hide: [project.root, project.stateDir]
      })
      const bad = report.steps.find(stepFailed)
      if (bad === undefined)
        return { passed: true, summary: `[workspace] before_remove passed; its log: ${logDir}`, logDir }
      const how = `${bad.outcome.replace("_", " ")}${bad.exitCode !== null ? ` (exit ${bad.exitCode})` : ""}${bad.note !== undefined ? `: ${bad.note}` : ""}`
      return {
        passed: false,
        summary: `[workspace] before_remove command ${JSON.stringify(bad.command)} ${how}; the worktree was removed anyway; its log: ${bad.logPath ?? logDir}`,
        logDir
      }
    })

  /** Removes the worktree directory (only when git knows it as ours, after before_remove) and the record; the branch on request. */
  const removeBinding = (binding: WorkspaceBinding, st: WorkspaceStatus, deleteBranch: boolean) =>
    Effect.gen(function* () {
      const repo = yield* repoInfo
      let hook: BeforeRemove | undefined
      if (st.state !== "missing") {
        const registered = yield* registeredWorktrees(repo)
        const real = yield* realPath(binding.path)
        if (registered.has(real)) {
          hook = yield* beforeRemove(binding)
          if (hook !== undefined && !hook.passed)
            yield* Effect.logWarning(`workspace ${binding.runKey}: ${hook.summary}`)
          yield* git(repo.top, ["worktree", "remove", "--force", "--force", real])
        } else
          yield* Effect.logWarning(
            `${binding.path} is not a registered worktree of ${repo.top}; left it in place and dropped the record`
          )
      }
      yield* git(repo.top, ["worktree", "prune"])
      let branchDeleted = false
      if (deleteBranch && (yield* branchExists(repo, binding.branch))) {
        yield* git(repo.top, ["branch", "-D", binding.branch])
        branchDeleted = true
      }
      yield* fs.remove(bindingFile(binding.runKey), { force: true }).pipe(Effect.orDie)
      return { branchDeleted, hook }
    })

  const remove = Effect.fn("Workspaces.remove")(function* (
    runKey: string,
    options?: { readonly force?: boolean; readonly deleteBranch?: boolean }
  ) {
    return yield* lockFor(runKey).withPermit(
      Effect.gen(function* () {
        const binding = yield* readBinding(runKey)
        if (binding === undefined) return yield* new WorkspaceUnknown({ runKey })
        const st = yield* statusOf(binding)
        if (options?.force !== true && (st.uncommitted.length > 0 || st.unpushed.length > 0)) {
          return yield* new WouldLoseWork({ path: binding.path, uncommitted: st.uncommitted, unpushed: st.unpushed })
        }
        const { hook } = yield* removeBinding(binding, st, options?.deleteBranch === true)
        return hook === undefined ? {} : { beforeRemove: hook }
      }).pipe(wrap(runKey))
    )
  })

  const markFinished = Effect.fn("Workspaces.markFinished")(function* (runKey: string) {
    return yield* lockFor(runKey).withPermit(
      Effect.gen(function* () {
        const binding = yield* readBinding(runKey)
        if (binding === undefined) return yield* new WorkspaceUnknown({ runKey })
        if (binding.finishedAt !== undefined) return
        yield* saveBinding(new WorkspaceBinding({ ...binding, finishedAt: yield* now }))
      }).pipe(wrap(runKey))
    )
  })

  const clean = Effect.fn("Workspaces.clean")(function* (options?: {
    readonly force?: boolean
    readonly all?: boolean
  }) {
    const removed: Array<CleanReport["removed"][number]> = []
    const kept: Array<CleanReport["kept"][number]> = []
    for (const binding of yield* allBindings.pipe(wrap(undefined))) {
      yield* lockFor(binding.runKey).withPermit(
        Effect.gen(function* () {
          const st = yield* statusOf(binding)
          if (st.state === "missing") {
            yield* removeBinding(binding, st, false)
            removed.push({
              runKey: binding.runKey,
              path: binding.path,
              branchDeleted: false,
              note: `worktree was already gone; branch ${binding.branch} kept`
            })
            return
          }
          if (binding.finishedAt === undefined && options?.all !== true) {
            kept.push({ runKey: binding.runKey, reason: "run not finished (use --all to include it)" })
            return
          }
          if (st.state === "broken" && options?.force !== true) {
            kept.push({ runKey: binding.runKey, reason: st.problem ?? "broken" })
            return
          }
          if (st.uncommitted.length > 0 && options?.force !== true) {
            kept.push({
              runKey: binding.runKey,
              reason: new WouldLoseWork({ path: binding.path, uncommitted: st.uncommitted, unpushed: [] }).message
            })
            return
          }
          // The branch goes only when every commit on it is on a remote or in the base; otherwise it stays.
          const deleteBranch = st.unpushed.length === 0 && st.state !== "broken"
          const { branchDeleted, hook } = yield* removeBinding(binding, st, deleteBranch)
          removed.push({
            runKey: binding.runKey,
            path: binding.path,
            branchDeleted,
            note:
              (branchDeleted
                ? "removed with its branch (nothing unpushed)"
                : `removed; branch ${binding.branch} kept (${st.unpushed.length} unpushed commit(s))`) +
              (hook !== undefined && !hook.passed ? `; ${hook.summary}` : ""),
            ...(hook !== undefined ? { beforeRemove: hook } : {})
          })
        }).pipe(wrap(binding.runKey))
      )
    }
    return { removed, kept } satisfies CleanReport
  })

  return Workspaces.of({
    prepare,
    check,
    changedFiles,
    diff,
    commitAll,
    get,
    list,
    status,
    remove,
    markFinished,
    clean
  })
})
