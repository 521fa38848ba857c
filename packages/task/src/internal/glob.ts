/**
 * Glob patterns as segment automata, and the one question footprints need answered: can two
 * patterns match a common path? The answer errs on "yes": a false overlap costs parallelism, a
 * missed one lets two agents edit the same file.
 */

type Token =
  | { readonly t: "char"; readonly c: string }
  | { readonly t: "any" }
  | { readonly t: "star" }
  | { readonly t: "class"; readonly negated: boolean; readonly ranges: ReadonlyArray<readonly [number, number]> }

type Segment =
  | { readonly t: "globstar" }
  | { readonly t: "seg"; readonly tokens: ReadonlyArray<Token>; readonly literal: string | undefined }

/** A compiled pattern: a list of segments, the last one always `**`. */
export type Compiled = ReadonlyArray<Segment>

const GLOB_CHARS = /[*?[{]/

const expandBraces = (pattern: string, limit = 64): Array<string> => {
  const open = pattern.indexOf("{")
  if (open < 0) return [pattern]
  let depth = 0
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === "{") depth++
    else if (c === "}" && --depth === 0) {
      const body = pattern.slice(open + 1, i)
      const options: Array<string> = []
      let level = 0
      let start = 0
      for (let j = 0; j < body.length; j++) {
        if (body[j] === "{") level++
        else if (body[j] === "}") level--
        else if (body[j] === "," && level === 0) {
          options.push(body.slice(start, j))
          start = j + 1
        }
      }
      options.push(body.slice(start))
      const head = pattern.slice(0, open)
      const tail = pattern.slice(i + 1)
      const out: Array<string> = []
      for (const o of options) {
        for (const e of expandBraces(head + o + tail, limit)) {
          if (out.length >= limit) return out
          out.push(e)
        }
      }
      return out
    }
  }
  return [pattern.replace("{", "\\{")]
}

const tokenize = (segment: string, literal: boolean): Array<Token> => {
  const tokens: Array<Token> = []
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!
    if (literal) {
      tokens.push({ t: "char", c })
    } else if (c === "\\" && i + 1 < segment.length) {
      tokens.push({ t: "char", c: segment[++i]! })
    } else if (c === "*") {
      if (tokens[tokens.length - 1]?.t !== "star") tokens.push({ t: "star" })
    } else if (c === "?") {
      tokens.push({ t: "any" })
    } else if (c === "[") {
      const close = segment.indexOf("]", i + 2)
      if (close < 0) {
        tokens.push({ t: "char", c })
        continue
      }
      let body = segment.slice(i + 1, close)
      const negated = body.startsWith("!") || body.startsWith("^")
      if (negated) body = body.slice(1)
      const ranges: Array<readonly [number, number]> = []
      for (let j = 0; j < body.length; j++) {
        const from = body.charCodeAt(j)
        if (body[j + 1] === "-" && j + 2 < body.length) {
          ranges.push([from, body.charCodeAt(j + 2)])
          j += 2
        } else ranges.push([from, from])
      }
      tokens.push({ t: "class", negated, ranges })
      i = close
    } else {
      tokens.push({ t: "char", c })
    }
  }
  return tokens
}

const inClass = (tok: Extract<Token, { t: "class" }>, code: number): boolean =>
  tok.ranges.some(([a, b]) => code >= a && code <= b) !== tok.negated

/** Whether some single character satisfies both tokens (conservative for negated classes). */
const charsMeet = (a: Token, b: Token): boolean => {
  if (a.t === "star" || a.t === "any" || b.t === "star" || b.t === "any") return true
  if (a.t === "char" && b.t === "char") return a.c === b.c
  if (a.t === "char" && b.t === "class") return inClass(b, a.c.charCodeAt(0))
  if (a.t === "class" && b.t === "char") return inClass(a, b.c.charCodeAt(0))
  if (a.t === "class" && b.t === "class") {
    if (a.negated || b.negated) return true
    return a.ranges.some(([a1, a2]) => b.ranges.some(([b1, b2]) => a1 <= b2 && b1 <= a2))
  }
  return true
}

