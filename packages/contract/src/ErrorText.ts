/**
 * How any failure reads to a person, in one place. Tagged errors carry their own `message`; this
 * covers the rest (a platform error, a thrown value, a string) and wraps what no plane named in
 * `Unexpected`, so it can still be kept as data (a journal row, a run record).
 */
import { Schema } from "effect"

/** A failure no plane has a tagged error for (a defect, a platform error); `message` is how it read. */
export class Unexpected extends Schema.TaggedError<Unexpected>()("Unexpected", {
  message: Schema.String
}) {}

/**
 * The one-line text of any failure: its own non-empty `message` (tagged errors, `Error`s), a string as it
 * is, else its `_tag`, else `String(value)`. A message that only says which layer failed ("PgConnection:
 * Query failed") is followed by what its `cause` says, up to three levels, so the reason is on the line.
 */
export const renderError = (error: unknown): string => {
  const own = ownText(error)
  let text = own
  let cause = causeOf(error)
  for (let depth = 0; depth < 3 && cause !== undefined; depth++) {
    const next = ownText(cause)
    if (next !== "" && !text.includes(next)) text = `${text}: ${next}`
    cause = causeOf(cause)
  }
  return text
}

const ownText = (error: unknown): string => {
  if (typeof error === "string") return error
  if (typeof error === "object" && error !== null) {
    const { message, _tag } = error as { readonly message?: unknown; readonly _tag?: unknown }
    if (typeof message === "string" && message !== "") return message
    if (typeof _tag === "string") return _tag
  }
  return String(error)
}

const causeOf = (error: unknown): unknown =>
  typeof error === "object" && error !== null && "cause" in error && error.cause !== error
    ? (error as { readonly cause?: unknown }).cause
    : undefined
