/**
 * Splits a byte stream into lines with a hard cap on each line's size, so output of any shape — a
 * 100 MB line with no newline included — is held in memory only up to the cap. Bytes beyond the cap
 * are counted, not kept. Pure and synchronous: the supervisor feeds it chunks as they arrive.
 */

/** One line: at most `cap` bytes of text (UTF-8 decoded, a trailing `\r` removed) and how many bytes were dropped. */
export interface Line {
  readonly text: string
  readonly dropped: number
}

const NL = 10
const CR = 13

/** A stateful splitter for one stream. */
export class LineSplitter {
  private parts: Array<Uint8Array> = []
  private kept = 0
  private dropped = 0

  constructor(private readonly cap: number) {}

  /** The complete lines in `chunk` (with what was pending before it). */
  push(chunk: Uint8Array): Array<Line> {
    const out: Array<Line> = []
    let start = 0
    for (let nl = chunk.indexOf(NL, start); nl !== -1; nl = chunk.indexOf(NL, start)) {
      this.keep(chunk.subarray(start, nl))
      out.push(this.take())
      start = nl + 1
    }
    if (start < chunk.length) this.keep(chunk.subarray(start))
    return out
  }

  /** The last line when the stream ended without a newline, if any bytes are pending. */
  end(): Line | undefined {
    if (this.kept === 0 && this.dropped === 0) return undefined
    return this.take()
  }

  private keep(bytes: Uint8Array) {
    const room = this.cap - this.kept
    if (room <= 0) {
      this.dropped += bytes.length
      return
    }
    if (bytes.length <= room) {
      // Copy: the chunk's buffer may be reused by the stream after this call.
      if (bytes.length > 0) this.parts.push(Uint8Array.prototype.slice.call(bytes))
      this.kept += bytes.length
      return
    }
    this.parts.push(Uint8Array.prototype.slice.call(bytes, 0, room))
    this.kept += room
    this.dropped += bytes.length - room
  }

  private take(): Line {
    let bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.kept)
    if (this.dropped === 0 && bytes.length > 0 && bytes[bytes.length - 1] === CR)
      bytes = bytes.subarray(0, bytes.length - 1)
    const line = {
      text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("utf8"),
      dropped: this.dropped
    }
    this.parts = []
    this.kept = 0
    this.dropped = 0
    return line
  }
}

/** The marker appended to a line cut at the cap, in artifacts. */
export const truncatedMarker = (dropped: number): string => ` …[spec-orch: ${dropped} more bytes of this line dropped]`
