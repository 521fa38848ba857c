/**
 * Protected paths: the files an agent must not change on its own, because they decide whether its
 * work is judged at all — existing tests, verification definitions (package scripts, Makefile,
 * pytest/tox config, CI workflows) and spec-orch's own configuration. Pure: which changes of a run
 * touch them, and why. The rule: a change the issue names as a target is free; anything else needs
 * a human who accepts that exact diff.
 */
import type { EvidenceBundle, FileChange, FileChangeStatus } from "@spec-orch/contract"
import { matchesAny, matchesEntry, normalizePath } from "./Deviations.js"

/** A file whose change counts only when one of `keys` (dotted key paths) changed. */
export interface ProtectedKeys {
  /** A path, directory prefix or glob, as in a footprint (`**\/package.json`). */
  readonly pattern: string
  readonly keys: ReadonlyArray<string>
}

/** What a gate policy protects (its `protected:` section, or the defaults). */
export interface ProtectedPaths {
  /** Tests: changing or deleting an existing one is protected; adding a new one is free. */
  readonly tests: ReadonlyArray<string>
  /** Verification definitions and configuration: adding, changing or deleting one is protected. */
  readonly paths: ReadonlyArray<string>
  /** Structured files (package.json, pyproject.toml) where only a change to the listed keys counts. */
  readonly keys: ReadonlyArray<ProtectedKeys>
}

/** The default test patterns. */
export const DEFAULT_PROTECTED_TESTS: ReadonlyArray<string> = [
  "**/*.test.*",
  "**/*.spec.*",
  "**/test_*.py",
  "**/*_test.py",
  "**/*_test.go",
  "**/test/**",
  "**/tests/**",
  "**/__tests__/**",
  "**/spec/**"
]

/** The default verification definitions and spec-orch configuration. */
export const DEFAULT_PROTECTED_PATHS: ReadonlyArray<string> = [
  "**/Makefile",
  "**/makefile",
  "**/GNUmakefile",
  "**/justfile",
  "**/Justfile",
  "**/.justfile",
  "**/setup.cfg",
  "**/tox.ini",
  "**/pytest.ini",
  "**/conftest.py",
  "**/noxfile.py",
  ".github/workflows/**",
  ".gitlab-ci.yml",
  "**/vitest.config.*",
  "**/vitest.workspace.*",
  "**/jest.config.*",
  "**/.mocharc*",
  "**/playwright.config.*",
  "**/cypress.config.*",
  "**/karma.conf.*",
  "**/spec-orch.toml",
  "**/gate.policy.yaml",
  "**/compliance.contracts.yaml",
  ".spec-orch/**"
]

/** The default key-scoped files: package.json's scripts and test-runner settings, pyproject's test and task tables. */
export const DEFAULT_PROTECTED_KEYS: ReadonlyArray<ProtectedKeys> = [
  { pattern: "**/package.json", keys: ["scripts", "jest", "mocha", "ava", "c8", "nyc"] },
  {
    pattern: "**/pyproject.toml",
    keys: [
      "tool.pytest",
      "tool.tox",
      "tool.nox",
      "tool.coverage",
      "tool.hatch.envs",
      "tool.pdm.scripts",
      "tool.poe",
      "tool.taskipy",
      "project.scripts"
    ]
  }
]

/** What spec-orch protects when the policy has no `protected:` section. */
export const DEFAULT_PROTECTED: ProtectedPaths = {
  tests: DEFAULT_PROTECTED_TESTS,
  paths: DEFAULT_PROTECTED_PATHS,
  keys: DEFAULT_PROTECTED_KEYS
}

/** One protected file the run changed. */
export interface ProtectedChange {
  readonly path: string
  /** `undefined` when the evidence lists the file without git's status. */
  readonly status: FileChangeStatus | undefined
  /** Why the change counts, for people: "an existing test, changed". */
  readonly why: string
  /** `true` when the evidence is not enough to tell whether the change counts (no status, no key comparison). */
  readonly uncertain: boolean
  /** Named by the issue's targets (the footprint's `allowed`), so it is free. */
  readonly named: boolean
}

/** Footprint entries that cover the whole repository name no file in particular. */
const CATCH_ALL = new Set(["", ".", "./", "*", "**", "**/*", "/"])

