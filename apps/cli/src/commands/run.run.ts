/** Handlers for `spec-orch run|status|logs|rerun`. */
import { Project, type RunRecord } from "@spec-orch/contract"
import { branchFor, makeGitRunner } from "@spec-orch/execution"
import { hostEnvironment } from "@spec-orch/harness"
import { ChildProcessSpawner } from "effect/process"
import { intakeWarning, type RunEvent, Runs, RunStore } from "@spec-orch/control"
import { Console, Effect, Fiber, FileSystem, Option, Path, Stream } from "effect"
import { emit, ExitCode, setExitCode } from "../Output.js"
import { withEngine, withPlanes } from "../Planes.js"
import { preflight } from "./preflight.js"
import { describeRunEvent, progressDisplay } from "../Progress.js"
import { whoAmI } from "../Who.js"
import { costText, runJson } from "./status.view.js"

export { runJson } from "./status.view.js"

const opt = <A>(o: Option.Option<A>) => Option.getOrUndefined(o)

const rel = (path: Path.Path, p: string) => {
  const r = path.relative(process.cwd(), p)
  return r.startsWith("..") ? p : r || "."
}

const summary = (r: RunRecord, path: Path.Path, seconds: number): Array<string> => {
  const v = r.verdict
  const headline =
    r.status === "succeeded"
      ? `${r.issueId}: MERGEABLE${v?.autoMergeable ? " (auto-merge allowed)" : ""}`
      : r.status === "blocked"
        ? `${r.issueId}: BLOCKED`
        : `${r.issueId}: ${r.status.toUpperCase()}`
  return [
    `${headline}   run ${r.runId} · ${seconds.toFixed(1)}s`,
    ...(r.message ? [`  ${r.message}`] : []),
    ...(v
      ? v.conditions
          .filter((c) => c.status !== "disabled")
          .map(
            (c) =>
              `  ${c.status === "passed" ? "✓" : c.status === "failed" ? "✗" : "?"} ${c.condition.padEnd(18)} ${c.reason}${c.status !== "passed" && c.unblock ? `\n    → ${c.unblock}` : ""}`
          )
      : []),
    ...(r.branch ? [`  branch    ${r.branch}${r.headCommit ? ` @ ${r.headCommit.slice(0, 10)}` : ""}`] : []),
    ...(r.worktree ? [`  worktree  ${r.worktree}`] : []),
    ...(costText(r) !== "-" ? [`  cost      ${costText(r)}`] : []),
    ...(r.artifactsDir ? [`  evidence  ${rel(path, `${r.artifactsDir}/explain.md`)}`] : [])
  ]
}

