/** Handlers for `spec-orch workspace`. */
import { type WorkspaceStatus, Workspaces, WorkspaceStatus as WorkspaceStatusSchema } from "@spec-orch/execution"
import { Effect, Schema } from "effect"
import { emit, table } from "../Output.js"
import { withPlanes } from "../Planes.js"

const encodeStatus = Schema.encodeSync(WorkspaceStatusSchema)

const shortList = (xs: ReadonlyArray<string>, n = 3) =>
  xs.length <= n ? xs.join(", ") : `${xs.slice(0, n).join(", ")}, … (${xs.length - n} more)`

export const list = ({ json }: { json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const all = yield* (yield* Workspaces).list
      yield* emit(json, { workspaces: all.map((s) => encodeStatus(s)) }, () =>
        all.length === 0
          ? "No workspaces. A run creates one (`spec-orch run <issue>`)."
          : table(
              ["KEY", "STATE", "AHEAD", "UNPUSHED", "UNCOMMITTED", "FINISHED", "PATH"],
              all.map((s) => [
                s.binding.runKey,
                s.state,
                String(s.commitsAhead),
                String(s.unpushed.length),
                String(s.uncommitted.length),
                s.binding.finishedAt !== undefined ? "yes" : "no",
                s.binding.path
              ])
            )
      )
    })
  )

/** How a provisioned path stands for the main checkout's, in words. */
const PROVISIONED = {
  symlink: "a link to",
  links: "links to the entries of",
  hardlinks: "a hard-link copy of",
  copy: "a copy of"
} as const

const describe = (s: WorkspaceStatus): Array<string> => [
  `${s.binding.runKey}: ${s.state}${s.problem !== undefined ? ` — ${s.problem}` : ""}`,
  `path:      ${s.binding.path}`,
  `branch:    ${s.binding.branch} (${s.commitsAhead} commit(s) since base)`,
  `base:      ${s.binding.baseCommit.slice(0, 12)}${s.binding.baseRef !== undefined ? ` (${s.binding.baseRef})` : ""}`,
  `repo:      ${s.binding.repo}`,
  `created:   ${s.binding.createdAt}${s.binding.finishedAt !== undefined ? `, finished ${s.binding.finishedAt}` : ""}`,
  ...((s.binding.provisioned ?? []).length > 0
    ? [
        "",
        "Provisioned from the main checkout (ignored, never committed):",
        ...(s.binding.provisioned ?? []).map((p) => `  ${p.path}: ${PROVISIONED[p.kind]} ${p.source}`)
      ]
    : []),
  ...(s.uncommitted.length > 0
    ? ["", `Uncommitted (${s.uncommitted.length}):`, ...s.uncommitted.map((f) => `  ${f}`)]
    : []),
  ...(s.unpushed.length > 0
    ? [
        "",
        `Unpushed commits (${s.unpushed.length}):`,
        ...s.unpushed.map((c) => `  ${c.commit.slice(0, 8)} ${c.subject}`)
      ]
    : [])
]

export const show = ({ key, json }: { key: string; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const s = yield* (yield* Workspaces).status(key)
      yield* emit(json, encodeStatus(s), () => describe(s))
    })
  )

export const remove = ({
  key,
  force,
  deleteBranch,
  json
}: {
  key: string
  force: boolean
  deleteBranch: boolean
  json: boolean
}) =>
  withPlanes(
    Effect.gen(function* () {
      const workspaces = yield* Workspaces
      const before = yield* workspaces.status(key)
      const done = yield* workspaces.remove(key, { force, deleteBranch })
      const lost = [
        ...before.uncommitted.map((f) => `uncommitted ${f}`),
        ...(deleteBranch ? before.unpushed.map((c) => `commit ${c.commit.slice(0, 8)} ${c.subject}`) : [])
      ]
      const hook = done.beforeRemove
      yield* emit(
        json,
        {
          removed: key,
          path: before.binding.path,
          branchDeleted: deleteBranch,
          discarded: lost,
          ...(hook !== undefined ? { beforeRemove: hook } : {})
        },
        () => [
          `Removed ${before.binding.path}${deleteBranch ? ` and branch ${before.binding.branch}` : `; branch ${before.binding.branch} kept`}.`,
          ...(lost.length > 0 ? [`Discarded (--force): ${shortList(lost, 10)}`] : []),
          ...(hook !== undefined ? [hook.summary] : [])
        ]
      )
    })
  )

export const clean = ({ force, all, json }: { force: boolean; all: boolean; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const report = yield* (yield* Workspaces).clean({ force, all })
      yield* emit(json, report, () =>
        report.removed.length === 0 && report.kept.length === 0
          ? "No workspaces."
          : [
              ...report.removed.map((r) => `removed  ${r.runKey}: ${r.note}`),
              ...report.kept.map((k) => `kept     ${k.runKey}: ${k.reason}`)
            ]
      )
    })
  )
