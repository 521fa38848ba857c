/**
 * Human acceptance and human review records, and the acceptance checklist a person sees before
 * accepting. An acceptance is pinned to the hash of the diff it accepted; the gate treats a later,
 * different diff as not accepted. Only these constructors, called by a person's command, make one.
 */
import {
  type AcceptanceCriterion,
  type Deviation,
  EvidenceBundle,
  HumanAcceptance,
  type Issue,
  ReviewVerdict
} from "@spec-orch/contract"
import { detectDeviations } from "./Deviations.js"
import { DEFAULT_PROTECTED, type ProtectedChange, protectedChanges, type ProtectedPaths } from "./ProtectedPaths.js"

/** An acceptance by `acceptedBy` of the diff with hash `diffHash`, at `acceptedAt` (ISO time). */
export const makeAcceptance = (
  input: { readonly acceptedBy: string; readonly diffHash: string; readonly note?: string | undefined },
  acceptedAt: string
): HumanAcceptance =>
  new HumanAcceptance({
    acceptedBy: input.acceptedBy,
    acceptedAt,
    diffHash: input.diffHash,
    ...(input.note !== undefined && input.note !== "" ? { note: input.note } : {})
  })

/** A review verdict recorded by a person (`review-issue`), pinned to the diff they reviewed when known. */
export const humanReview = (
  input: {
    readonly verdict: ReviewVerdict["verdict"]
    readonly reviewedBy: string
    readonly summary?: string | undefined
    readonly diffHash?: string | undefined
  },
  reviewedAt: string
): ReviewVerdict =>
  new ReviewVerdict({
    verdict: input.verdict,
    reviewedBy: input.reviewedBy,
    source: "human",
    reviewedAt,
    summary: input.summary ?? "",
    ...(input.diffHash !== undefined ? { diffHash: input.diffHash } : {})
  })

/** The bundle with `patch` applied (a new review, acceptance or findings); the input is unchanged. */
export const withEvidence = (
  bundle: EvidenceBundle,
  patch: Partial<Pick<EvidenceBundle, "review" | "acceptance" | "findings" | "deviations">>
): EvidenceBundle => new EvidenceBundle({ ...bundle, ...patch })

/** What a person confirms before accepting: the acceptance criteria, the deviations and the protected files to look at. */
export interface AcceptanceChecklist {
  readonly criteria: ReadonlyArray<AcceptanceCriterion>
  readonly deviations: ReadonlyArray<Deviation>
  /** Protected files (tests, verification definitions, configuration) the agent changed that the issue does not name: accepting the diff accepts them. */
  readonly protectedChanges: ReadonlyArray<ProtectedChange>
  readonly diffHash: string | undefined
  readonly changedFiles: ReadonlyArray<string>
}

/** The checklist for `bundle` (criteria come from the issue when it is known; `protectedPaths` from the policy, default the built-in lists). */
export const acceptanceChecklist = (
  bundle: EvidenceBundle,
  issue?: Issue,
  protectedPaths: ProtectedPaths = DEFAULT_PROTECTED
): AcceptanceChecklist => ({
  criteria: issue?.acceptanceCriteria ?? [],
  deviations:
    bundle.deviations ??
    (bundle.changedFiles !== undefined && bundle.footprint !== undefined
      ? detectDeviations(bundle.changedFiles, bundle.footprint)
      : []),
  protectedChanges: (protectedChanges(bundle, protectedPaths) ?? []).filter((c) => !c.named),
  diffHash: bundle.diffHash,
  changedFiles: bundle.changedFiles ?? []
})
