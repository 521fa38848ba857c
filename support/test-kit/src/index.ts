/** @spec-orch/test-kit: loopback servers and repository helpers for tests. */
export {}
