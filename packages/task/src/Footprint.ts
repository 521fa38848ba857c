/**
 * Footprints: the files a work packet may change (`files_in_scope`), and whether two footprints
 * may touch a common file. Two packets whose footprints overlap never share a wave.
 *
 * Overlap semantics, conservative on purpose (a false "overlap" costs parallelism; a missed one
 * lets two agents edit the same file):
 * - an entry is a path (`src/api/users.ts`), a directory (`src/api/`), or a glob (`src/**\/*.ts`,
 *   `*.md`, `src/{a,b}/*.ts`, `?`, `[a-z]`);
 * - an entry also covers everything beneath what it matches (`src/api` may be a directory, and a
 *   glob may match one), so `src/api` overlaps `src/api/x.ts`, and `src/*` overlaps `src/a/b.ts`;
 *   except a glob whose last segment has an extension (`src/**\/*.ts`, `*.md`): it matches files;
 * - two globs overlap when some path could match both (`src/**\/*.ts` and `src/**\/*.md` do not);
 * - comparison ignores case (macOS and Windows file systems do);
 * - `./`, a leading `/` and `a/../b` are normalized; an entry outside the repository means everything;
 * - a packet with no `files_in_scope` may change any file: it overlaps every other packet.
 */
import type { WorkPacket } from "@spec-orch/contract"
import { type Compiled, compileEntry, patternsMeet } from "./internal/glob.js"

const cache = new Map<string, ReadonlyArray<Compiled>>()
const compiled = (entry: string): ReadonlyArray<Compiled> => {
  let c = cache.get(entry)
  if (c === undefined) {
    c = compileEntry(entry)
    if (cache.size > 10_000) cache.clear()
    cache.set(entry, c)
  }
  return c
}

/** Whether two single footprint entries (paths, directories or globs) may name a common file. */
export const entriesOverlap = (a: string, b: string): boolean => {
  for (const x of compiled(a)) for (const y of compiled(b)) if (patternsMeet(x, y)) return true
  return false
}

/** A packet's footprint; an empty `files_in_scope` means the whole repository (`**`). */
export const packetFootprint = (packet: Pick<WorkPacket, "filesInScope">): ReadonlyArray<string> =>
  packet.filesInScope.length === 0 ? ["**"] : packet.filesInScope

/** The first pair of entries through which two footprints overlap, or `undefined` when they are disjoint. */
export const footprintOverlap = (
  a: ReadonlyArray<string>,
  b: ReadonlyArray<string>
): readonly [string, string] | undefined => {
  for (const x of a) for (const y of b) if (entriesOverlap(x, y)) return [x, y]
  return undefined
}

/** The overlap between two packets' footprints (see `packetFootprint`), or `undefined`. */
export const packetsOverlap = (
  a: Pick<WorkPacket, "filesInScope">,
  b: Pick<WorkPacket, "filesInScope">
): readonly [string, string] | undefined => footprintOverlap(packetFootprint(a), packetFootprint(b))

/** How an overlap reads in a message: `"src/api/" and "src/api/users.ts"`, or "no files_in_scope". */
export const describeOverlap = (
  a: Pick<WorkPacket, "id" | "filesInScope">,
  b: Pick<WorkPacket, "id" | "filesInScope">,
  pair: readonly [string, string]
): string => {
  if (a.filesInScope.length === 0) return `${a.id} has no files_in_scope, so it may change any file`
  if (b.filesInScope.length === 0) return `${b.id} has no files_in_scope, so it may change any file`
  return pair[0] === pair[1] ? `both name "${pair[0]}"` : `"${pair[0]}" overlaps "${pair[1]}"`
}
