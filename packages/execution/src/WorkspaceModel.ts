/**
 * The workspace data model: a run's binding (worktree, branch, base commit, what provisioning put
 * there), its status as `list` and `status` report it, and what `remove` and `clean` did. Plain data:
 * nothing here runs git or touches the disk.
 */
import { RunKey } from "@spec-orch/contract"
import { Schema } from "effect"

/**
 * A path provisioning put in the worktree (never committed, diffed or listed as changed): `symlink` (a
 * symlink to `source`), `links` (a directory whose entries link to `source`'s), `hardlinks` (a copy of
 * `source` made of hard links), `copy` (a copied file).
 */
export class Provisioned extends Schema.Class<Provisioned>("@spec-orch/execution/Provisioned")({
  /** Worktree-relative, `/`-separated. */
  path: Schema.String,
  kind: Schema.Literals(["symlink", "links", "hardlinks", "copy"]),
  /** Absolute path in the main checkout. */
  source: Schema.String
}) {}

/** Where a run works: its worktree, branch and the commit it started from. */
export class WorkspaceBinding extends Schema.Class<WorkspaceBinding>("@spec-orch/execution/WorkspaceBinding")({
  runKey: RunKey,
  /** Absolute path of the main repository (its top-level directory). */
  repo: Schema.String,
  /** Absolute path of the worktree. */
  path: Schema.String,
  /** `spec-orch/<runKey>`. */
  branch: Schema.String,
  /** The commit the branch started from; "changed files" are measured against it. */
  baseCommit: Schema.String,
  /** The branch (or ref) the base commit was taken from, when it was a named ref other than HEAD. */
  baseRef: Schema.optionalKey(Schema.String),
  createdAt: Schema.String,
  /** Set when the run using this workspace reached a terminal state; `clean` may then remove it. */
  finishedAt: Schema.optionalKey(Schema.String),
  /** What `[workspace]` provisioning put in the worktree; absent when it has not run for this worktree. */
  provisioned: Schema.optionalKey(Schema.Array(Provisioned))
}) {}

/** The branch a run key works on. */
export const branchFor = (runKey: string): string => `spec-orch/${runKey}`

/** A commit that exists only on the run branch: not on any remote branch and not in the base. */
export class UnpushedCommit extends Schema.Class<UnpushedCommit>("@spec-orch/execution/UnpushedCommit")({
  commit: Schema.String,
  subject: Schema.String
}) {}

/** How a workspace looks right now. */
export const WorkspaceState = Schema.Literals(["clean", "dirty", "missing", "broken"])
export type WorkspaceState = typeof WorkspaceState.Type

/** A binding plus what is in its worktree: uncommitted files, unpushed commits, commits since base. */
export class WorkspaceStatus extends Schema.Class<WorkspaceStatus>("@spec-orch/execution/WorkspaceStatus")({
  binding: WorkspaceBinding,
  /** `missing`: the worktree directory is gone; `broken`: it exists but fails `check` (see `problem`). */
  state: WorkspaceState,
  problem: Schema.optionalKey(Schema.String),
  /** Uncommitted files (staged, unstaged, untracked; not ignored), repo-relative. */
  uncommitted: Schema.Array(Schema.String),
  unpushed: Schema.Array(UnpushedCommit),
  /** Commits on the branch since the base commit. */
  commitsAhead: Schema.Number
}) {}

/** How `[workspace] before_remove` went before a worktree was removed (the worktree is removed either way). */
export interface BeforeRemove {
  readonly passed: boolean
  /** One sentence: passed, or which command failed how, that the worktree was removed anyway, and the log. */
  readonly summary: string
  /** Where the commands' logs are kept (absent when they could not run). */
  readonly logDir?: string
}

/** What `remove` did. */
export interface RemoveReport {
  /** Absent when no before_remove command is configured or the worktree was already gone. */
  readonly beforeRemove?: BeforeRemove
}

/** What `clean` did. */
export interface CleanReport {
  readonly removed: ReadonlyArray<{
    readonly runKey: string
    readonly path: string
    readonly branchDeleted: boolean
    readonly note: string
    readonly beforeRemove?: BeforeRemove
  }>
  readonly kept: ReadonlyArray<{ readonly runKey: string; readonly reason: string }>
}
