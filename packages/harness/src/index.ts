/**
 * @spec-orch/harness: What makes models and agents reliable: model registry and chains, context assembly, compliance contracts, permission policy, budgets, skills and the Learnings interface.
 */
export * from "./AgentPolicy.js"
export * from "./Budgets.js"
export * from "./ContextAssembler.js"
export * from "./Learnings.js"
export * from "./Compliance.js"
export * from "./Environment.js"
export * from "./ModelChain.js"
export * from "./ModelRegistry.js"
export * from "./Models.js"
export * from "./ModelsError.js"
export * from "./ModelUsage.js"
export * from "./Providers.js"
export * from "./Redaction.js"
export * from "./SecretScan.js"
