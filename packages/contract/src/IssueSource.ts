/**
 * Where issues come from. The interface lives here so every plane can read issues; the fixture
 * source (files in the repository) is implemented here too, trackers in `@spec-orch/control`.
 */
import { Context, Effect, FileSystem, Layer, Path, Schema } from "effect"
import { didYouMean, FileProblem, InvalidFile } from "./FileProblem.js"
import type { Issue } from "./Issue.js"
import { parseIssueJson, parseIssueMarkdown } from "./IssueFile.js"
import { Project } from "./Project.js"

/** No issue with this id exists in the source. */
export class IssueNotFound extends Schema.TaggedError<IssueNotFound>()("IssueNotFound", {
  id: Schema.String,
  source: Schema.String,
  hint: Schema.optionalKey(Schema.String)
}) {
  override get message(): string {
    return `issue ${this.id} not found in ${this.source}${this.hint ? ` (${this.hint})` : ""}`
  }
}

/** The source could not be read (network, auth, rate limit); `message` says which. */
export class IssueSourceUnavailable extends Schema.TaggedError<IssueSourceUnavailable>()("IssueSourceUnavailable", {
  source: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.source} is unavailable: ${this.reason}`
  }
}

/** Why an issue source could not answer. */
export type IssueSourceError = IssueNotFound | IssueSourceUnavailable | InvalidFile

/** Filters for listing issues; trackers apply what they support. */
export interface IssueQuery {
  readonly states?: ReadonlyArray<string>
  readonly labels?: ReadonlyArray<string>
  readonly excludeLabels?: ReadonlyArray<string>
  readonly limit?: number
}

/** A readable list of issues plus the problems found in files that could not be read. */
export interface IssueListing {
  readonly issues: ReadonlyArray<Issue>
  readonly problems: ReadonlyArray<FileProblem>
}

/** A source of issues: fixture files, Linear, GitHub. */
export class IssueSource extends Context.Service<
  IssueSource,
  {
    /** Short name for messages (`fixtures (fixtures/issues)`, `linear SON`). */
    readonly name: string
    /** Lists issues; files that fail to parse are reported in `problems`, not silently dropped. */
    readonly list: (query?: IssueQuery) => Effect.Effect<IssueListing, IssueSourceError>
    /** Reads one issue. */
    readonly get: (id: string) => Effect.Effect<Issue, IssueSourceError>
  }
>()("@spec-orch/contract/IssueSource") {
  /** Whether an `[issue] source` value names the fixture files (`fixture`, the default, or `fixtures`). */
  static readonly isFixtures = (source: string): boolean => {
    const s = source.trim().toLowerCase()
    return s === "fixture" || s === "fixtures"
  }

  /** Issues from `<ID>.json` and `<ID>.md` files in a directory (`[issue] fixtures_dir`). */
  static readonly layerFixtures: Layer.Layer<IssueSource, never, Project | FileSystem.FileSystem | Path.Path> =
    Layer.effect(
      IssueSource,
      Effect.gen(function* () {
        const project = yield* Project
        return yield* fixtureSource(
          project.resolve(project.config.issue.fixtures_dir),
          project.config.issue.fixtures_dir
        )
      })
    )

  /** Issues from a given directory. */
  static readonly layerDirectory = (dir: string): Layer.Layer<IssueSource, never, FileSystem.FileSystem | Path.Path> =>
    Layer.effect(IssueSource, fixtureSource(dir, dir))

  /** A fixed list of issues (tests, embedders). */
  static readonly layerMemory = (issues: ReadonlyArray<Issue>): Layer.Layer<IssueSource> =>
    Layer.succeed(
      IssueSource,
      IssueSource.of({
        name: "memory",
        list: () => Effect.succeed({ issues, problems: [] }),
        get: (id) => {
          const hit = issues.find((i) => i.id === id)
          return hit ? Effect.succeed(hit) : Effect.fail(new IssueNotFound({ id, source: "memory" }))
        }
      })
    )
}

const fixtureSource = Effect.fnUntraced(function* (dir: string, shownDir: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const name = `fixtures (${shownDir})`
  const shown = (file: string) => {
    const rel = path.relative(process.cwd(), file)
    return rel.startsWith("..") ? file : rel
  }

  const readOne = (file: string, id: string) =>
    fs.readFileString(file).pipe(
      Effect.mapError(() => new IssueSourceUnavailable({ source: name, reason: `cannot read ${shown(file)}` })),
      Effect.flatMap((text) => {
        const parsed = file.endsWith(".md")
          ? parseIssueMarkdown(text, shown(file), id)
          : parseIssueJson(text, shown(file), id)
        return parsed.issue !== undefined
          ? Effect.succeed(parsed.issue)
          : Effect.fail(new InvalidFile({ file: shown(file), problems: parsed.problems }))
      })
    )

  const entries = fs.readDirectory(dir).pipe(
    Effect.map((names) =>
      names
        .filter(
          (n) => (n.endsWith(".json") || n.endsWith(".md")) && !n.startsWith(".") && n.toLowerCase() !== "readme.md"
        )
        .sort()
        .map((n) => ({ file: path.join(dir, n), id: n.replace(/\.(json|md)$/, "") }))
    ),
    Effect.orElseSucceed(() => [] as Array<{ file: string; id: string }>)
  )

  return IssueSource.of({
    name,
    list: Effect.fn("IssueSource.list")(function* (query?: IssueQuery) {
      const issues: Array<Issue> = []
      const problems: Array<FileProblem> = []
      for (const e of yield* entries) {
        const r = yield* readOne(e.file, e.id).pipe(Effect.result)
        if (r._tag === "Success") issues.push(r.success)
        else if (r.failure._tag === "InvalidFile") problems.push(...r.failure.problems)
        else return yield* r.failure
      }
      const filtered = issues.filter(
        (i) =>
          (query?.labels === undefined || query.labels.every((l) => i.labels.includes(l))) &&
          (query?.excludeLabels === undefined || !query.excludeLabels.some((l) => i.labels.includes(l)))
      )
      return { issues: query?.limit !== undefined ? filtered.slice(0, query.limit) : filtered, problems }
    }),
    get: Effect.fn("IssueSource.get")(function* (id: string) {
      const all = yield* entries
      const hit = all.filter((e) => e.id === id)
      if (hit.length > 1) {
        return yield* new InvalidFile({
          file: shown(hit[0]!.file),
          problems: [
            new FileProblem({
              file: shown(hit[1]!.file),
              key: "",
              severity: "error",
              message: `issue ${id} is defined twice (${hit.map((h) => path.basename(h.file)).join(" and ")})`,
              hint: "keep one of them"
            })
          ]
        })
      }
      if (hit.length === 0) {
        const suggestion = didYouMean(
          id,
          all.map((e) => e.id)
        )
        return yield* new IssueNotFound({
          id,
          source: name,
          hint:
            suggestion !== undefined
              ? `did you mean ${suggestion}?`
              : all.length === 0
                ? `no issue files in ${shownDir}`
                : `known: ${all
                    .slice(0, 8)
                    .map((e) => e.id)
                    .join(", ")}${all.length > 8 ? ", …" : ""}`
        })
      }
      return yield* readOne(hit[0]!.file, id)
    })
  })
})
