/**
 * @spec-orch/task: plans. Waves of work packets, dependency DAG validation, footprint-overlap
 * checks, normalization and wave scheduling; the offline planner and the LLM scoper.
 *
 * Depends on @spec-orch/contract only (and effect, effect/ai).
 */
export { describeOverlap, entriesOverlap, footprintOverlap, packetFootprint, packetsOverlap } from "./Footprint.js"
export { specFromPlan, type PlanToSpec, WORK_PACKETS_HEADING } from "./PlanToSpec.js"
export {
  bulletItems,
  hasContent,
  looksLikePath,
  mentionedPaths,
  type MissionSpec,
  NON_WORK_SECTIONS,
  parseMissionSpec,
  type SpecSection
} from "./MissionSpec.js"
export { missionCriteria, type OfflinePlanInput, planOffline } from "./OfflinePlanner.js"
export {
  OFFLINE_NOTE,
  PLAN_CONTEXT_FILE,
  Planner,
  type PlanOptions,
  type PlanOutcome,
  verificationSteps
} from "./Planner.js"
export {
  PlanWouldDowngrade,
  PlannerError,
  PlannerModelFailed,
  PlannerModelUnavailable,
  PlanOutputInvalid
} from "./PlannerError.js"
export { PlannerModel, PlannerModelProblem } from "./PlannerModel.js"
export { MOVED_WAVE_DESCRIPTION, type Normalized, normalizePlan, PacketMove } from "./PlanNormalization.js"
export { locatePlanProblems, type PlanCheck, planNeedsApproval, Plans, type PlanView } from "./Plans.js"
export {
  criterionCovered,
  dependencyCycles,
  FIXED_BY_NORMALIZE,
  hasErrors,
  locatePackets,
  type Located,
  outsideRepository,
  PlanProblem,
  PlanProblemCode,
  validatePlan,
  type ValidateOptions
} from "./PlanValidation.js"
export { KEPT_WAVE_DESCRIPTION, type Replanned, replanKeepingFinished } from "./Replan.js"
export {
  type PlannerLearning,
  type Scoped,
  ScopedPacket,
  ScopedPlan,
  ScopedWave,
  type ScopeInput,
  scopePlan,
  scoperPrompt
} from "./Scoper.js"
export { TaskPlane } from "./TaskPlane.js"
export {
  type BlockedPacket,
  type ScheduleState,
  scheduleWaves,
  type WaitingPacket,
  type WaveSchedule,
  type WaveState
} from "./WaveSchedule.js"
