/**
 * The Issue: one unit of work as spec-orch sees it, whatever tracker or file it came from. Text
 * fields that came from a tracker or a file are untrusted data: they are shown to agents fenced and
 * never change policy, gates or commands.
 */
import { Schema } from "effect"
import { IssueId, MissionId, PacketId } from "./Ids.js"

/** One acceptance criterion; `id` is stable within its issue (`AC-1`, `AC-2`, …). */
export class AcceptanceCriterion extends Schema.Class<AcceptanceCriterion>("@spec-orch/contract/AcceptanceCriterion")({
  id: Schema.String,
  text: Schema.String
}) {}

/** A verification command: an argv list (no shell) or a shell string (run with `sh -c`). */
export const VerificationCommand = Schema.Union([Schema.Array(Schema.String), Schema.String])
export type VerificationCommand = typeof VerificationCommand.Type

/** A named verification step. Steps run in the order they were written. */
export class VerificationStep extends Schema.Class<VerificationStep>("@spec-orch/contract/VerificationStep")({
  name: Schema.String,
  command: VerificationCommand,
  timeoutSeconds: Schema.optionalKey(Schema.Number),
  /** The step may change files in the worktree (a formatter); only `[verification]` in spec-orch.toml can say so, never an issue. */
  mayModify: Schema.optionalKey(Schema.Boolean)
}) {}

/** The kind of work, used for routing and gate profiles. */
export const RunClass = Schema.Literals(["feature", "bug", "refactor", "spike", "qa", "docs", "hotfix"])
export type RunClass = typeof RunClass.Type

/** Who filed an issue, as the tracker reports it; the daemon's intake allow-list judges it. */
export class IssueAuthor extends Schema.Class<IssueAuthor>("@spec-orch/contract/IssueAuthor")({
  /** GitHub login, or Linear user id. */
  id: Schema.String,
  name: Schema.optionalKey(Schema.String),
  email: Schema.optionalKey(Schema.String),
  /**
   * How the author relates to the project. GitHub: `author_association` with the repository (`OWNER`,
   * `MEMBER`, `COLLABORATOR`, `CONTRIBUTOR`, `NONE`, …). Linear: `MEMBER`, `GUEST` or `APP` in the workspace.
   */
  association: Schema.optionalKey(Schema.String)
}) {}

/** Where an issue came from, so results can be written back to the same place. */
export class IssueOrigin extends Schema.Class<IssueOrigin>("@spec-orch/contract/IssueOrigin")({
  kind: Schema.Literals(["fixture", "markdown", "linear", "github"]),
  /** File path for fixtures, tracker-native id (Linear UUID, `owner/repo#n`) otherwise. */
  ref: Schema.String,
  url: Schema.optionalKey(Schema.String),
  /** The tracker's workflow state when the issue was read (`Ready`, `open`). */
  state: Schema.optionalKey(Schema.String),
  updatedAt: Schema.optionalKey(Schema.String),
  /** True when the tracker says this issue has sub-issues. */
  isParent: Schema.optionalKey(Schema.Boolean),
  assignee: Schema.optionalKey(Schema.String),
  /** Who filed it (trackers only; fixture files have no author). */
  author: Schema.optionalKey(IssueAuthor)
}) {}

/** The mission a packet issue belongs to. */
export class MissionRef extends Schema.Class<MissionRef>("@spec-orch/contract/MissionRef")({
  missionId: MissionId,
  packetId: Schema.optionalKey(PacketId),
  specSection: Schema.optionalKey(Schema.String)
}) {}

/** An issue, normalized from any source. */
export class Issue extends Schema.Class<Issue>("@spec-orch/contract/Issue")({
  id: IssueId,
  title: Schema.String,
  summary: Schema.String,
  /** What the builder agent is asked to do; `undefined` means "no builder step for this issue". */
  builderPrompt: Schema.optionalKey(Schema.String),
  acceptanceCriteria: Schema.Array(AcceptanceCriterion),
  constraints: Schema.Array(Schema.String),
  filesToRead: Schema.Array(Schema.String),
  targetFiles: Schema.Array(Schema.String),
  architectureNotes: Schema.optionalKey(Schema.String),
  /** When present, replaces the configured `[verification]` steps entirely (as in the original). */
  verification: Schema.optionalKey(Schema.Array(VerificationStep)),
  labels: Schema.Array(Schema.String),
  runClass: Schema.optionalKey(RunClass),
  mission: Schema.optionalKey(MissionRef),
  origin: IssueOrigin
}) {}
