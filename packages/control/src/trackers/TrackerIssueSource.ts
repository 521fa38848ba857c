/**
 * `IssueSource` over the trackers: Linear (`[linear]`: team, state, labels, assignee, parents) and
 * GitHub Issues (`[github]`: repository, labels, state; pull requests are skipped), selected by
 * `[issue] source`. Tracker issues become contract `Issue`s with ids `SON-12` / `GH-12`; their text is
 * parsed as untrusted data and never sets verification commands. Tracker failures surface as
 * `IssueSourceUnavailable` whose reason names the token variable or the rate-limit reset time.
 */
import {
  AcceptanceCriterion,
  FileProblem,
  Issue,
  IssueAuthor,
  IssueId,
  IssueNotFound,
  IssueOrigin,
  type IssueQuery,
  IssueSource,
  IssueSourceUnavailable,
  MissionRef,
  Project
} from "@spec-orch/contract"
import { Effect, type FileSystem, Layer, Option, type Path, Schema } from "effect"
import { GitHub, type GitHubIssue, type RepoRef } from "./GitHub.js"
import { parseIssueDescription } from "./IssueDescription.js"
import { Linear, type LinearIssue } from "./Linear.js"
import type { TrackerError } from "./TrackerError.js"

/** Issues listed when a query sets no limit (pages of 100 are fetched until then). */
export const DEFAULT_LIST_LIMIT = 1000

const decodeId = Schema.decodeUnknownOption(IssueId)
const decodeMission = Schema.decodeUnknownOption(MissionRef)

/** The contract fields shared by both trackers, from a title, a description and labels. */
const workFields = (title: string, description: string | null, labels: ReadonlyArray<string>) => {
  const work = parseIssueDescription(title, description)
  const mission = work.mission !== undefined ? decodeMission(work.mission) : Option.none()
  return {
    title,
    summary: work.summary,
    builderPrompt: work.builderPrompt,
    acceptanceCriteria: work.acceptanceCriteria.map((text, i) => new AcceptanceCriterion({ id: `AC-${i + 1}`, text })),
    constraints: work.constraints,
    filesToRead: work.filesToRead,
    targetFiles: work.targetFiles,
    ...(work.architectureNotes !== undefined ? { architectureNotes: work.architectureNotes } : {}),
    labels,
    ...(Option.isSome(mission) ? { mission: mission.value } : {})
  }
}

/** A Linear issue as a contract `Issue` (`undefined` when its identifier is not a usable id). */
export const issueFromLinear = (li: LinearIssue): Issue | undefined => {
  const id = decodeId(li.identifier)
  if (Option.isNone(id)) return undefined
  return new Issue({
    id: id.value,
    ...workFields(
      li.title,
      li.description,
      li.labels.map((l) => l.name)
    ),
    origin: new IssueOrigin({
      kind: "linear",
      ref: li.id,
      url: li.url,
      state: li.state.name,
      updatedAt: li.updatedAt,
      isParent: li.hasChildren,
      ...(li.assignee !== null ? { assignee: li.assignee.email || li.assignee.name } : {}),
      ...(li.creator !== null
        ? {
            author: new IssueAuthor({
              id: li.creator.id,
              name: li.creator.name,
              email: li.creator.email,
              association: li.creator.app ? "APP" : li.creator.guest ? "GUEST" : "MEMBER"
            })
          }
        : {})
    })
  })
}

/** A GitHub issue as a contract `Issue` with id `GH-<number>`. */
export const issueFromGitHub = (gi: GitHubIssue, repo: RepoRef): Issue =>
  new Issue({
    id: decodeId(`GH-${gi.number}`).pipe(Option.getOrThrow),
    ...workFields(gi.title, gi.body, gi.labels),
    origin: new IssueOrigin({
      kind: "github",
      ref: `${repo.owner}/${repo.name}#${gi.number}`,
      url: gi.url,
      state: gi.state,
      updatedAt: gi.updatedAt,
      ...(gi.assignee !== null ? { assignee: gi.assignee } : {}),
      ...(gi.author !== null
        ? {
            author: new IssueAuthor({
              id: gi.author,
              ...(gi.authorAssociation !== null ? { association: gi.authorAssociation } : {})
            })
          }
        : {})
    })
  })

const skipped = (source: string, id: string, why: string) =>
  new FileProblem({ file: source, key: id, severity: "warning", message: why })

