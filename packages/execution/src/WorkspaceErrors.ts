/**
 * Why a workspace operation could not be done: one tagged error per cause, each with a message that
 * says what to do, gathered under `WorkspaceError` so the service's signatures name one error type.
 */
import { Schema } from "effect"
import { UnpushedCommit } from "./WorkspaceModel.js"

/** The project directory is not inside a git repository. */
export class NotAGitRepo extends Schema.TaggedError<NotAGitRepo>()("NotAGitRepo", { path: Schema.String }) {
  override get message() {
    return `${this.path} is not inside a git repository; spec-orch runs agents in git worktrees. Run \`git init\` and commit once, or pass --cwd <repository>`
  }
}

/** The base to branch from does not resolve to a commit. */
export class BaseNotFound extends Schema.TaggedError<BaseNotFound>()("BaseNotFound", {
  base: Schema.String,
  repo: Schema.String
}) {
  override get message() {
    return this.base === "HEAD"
      ? `the repository ${this.repo} has no commits yet; commit once before running spec-orch`
      : `base "${this.base}" is not a branch, tag or commit in ${this.repo}; check [workspace] base / [github] base_branch`
  }
}

/** The worktree directory of a binding does not exist. */
export class WorktreeMissing extends Schema.TaggedError<WorktreeMissing>()("WorktreeMissing", {
  path: Schema.String,
  branch: Schema.String
}) {
  override get message() {
    return `the worktree ${this.path} does not exist (deleted?); its work is on branch ${this.branch}. Run \`spec-orch workspace clean\` to drop the record, or re-run to recreate it from the branch`
  }
}

/** The binding's path exists but is not a linked worktree of the repository. */
export class NotAWorktree extends Schema.TaggedError<NotAWorktree>()("NotAWorktree", {
  path: Schema.String,
  repo: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `${this.path} is not a worktree of ${this.repo}: ${this.detail}. Refusing to work there`
  }
}

/** The worktree is on another branch than the binding's. */
export class WrongBranch extends Schema.TaggedError<WrongBranch>()("WrongBranch", {
  path: Schema.String,
  expected: Schema.String,
  actual: Schema.String
}) {
  override get message() {
    return `the worktree ${this.path} is on branch ${this.actual}, expected ${this.expected}; run \`git -C ${this.path} switch ${this.expected}\``
  }
}

/** The worktree's HEAD is detached. */
export class Detached extends Schema.TaggedError<Detached>()("Detached", {
  path: Schema.String,
  expected: Schema.String,
  commit: Schema.String
}) {
  override get message() {
    return `the worktree ${this.path} has a detached HEAD at ${this.commit.slice(0, 12)}, expected branch ${this.expected}; run \`git -C ${this.path} switch ${this.expected}\` (after saving any commits made since)`
  }
}

/** Removing the worktree would lose work. */
export class WouldLoseWork extends Schema.TaggedError<WouldLoseWork>()("WouldLoseWork", {
  path: Schema.String,
  uncommitted: Schema.Array(Schema.String),
  unpushed: Schema.Array(UnpushedCommit)
}) {
  override get message() {
    const parts: Array<string> = []
    const list = (xs: ReadonlyArray<string>) =>
      xs.slice(0, 10).join(", ") + (xs.length > 10 ? `, … (${xs.length - 10} more)` : "")
    if (this.uncommitted.length > 0)
      parts.push(`${this.uncommitted.length} uncommitted file(s): ${list(this.uncommitted)}`)
    if (this.unpushed.length > 0)
      parts.push(
        `${this.unpushed.length} unpushed commit(s): ${list(this.unpushed.map((c) => `${c.commit.slice(0, 8)} ${c.subject}`))}`
      )
    return `removing ${this.path} would lose ${parts.join("; ")}. Commit and push them, or use --force`
  }
}

/** No binding exists for the run key. */
export class WorkspaceUnknown extends Schema.TaggedError<WorkspaceUnknown>()("WorkspaceUnknown", {
  runKey: Schema.String
}) {
  override get message() {
    return `no workspace for ${this.runKey}; a run creates it (\`spec-orch run ${this.runKey}\`), \`spec-orch workspace list\` shows the existing ones`
  }
}

/** A directory that is not ours occupies the worktree path. */
export class PathOccupied extends Schema.TaggedError<PathOccupied>()("PathOccupied", { path: Schema.String }) {
  override get message() {
    return `${this.path} already exists and is not this run's worktree; move it away or set [workspace] root`
  }
}

/** `[workspace] root` points inside the repository. */
export class InvalidWorkspaceRoot extends Schema.TaggedError<InvalidWorkspaceRoot>()("InvalidWorkspaceRoot", {
  root: Schema.String,
  repo: Schema.String
}) {
  override get message() {
    return `[workspace] root ${this.root} is inside the repository ${this.repo}; worktrees must live outside it (default: $XDG_CACHE_HOME/spec-orch/worktrees)`
  }
}

/** A binding record could not be read. */
export class BindingUnreadable extends Schema.TaggedError<BindingUnreadable>()("BindingUnreadable", {
  file: Schema.String,
  problem: Schema.String
}) {
  override get message() {
    return `the workspace record ${this.file} is unreadable (${this.problem}); delete it and \`git worktree prune\``
  }
}

/** A git command failed unexpectedly. */
export class GitFailed extends Schema.TaggedError<GitFailed>()("GitFailed", {
  command: Schema.String,
  cwd: Schema.String,
  exitCode: Schema.optionalKey(Schema.Number),
  stderr: Schema.String
}) {
  override get message() {
    return `\`${this.command}\` failed in ${this.cwd}${this.exitCode !== undefined ? ` (exit ${this.exitCode})` : ""}: ${this.stderr.trim() || "no output"}`
  }
}

/** Why a workspace operation could not be done; `reason` says which. */
export class WorkspaceError extends Schema.TaggedError<WorkspaceError>()("WorkspaceError", {
  runKey: Schema.optionalKey(Schema.String),
  reason: Schema.Union([
    NotAGitRepo,
    BaseNotFound,
    WorktreeMissing,
    NotAWorktree,
    WrongBranch,
    Detached,
    WouldLoseWork,
    WorkspaceUnknown,
    PathOccupied,
    InvalidWorkspaceRoot,
    BindingUnreadable,
    GitFailed
  ])
}) {
  override get message() {
    // The reasons that already name the run key are not prefixed with it again.
    return this.runKey !== undefined && this.reason._tag !== "WorkspaceUnknown"
      ? `workspace ${this.runKey}: ${this.reason.message}`
      : this.reason.message
  }
}
