/**
 * @spec-orch/evolution: Learning: memory, evidence analytics, retrospectives and proposals promoted only through explicit, reversible approval; implements Learnings.
 */
export * from "./Memory.js"
export { documentTerms, queryTerms } from "./internal/terms.js"
export * from "./RunMemory.js"
export * from "./MemoryLearnings.js"
export * from "./MemoryCompaction.js"
export * from "./MemoryAdmin.js"
export * from "./Analytics.js"
export * from "./Retrospective.js"
export * from "./MissionRetrospective.js"
