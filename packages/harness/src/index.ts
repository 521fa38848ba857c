/**
 * @spec-orch/harness: What makes models and agents reliable: model registry and chains, context assembly, compliance contracts, permission policy, budgets, skills and the Learnings interface.
 */
export * from "./ContextAssembler.js"
export * from "./Learnings.js"
export * from "./Compliance.js"
