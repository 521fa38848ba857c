/**
 * The mission branch `spec-orch/mission/<mission>` and how finished packet branches get onto it:
 * one `git merge --no-ff` per packet, in the mission branch's own worktree (next to the packets'
 * worktrees, outside the repository). A conflict is aborted and reported with its files, never
 * resolved or hidden; a worktree someone left mid-merge or dirty is not touched.
 */
import { Project } from "@spec-orch/contract"
import { Clock, Context, Effect, FileSystem, Layer, Path, Schema } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import { type GitResult, runGit } from "../trackers/internal/git.js"
import { PacketIntegration } from "./MissionStore.js"
import { missionBranchOf } from "./PacketIssue.js"

/** The mission branch could not be created. */
export class MissionBranchFailed extends Schema.TaggedError<MissionBranchFailed>()("MissionBranchFailed", {
  missionId: Schema.String,
  branch: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `could not create the mission branch ${this.branch} for mission ${this.missionId}: ${this.reason}`
  }
}

/** The mission branch and the commit it started from. */
export interface MissionBranch {
  readonly branch: string
  /** The commit the branch points at now. */
  readonly head: string
  /** Whether this call created it. */
  readonly created: boolean
}

/** One packet branch to integrate. */
export interface IntegrateInput {
  readonly missionId: string
  readonly packetId: string
  readonly runId: string
  readonly title: string
  /** The packet's run branch (`spec-orch/<mission>.<packet>`). */
  readonly branch: string
  /** The directory holding the run worktrees; the mission worktree goes in `<dir>/.missions/<mission>`. */
  readonly worktreesDir: string
}

/** Where `integrate` put (or found) the mission worktree, with its result. */
export interface Integrated {
  readonly integration: PacketIntegration
  readonly worktree: string
}

const IDENTITY = ["-c", "user.name=spec-orch", "-c", "user.email=spec-orch@localhost", "-c", "commit.gpgsign=false"]
const firstLine = (text: string) =>
  text
    .trim()
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(-3)
    .join(" ")
    .trim()

/** Creates the mission branch and merges packet branches onto it. */
export class MissionIntegration extends Context.Service<
  MissionIntegration,
  {
    /**
     * The mission branch, created at the run base (`[workspace] base`, else `[github] base_branch`
     * locally or on the remote, else HEAD) when it does not exist; an existing one is kept as it is.
     */
    readonly ensureBranch: (missionId: string) => Effect.Effect<MissionBranch, MissionBranchFailed>
    /** The mission worktree's path for a worktrees directory. */
    readonly worktreeOf: (missionId: string, worktreesDir: string) => string
    /**
     * Merges one packet branch onto the mission branch (`--no-ff`). Already contained: `up-to-date`.
     * A conflict is aborted and reported with its files; anything else that stops the merge is `error`
     * with git's words. Never fails: the answer is data.
     */
    readonly integrate: (input: IntegrateInput) => Effect.Effect<Integrated>
  }
