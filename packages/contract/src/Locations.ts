/**
 * Maps key paths to source positions in TOML, YAML and JSON text, so validation problems can name a
 * line. Positions are 1-based. A path that cannot be found falls back to its nearest located parent.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml"

export interface Position {
  readonly line: number
  readonly column: number
}

export type Locator = (path: ReadonlyArray<PropertyKey>) => Position | undefined

const nearest =
  (positions: Map<string, Position>): Locator =>
  (path) => {
    for (let n = path.length; n >= 0; n--) {
      const hit = positions.get(path.slice(0, n).map(String).join("."))
      if (hit !== undefined) return hit
    }
    return undefined
  }

// A locator is asked only when there is a problem to place: the text is parsed for positions then,
// not for every file that loads cleanly (a YAML parse of every issue file on `spec-orch issue list`).
const onFirstUse = (build: () => Locator): Locator => {
  let locate: Locator | undefined
  return (path) => {
    locate ??= build()
    return locate(path)
  }
}

/** Locates keys in YAML or JSON (JSON is YAML) from the parsed document's node ranges. */
export const yamlLocator = (text: string): Locator => onFirstUse(() => yamlPositions(text))

const yamlPositions = (text: string): Locator => {
  const lines = new LineCounter()
  const positions = new Map<string, Position>()
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: false, uniqueKeys: false })
  const at = (offset: number | undefined): Position | undefined => {
    if (offset === undefined) return undefined
    const p = lines.linePos(offset)
    return { line: p.line, column: p.col }
  }
  const walk = (node: unknown, path: Array<string>): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode)
        const next = [...path, key]
        const pos = at(keyNode?.range?.[0])
        if (pos) positions.set(next.join("."), pos)
        walk(pair.value, next)
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const next = [...path, String(i)]
        const pos = at((item as Node | null)?.range?.[0])
        if (pos) positions.set(next.join("."), pos)
        walk(item, next)
      })
    }
  }
  positions.set("", { line: 1, column: 1 })
  walk(doc.contents, [])
  return nearest(positions)
}

/**
 * Locates keys in TOML by scanning lines: table headers, array-of-table headers (indexed), and
 * `key = value` lines including dotted and quoted keys. Multi-line strings and arrays are skipped.
 */
export const tomlLocator = (text: string): Locator => onFirstUse(() => tomlPositions(text))

const tomlPositions = (text: string): Locator => {
  const positions = new Map<string, Position>()
  const arrayCounts = new Map<string, number>()
  let table: Array<string> = []
  let inMultiline: string | undefined
  let depth = 0
  const lines = text.split(/\r?\n/)
  positions.set("", { line: 1, column: 1 })
  lines.forEach((raw, index) => {
    const line = index + 1
    if (inMultiline !== undefined) {
      if (raw.includes(inMultiline)) inMultiline = undefined
      return
    }
    const stripped = stripComment(raw)
    if (depth > 0) {
      depth += bracketDelta(stripped)
      return
    }
    const trimmed = stripped.trim()
    if (trimmed === "") return
    const arrayHeader = /^\[\[\s*(.+?)\s*\]\]$/.exec(trimmed)
    const header = arrayHeader ?? /^\[\s*(.+?)\s*\]$/.exec(trimmed)
    if (header) {
      const keys = splitKey(header[1]!)
      const name = keys.join(".")
      if (arrayHeader) {
        const n = arrayCounts.get(name) ?? 0
        arrayCounts.set(name, n + 1)
        if (!positions.has(name)) positions.set(name, { line, column: raw.indexOf("[") + 1 })
        table = [...keys, String(n)]
      } else {
        table = keys
      }
      positions.set(table.join("."), { line, column: raw.indexOf("[") + 1 })
      return
    }
    const eq = findEquals(stripped)
    if (eq < 0) return
    const keys = splitKey(stripped.slice(0, eq))
    const path = [...table, ...keys].join(".")
    const column = raw.length - raw.trimStart().length + 1
    positions.set(path, { line, column })
    const value = stripped.slice(eq + 1).trim()
    for (const quote of ['"""', "'''"]) {
      if (value.startsWith(quote) && value.indexOf(quote, 3) < 0) inMultiline = quote
    }
    if (inMultiline === undefined) depth = Math.max(0, bracketDelta(value))
  })
  return nearest(positions)
}

const stripComment = (line: string): string => {
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (quote) {
      if (c === "\\" && quote === '"') i++
      else if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") quote = c
    else if (c === "#") return line.slice(0, i)
  }
  return line
}

const bracketDelta = (text: string): number => {
  let delta = 0
  let quote: string | undefined
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quote) {
      if (c === "\\" && quote === '"') i++
      else if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") quote = c
    else if (c === "[" || c === "{") delta++
    else if (c === "]" || c === "}") delta--
  }
  return delta
}

const findEquals = (line: string): number => {
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (quote) {
      if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") quote = c
    else if (c === "=") return i
  }
  return -1
}

const splitKey = (key: string): Array<string> => {
  const parts: Array<string> = []
  let current = ""
  let quote: string | undefined
  for (const c of key.trim()) {
    if (quote) {
      if (c === quote) quote = undefined
      else current += c
    } else if (c === '"' || c === "'") quote = c
    else if (c === ".") {
      parts.push(current.trim())
      current = ""
    } else current += c
  }
  parts.push(current.trim())
  return parts
}

/** 1-based line and column of a character offset. */
export const positionOf = (text: string, offset: number): Position => {
  const before = text.slice(0, Math.max(0, offset))
  const line = before.split("\n").length
  const column = offset - before.lastIndexOf("\n")
  return { line, column }
}
