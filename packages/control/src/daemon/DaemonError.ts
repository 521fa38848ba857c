/**
 * The one error the daemon's loops fail with: which loop stopped (`tick`, `feedback`, `cleanup`) and the
 * failure of the service it was waiting for, kept as data in `reason`. Rule: only failures a loop really
 * meets belong in the union; a broken store is a defect, not a reason.
 */
import { InvalidFile, IssueNotFound, IssueSourceUnavailable } from "@spec-orch/contract"
import { LedgerError } from "@spec-orch/evidence"
import { WorkspaceError } from "@spec-orch/execution"
import { Schema } from "effect"
import { TrackerError } from "../trackers/TrackerError.js"

/** Every failure a daemon loop can stop on: the issue source (poll), a tracker call, the evidence ledger, the worktrees. */
export const DaemonFailure = Schema.Union([
  IssueNotFound,
  IssueSourceUnavailable,
  InvalidFile,
  TrackerError,
  LedgerError,
  WorkspaceError
])
export type DaemonFailure = typeof DaemonFailure.Type

/** Which of the daemon's loops could not finish. */
export const DaemonStep = Schema.Literals(["tick", "feedback", "cleanup"])
export type DaemonStep = typeof DaemonStep.Type

/**
 * A daemon loop could not finish one round; `reason` is the failure it stopped on. Its `message` is the
 * reason's own, which already says what could not be reached and how to fix it.
 */
export class DaemonError extends Schema.TaggedError<DaemonError>()("DaemonError", {
  step: DaemonStep,
  reason: DaemonFailure
}) {
  override get message(): string {
    return this.reason.message
  }
}

/** Wraps the failure of one loop step in a `DaemonError`. */
export const daemonError =
  (step: DaemonStep) =>
  (reason: DaemonFailure): DaemonError =>
    new DaemonError({ step, reason })