>()("@spec-orch/control/MissionIntegration") {
  static readonly layer: Layer.Layer<
    MissionIntegration,
    never,
    Project | FileSystem.FileSystem | Path.Path | ChildProcessSpawner.ChildProcessSpawner
  > = Layer.effect(
    MissionIntegration,
    Effect.gen(function* () {
      const project = yield* Project
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const spawner = yield* Effect.context<ChildProcessSpawner.ChildProcessSpawner>()
      const git = (cwd: string, args: ReadonlyArray<string>): Effect.Effect<GitResult> =>
        runGit(cwd, args).pipe(Effect.provide(spawner))
      const commitOf = (cwd: string, ref: string) =>
        Effect.map(git(cwd, ["rev-parse", "--verify", "-q", `${ref}^{commit}`]), (r) =>
          r.exitCode === 0 ? r.stdout.trim() : undefined
        )
      const exists = (p: string) => fs.exists(p).pipe(Effect.orElseSucceed(() => false))
      const nowIso = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())
      /** Marks a merge in progress, so a merge left behind by a crash is known to be ours. */
      const markerOf = (missionId: string) => path.join(project.stateDir, "missions", `${missionId}.merging`)

      const ensureBranch = Effect.fn("MissionIntegration.ensureBranch")(function* (missionId: string) {
        const branch = missionBranchOf(missionId)
        const failed = (reason: string) => new MissionBranchFailed({ missionId, branch, reason })
        const existing = yield* commitOf(project.root, `refs/heads/${branch}`)
        if (existing !== undefined) return { branch, head: existing, created: false } satisfies MissionBranch
        const configured = project.config.workspace.base
        const { base_branch, remote } = project.config.github
        const candidates =
          configured !== undefined
            ? [configured]
            : [`refs/heads/${base_branch}`, `refs/remotes/${remote}/${base_branch}`, "HEAD"]
        let base: string | undefined
        for (const c of candidates) {
          base = yield* commitOf(project.root, c)
          if (base !== undefined) break
        }
        if (base === undefined) {
          return yield* failed(
            configured !== undefined
              ? `[workspace] base "${configured}" is not a commit`
              : "the repository has no commits yet; commit once first"
          )
        }
        const made = yield* git(project.root, ["branch", branch, base])
        if (made.exitCode !== 0) return yield* failed(firstLine(made.stderr) || `git branch exited ${made.exitCode}`)
        return { branch, head: base, created: true } satisfies MissionBranch
      })

      const worktreeOf = (missionId: string, worktreesDir: string) => path.join(worktreesDir, ".missions", missionId)

      /** The mission worktree, added on the mission branch when missing; a string is why it cannot be used. */
      const ensureWorktree = (missionId: string, branch: string, wt: string): Effect.Effect<string | undefined> =>
        Effect.gen(function* () {
          if (!(yield* exists(wt))) {
            yield* fs.makeDirectory(path.dirname(wt), { recursive: true }).pipe(Effect.orDie)
            yield* git(project.root, ["worktree", "prune"])
            const added = yield* git(project.root, ["worktree", "add", "-q", wt, branch])
            if (added.exitCode !== 0) {
              return /already checked out|already used by worktree/.test(added.stderr)
                ? `the mission branch ${branch} is checked out elsewhere (${firstLine(added.stderr)}); switch that checkout to another branch`
                : `could not add the mission worktree ${wt}: ${firstLine(added.stderr)}`
            }
            return undefined
          }
          const head = yield* git(wt, ["symbolic-ref", "-q", "HEAD"])
          if (head.exitCode !== 0 || head.stdout.trim() !== `refs/heads/${branch}`) {
            return `the mission worktree ${wt} is not on ${branch} (it is on ${head.stdout.trim() || "a detached HEAD"}); run \`git -C ${wt} switch ${branch}\``
          }
          const marker = markerOf(missionId)
          const merging = (yield* commitOf(wt, "MERGE_HEAD")) !== undefined
          if (merging && (yield* exists(marker))) {
            // A merge spec-orch started and never finished (its process died): undo it.
            yield* git(wt, ["merge", "--abort"])
            yield* fs.remove(marker).pipe(Effect.ignore)
          } else if (merging) {
            return `the mission worktree ${wt} has a merge in progress; finish it (\`git -C ${wt} commit\`) or abort it (\`git -C ${wt} merge --abort\`)`
          }
          const dirty = yield* git(wt, ["status", "--porcelain", "--untracked-files=no"])
          if (dirty.stdout.trim() !== "") {
            const files = dirty.stdout
              .split("\n")
              .filter((l) => l.trim() !== "")
              .map((l) => l.slice(3))
            return `the mission worktree ${wt} has uncommitted changes (${files.slice(0, 5).join(", ")}${files.length > 5 ? ", …" : ""}); commit or discard them`
          }
          return undefined
        })

      const integrate = Effect.fn("MissionIntegration.integrate")(function* (input: IntegrateInput) {
        const branch = missionBranchOf(input.missionId)
        const wt = worktreeOf(input.missionId, input.worktreesDir)
        const at = yield* nowIso
        const result = (
          outcome: PacketIntegration["outcome"],
          message: string,
          extra: { tip?: string | undefined; commit?: string; files?: ReadonlyArray<string> } = {}
        ): Integrated => ({
          worktree: wt,
          integration: new PacketIntegration({
            packetId: input.packetId,
            runId: input.runId,
            outcome,
            ...(extra.tip !== undefined ? { tip: extra.tip } : {}),
            ...(extra.commit !== undefined ? { commit: extra.commit } : {}),
            files: extra.files ?? [],
            message,
            at
          })
        })
        const tip = yield* commitOf(project.root, `refs/heads/${input.branch}`)
        if (tip === undefined) return result("error", `the packet branch ${input.branch} does not exist`)
        const contained = yield* git(project.root, ["merge-base", "--is-ancestor", tip, `refs/heads/${branch}`])
        if (contained.exitCode === 0) return result("up-to-date", `${input.branch} is already on ${branch}`, { tip })
        const problem = yield* ensureWorktree(input.missionId, branch, wt)
        if (problem !== undefined) return result("error", problem, { tip })

        const marker = markerOf(input.missionId)
        yield* fs.makeDirectory(path.dirname(marker), { recursive: true }).pipe(Effect.orDie)
        yield* fs.writeFileString(marker, `${input.packetId}\n`).pipe(Effect.orDie)
        const message = `spec-orch: merge packet ${input.packetId} into mission ${input.missionId}\n\n${input.title}\nRun ${input.runId}, branch ${input.branch}.`
        const merged = yield* git(wt, [...IDENTITY, "merge", "--no-ff", "--no-edit", "-m", message, tip])
        const outcome = yield* Effect.gen(function* () {
          if (merged.exitCode === 0) {
            const commit = (yield* commitOf(wt, "HEAD")) ?? ""
            return result("merged", `merged ${input.branch} into ${branch} @ ${commit.slice(0, 10)}`, { tip, commit })
          }
          const conflicted = yield* git(wt, ["diff", "--name-only", "--diff-filter=U"])
          const files = conflicted.stdout
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l !== "")
            .sort()
          // Leave the mission branch exactly as it was: no half-merged tree, ever.
          yield* git(wt, ["merge", "--abort"])
          return files.length > 0
            ? result(
                "conflict",
                `merging ${input.branch} into ${branch} conflicts in ${files.join(", ")}; the merge was aborted. Resolve it by hand: \`git -C ${wt} merge ${input.branch}\`, fix, commit, then run \`spec-orch run-plan ${input.missionId}\` again`,
                { tip, files }
              )
            : result(
                "error",
                `git merge of ${input.branch} failed: ${firstLine(merged.stderr) || firstLine(merged.stdout) || `exit ${merged.exitCode}`}`,
                { tip }
              )
        }).pipe(Effect.ensuring(fs.remove(marker).pipe(Effect.ignore)))
        return outcome
      })

      return MissionIntegration.of({ ensureBranch, worktreeOf, integrate })
    })
  )
}