/** Runs `effect` only when the gate could judge the work (see `preflight`): nothing is created otherwise. */
const afterPreflight = <A, E, R>(what: string, profile: string | undefined, effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(preflight(what, profile), (ok) => (ok ? Effect.asVoid(effect) : Effect.void))

export const run = (input: {
  issue: string
  source: Option.Option<string>
  agent: Option.Option<string>
  profile: Option.Option<string>
  autoApprove: boolean
  newAttempt: boolean
  continue: boolean
  wait: boolean
  publish: Option.Option<"mergeable" | "always" | "never">
  json: boolean
}) =>
  afterPreflight(
    `run ${input.issue}`,
    opt(input.profile),
    withEngine(
      `run ${input.issue}`,
      { journal: `run-${input.issue}`, what: input.issue, wait: input.wait, source: opt(input.source) },
      Effect.gen(function* () {
        const runs = yield* Runs
        const store = yield* RunStore
        const path = yield* Path.Path
        const started = Date.now()
        // A person chose this issue: the daemon's intake allow-list does not block it, but says when it would.
        const warning = yield* intakeWarning(input.issue)
        if (warning !== undefined) process.stderr.write(`${warning}\n`)
        // The worktree branches from a commit: what is only in the checkout's working tree, the agent will not see.
        const project = yield* Project
        const git = makeGitRunner(yield* ChildProcessSpawner.ChildProcessSpawner, yield* hostEnvironment)
        const dirty = yield* git(project.root, [
          "status",
          "--porcelain",
          "--untracked-files=normal",
          "--",
          ".",
          `:(exclude)${project.config.workspace.state_dir}`
        ]).pipe(
          Effect.map((r) =>
            r.exitCode === 0
              ? r.stdout
                  .split("\n")
                  .filter((l) => l.trim() !== "")
                  .map((l) => l.slice(3))
              : []
          ),
          Effect.orElseSucceed((): Array<string> => [])
        )
        if (dirty.length > 0 && !input.json) {
          process.stderr.write(
            `note: ${dirty.length} uncommitted file(s) in your checkout are not in the run's worktree, which branches from a commit: ` +
              `${dirty.slice(0, 5).join(", ")}${dirty.length > 5 ? `, and ${dirty.length - 5} more` : ""}. Commit them first if the agent needs them.\n`
          )
        }
        const display = input.json ? undefined : progressDisplay(input.issue)
        let runId: string | undefined
        const follower = yield* Stream.runForEach(store.live, (e) =>
          Effect.sync(() => e.runId === runId && display?.onEvent(e))
        ).pipe(Effect.forkChild)
        const result = yield* runs
          .start({
            issueId: input.issue,
            autoApprovedBy: input.autoApprove ? `${yield* whoAmI(Option.none())} (--auto-approve)` : undefined,
            adapter: opt(input.agent),
            profile: opt(input.profile),
            publish: opt(input.publish),
            newAttempt: input.newAttempt,
            fresh: !input.continue,
            onStart: (record, resumed) =>
              Effect.sync(() => {
                runId = record.runId
                if (!input.json)
                  process.stderr.write(
                    `${resumed ? "Resuming" : "Starting"} ${record.runId} (${record.issueId}, attempt ${record.attempt})\n`
                  )
              })
          })
          .pipe(Effect.ensuring(Effect.sync(() => display?.stop())))
        yield* Fiber.interrupt(follower)
        const r = result.record
        if (r.status !== "succeeded") yield* setExitCode(ExitCode.failure)
        yield* emit(input.json, { ...runJson(r), resumed: result.resumed }, () =>
          summary(r, path, (Date.now() - started) / 1000)
        )
      })
    )
  )

export const rerun = (input: {
  issue: string
  profile: Option.Option<string>
  publish: Option.Option<"mergeable" | "always" | "never">
  json: boolean
}) =>
  afterPreflight(
    `rerun ${input.issue}`,
    opt(input.profile),
    withEngine(
      `rerun ${input.issue}`,
      { journal: `run-${input.issue}`, what: input.issue },
      Effect.gen(function* () {
        const store = yield* RunStore
        const path = yield* Path.Path
        const latest = yield* store.latest(input.issue)
        if (latest === undefined) {
          yield* Console.error(
            `spec-orch: ${input.issue} has never run; start it with \`spec-orch run ${input.issue}\``
          )
          return yield* setExitCode(ExitCode.failure)
        }
        // A rerun judges the run's branch; when the branch is gone (a workspace removed with --delete-branch,
        // a branch deleted by hand) it would judge the bare base instead. Say so rather than do that.
        const project = yield* Project
        const git = makeGitRunner(yield* ChildProcessSpawner.ChildProcessSpawner, yield* hostEnvironment)
        const branch = `refs/heads/${branchFor(latest.runKey)}`
        const found = yield* git(project.root, ["rev-parse", "--verify", "-q", branch]).pipe(Effect.orDie)
        if (found.exitCode !== 0) {
          yield* Console.error(
            `spec-orch: cannot rerun ${input.issue}: its branch ${branchFor(latest.runKey)} is gone, so there is no work left to re-verify ` +
              `(rerunning would judge the base commit). Start a new attempt: \`spec-orch run ${input.issue} --new-attempt\``
          )
          return yield* setExitCode(ExitCode.failure)
        }
        const started = Date.now()
        const display = input.json ? undefined : progressDisplay(input.issue)
        let runId: string | undefined
        const follower = yield* Stream.runForEach(store.live, (e) =>
          Effect.sync(() => e.runId === runId && display?.onEvent(e))
        ).pipe(Effect.forkChild)
        const result = yield* (yield* Runs)
          .start({
            issueId: input.issue,
            autoApprovedBy: undefined,
            // Judged under the profile the last run was judged with unless --profile says otherwise.
            profile: Option.getOrUndefined(
              Option.orElse(input.profile, () => Option.fromNullishOr(latest.verdict?.profile))
            ),
            publish: opt(input.publish),
            newAttempt: true,
            runKey: latest.runKey,
            reuseAgentOf: latest.runId,
            onStart: (record) =>
              Effect.sync(() => {
                runId = record.runId
                if (!input.json) process.stderr.write(`Re-verifying ${latest.runId} as ${record.runId}\n`)
              })
          })
          .pipe(Effect.ensuring(Effect.sync(() => display?.stop())))
        yield* Fiber.interrupt(follower)
        if (result.record.status !== "succeeded") yield* setExitCode(ExitCode.failure)
        yield* emit(input.json, runJson(result.record), () =>
          summary(result.record, path, (Date.now() - started) / 1000)
        )
      })
    )
  )

export const logs = (input: { issue: string; follow: boolean; raw: boolean; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const store = yield* RunStore
      const fs = yield* FileSystem.FileSystem
      const latest = yield* store.latest(input.issue)
      if (latest === undefined) {
        yield* Console.error(`spec-orch: ${input.issue} has never run`)
        return yield* setExitCode(ExitCode.failure)
      }
      if (input.raw) {
        const file = `${latest.artifactsDir}/agent.jsonl`
        const text = yield* fs.readFileString(file).pipe(Effect.orElseSucceed(() => ""))
        if (text === "") yield* Console.error(`no raw agent stream for ${latest.runId} (${file})`)
        else yield* Console.log(text.trimEnd())
        return
      }
      const print = (e: RunEvent) => {
        if (input.json) return Console.log(JSON.stringify(e))
        const line =
          describeRunEvent(e) ?? (e.kind === "stage" ? `▸ ${(e.data as { stage: string }).stage}` : undefined)
        return line === undefined ? Effect.void : Console.log(`${e.at.slice(11, 19)} ${line}`)
      }
      if (input.follow) yield* Stream.runForEach(store.follow(latest.runId), print)
      else yield* Effect.forEach(yield* store.events(latest.runId), print, { discard: true })
    })
  )
