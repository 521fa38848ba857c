/**
 * Identifiers shared by every plane. Each is a branded string checked at the edge, so a value of
 * type `IssueId` is always safe to use in a file name, a branch name and a SQL key.
 */
import { Schema } from "effect"

const SAFE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

/** An issue id as the tracker or fixture names it (`SPC-1`, `SON-42`, `GH-17`). */
export const IssueId = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(SAFE, {
      message: "an issue id is letters, digits, '_', '-' or '.', starting with a letter or digit"
    })
  ),
  Schema.brand("IssueId")
)
export type IssueId = typeof IssueId.Type

/** A mission id: a lowercase slug, by default `YYYY-MM-<slug of title>`. */
export const MissionId = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(/^[a-z0-9][a-z0-9-]{0,127}$/, { message: "a mission id is a lowercase slug (a-z, 0-9, '-')" })
  ),
  Schema.brand("MissionId")
)
export type MissionId = typeof MissionId.Type

/** A work packet id inside one plan (`wp-1`, `api-schema`). */
export const PacketId = Schema.String.pipe(
  Schema.check(Schema.isPattern(SAFE, { message: "a packet id is letters, digits, '_', '-' or '.'" })),
  Schema.brand("PacketId")
)
export type PacketId = typeof PacketId.Type

/** One durable run: `run-<key>-<attempt>-<random>`; unique across machines. */
export const RunId = Schema.String.pipe(Schema.check(Schema.isPattern(SAFE)), Schema.brand("RunId"))
export type RunId = typeof RunId.Type

/**
 * What a run works on: an issue id, or `<mission>.<packet>` for a mission's work packet. The run key
 * names the worktree, the branch `spec-orch/<key>` and the workflow execution.
 */
export const RunKey = Schema.String.pipe(Schema.check(Schema.isPattern(SAFE)), Schema.brand("RunKey"))
export type RunKey = typeof RunKey.Type

/** Makes ids from plain strings that are already known to be valid (tests, generated ids). */
export const makeIssueId = Schema.decodeUnknownSync(IssueId)
export const makeMissionId = Schema.decodeUnknownSync(MissionId)
export const makePacketId = Schema.decodeUnknownSync(PacketId)
export const makeRunId = Schema.decodeUnknownSync(RunId)
export const makeRunKey = Schema.decodeUnknownSync(RunKey)

/** Turns free text into a slug usable in ids and branch names (`"Add login!"` → `"add-login"`). */
export const slugify = (text: string, maxLength = 60): string =>
  text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, maxLength)
    .replace(/-+$/g, "")