/**
 * Whether two patterns accept a common word: a search over pairs of positions (the product
 * automaton). A "star" element matches any run of items, including none; two other elements advance
 * together when `meet` says they can match the same item.
 */
const intersect = <T>(
  p: ReadonlyArray<T>,
  q: ReadonlyArray<T>,
  isStar: (x: T) => boolean,
  meet: (x: T, y: T) => boolean
): boolean => {
  const seen = new Set<number>()
  const width = q.length + 1
  const stack: Array<[number, number]> = [[0, 0]]
  while (stack.length > 0) {
    const [i, j] = stack.pop()!
    const key = i * width + j
    if (seen.has(key)) continue
    seen.add(key)
    if (i === p.length && j === q.length) return true
    const a = p[i]
    const b = q[j]
    const aStar = a !== undefined && isStar(a)
    const bStar = b !== undefined && isStar(b)
    if (aStar) stack.push([i + 1, j])
    if (bStar) stack.push([i, j + 1])
    if (a !== undefined && b !== undefined && meet(a, b)) stack.push([aStar ? i : i + 1, bStar ? j : j + 1])
  }
  return false
}

/** Whether two single-segment patterns match a common segment name. */
const segmentsMeet = (p: ReadonlyArray<Token>, q: ReadonlyArray<Token>): boolean =>
  intersect(p, q, (x) => x.t === "star", charsMeet)

/** Whether two compiled patterns match a common path. */
export const patternsMeet = (a: Compiled, b: Compiled): boolean => {
  // Fast path: leading literal segments must agree (most footprints differ there).
  for (let k = 0; k < a.length && k < b.length; k++) {
    const x = a[k]!
    const y = b[k]!
    if (x.t !== "seg" || y.t !== "seg" || x.literal === undefined || y.literal === undefined) break
    if (x.literal !== y.literal) return false
  }
  return intersect(
    a,
    b,
    (x) => x.t === "globstar",
    (x, y) => x.t === "globstar" || y.t === "globstar" || segmentsMeet(x.tokens, y.tokens)
  )
}

/**
 * Normalizes one footprint entry to a repository-relative, lowercased pattern: `./` and leading
 * `/` removed, `\` turned into `/`, `a/../b` resolved. An entry that leaves the repository or
 * names its root becomes `**` (everything).
 */
export const normalizeEntry = (entry: string): string => {
  const trimmed = entry.trim().replace(/\\/g, "/").toLowerCase()
  const dir = trimmed.endsWith("/")
  const out: Array<string> = []
  for (const part of trimmed.split("/")) {
    if (part === "" || part === ".") continue
    if (part === "..") {
      if (out.length === 0) return "**"
      out.pop()
    } else out.push(part)
  }
  if (out.length === 0) return "**"
  return out.join("/") + (dir ? "/" : "")
}

/** A last segment with an extension (`*.ts`, `*.test.ts`) names files, not directories. */
const FILE_GLOB = /^[^.]+\.[^/]+$/

/**
 * Compiles a footprint entry. A path or directory covers everything beneath it (a bare path may
 * name a directory), and so does a glob, unless its last segment has an extension (`src/**\/*.ts`
 * matches files only): `**` is appended to each of those.
 */
export const compileEntry = (entry: string): ReadonlyArray<Compiled> => {
  const normalized = normalizeEntry(entry)
  const literal = !GLOB_CHARS.test(normalized)
  return (literal ? [normalized] : expandBraces(normalized)).map((p) => {
    const parts = p.split("/").filter((s) => s !== "")
    const segments: Array<Segment> = parts.map((s): Segment => {
      if (!literal && s === "**") return { t: "globstar" }
      const tokens = tokenize(s, literal)
      return {
        t: "seg",
        tokens,
        literal: tokens.every((x) => x.t === "char") ? tokens.map((x) => (x as { c: string }).c).join("") : undefined
      }
    })
    const filesOnly = !literal && !p.endsWith("/") && FILE_GLOB.test(parts[parts.length - 1] ?? "")
    if (!filesOnly && segments[segments.length - 1]?.t !== "globstar") segments.push({ t: "globstar" })
    return segments
  })
}
