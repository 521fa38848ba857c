/**
 * The project spec-orch works on: its root directory, its `spec-orch.toml` (or the embedded
 * defaults when there is none) and the warnings found while loading it. Everything that reads
 * configuration reads it from here, so a config file is parsed and validated exactly once.
 */
import { Context, Effect, FileSystem, Layer, Path } from "effect"
import { parse as parseToml, type TomlError } from "smol-toml"
import * as z from "zod/mini"
import { BUILDER_ADAPTERS, CONFIG_SECTIONS, configFrom, sectionSchema, type SpecOrchConfig } from "./ConfigFile.js"
import { didYouMean, FileMissing, FileProblem, InvalidFile } from "./FileProblem.js"
import { tomlLocator } from "./Locations.js"
import { validateWith } from "./Validation.js"

/** The result of loading a config text: the typed config and any warnings. */
export interface LoadedConfig {
  readonly config: SpecOrchConfig
  readonly warnings: ReadonlyArray<FileProblem>
}

/** The config used when a project has no `spec-orch.toml`. */
export const defaultConfig = (): SpecOrchConfig => configFrom({})

/** Parses and validates `spec-orch.toml` text. Pure: `file` is only used in messages. */
export const parseConfig = (
  text: string,
  file: string
): { readonly config?: SpecOrchConfig; readonly problems: ReadonlyArray<FileProblem> } => {
  let raw: unknown
  try {
    raw = parseToml(text)
  } catch (e) {
    const err = e as TomlError
    const first = String(err.message ?? e)
      .split("\n")[0]!
      .replace(/^Invalid TOML document: /, "")
    return {
      problems: [
        new FileProblem({
          file,
          ...(typeof err.line === "number" ? { line: err.line, column: err.column } : {}),
          key: "",
          severity: "error",
          message: `not valid TOML: ${first}`
        })
      ]
    }
  }
  const locate = tomlLocator(text)
  // Only the sections the file has are validated (and their schemas built); the others are their defaults
  // (configFrom). A section name the file misspells is still reported, against every section name.
  const given = new Set(CONFIG_SECTIONS.filter((key) => Object.hasOwn(raw as object, key)))
  const schema = z.object(
    Object.fromEntries(CONFIG_SECTIONS.map((key) => [key, given.has(key) ? sectionSchema(key) : notGiven]))
  )
  const validated = validateWith(schema, raw, file, locate)
  const problems = validated.problems
  const value =
    validated.value !== undefined
      ? configFrom(Object.fromEntries([...given].map((key) => [key, validated.value![key]])))
      : undefined
  const all = value !== undefined ? [...problems, ...crossChecks(value, given, file, locate)] : problems
  return value !== undefined && !all.some((p) => p.severity === "error")
    ? { config: value, problems: all }
    : { problems: all }
}

/** What a section the file does not have is checked against: nothing (it is not there). */
const notGiven = z.optional(z.never())

/**
 * Checks that need the whole file: references between sections, known adapter names. Only the sections in
 * `given` (the file's) are read: a section the file leaves out holds its defaults, which name no model, chain
 * or unknown adapter.
 */
const crossChecks = (
  config: SpecOrchConfig,
  given: ReadonlySet<string>,
  file: string,
  locate: ReturnType<typeof tomlLocator>
): Array<FileProblem> => {
  const out: Array<FileProblem> = []
  const at = (path: Array<string>) => locate(path) ?? {}
  const models = given.has("models") ? Object.keys(config.models) : []
  const chains = given.has("model_chains") ? Object.keys(config.model_chains) : []
  const problem = (path: Array<string>, severity: "error" | "warning", message: string, hint?: string) =>
    out.push(
      new FileProblem({
        file,
        ...at(path),
        key: path.join("."),
        severity,
        message,
        ...(hint !== undefined ? { hint } : {})
      })
    )
  const modelRef = (path: Array<string>, id: string) => {
    if (!models.includes(id)) {
      const s = didYouMean(id, models)
      problem(
        path,
        "error",
        `refers to model "${id}", which no [models.${id}] section defines`,
        s
          ? `did you mean "${s}"?`
          : models.length
            ? `defined models: ${models.join(", ")}`
            : "add a [models.<id>] section"
      )
    }
  }
  for (const [id, chain] of given.has("model_chains") ? Object.entries(config.model_chains) : []) {
    modelRef(["model_chains", id, "primary"], chain.primary)
    chain.fallbacks.forEach((f, i) => {
      modelRef(["model_chains", id, "fallbacks", String(i)], typeof f === "string" ? f : f.ref)
    })
  }
  const chainRef = (path: Array<string>, id: string | undefined) => {
    if (id !== undefined && !chains.includes(id)) {
      const s = didYouMean(id, chains)
      problem(
        path,
        "error",
        `refers to model chain "${id}", which no [model_chains.${id}] section defines`,
        s ? `did you mean "${s}"?` : undefined
      )
    }
  }
  if (given.has("llm")) {
    chainRef(["llm", "default_model_chain"], config.llm.default_model_chain)
    if (config.llm.default_model_ref !== undefined) modelRef(["llm", "default_model_ref"], config.llm.default_model_ref)
  }
  for (const role of ["planner", "reviewer", "supervisor", "acceptance_evaluator"] as const) {
    if (!given.has(role)) continue
    chainRef([role, "model_chain"], config[role].model_chain)
    if (config[role].model_ref !== undefined) modelRef([role, "model_ref"], config[role].model_ref!)
  }
  if (!given.has("builder")) return out
  const adapter = config.builder.adapter
  if (!(BUILDER_ADAPTERS as ReadonlyArray<string>).includes(adapter) && !adapter.startsWith("acpx_")) {
    const s = didYouMean(adapter, BUILDER_ADAPTERS)
    problem(
      ["builder", "adapter"],
      "error",
      `unknown builder adapter "${adapter}"`,
      s ? `did you mean "${s}"?` : `known: ${BUILDER_ADAPTERS.join(", ")}`
    )
  }
  if (adapter === "command" && config.builder.command === undefined) {
    problem(
      ["builder", "adapter"],
      "error",
      "the command adapter needs [builder] command = [...] (what to run; the prompt arrives on stdin)"
    )
  }
  return out
}

