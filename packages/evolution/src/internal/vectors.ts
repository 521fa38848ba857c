import { type DotKernel, makeDotKernel } from "./dotKernel.js"

/**
 * Memory's vectors: stored as little-endian float32 blobs (SQLite BLOB, Postgres bytea; no pgvector),
 * normalized when stored so cosine similarity is a dot product, held in process in one contiguous
 * `Float32Array` that grows as vectors are added (read incrementally by their `seq`), and ranked by
 * brute force: an int8 scan (WebAssembly SIMD), then an exact float re-rank of the best candidates. Reciprocal rank fusion merges the vector ranking with the full-text one.
 */

/** The constant of reciprocal rank fusion: an entry's fused score is Σ 1 / (RRF_K + its rank in each list). */
export const RRF_K = 60

/** `v` scaled to length 1 (a zero vector stays zero). */
export const normalized = (v: ReadonlyArray<number>): Float32Array => {
  let norm = 0
  for (const x of v) norm += x * x
  norm = Math.sqrt(norm)
  const out = new Float32Array(v.length)
  if (norm === 0) return out
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / norm
  return out
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** The bytes stored for a vector. */
export const toBlob = (v: Float32Array): Uint8Array => {
  const out = new Uint8Array(v.length * 4)
  const view = new DataView(out.buffer)
  for (let i = 0; i < v.length; i++) view.setFloat32(i * 4, v[i]!, true)
  return out
}

/** A stored vector back (whatever byte container the driver returns). */
export const fromBlob = (blob: Uint8Array, dims: number): Float32Array | undefined => {
  if (blob.byteLength !== dims * 4) return undefined
  // On a little-endian machine (every one Node runs on in practice) the bytes are the array: one copy.
  // (A fresh, aligned copy: a driver's Buffer may be a view into a shared pool at any offset.)
  if (LITTLE_ENDIAN) {
    const copy = new Uint8Array(blob.byteLength)
    copy.set(blob)
    return new Float32Array(copy.buffer)
  }
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength)
  const out = new Float32Array(dims)
  for (let i = 0; i < dims; i++) out[i] = view.getFloat32(i * 4, true)
  return out
}

/** A vector recall hit: the entry and its cosine similarity to the query. */
export interface Nearest {
  readonly id: string
  readonly score: number
}

/** Which held vectors a nearest-neighbour search may return. */
export interface Eligible {
  /** Only entries this process has not seen closed (superseded, forgotten, compacted). */
  readonly holdingOnly: boolean
  /** Only these slots (1 = allowed), when set. */
  readonly mask?: Uint8Array | undefined
  /** Only similarities above this (default 0: any positive one). */
  readonly above?: number | undefined
}

/**
 * The best `k` of slots 0..n-1 by `score` (higher first; ties: the higher slot first) among those
 * `accept` allows and scoring above `above`, kept in a min-heap of `k` while scanning once.
 */
const selectTop = (
  n: number,
  k: number,
  score: (i: number) => number,
  accept: (i: number) => boolean,
  above: number
): Array<number> => {
  const hs = new Float64Array(k)
  const hi = new Int32Array(k)
  let size = 0
  const worse = (a: number, b: number) => hs[a]! < hs[b]! || (hs[a] === hs[b] && hi[a]! < hi[b]!)
  const swap = (a: number, b: number) => {
    const s = hs[a]!
    hs[a] = hs[b]!
    hs[b] = s
    const i = hi[a]!
    hi[a] = hi[b]!
    hi[b] = i
  }
  for (let i = 0; i < n; i++) {
    const s = score(i)
    if (s <= above || (size === k && s < hs[0]!) || !accept(i)) continue
    if (size < k) {
      hs[size] = s
      hi[size] = i
      for (let at = size++; at > 0; ) {
        const parent = (at - 1) >> 1
        if (!worse(at, parent)) break
        swap(at, parent)
        at = parent
      }
      continue
    }
    // Equal to the worst kept: a later slot wins the tie (slots only grow, so it always does).
    hs[0] = s
    hi[0] = i
    for (let at = 0; ; ) {
      const l = 2 * at + 1
      const r = l + 1
      let least = at
      if (l < size && worse(l, least)) least = l
      if (r < size && worse(r, least)) least = r
      if (least === at) break
      swap(at, least)
      at = least
    }
  }
  const order = Array.from({ length: size }, (_, j) => j)
  order.sort((a, b) => hs[b]! - hs[a]! || hi[b]! - hi[a]!)
  return order.map((j) => hi[j]!)
}

