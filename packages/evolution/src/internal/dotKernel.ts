/**
 * The inner loop of vector recall: int8 dot products over every stored vector, as a WebAssembly
 * SIMD function (Node ships WebAssembly; nothing native is added). Assembled here from its opcodes,
 * because a .wasm file would need a build step; the function is, in text form:
 *
 *   (func $dots (param $data i32) (param $query i32) (param $n i32) (param $stride i32) (param $out i32)
 *     ;; for each of the $n vectors ($stride bytes of int8 each, a multiple of 16):
 *     ;;   acc = Σ over 16-byte chunks of i32x4.dot_i16x8_s(widen(chunk), query as i16)
 *     ;;   out[i] = sum of acc's four lanes (an i32)
 *   )
 *
 * The query is int16 (two bytes per dimension), so each step widens 16 int8 values into two i16x8 and
 * multiplies-and-adds pairs into i32 lanes. Sums stay exact: the caller bounds the query's values so
 * no lane overflows.
 */

/** Unsigned LEB128, how WebAssembly writes sizes, counts and indexes. */
const leb = (n: number): Array<number> => {
  const out: Array<number> = []
  let rest = n >>> 0
  do {
    let byte = rest & 0x7f
    rest >>>= 7
    if (rest !== 0) byte |= 0x80
    out.push(byte)
  } while (rest !== 0)
  return out
}
const vec = (items: ReadonlyArray<ReadonlyArray<number>>) => [...leb(items.length), ...items.flat()]
const section = (id: number, bytes: ReadonlyArray<number>) => [id, ...leb(bytes.length), ...bytes]
const name = (s: string) => {
  const bytes = [...new TextEncoder().encode(s)]
  return [...leb(bytes.length), ...bytes]
}

const I32 = 0x7f
const V128 = 0x7b
const simd = (op: number) => [0xfd, ...leb(op)]
const get = (i: number) => [0x20, i]
const set = (i: number) => [0x21, i]
const tee = (i: number) => [0x22, i]
/** `i32.const` of a small non-negative constant (below 64, where signed and unsigned LEB128 agree). */
const i32 = (n: number) => [0x41, ...leb(n)]
const load = (offset: number) => [...simd(0x00), 0, offset] // v128.load, alignment hint 1, offset
const I16X8_EXTEND_LOW_I8X16_S = 0x87
const I16X8_EXTEND_HIGH_I8X16_S = 0x88
const I32X4_ADD = 0xae
const I32X4_DOT_I16X8_S = 0xba
const I32X4_EXTRACT_LANE = 0x1b
const [DATA, QUERY, N, STRIDE, OUT, D, CHUNK, ACC] = [0, 1, 2, 3, 4, 5, 6, 7]

const BLOCK = [0x02, 0x40]
const LOOP = [0x03, 0x40]
const END = [0x0b]
const brIf = (depth: number) => [0x0d, depth]
const br = (depth: number) => [0x0c, depth]
const I32_EQZ = [0x45]
const I32_LT_U = [0x49]
const I32_ADD = [0x6a]
const I32_SUB = [0x6b]
const I32_SHL = [0x74]
const I32_STORE = [0x36, 2, 0]
const V128_ZERO = [...simd(0x0c), ...new Array<number>(16).fill(0)]

// biome-ignore format: one instruction (or two) per line, as the text form reads
const body = [
  ...vec([[1, I32], [2, V128]]), // locals $d (byte offset in the vector), $chunk, $acc
  ...BLOCK,
  ...LOOP, // each vector
  ...get(N), ...I32_EQZ, ...brIf(1), // none left: done
  ...V128_ZERO, ...set(ACC),
  ...i32(0), ...set(D),
  ...LOOP, // each 16 bytes of it
  ...get(DATA), ...get(D), ...I32_ADD, ...load(0), ...set(CHUNK),
  ...get(ACC),
  ...get(CHUNK), ...simd(I16X8_EXTEND_LOW_I8X16_S),
  ...get(QUERY), ...get(D), ...i32(1), ...I32_SHL, ...I32_ADD, ...load(0), // the query's int16 at 2·d
  ...simd(I32X4_DOT_I16X8_S), ...simd(I32X4_ADD),
  ...get(CHUNK), ...simd(I16X8_EXTEND_HIGH_I8X16_S),
  ...get(QUERY), ...get(D), ...i32(1), ...I32_SHL, ...I32_ADD, ...load(16),
  ...simd(I32X4_DOT_I16X8_S), ...simd(I32X4_ADD),
  ...set(ACC),
  ...get(D), ...i32(16), ...I32_ADD, ...tee(D), ...get(STRIDE), ...I32_LT_U, ...brIf(0), // d += 16, while d < stride
  ...END,
  ...get(OUT), // out[i] = the sum of the four lanes
  ...get(ACC), ...simd(I32X4_EXTRACT_LANE), 0,
  ...get(ACC), ...simd(I32X4_EXTRACT_LANE), 1, ...I32_ADD,
  ...get(ACC), ...simd(I32X4_EXTRACT_LANE), 2, ...I32_ADD,
  ...get(ACC), ...simd(I32X4_EXTRACT_LANE), 3, ...I32_ADD,
  ...I32_STORE,
  ...get(OUT), ...i32(4), ...I32_ADD, ...set(OUT),
  ...get(DATA), ...get(STRIDE), ...I32_ADD, ...set(DATA),
  ...get(N), ...i32(1), ...I32_SUB, ...set(N),
  ...br(0), // the next vector
  ...END,
  ...END,
  ...END // the function
]

const MODULE = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0]])), // (i32 ×5) -> ()
  ...section(3, vec([[0]])),
  ...section(5, vec([[0x00, 1]])), // one memory, at least one page, no maximum
  ...section(
    7,
    vec([
      [...name("memory"), 0x02, 0],
      [...name("dots"), 0x00, 0]
    ])
  ),
  ...section(10, vec([[...leb(body.length), ...body]]))
])

/** The part of the WebAssembly API used here (the project's TypeScript libraries do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
declare const WebAssembly: {
  readonly Module: new (bytes: Uint8Array) => object
  readonly Instance: new (module: object) => { readonly exports: Record<string, unknown> }
}

/** The compiled kernel and its memory. */
export interface DotKernel {
  readonly memory: WasmMemory
  /** Writes `n` int32 dot products of the vectors at `data` (`stride` bytes each) with the int16 query at `query` to `out`. */
  readonly dots: (data: number, query: number, n: number, stride: number, out: number) => void
}

/** The kernel, or undefined where WebAssembly SIMD is unavailable (the caller scores in JavaScript then). */
export const makeDotKernel = (): DotKernel | undefined => {
  let exports: Record<string, unknown>
  try {
    exports = new WebAssembly.Instance(new WebAssembly.Module(MODULE)).exports
  } catch {
    return undefined
  }
  const { memory, dots } = exports
  if (typeof dots !== "function" || typeof memory !== "object" || memory === null || !("buffer" in memory))
    return undefined
  return { memory: memory as WasmMemory, dots: dots as DotKernel["dots"] }
}