/**
 * Whether the issue's targets name `file`: an exact path, a directory containing it, or a glob
 * matching it. An entry that covers the whole repository (`.`, `**`) names nothing in particular.
 */
export const namedByTargets = (targets: ReadonlyArray<string>, file: string): boolean =>
  targets.some((t) => !CATCH_ALL.has(normalizePath(t).trim()) && matchesEntry(t, file))

/** Whether a changed key path (`scripts.test`) falls under a protected key (`scripts`), or the other way round. */
const keyCovers = (protectedKey: string, changed: string): boolean =>
  changed === protectedKey || changed.startsWith(`${protectedKey}.`) || protectedKey.startsWith(`${changed}.`)

/** Whether the host should compare `file`'s keys between base and head for this policy. */
export const comparesKeys = (config: ProtectedPaths, file: string): boolean =>
  config.keys.some((k) => matchesEntry(k.pattern, file))

const SPEC_ORCH_FILE = /(^|\/)(spec-orch\.toml|gate\.policy\.yaml|compliance\.contracts\.yaml)$|^\.spec-orch\//

const STATUS_WORD: Record<FileChangeStatus, string> = {
  A: "added",
  M: "changed",
  D: "deleted",
  T: "changed (file type)"
}

/** Why one change is protected, or `undefined` when it is not. */
const judgeOne = (
  config: ProtectedPaths,
  configFiles: ReadonlyArray<string>,
  path: string,
  status: FileChangeStatus | undefined,
  changedKeys: ReadonlyArray<string> | undefined
): { readonly why: string; readonly uncertain: boolean } | undefined => {
  const did = status !== undefined ? STATUS_WORD[status] : "changed"
  if (configFiles.some((c) => normalizePath(c) === path))
    return { why: `spec-orch's own configuration, ${did}`, uncertain: false }
  if (matchesAny(config.paths, path))
    return {
      why: `${SPEC_ORCH_FILE.test(path) ? "spec-orch's own configuration" : "a verification definition"}, ${did}`,
      uncertain: false
    }
  const keyed = config.keys.filter((k) => matchesEntry(k.pattern, path))
  if (keyed.length > 0) {
    const wanted = keyed.flatMap((k) => k.keys)
    if (changedKeys === undefined)
      return {
        why: `a verification definition (${wanted.join(", ")}), ${did}, and the evidence does not say which keys changed`,
        uncertain: true
      }
    const hit = changedKeys.filter((c) => wanted.some((w) => keyCovers(w, c)))
    if (hit.length > 0)
      return {
        why: `a verification definition, ${hit.length <= 3 ? hit.join(", ") : `${hit.slice(0, 3).join(", ")} and ${hit.length - 3} more`} ${status === "A" ? "added" : status === "D" ? "deleted" : "changed"}`,
        uncertain: false
      }
  }
  if (matchesAny(config.tests, path)) {
    if (status === undefined)
      return { why: "a test, added or changed (the evidence does not say which)", uncertain: true }
    if (status !== "A") return { why: `an existing test, ${did}`, uncertain: false }
  }
  return undefined
}

/**
 * The protected files `bundle` changed, in path order, each with why and whether the issue names
 * it. Reads `fileChanges` (git's status per file); with only `changedFiles`, a test's status is
 * unknown and reported as uncertain. `undefined` when the bundle lists no changed files at all.
 */
export const protectedChanges = (
  bundle: EvidenceBundle,
  config: ProtectedPaths
): ReadonlyArray<ProtectedChange> | undefined => {
  const changes:
    | ReadonlyArray<Pick<FileChange, "path" | "changedKeys"> & { readonly status: FileChangeStatus | undefined }>
    | undefined = bundle.fileChanges ?? bundle.changedFiles?.map((path) => ({ path, status: undefined }))
  if (changes === undefined) return undefined
  const targets = bundle.footprint?.allowed ?? []
  const out: Array<ProtectedChange> = []
  const seen = new Set<string>()
  for (const c of changes) {
    const path = normalizePath(c.path)
    if (seen.has(path)) continue
    seen.add(path)
    const j = judgeOne(config, bundle.configFiles ?? [], path, c.status, c.changedKeys)
    if (j !== undefined)
      out.push({ path, status: c.status, why: j.why, uncertain: j.uncertain, named: namedByTargets(targets, path) })
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}