/** Issues of the `[linear]` team through `Linear`. */
export const LinearIssueSource: Layer.Layer<IssueSource, never, Project | Linear> = Layer.effect(
  IssueSource,
  Effect.gen(function* () {
    const project = yield* Project
    const linear = yield* Linear
    const cfg = project.config.linear
    const name = `linear ${cfg.team_key}`
    const unavailable = (e: TrackerError) => new IssueSourceUnavailable({ source: name, reason: e.reason.message })

    const list = Effect.fn("IssueSource.list")(function* (query?: IssueQuery) {
      const found = yield* linear
        .listIssues(
          {
            teamKey: cfg.team_key,
            states: query?.states,
            excludeStateTypes: query?.states === undefined ? ["completed", "canceled"] : undefined,
            labels: query?.labels,
            excludeLabels: query?.excludeLabels,
            assignedToMe: cfg.issue_filter === "assigned_to_me"
          },
          query?.limit ?? DEFAULT_LIST_LIMIT
        )
        .pipe(Effect.mapError(unavailable))
      const issues: Array<Issue> = []
      const problems: Array<FileProblem> = []
      for (const li of found) {
        if (project.config.daemon.skip_parents && li.hasChildren) continue
        const issue = issueFromLinear(li)
        if (issue !== undefined) issues.push(issue)
        else problems.push(skipped(name, li.identifier, "skipped: the identifier is not a usable issue id"))
      }
      return { issues, problems }
    })

    const get = Effect.fn("IssueSource.get")(function* (id: string) {
      const found = yield* linear.getIssue(id).pipe(Effect.mapError(unavailable))
      const issue = Option.isSome(found) ? issueFromLinear(found.value) : undefined
      if (issue === undefined) {
        return yield* new IssueNotFound({
          id,
          source: name,
          hint: `Linear has no issue ${id} visible to the token in ${linear.tokenEnvNames[0]}`
        })
      }
      return issue
    })

    return IssueSource.of({ name, list, get })
  })
)

/** Issues of the `[github]` repository through `GitHub` (pull requests are not issues here). */
export const GitHubIssueSource: Layer.Layer<IssueSource, never, Project | GitHub> = Layer.effect(
  IssueSource,
  Effect.gen(function* () {
    const project = yield* Project
    const github = yield* GitHub
    const cfg = project.config.github
    const name = `github ${cfg.repo ?? `(${cfg.remote} remote)`}`
    const unavailable = (e: TrackerError) => new IssueSourceUnavailable({ source: name, reason: e.reason.message })

    const stateOf = (states: ReadonlyArray<string> | undefined): "open" | "closed" | "all" => {
      const known = (states ?? [])
        .map((s) => s.toLowerCase())
        .filter((s) => s === "open" || s === "closed" || s === "all")
      if (known.length === 0) return cfg.state
      return known.includes("all") || (known.includes("open") && known.includes("closed"))
        ? "all"
        : (known[0] as "open" | "closed")
    }

    const list = Effect.fn("IssueSource.list")(function* (query?: IssueQuery) {
      const repo = yield* github.repo.pipe(Effect.mapError(unavailable))
      const limit = query?.limit ?? DEFAULT_LIST_LIMIT
      const exclude = new Set((query?.excludeLabels ?? []).map((l) => l.toLowerCase()))
      const found = yield* github
        .listIssues({
          state: stateOf(query?.states),
          labels: [...new Set([...cfg.labels, ...(query?.labels ?? [])])],
          limit: limit + 100
        })
        .pipe(Effect.mapError(unavailable))
      const issues = found
        .filter((gi) => !gi.isPullRequest && !gi.labels.some((l) => exclude.has(l.toLowerCase())))
        .slice(0, limit)
        .map((gi) => issueFromGitHub(gi, repo))
      return { issues, problems: [] }
    })

    const get = Effect.fn("IssueSource.get")(function* (id: string) {
      const m = /^(?:GH-|#)?(\d+)$/i.exec(id.trim())
      if (!m) return yield* new IssueNotFound({ id, source: name, hint: "GitHub issue ids look like GH-12" })
      const repo = yield* github.repo.pipe(Effect.mapError(unavailable))
      const found = yield* github.getIssue(Number(m[1])).pipe(Effect.mapError(unavailable))
      if (Option.isNone(found))
        return yield* new IssueNotFound({ id, source: name, hint: `${repo.owner}/${repo.name} has no issue #${m[1]}` })
      if (found.value.isPullRequest)
        return yield* new IssueNotFound({ id, source: name, hint: `#${m[1]} is a pull request, not an issue` })
      return issueFromGitHub(found.value, repo)
    })

    return IssueSource.of({ name, list, get })
  })
)

/** A source for an `[issue] source` value spec-orch does not know: every call says so. */
const unknownSource = (value: string): Layer.Layer<IssueSource> => {
  const fail = Effect.fail(
    new IssueSourceUnavailable({
      source: `"${value}"`,
      reason: `unknown [issue] source "${value}" in spec-orch.toml: use "fixture", "linear" or "github"`
    })
  )
  return Layer.succeed(IssueSource, IssueSource.of({ name: value, list: () => fail, get: () => fail }))
}

/** The issue source chosen by `[issue] source`: fixture files (default), Linear or GitHub. */
type SourceLayer = Layer.Layer<IssueSource, never, Project | FileSystem.FileSystem | Path.Path | Linear | GitHub>

export const TrackerIssueSource: { readonly layer: SourceLayer } = {
  layer: Layer.unwrap(
    Effect.gen(function* () {
      const project = yield* Project
      const source = project.config.issue.source.trim().toLowerCase()
      const chosen: SourceLayer = IssueSource.isFixtures(source)
        ? IssueSource.layerFixtures
        : source === "linear"
          ? LinearIssueSource
          : source === "github"
            ? GitHubIssueSource
            : unknownSource(project.config.issue.source)
      return chosen
    })
  )
}
