/** Small file helpers shared by the stores in this package: atomic writes and content hashes. */
import type * as NodeCrypto from "node:crypto"
import { Effect, type FileSystem, type Path } from "effect"

// node:crypto takes ~3 ms to load: it loads when a hash or a temp name is first needed, not with this
// module (which reading commands such as `spec-orch issue list` load without hashing anything).
const crypto = (): typeof NodeCrypto => process.getBuiltinModule("node:crypto")

/** sha256 hex of a text. */
export const sha256 = (text: string): string => crypto().createHash("sha256").update(text).digest("hex")

/** Writes a file atomically (temp file + rename), creating parent directories. Failures are defects. */
export const atomicWriter = (fs: FileSystem.FileSystem, path: Path.Path) =>
  Effect.fnUntraced(function* (file: string, content: string) {
    yield* fs.makeDirectory(path.dirname(file), { recursive: true })
    const tmp = `${file}.${crypto().randomBytes(4).toString("hex")}.tmp`
    yield* fs.writeFileString(tmp, content)
    yield* fs.rename(tmp, file)
  }, Effect.orDie)

/** The current time as an ISO string, read from the Effect clock (TestClock in tests). */
export const nowIso = Effect.map(
  Effect.clockWith((c) => c.currentTimeMillis),
  (ms) => new Date(ms).toISOString()
)
