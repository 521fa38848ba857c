/** Small text helpers for matching acceptance criteria and spec sections: words, normalization. */

const STOPWORDS = new Set([
  "the",
  "and",
  "for",
  "with",
  "that",
  "this",
  "are",
  "was",
  "were",
  "from",
  "into",
  "when",
  "then",
  "than",
  "but",
  "not",
  "all",
  "any",
  "each",
  "its",
  "has",
  "have",
  "had",
  "will",
  "shall",
  "should",
  "must",
  "can",
  "may",
  "use",
  "uses",
  "used",
  "via",
  "per",
  "out",
  "our",
  "you",
  "your",
  "their",
  "they",
  "them",
  "there",
  "here",
  "also",
  "only",
  "every",
  "some",
  "does",
  "did",
  "done",
  "being",
  "been",
  "which",
  "what",
  "who",
  "how",
  "why",
  "where",
  "new",
  "one",
  "two"
])

/** Lowercase, single spaces, no trailing punctuation: the form two criteria are compared in. */
export const normalizeText = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[`*_]/g, "")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/[.;:!,]+$/, "")

/** Significant words of a text (three letters or more, not a stopword), with a plural `s` dropped. */
export const significantWords = (text: string): Set<string> => {
  const out = new Set<string>()
  for (const w of text.toLowerCase().split(/[^a-z0-9]+/)) {
    if (w.length < 3 || STOPWORDS.has(w)) continue
    out.add(w.length > 3 && w.endsWith("s") && !w.endsWith("ss") ? w.slice(0, -1) : w)
  }
  return out
}

/** How many words two sets share. */
export const sharedCount = (a: ReadonlySet<string>, b: ReadonlySet<string>): number => {
  let n = 0
  for (const w of a) if (b.has(w)) n++
  return n
}