/**
 * The vectors of one model held in process, in the order they were stored: each as float32 (for the
 * exact score) and as int8 scaled to its largest component (for the scan), with whether it holds now.
 * A search scans every int8 vector with the SIMD kernel, keeps the best candidates in a small heap,
 * scores those exactly in float, then also scores exactly every other vector that the quantization's
 * error bound does not rule out: the results are brute force's, exactly.
 */
export class VectorCache {
  /** The `seq` of the last row read. */
  after = 0
  dims: number | undefined = undefined
  readonly ids: Array<string> = []
  private readonly slots = new Map<string, number>()
  private floats = new Float32Array(0)
  private holding = new Uint8Array(0)
  /** The scale of each int8 vector: its largest component / 127. */
  private inverseScale = new Float32Array(0)
  private largestInverseScale = 0
  /** Bytes per int8 vector in the kernel's memory: dims rounded up to 16. */
  private stride = 0
  private capacity = 0
  /** The last search's approximate similarities (kept to spare an allocation per search). */
  private approximate = new Float64Array(0)
  private readonly kernel: DotKernel | undefined
  /** The kernel's memory as int8 (renewed when it grows). */
  private int8: Int8Array | undefined = undefined

  constructor(options: { readonly simd?: boolean } = {}) {
    this.kernel = options.simd === false ? undefined : makeDotKernel()
  }

  get size(): number {
    return this.ids.length
  }

  /** Whether the scan runs on the WebAssembly SIMD kernel (else a float loop in JavaScript). */
  get simd(): boolean {
    return this.kernel !== undefined
  }

  /** Whether the entry has a vector. */
  has(id: string): boolean {
    return this.slots.has(id)
  }

  /**
   * Adds a stored row's blob (little-endian float32, normalized) without copying it first where it is
   * aligned; a blob of the wrong size is skipped.
   */
  addBlob(seq: number, id: string, blob: Uint8Array, dims: number, holds = true): void {
    if (blob.byteLength !== dims * 4) {
      this.after = Math.max(this.after, seq)
      return
    }
    if (LITTLE_ENDIAN && blob.byteOffset % 4 === 0)
      this.add(seq, id, new Float32Array(blob.buffer, blob.byteOffset, dims), holds)
    else this.add(seq, id, fromBlob(blob, dims)!, holds)
  }

  /** Room for `n` vectors in all, made at once (a catch-up read knows how many it brings). */
  reserve(n: number): void {
    if (n > this.capacity && this.dims !== undefined) this.grow(Math.max(n, this.capacity * 2))
  }

  /** Adds a stored row (normalized); rows already read, or of other dimensions, are skipped. */
  add(seq: number, id: string, vector: Float32Array, holds = true): void {
    if (seq <= this.after) return
    this.after = seq
    if (this.dims === undefined) {
      this.dims = vector.length
      this.stride = Math.max(16, Math.ceil(vector.length / 16) * 16)
    }
    if (vector.length !== this.dims || this.slots.has(id)) return
    const n = this.ids.length
    if (n === this.capacity) this.grow(Math.max(1024, this.capacity * 2))
    this.floats.set(vector, n * this.dims)
    this.holding[n] = holds ? 1 : 0
    let largest = 0
    for (let d = 0; d < vector.length; d++) {
      const x = vector[d]!
      if (x > largest) largest = x
      else if (-x > largest) largest = -x
    }
    this.inverseScale[n] = largest / 127
    if (largest / 127 > this.largestInverseScale) this.largestInverseScale = largest / 127
    if (this.int8 !== undefined && largest > 0) {
      const scale = 127 / largest
      const int8 = this.int8
      // Math.round over -127..127, by truncating the value moved into the positives: several times faster.
      for (let d = 0, at = n * this.stride; d < vector.length; d++)
        int8[at + d] = ((vector[d]! * scale + 128.5) | 0) - 128
    }
    this.ids.push(id)
    this.slots.set(id, n)
  }

