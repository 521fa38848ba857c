/**
 * What is wrong with a model's structured answer, said so the model can act on it: where in the JSON
 * and what the schema expected there. The chain's repair request quotes it.
 */
import { Exit, Schema, SchemaIssue } from "effect"
import { clip } from "./internal/chain-failures.js"
import { salvageJson } from "./providers/http.js"

/** A JSON path for messages: `waves[0].work_packets[2].depends_on`. */
const pathText = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>): string => {
  let out = ""
  for (const seg of path) {
    const key = typeof seg === "object" && seg !== null && "key" in seg ? seg.key : seg
    out += typeof key === "number" ? `[${key}]` : out === "" ? String(key) : `.${String(key)}`
  }
  return out === "" ? "the top level" : out
}

/**
 * What is wrong with an answer, in terms a model can act on: where in the JSON (a path) and what
 * the schema expected there. Falls back to the decoder's own words when the answer cannot be read.
 */
export const schemaProblems = (schema: Schema.Top, responseText: string, fallback: string): ReadonlyArray<string> => {
  if (responseText.trim() === "") return ["the answer was empty: answer with the JSON object"]
  let value: unknown
  try {
    value = JSON.parse(salvageJson(responseText))
  } catch (e) {
    return [
      `the answer is not valid JSON (${clip(String((e as Error).message ?? e), 200)}): answer with one JSON object, no prose`
    ]
  }
  const exit = Schema.decodeUnknownExit(schema as Schema.Codec<unknown, unknown, never, never>)(value, {
    errors: "all"
  })
  if (Exit.isSuccess(exit)) return [fallback]
  const error = exit.cause.reasons.find((r) => r._tag === "Fail") as
    | { error?: { issue?: SchemaIssue.Issue } }
    | undefined
  const issue = error?.error?.issue
  if (issue === undefined) return [fallback]
  const failure = SchemaIssue.makeFormatterStandardSchemaV1()(issue)
  const lines = failure.issues.map((i) => `at ${pathText(i.path ?? [])}: ${i.message}`)
  return lines.length === 0 ? [fallback] : lines.slice(0, 20)
}
