import { assert, describe, it } from "@effect/vitest"
import { LineSplitter } from "../../src/internal/lines.js"

const bytes = (text: string) => new TextEncoder().encode(text)

describe("LineSplitter", () => {
  it("splits lines across chunks, drops a trailing \\r, keeps an unterminated last line", () => {
    const s = new LineSplitter(100)
    assert.deepStrictEqual(s.push(bytes("a\r\nb")), [{ text: "a", dropped: 0 }])
    assert.deepStrictEqual(s.push(bytes("c\n\nd")), [
      { text: "bc", dropped: 0 },
      { text: "", dropped: 0 }
    ])
    assert.deepStrictEqual(s.end(), { text: "d", dropped: 0 })
    assert.strictEqual(s.end(), undefined)
  })

  it("keeps multi-byte characters split across chunks intact", () => {
    const s = new LineSplitter(100)
    const all = bytes("héllo 世界\n")
    assert.deepStrictEqual(
      [...s.push(all.subarray(0, 2)), ...s.push(all.subarray(2, 9)), ...s.push(all.subarray(9))],
      [{ text: "héllo 世界", dropped: 0 }]
    )
  })

  it("holds at most the cap of one line, however long, and counts what it dropped", () => {
    const s = new LineSplitter(10)
    const chunk = new Uint8Array(1024 * 1024).fill(120) // 1 MiB of "x", no newline
    for (let i = 0; i < 20; i++) assert.deepStrictEqual(s.push(chunk), [])
    const [line] = s.push(bytes("yy\nnext"))
    assert.deepStrictEqual(line, { text: "xxxxxxxxxx", dropped: 20 * 1024 * 1024 - 10 + 2 })
    assert.deepStrictEqual(s.end(), { text: "next", dropped: 0 })
  })
})
