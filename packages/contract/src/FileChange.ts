/**
 * What a run changed, file by file: the status git reports against the run's base (added, modified,
 * deleted, type changed) and, for structured files whose keys the gate cares about (package.json's
 * `scripts`, pyproject.toml's `[tool.pytest]`), which keys changed. The host computes this from git,
 * never from the agent's report; the gate's `protected_paths` condition judges it.
 */
import { Schema } from "effect"
import { parse as parseToml } from "smol-toml"

/** git's status letter for one file against the run's base: Added, Modified, Deleted, Type changed. */
export const FileChangeStatus = Schema.Literals(["A", "M", "D", "T"])
export type FileChangeStatus = typeof FileChangeStatus.Type

/** One changed file of a run. */
export class FileChange extends Schema.Class<FileChange>("@spec-orch/contract/FileChange")({
  /** Repository-relative path. */
  path: Schema.String,
  status: FileChangeStatus,
  /**
   * For a JSON or TOML file the host compared: the dotted key paths whose values differ between the
   * base and the head (`scripts.test`, `tool.pytest.ini_options.addopts`). Absent: not compared, or
   * not parseable on one side — then any change to the file counts.
   */
  changedKeys: Schema.optionalKey(Schema.Array(Schema.String))
}) {}

/** Reads git's raw status letter; anything but A, D and T (U, X, …) is reported as a modification. */
export const fileChangeStatus = (letter: string): FileChangeStatus =>
  letter === "A" || letter === "D" || letter === "T" ? letter : "M"

const MAX_DEPTH = 8
const MAX_KEYS = 500

const isTable = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date)

const same = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime()
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]))
  if (isTable(a) && isTable(b)) {
    const ka = Object.keys(a)
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && same(a[k], b[k]))
  }
  return false
}

const parse = (path: string, text: string): unknown => {
  if (/\.json$/i.test(path)) return JSON.parse(text)
  if (/\.toml$/i.test(path)) return parseToml(text)
  throw new TypeError("not a JSON or TOML file")
}

/**
 * The dotted key paths whose values differ between `base` and `head` (each the file's text, or
 * `undefined` when the file does not exist on that side, which counts as an empty table). Tables
 * are compared key by key down to their leaves; arrays and scalars are leaves. `undefined` when the
 * file is not `.json`/`.toml`, a side does not parse or is not a table, or there are too many
 * changes to list: the caller then treats any change as relevant.
 */
export const changedKeys = (
  path: string,
  base: string | undefined,
  head: string | undefined
): ReadonlyArray<string> | undefined => {
  let before: unknown
  let after: unknown
  try {
    before = base === undefined ? {} : parse(path, base)
    after = head === undefined ? {} : parse(path, head)
  } catch {
    return undefined
  }
  if (!isTable(before) || !isTable(after)) return same(before, after) ? [] : undefined
  const out: Array<string> = []
  let truncated = false
  const walk = (a: Record<string, unknown>, b: Record<string, unknown>, prefix: string, depth: number) => {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (out.length >= MAX_KEYS) {
        truncated = true
        return
      }
      // Own keys only: a file may well name `__proto__` or `constructor`.
      const x = Object.hasOwn(a, key) ? a[key] : undefined
      const y = Object.hasOwn(b, key) ? b[key] : undefined
      const at = prefix === "" ? key : `${prefix}.${key}`
      if (same(x, y)) continue
      // A table on one side and nothing on the other compares against an empty table, so the keys
      // reported are its leaves (`tool.black.line-length`), not the whole `tool` table.
      const tx = x === undefined ? {} : x
      const ty = y === undefined ? {} : y
      if (depth < MAX_DEPTH && isTable(tx) && isTable(ty)) walk(tx, ty, at, depth + 1)
      else out.push(at)
    }
  }
  walk(before, after, "", 1)
  return truncated ? undefined : out
}
