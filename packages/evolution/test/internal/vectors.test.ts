/**
 * The vector cache's search against plain brute force (every cosine computed in float, sorted): the
 * int8 SIMD scan with its float re-rank must return the same entries in the same order, with the
 * same scores, whatever the dimensions, the number asked, the filters and the entries closed.
 */
import { assert, describe, it } from "@effect/vitest"
import { normalized, VectorCache } from "../../src/internal/vectors.js"

let seed = 7
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}
/** Clustered vectors, so many of them are close to each other and to the queries (ties at the cut are likely). */
const vectors = (n: number, dims: number) => {
  const centres = Array.from({ length: 8 }, () => Array.from({ length: dims }, () => random() - 0.5))
  return Array.from({ length: n }, (_, i) =>
    normalized(centres[i % 8]!.map((c) => c + (random() - 0.5) * 0.2 * (i % 3)))
  )
}

/** What brute force says: every positive cosine, best first, the later stored first on a tie. */
const bruteForce = (
  stored: ReadonlyArray<Float32Array>,
  query: Float32Array,
  k: number,
  allowed: (i: number) => boolean
) =>
  stored
    .map((v, i) => ({ i, score: v.reduce((s, x, d) => s + x * query[d]!, 0) }))
    .filter((h) => h.score > 0 && allowed(h.i))
    .sort((a, b) => b.score - a.score || b.i - a.i)
    .slice(0, k)

describe("VectorCache", () => {
  for (const dims of [3, 16, 100, 384]) {
    it(`finds exactly what brute force finds (${dims} dimensions), also with entries closed, a filter and a least similarity`, () => {
      const stored = vectors(3000, dims)
      const cache = new VectorCache()
      assert.isTrue(cache.simd, "WebAssembly SIMD is available on Node")
      stored.forEach((v, i) => cache.add(i + 1, `e${i}`, v, i % 11 !== 0))
      for (let i = 0; i < stored.length; i += 17) cache.close(`e${i}`)
      const closed = (i: number) => i % 11 === 0 || i % 17 === 0
      const mask = new Uint8Array(stored.length).map((_, i) => (i % 5 === 0 ? 1 : 0))
      for (const [q, query] of vectors(12, dims).entries()) {
        for (const k of [1, 10, 90, 400]) {
          const expect = (allowed: (i: number) => boolean) =>
            bruteForce(stored, query, k, allowed).map((h) => [`e${h.i}`, Number(h.score.toFixed(5))])
          const got = (hits: ReadonlyArray<{ readonly id: string; readonly score: number }>) =>
            hits.map((h) => [h.id, Number(h.score.toFixed(5))])
          const label = `query ${q}, k ${k}`
          assert.deepStrictEqual(
            got(cache.nearest(query, k, { holdingOnly: true })),
            expect((i) => !closed(i)),
            label
          )
          assert.deepStrictEqual(
            got(cache.nearest(query, k, { holdingOnly: false })),
            expect(() => true),
            label
          )
          assert.deepStrictEqual(
            got(cache.nearest(query, k, { holdingOnly: true, mask })),
            expect((i) => !closed(i) && i % 5 === 0),
            label
          )
          assert.deepStrictEqual(
            got(cache.nearest(query, k, { holdingOnly: true, above: 0.3 })),
            expect((i) => !closed(i)).filter(([, score]) => Number(score) > 0.3),
            label
          )
        }
      }
    })
  }

  it("finds exactly what brute force finds among near duplicates, which int8 cannot tell apart", () => {
    const centre = Array.from({ length: 384 }, () => random() - 0.5)
    const stored = Array.from({ length: 2000 }, () => normalized(centre.map((c) => c + (random() - 0.5) * 1e-3)))
    const cache = new VectorCache()
    stored.forEach((v, i) => cache.add(i + 1, `e${i}`, v))
    for (const query of vectors(6, 384).concat([normalized(centre)]))
      for (const k of [1, 10, 50]) {
        const want = bruteForce(stored, query, k, () => true).map((h) => `e${h.i}`)
        assert.deepStrictEqual(
          cache.nearest(query, k, { holdingOnly: true }).map((h) => h.id),
          want
        )
      }
  })

  it("the float fallback (no SIMD) and the SIMD scan agree; vectors of other dimensions are not compared", () => {
    const stored = vectors(500, 48)
    const simd = new VectorCache()
    const plain = new VectorCache({ simd: false })
    assert.isFalse(plain.simd)
    stored.forEach((v, i) => {
      simd.add(i + 1, `e${i}`, v)
      plain.add(i + 1, `e${i}`, v)
    })
    simd.add(1000, "odd", normalized([1, 2, 3]))
    assert.isFalse(simd.has("odd"))
    for (const query of vectors(5, 48))
      assert.deepStrictEqual(
        simd.nearest(query, 30, { holdingOnly: true }).map((h) => h.id),
        plain.nearest(query, 30, { holdingOnly: true }).map((h) => h.id)
      )
    assert.deepStrictEqual(simd.nearest(normalized([1, 0, 0]), 5, { holdingOnly: true }), [])
  })
})
