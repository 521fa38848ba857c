/** `spec-orch workspace list|show|remove|clean`: the git worktrees runs work in, and their cleanup. */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./workspace.run.js")
const keyArg = Argument.String("key").pipe(
  Argument.withDescription("Run key: an issue id (SPC-1) or <mission>.<packet>")
)

const list = Command.make("list", { json: jsonFlag }, lazy(load, "list")).pipe(
  Command.withDescription(
    "List run worktrees: state (clean, dirty, missing, broken), commits ahead of base, unpushed commits, uncommitted files"
  )
)

const show = Command.make("show", { key: keyArg, json: jsonFlag }, lazy(load, "show")).pipe(
  Command.withDescription("Show one worktree: path, branch, base commit, uncommitted files and unpushed commits")
)

const remove = Command.make(
  "remove",
  {
    key: keyArg,
    force: Flag.Boolean("force").pipe(
      Flag.withDescription("Remove even with uncommitted files or unpushed commits (they are lost)"),
      Flag.withDefault(false)
    ),
    deleteBranch: Flag.Boolean("delete-branch").pipe(
      Flag.withDescription("Also delete the branch spec-orch/<key>"),
      Flag.withDefault(false)
    ),
    json: jsonFlag
  },
  lazy(load, "remove")
).pipe(
  Command.withDescription(
    "Remove one worktree; refuses, listing what would be lost, when it holds uncommitted or unpushed work"
  )
)

const clean = Command.make(
  "clean",
  {
    force: Flag.Boolean("force").pipe(
      Flag.withDescription(
        "Also remove worktrees with uncommitted files (branches with unpushed commits are still kept)"
      ),
      Flag.withDefault(false)
    ),
    all: Flag.Boolean("all").pipe(
      Flag.withDescription("Include worktrees of runs that have not finished"),
      Flag.withDefault(false)
    ),
    json: jsonFlag
  },
  lazy(load, "clean")
).pipe(
  Command.withDescription(
    "Drop records of worktrees that are gone and remove finished runs' worktrees, deleting their branch when every commit is pushed or merged. " +
      "Worktrees with uncommitted files are kept unless --force."
  )
)

export const workspace = Command.make("workspace").pipe(
  Command.withDescription(
    "The isolated git worktrees runs work in (outside the repository, one per run key, on branch spec-orch/<key>)"
  ),
  Command.withSubcommands([list, show, remove, clean])
)
