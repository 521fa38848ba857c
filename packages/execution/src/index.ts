/**
 * @spec-orch/execution: Doing: git worktrees, agent adapters producing one normalized AgentEvent stream, process supervision and the verification runner.
 */
export {}
