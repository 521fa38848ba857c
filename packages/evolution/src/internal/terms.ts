/**
 * The search terms of a text, computed the same way for what is stored and for a query, so SQLite
 * (FTS5, `unicode61`) and Postgres (a `tsvector` built from the terms as they are) match the same
 * entries. Words come from `Intl.Segmenter` (which also splits scripts written without spaces, such
 * as Thai) and are cut at anything that is not a letter or a digit. Chinese, Japanese and Korean runs
 * are indexed as overlapping character pairs plus single characters: no dictionary is needed, and a
 * query's pairs are found whatever words the writer's segmentation would have picked.
 */

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3005\u30FC]+/gu
const words = new Intl.Segmenter(undefined, { granularity: "word" })
const NOT_WORD = /[^\p{L}\p{N}]+/u

const normalize = (text: string) => text.normalize("NFKC").toLowerCase()

/** Words outside CJK runs. */
const plainWords = (text: string): Array<string> => {
  const out: Array<string> = []
  for (const s of words.segment(text)) {
    if (!s.isWordLike) continue
    for (const piece of s.segment.split(NOT_WORD)) if (piece !== "") out.push(piece)
  }
  return out
}

const pairs = (run: ReadonlyArray<string>): Array<string> => run.slice(0, -1).map((c, i) => c + run[i + 1]!)

/** Splits `text` into its CJK runs and the text between them, in order. */
const parts = (text: string): Array<{ readonly cjk: boolean; readonly text: string }> => {
  const out: Array<{ cjk: boolean; text: string }> = []
  let last = 0
  for (const m of text.matchAll(CJK)) {
    if (m.index > last) out.push({ cjk: false, text: text.slice(last, m.index) })
    out.push({ cjk: true, text: m[0] })
    last = m.index + m[0].length
  }
  if (last < text.length) out.push({ cjk: false, text: text.slice(last) })
  return out
}

/** Terms to index for a stored text (single CJK characters and pairs both, so one-character queries match too). */
export const documentTerms = (text: string): Array<string> =>
  parts(normalize(text)).flatMap((p) => {
    if (!p.cjk) return plainWords(p.text)
    const chars = [...p.text]
    return [...chars, ...pairs(chars)]
  })

/** Terms of a query: words, and CJK runs as character pairs (a single character alone). Duplicates removed, at most `max`. */
export const queryTerms = (text: string, max = 32): Array<string> => {
  const terms = parts(normalize(text)).flatMap((p) => {
    if (!p.cjk) return plainWords(p.text)
    const chars = [...p.text]
    return chars.length === 1 ? chars : pairs(chars)
  })
  return [...new Set(terms)].slice(0, max)
}

/** The stored search text: the document's terms separated by single spaces. */
export const searchText = (text: string): string => documentTerms(text).join(" ")

/** What an entry's full-text index holds: its content, its tags and the ids of what it is about. */
export const entryBody = (entry: {
  readonly content: string
  readonly tags: ReadonlyArray<string>
  readonly scopes: ReadonlyArray<{ readonly id: string }>
}): string => searchText([entry.content, ...entry.tags, ...entry.scopes.map((s) => s.id)].join("\n"))