  /** The entry no longer holds (this process closed it): searches for what holds now skip it. */
  close(id: string): void {
    const slot = this.slots.get(id)
    if (slot !== undefined) this.holding[slot] = 0
  }

  private grow(capacity: number): void {
    const floats = new Float32Array(capacity * (this.dims ?? 0))
    floats.set(this.floats)
    this.floats = floats
    const holding = new Uint8Array(capacity)
    holding.set(this.holding)
    this.holding = holding
    const inverse = new Float32Array(capacity)
    inverse.set(this.inverseScale)
    this.inverseScale = inverse
    this.capacity = capacity
    if (this.kernel === undefined) return
    // The kernel's memory: the int8 vectors from byte 0, then the query (int16), then its output (int32 per vector).
    const needed = capacity * this.stride + 2 * this.stride + 4 * capacity
    const have = this.kernel.memory.buffer.byteLength
    if (needed > have) this.kernel.memory.grow(Math.ceil((needed - have) / 65536))
    this.int8 = new Int8Array(this.kernel.memory.buffer)
  }

  /** The exact cosine of the query (normalized) with the vector in `slot`. */
  private exact(query: Float32Array, slot: number): number {
    const dims = this.dims ?? 0
    const data = this.floats
    const base = slot * dims
    let s0 = 0
    let s1 = 0
    let s2 = 0
    let s3 = 0
    let d = 0
    for (const end = dims - (dims % 4); d < end; d += 4) {
      s0 += data[base + d]! * query[d]!
      s1 += data[base + d + 1]! * query[d + 1]!
      s2 += data[base + d + 2]! * query[d + 2]!
      s3 += data[base + d + 3]! * query[d + 3]!
    }
    for (; d < dims; d++) s0 += data[base + d]! * query[d]!
    return s0 + s1 + s2 + s3
  }

  /** Exact cosines of the query (normalized) with every vector held, in slot order. */
  scores(query: Float32Array): Float64Array {
    const out = new Float64Array(this.size)
    for (let i = 0; i < out.length; i++) out[i] = this.exact(query, i)
    return out
  }