/**
 * `start` (`--cwd`) as an absolute path, once it is known to be a directory: a mistyped `--cwd` is not an
 * empty project, so nothing is read from or written to a directory that is not there.
 */
export const projectDirectory = (start: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = path.resolve(start)
    const kind = yield* fs.stat(dir).pipe(
      Effect.map((info) => info.type),
      Effect.orElseSucceed(() => undefined)
    )
    if (kind === "Directory") return dir
    return yield* new FileMissing({
      file: dir,
      what: "project directory",
      hint: kind === undefined ? "check --cwd" : "it is not a directory: check --cwd"
    })
  })

/** The project: root, config and where state lives. */
export class Project extends Context.Service<
  Project,
  {
    /** Absolute path of the project root (the directory holding `spec-orch.toml`, or the start dir). */
    readonly root: string
    /** Absolute path of the config file, when one was found. */
    readonly configFile: string | undefined
    readonly config: SpecOrchConfig
    /** Warnings from loading the config (unknown keys); never errors. */
    readonly warnings: ReadonlyArray<FileProblem>
    /** Absolute path of the state directory (`.spec-orch/` by default). */
    readonly stateDir: string
    /** Resolves a path relative to the project root. */
    readonly resolve: (relative: string) => string
  }
>()("@spec-orch/contract/Project") {
  /**
   * Finds `spec-orch.toml` in `start` or its parents (or uses `configFile` when given) and loads it.
   * With no file, the embedded defaults apply and the root is `start`.
   */
  static readonly layer = (options: {
    readonly start: string
    readonly configFile?: string | undefined
  }): Layer.Layer<Project, InvalidFile | FileMissing, FileSystem.FileSystem | Path.Path> =>
    Layer.effect(Project, Project.load(options))

  /** A project with the given config object (tests, embedders). */
  static readonly layerFrom = (
    root: string,
    config: SpecOrchConfig = defaultConfig()
  ): Layer.Layer<Project, never, Path.Path> =>
    Layer.effect(
      Project,
      Effect.gen(function* () {
        const path = yield* Path.Path
        return Project.of(make(path, root, undefined, config, []))
      })
    )

  static readonly load = Effect.fn("Project.load")(function* (options: {
    readonly start: string
    readonly configFile?: string | undefined
  }) {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const start = yield* projectDirectory(options.start)
    let file: string | undefined
    if (options.configFile !== undefined) {
      file = path.resolve(start, options.configFile)
      if (!(yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false)))) {
        return yield* new FileMissing({
          file,
          what: "config file",
          hint: "check --config, or run `spec-orch init` to write one"
        })
      }
    } else {
      let dir = start
      for (;;) {
        const candidate = path.join(dir, "spec-orch.toml")
        if (yield* fs.exists(candidate).pipe(Effect.orElseSucceed(() => false))) {
          file = candidate
          break
        }
        if (yield* fs.exists(path.join(dir, ".git")).pipe(Effect.orElseSucceed(() => false))) break
        const parent = path.dirname(dir)
        if (parent === dir) break
        dir = parent
      }
    }
    if (file === undefined) return Project.of(make(path, start, undefined, defaultConfig(), []))
    // A config given with --config may live anywhere: the project is still the one --cwd is in (the
    // nearest directory up from it with a .git), and paths in the file are relative to that project.
    let root = path.dirname(file)
    if (options.configFile !== undefined) {
      root = start
      for (let dir = start; ; dir = path.dirname(dir)) {
        if (yield* fs.exists(path.join(dir, ".git")).pipe(Effect.orElseSucceed(() => false))) {
          root = dir
          break
        }
        if (path.dirname(dir) === dir) break
      }
    }
    const text = yield* fs
      .readFileString(file)
      .pipe(Effect.mapError(() => new FileMissing({ file: file!, what: "config file (unreadable)" })))
    const shown = path.relative(process.cwd(), file) || file
    const parsed = parseConfig(text, shown.startsWith("..") ? file : shown)
    if (parsed.config === undefined) return yield* new InvalidFile({ file: shown, problems: parsed.problems })
    return Project.of(make(path, root, file, parsed.config, parsed.problems))
  })
}

const make = (
  path: Path.Path,
  root: string,
  configFile: string | undefined,
  config: SpecOrchConfig,
  warnings: ReadonlyArray<FileProblem>
) => ({
  root,
  configFile,
  config,
  warnings,
  stateDir: path.resolve(root, config.workspace.state_dir),
  resolve: (relative: string) => path.resolve(root, relative)
})
