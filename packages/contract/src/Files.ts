/** Small file helpers shared by the stores in this package: atomic writes and content hashes. */
import { createHash, randomBytes } from "node:crypto"
import { Effect, type FileSystem, type Path } from "effect"

/** sha256 hex of a text. */
export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex")

/** Writes a file atomically (temp file + rename), creating parent directories. Failures are defects. */
export const atomicWriter = (fs: FileSystem.FileSystem, path: Path.Path) =>
  Effect.fnUntraced(function* (file: string, content: string) {
    yield* fs.makeDirectory(path.dirname(file), { recursive: true })
    const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`
    yield* fs.writeFileString(tmp, content)
    yield* fs.rename(tmp, file)
  }, Effect.orDie)

/** The current time as an ISO string, read from the Effect clock (TestClock in tests). */
export const nowIso = Effect.map(
  Effect.clockWith((c) => c.currentTimeMillis),
  (ms) => new Date(ms).toISOString()
)