  /**
   * The `k` vectors most similar to `query` (normalized) with a similarity above `eligible.above` (0), best first (ties:
   * the later stored first), among those `eligible` allows; scores are exact cosines.
   */
  nearest(query: Float32Array, k: number, eligible: Eligible): Array<Nearest> {
    const n = this.size
    if (n === 0 || k <= 0 || query.length !== this.dims) return []
    const { holdingOnly, mask } = eligible
    const above = Math.max(0, eligible.above ?? 0)
    const holding = this.holding
    const accept =
      mask !== undefined
        ? holdingOnly
          ? (i: number) => mask[i] === 1 && holding[i] === 1
          : (i: number) => mask[i] === 1
        : holdingOnly
          ? (i: number) => holding[i] === 1
          : () => true
    const ranked = (slots: ReadonlyArray<number>) =>
      slots
        .map((slot) => ({ slot, score: this.exact(query, slot) }))
        .filter((h) => h.score > above)
        .sort((a, b) => b.score - a.score || b.slot - a.slot)
        .slice(0, k)
    const answer = (hits: ReadonlyArray<{ readonly slot: number; readonly score: number }>) =>
      hits.map((h) => ({ id: this.ids[h.slot]!, score: h.score }))
    if (this.kernel === undefined) {
      const scores = this.scores(query)
      return answer(ranked(selectTop(n, k, (i) => scores[i]!, accept, above)))
    }
    // The query as int16, scaled as far as keeps every sum within an int32.
    let largest = 0
    for (let d = 0; d < query.length; d++) largest = Math.max(largest, Math.abs(query[d]!))
    if (largest === 0) return []
    const scale = Math.min(32767, Math.floor(2147483647 / (127 * this.stride))) / largest
    const memory = this.kernel.memory.buffer
    const queryAt = this.capacity * this.stride
    const outAt = queryAt + 2 * this.stride
    const int16 = new Int16Array(memory, queryAt, this.stride).fill(0)
    let l1 = 0
    let l2 = 0
    for (let d = 0; d < query.length; d++) {
      const x = Math.round(query[d]! * scale)
      int16[d] = x
      l1 += Math.abs(x)
      l2 += x * x
    }
    this.kernel.dots(0, queryAt, n, this.stride, outAt)
    const dots = new Int32Array(memory, outAt, n)
    const inverse = this.inverseScale
    if (this.approximate.length < n) this.approximate = new Float64Array(this.capacity)
    const approximate = this.approximate
    for (let i = 0; i < n; i++) approximate[i] = (dots[i]! * inverse[i]!) / scale
    // How far the approximate similarity of slot i can be from the exact one: fixed + perScale·inverse[i]
    // (‖vector‖₁ ≤ √dims times the query's rounding, plus the rounded query's norm times the vector's rounding).
    const fixed = (1.001 * Math.sqrt(query.length) * 0.5) / scale
    const perScale = (1.001 * 0.5 * Math.min(l1, Math.sqrt(l2 * query.length))) / scale
    // The best candidates by the approximate similarity, scored exactly…
    const chosen = selectTop(
      n,
      Math.min(n, Math.max(2 * k, k + 64)),
      (i) => approximate[i]!,
      accept,
      above - (fixed + perScale * this.largestInverseScale)
    )
    const best = ranked(chosen)
    // …then every other vector whose error bound lets it reach the k-th exact score (or `above`).
    const floor = best.length === k ? best[k - 1]!.score : above
    // (None can when even the last candidate's approximate similarity plus the largest error is below it.)
    const last = chosen.length === 0 ? above - fixed : approximate[chosen[chosen.length - 1]!]!
    if (
      chosen.length < Math.min(n, Math.max(2 * k, k + 64)) ||
      last + fixed + perScale * this.largestInverseScale < floor
    )
      return answer(best)
    const taken = new Set(chosen)
    const more: Array<number> = []
    for (let i = 0; i < n; i++)
      if (approximate[i]! + fixed + perScale * inverse[i]! >= floor && accept(i) && !taken.has(i)) more.push(i)
    return answer(more.length === 0 ? best : ranked([...chosen, ...more]))
  }

  /** A mask over the slots (for `nearest`) of the given entries. */
  maskOf(ids: Iterable<string>): Uint8Array {
    const mask = new Uint8Array(this.size)
    for (const id of ids) {
      const slot = this.slots.get(id)
      if (slot !== undefined) mask[slot] = 1
    }
    return mask
  }

  /** Exact similarities of the given entries (a narrow filter's few): best first, at most `k`, above `above` (0) only. */
  nearestAmong(query: Float32Array, ids: Iterable<string>, k: number, holdingOnly: boolean, above = 0): Array<Nearest> {
    if (query.length !== this.dims) return []
    const hits: Array<{ slot: number; score: number }> = []
    for (const id of ids) {
      const slot = this.slots.get(id)
      if (slot === undefined || (holdingOnly && this.holding[slot] !== 1)) continue
      const score = this.exact(query, slot)
      if (score > Math.max(0, above)) hits.push({ slot, score })
    }
    return hits
      .sort((a, b) => b.score - a.score || b.slot - a.slot)
      .slice(0, k)
      .map((h) => ({ id: this.ids[h.slot]!, score: h.score }))
  }
}

/** Fuses rankings (each best first) by reciprocal rank fusion; each id with its fused score and the lists that held it. */
export const fuse = (
  lists: ReadonlyArray<{ readonly name: string; readonly ids: ReadonlyArray<string> }>
): Array<{ readonly id: string; readonly score: number; readonly from: ReadonlyArray<string> }> => {
  const acc = new Map<string, { score: number; from: Array<string>; first: number }>()
  lists.forEach((list, which) => {
    list.ids.forEach((id, i) => {
      const e = acc.get(id) ?? { score: 0, from: [], first: which * 1e9 + i }
      e.score += 1 / (RRF_K + i + 1)
      e.from.push(list.name)
      e.first = Math.min(e.first, which * 1e9 + i)
      acc.set(id, e)
    })
  })
  return [...acc]
    .sort((a, b) => b[1].score - a[1].score || a[1].first - b[1].first)
    .map(([id, e]) => ({ id, score: e.score, from: e.from }))
}
