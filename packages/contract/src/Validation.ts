/**
 * Validates data parsed from a file with a zod schema and turns every zod issue into a FileProblem
 * that names the line, the key, what was expected and what was found. Keys the schema does not
 * know become warnings with a "did you mean" hint; they never stop a load.
 */
import * as z from "zod/mini"
import en from "zod/v4/locales/en.js"
import { didYouMean, FileProblem } from "./FileProblem.js"
import type { Locator } from "./Locations.js"

// zod/mini gives its issues no message until a locale is set: English, the language zod speaks by default.
z.config(en())

export interface Validated<T> {
  readonly value: T | undefined
  readonly problems: ReadonlyArray<FileProblem>
}

/** A short, human description of a value's type for "found …" messages. */
export const describeValue = (value: unknown): string => {
  if (value === undefined) return "nothing"
  if (value === null) return "null"
  if (Array.isArray(value)) return `a list (${value.length} item${value.length === 1 ? "" : "s"})`
  if (typeof value === "string")
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  if (typeof value === "number") return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`
  if (typeof value === "boolean") return `the boolean ${value}`
  if (value instanceof Date) return `the date ${value.toISOString()}`
  if (typeof value === "object") return "a table"
  return typeof value
}

/** The value at a key path inside parsed data (undefined when the path does not exist). */
export const valueAt = (root: unknown, path: ReadonlyArray<PropertyKey>): unknown => {
  let v: unknown = root
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined
    v = (v as Record<PropertyKey, unknown>)[k]
  }
  return v
}

const expectedName = (expected: string): string =>
  ({
    string: "a string",
    number: "a number",
    int: "an integer",
    boolean: "a boolean (true or false)",
    array: "a list",
    object: "a table",
    record: "a table",
    null: "null"
  })[expected] ?? expected

const describeIssue = (issue: z.core.$ZodIssue, raw: unknown): { message: string; hint?: string } => {
  const found = describeValue(valueAt(raw, issue.path))
  switch (issue.code) {
    case "invalid_type":
      if (valueAt(raw, issue.path) === undefined) return { message: `is required (${expectedName(issue.expected)})` }
      return { message: `expected ${expectedName(issue.expected)}, found ${found}` }
    case "invalid_value":
      return { message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, found ${found}` }
    case "invalid_union": {
      return { message: `${issue.message === "Invalid input" ? "has the wrong shape" : issue.message}, found ${found}` }
    }
    case "too_small":
    case "too_big":
    case "invalid_format":
    case "custom":
      return { message: `${issue.message}, found ${found}` }
    default:
      return { message: issue.message }
  }
}

type AnySchema = z.core.$ZodType

const defOf = (schema: AnySchema): any => (schema as any)._zod.def

/** Strips wrappers that do not change which keys are allowed. */
const unwrap = (schema: AnySchema): AnySchema => {
  let s = schema
  for (let i = 0; i < 20; i++) {
    const def = defOf(s)
    if (["optional", "nullable", "default", "prefault", "catch", "readonly", "nonoptional"].includes(def.type))
      s = def.innerType
    else if (def.type === "pipe") s = def.in
    else if (def.type === "lazy") s = def.getter()
    else return s
  }
  return s
}

/** Walks `value` alongside `schema` and reports keys the schema does not know. */
const unknownKeys = (
  schema: AnySchema,
  value: unknown,
  path: Array<string>,
  out: Array<{ path: Array<string>; known: Array<string> }>
): void => {
  const s = unwrap(schema)
  const def = defOf(s)
  if (value === null || typeof value !== "object") return
  if (def.type === "object") {
    const shape = def.shape as Record<string, AnySchema>
    const catchall = def.catchall as AnySchema | undefined
    const acceptsAny = catchall !== undefined && defOf(catchall).type !== "never"
    for (const [k, v] of Object.entries(value)) {
      if (k in shape) unknownKeys(shape[k]!, v, [...path, k], out)
      else if (acceptsAny) unknownKeys(catchall!, v, [...path, k], out)
      else out.push({ path: [...path, k], known: Object.keys(shape) })
    }
  } else if (def.type === "record") {
    for (const [k, v] of Object.entries(value)) unknownKeys(def.valueType, v, [...path, k], out)
  } else if (def.type === "array" && Array.isArray(value)) {
    value.forEach((v, i) => {
      unknownKeys(def.element, v, [...path, String(i)], out)
    })
  } else if (def.type === "union") {
    // Use the first option that accepts the value to decide which keys are known.
    const options = def.options as Array<AnySchema>
    const match =
      options.find((o) => (o as any)["~standard"].validate(value).issues === undefined) ??
      options.find((o) => defOf(unwrap(o)).type === "object")
    if (match) unknownKeys(match, value, path, out)
  }
}

/** Validates `raw` against `schema`, reporting problems at their lines in `file`. */
export const validateWith = <S extends z.ZodMiniType>(
  schema: S,
  raw: unknown,
  file: string,
  locate: Locator
): Validated<z.output<S>> => {
  const problems: Array<FileProblem> = []
  const result = schema.safeParse(raw)
  if (!result.success) {
    for (const issue of result.error.issues) {
      const pos = locate(issue.path)
      const { message, hint } = describeIssue(issue, raw)
      problems.push(
        new FileProblem({
          file,
          ...(pos ? { line: pos.line, column: pos.column } : {}),
          key: issue.path.map(String).join("."),
          severity: "error",
          message,
          ...(hint !== undefined ? { hint } : {})
        })
      )
    }
  }
  const unknown: Array<{ path: Array<string>; known: Array<string> }> = []
  unknownKeys(schema, raw, [], unknown)
  for (const u of unknown) {
    const key = u.path[u.path.length - 1]!
    const suggestion = didYouMean(key, u.known)
    const pos = locate(u.path)
    problems.push(
      new FileProblem({
        file,
        ...(pos ? { line: pos.line, column: pos.column } : {}),
        key: u.path.join("."),
        severity: "warning",
        message: "unknown key, ignored",
        hint:
          suggestion !== undefined
            ? `did you mean "${suggestion}"?`
            : `known keys here: ${u.known.join(", ") || "none"}`
      })
    )
  }
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
  return { value: result.success ? result.data : undefined, problems }
}
