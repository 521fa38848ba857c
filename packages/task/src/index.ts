/**
 * @spec-orch/task: Plans: waves of work packets, dependency DAG validation, footprint-overlap checks and scheduling order; the offline and LLM planners.
 */
export {}
